// `npm run emulator:salesforce`: the Salesforce emulator on its own, with two demo orgs (sales and
// marketing), over HTTPS with a certificate made at start (written where Tenantwatch's CONNECTOR_CA_FILE
// can name it), until Ctrl-C. SALESFORCE_EMULATOR_PORT (default 4903) picks the port. The connected
// app's private key is written next to the certificate: the JWT bearer flow signs with it.
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { generate } from 'selfsigned';
import { loopbackTls } from '../loopback-tls.js';
import { checksumSuffix } from './ids.js';
import { startSalesforceEmulator } from './index.js';

const port = Number(process.env.SALESFORCE_EMULATOR_PORT ?? 4903);
if (!Number.isInteger(port) || port < 0 || port > 65535) {
  process.stderr.write(`SALESFORCE_EMULATOR_PORT: must be a port number (0-65535), got "${process.env.SALESFORCE_EMULATOR_PORT}"\n`);
  process.exit(2);
}

const orgId = (id15: string) => id15 + checksumSuffix(id15);
const orgs = [
  {
    organizationId: orgId('00D5g000001SaLe'),
    name: 'Acme Sales (emulated)',
    domain: 'sales.acme.example.com',
    seed: 11,
    users: 120,
    consumerKey: '3MVG9emulated.sales',
  },
  {
    organizationId: orgId('00D5g000002MkTg'),
    name: 'Acme Marketing (emulated)',
    domain: 'marketing.acme.example.com',
    seed: 12,
    users: 60,
    consumerKey: '3MVG9emulated.marketing',
  },
];

const tls = await loopbackTls();
const app = await generate([{ name: 'commonName', value: 'tenantwatch-demo' }], { keyType: 'rsa', keySize: 2048, algorithm: 'sha256' });
const dir = fs.mkdtempSync(path.join(os.tmpdir(), `tenantwatch-salesforce-emulator-${port}-`));
const caFile = path.join(dir, 'emulator.pem');
const keyFile = path.join(dir, 'connected-app.key.pem');
fs.writeFileSync(caFile, tls.cert);
fs.writeFileSync(keyFile, app.private, { mode: 0o600 });
const secret = randomBytes(24).toString('base64url');
const emulator = await startSalesforceEmulator({
  port,
  tls,
  orgs: orgs.map((o) => ({
    organizationId: o.organizationId,
    name: o.name,
    domain: o.domain,
    seed: o.seed,
    users: o.users,
    admins: 3,
    frozen: 2,
    inactive: 4,
    externalUsers: 5,
    groups: 6,
    files: 80,
    publicLinks: 8,
    oauthTokens: 30,
    backfillDays: 3,
    connectedApps: [
      {
        consumerKey: o.consumerKey,
        certificatePem: app.cert,
        consumerSecret: secret,
        clientCredentials: true,
        username: `tenantwatch@${o.domain}`,
      },
    ],
  })),
});
const lines = [
  `Salesforce emulator at ${emulator.url} (login URL ${emulator.loginUrl})`,
  `  certificate:     ${caFile} (CONNECTOR_CA_FILE)`,
  `  connected app key: ${keyFile}`,
];
for (const o of orgs) {
  const org = emulator.org(o.organizationId);
  lines.push(
    `  ${o.name}: My Domain ${org.instanceUrl}`,
    `    { "instanceUrl": "${org.instanceUrl}", "loginUrl": "${org.instanceUrl}", "consumerKey": "${o.consumerKey}",`,
    `      "username": "tenantwatch@${o.domain}", "privateKeyPem": <${keyFile}>, "organizationId": "${o.organizationId}" }`,
    `    client credentials: client_id ${o.consumerKey}, client_secret ${secret}`,
  );
}
process.stdout.write(`${lines.join('\n')}\nCtrl-C stops it.\n`);
const stop = () =>
  void emulator.stop().then(() => {
    fs.rmSync(dir, { recursive: true, force: true });
    process.exit(0);
  });
process.once('SIGINT', stop);
process.once('SIGTERM', stop);
