import { generateKeyPairSync, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { startGoogleEmulator } from '../emulators/google/index.js';
import type { LoopbackTls } from '../emulators/loopback-tls.js';
import type { Config } from '../platform/config.js';
import { credentialsKey } from '../platform/crypto.js';
import type { Database } from '../platform/database.js';
import { logger } from '../platform/logger.js';
import { AppInstanceService } from '../subgraphs/accounts/public.js';
import type { Demo } from './demo.js';

/** The demo customer (fixed, so that a restart finds its instance again). */
const CUSTOMER_ID = 'C0demo0ws';
const DOMAIN = 'demo-workspace.example.com';
const SERVICE_ACCOUNT = { clientEmail: 'tenantwatch@demo-workspace.iam.gserviceaccount.com', clientId: '104857600000000000042' };

/**
 * `DEMO=google`: the Google Workspace emulator on loopback with one customer (users, suspended and
 * archived ones, administrators, groups, My Drive files shared inside and outside the domain, OAuth tokens, and a day of login, admin, Drive and token activity), connected as an
 * instance of the Google Workspace connector with domain-wide delegation to its first super
 * administrator. The service account's key pair and the webhook secret are made anew on every start.
 */
export async function startGoogleDemo(
  config: Config,
  accounts: Database,
  tls: LoopbackTls,
  resubscribe: (instanceId: string) => Promise<void>,
): Promise<Demo> {
  const keys = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const privateKey = keys.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  const publicKeyPem = keys.publicKey.export({ type: 'spki', format: 'pem' }).toString();
  const emulator = await startGoogleEmulator({
    host: '127.0.0.1',
    tls,
    // The scheduler's receiver is on loopback over HTTP.
    allowHttpWebhooks: true,
    customers: [
      {
        customerId: CUSTOMER_ID,
        domain: DOMAIN,
        displayName: 'Acme (Google Workspace demo)',
        users: 40,
        admins: 2,
        groups: 6,
        files: 80,
        // My Drive only: the emulator refuses files.export of shared drive items, so their data scan would fail here.
        sharedDrives: 0,
        tokens: 30,
        backfillDays: 1,
        eventsPerUserPerDay: 3,
        // Activities become visible within seconds rather than Google's couple of minutes.
        latencyMs: { login: 5_000, admin: 5_000, drive: 5_000, token: 5_000 },
        serviceAccounts: [{ ...SERVICE_ACCOUNT, publicKeyPem }],
      },
    ],
  });
  try {
    const control = emulator.customer(CUSTOMER_ID);
    const admin = control.truth().users.find((u) => u.isAdmin && !u.suspended);
    if (!admin) throw new Error('the Google Workspace demo customer has no active super administrator');
    const file = path.join(config.dataDir, 'demo-google.json');
    const known = fs.existsSync(file) ? (JSON.parse(fs.readFileSync(file, 'utf8')) as { instanceId?: string }) : {};
    const service = new AppInstanceService(accounts.fork(), credentialsKey(config));
    const instanceConfig = {
      serviceAccountKey: {
        type: 'service_account',
        project_id: 'demo-workspace',
        private_key_id: 'emulated',
        private_key: privateKey,
        client_email: SERVICE_ACCOUNT.clientEmail,
        client_id: SERVICE_ACCOUNT.clientId,
        token_uri: emulator.tokenUrl,
      },
      adminSubject: admin.primaryEmail,
      customerId: CUSTOMER_ID,
      tokenUrl: emulator.tokenUrl,
      adminEndpoint: emulator.url,
      driveEndpoint: emulator.url,
      webhookSecret: randomBytes(24).toString('base64url'),
    };
    const existing = known.instanceId ? (await service.byIds([known.instanceId]))[0] : undefined;
    let instanceId: string;
    if (existing) {
      await service.updateConfig(existing.id, instanceConfig);
      instanceId = existing.id;
    } else {
      instanceId = (await service.connect({ provider: 'google', name: 'Acme (Google Workspace demo)', config: instanceConfig })).id;
      logger.info({ instanceId }, 'Google Workspace demo instance connected');
    }
    fs.writeFileSync(file, `${JSON.stringify({ instanceId }, null, 2)}\n`);
    // A new instance watches Drive changes when it becomes CONNECTED; a known one (new key, new emulator) watches again now.
    if (existing) await resubscribe(instanceId);
    return {
      description: `Google Workspace emulator at ${emulator.url} (customer ${CUSTOMER_ID}, ${DOMAIN}) connecting as one instance`,
      instances: { google: instanceId },
      stop: () => emulator.stop(),
    };
  } catch (error) {
    await emulator.stop();
    throw error;
  }
}
