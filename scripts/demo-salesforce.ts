import fs from 'node:fs';
import path from 'node:path';
import { generate } from 'selfsigned';
import type { LoopbackTls } from '../emulators/loopback-tls.js';
import { startSalesforceEmulator, type SalesforceOrgSpec } from '../emulators/salesforce/index.js';
import type { Config } from '../platform/config.js';
import { credentialsKey } from '../platform/crypto.js';
import type { Database } from '../platform/database.js';
import { logger } from '../platform/logger.js';
import { AppInstanceService } from '../subgraphs/accounts/public.js';
import type { Demo } from './demo.js';

/** The demo's two orgs (fixed ids, so that a restart finds their instances again): one company's sales and marketing orgs. */
const ORGS = {
  sales: {
    organizationId: '00D5g000000saleEAA',
    displayName: 'Acme Sales (Salesforce demo)',
    consumerKey: '3MVG9demo.sales.key',
    username: 'tenantwatch@sales.acme.example.com',
    seed: 11,
    users: 40,
    dailyApiLimit: 100_000,
  },
  marketing: {
    organizationId: '00D5g00000mktngEAA',
    displayName: 'Acme Marketing (Salesforce demo)',
    consumerKey: '3MVG9demo.marketing.key',
    username: 'tenantwatch@marketing.acme.example.com',
    seed: 12,
    users: 25,
    dailyApiLimit: 15_000,
  },
} as const;
type OrgName = keyof typeof ORGS;
const NAMES = Object.keys(ORGS) as OrgName[];

/**
 * `DEMO=salesforce`: the Salesforce emulator on loopback with two orgs of one company, sales and
 * marketing (different users, files, tokens, activity and daily API limits), each connected as an
 * instance of the Salesforce connector with the JWT bearer flow. The connected app's certificate and
 * private key are made anew on every start.
 */
export async function startSalesforceDemo(config: Config, accounts: Database, tls: LoopbackTls): Promise<Demo> {
  const now = Date.now();
  const pems = await generate([{ name: 'commonName', value: 'tenantwatch-demo' }], {
    keyType: 'rsa',
    keySize: 2048,
    algorithm: 'sha256',
    notBeforeDate: new Date(now - 60_000),
    notAfterDate: new Date(now + 365 * 86_400_000),
  });
  const spec = (name: OrgName): SalesforceOrgSpec => ({
    organizationId: ORGS[name].organizationId,
    name: ORGS[name].displayName,
    seed: ORGS[name].seed,
    users: ORGS[name].users,
    frozen: 2,
    inactive: 3,
    admins: 2,
    externalUsers: 3,
    groups: 4,
    files: 30,
    publicLinks: 4,
    oauthTokens: 15,
    backfillDays: 1,
    loginsPerUserPerDay: 2,
    setupChangesPerDay: 5,
    dailyApiLimit: ORGS[name].dailyApiLimit,
    connectedApps: [{ consumerKey: ORGS[name].consumerKey, certificatePem: pems.cert, username: ORGS[name].username }],
  });
  const emulator = await startSalesforceEmulator({ host: '127.0.0.1', tls, orgs: NAMES.map(spec) });
  try {
    const file = path.join(config.dataDir, 'demo-salesforce.json');
    const known = fs.existsSync(file)
      ? (JSON.parse(fs.readFileSync(file, 'utf8')) as { instances?: Partial<Record<OrgName, string>> })
      : {};
    const service = new AppInstanceService(accounts.fork(), credentialsKey(config));
    const instances: Record<string, string> = {};
    for (const name of NAMES) {
      const org = ORGS[name];
      const instanceConfig = {
        instanceUrl: emulator.org(org.organizationId).instanceUrl,
        loginUrl: emulator.loginUrl,
        consumerKey: org.consumerKey,
        username: org.username,
        privateKeyPem: pems.private,
        organizationId: org.organizationId,
        dailyRequestLimit: org.dailyApiLimit,
      };
      const knownId = known.instances?.[name];
      const existing = knownId ? (await service.byIds([knownId]))[0] : undefined;
      if (existing) {
        await service.updateConfig(existing.id, instanceConfig);
        instances[`salesforce-${name}`] = existing.id;
      } else {
        const { id } = await service.connect({ provider: 'salesforce', name: org.displayName, config: instanceConfig });
        logger.info({ instanceId: id, org: name }, 'Salesforce demo instance connected');
        instances[`salesforce-${name}`] = id;
      }
    }
    const ids = Object.fromEntries(NAMES.map((name) => [name, instances[`salesforce-${name}`]]));
    fs.writeFileSync(file, `${JSON.stringify({ instances: ids }, null, 2)}\n`);
    return {
      description: `Salesforce emulator at ${emulator.url} (orgs ${NAMES.map((n) => `${n} ${ORGS[n].organizationId}`).join(', ')}) connecting as two instances`,
      instances,
      stop: () => emulator.stop(),
    };
  } catch (error) {
    await emulator.stop();
    throw error;
  }
}
