// `npm run emulator:google`: the Google Workspace emulator on its own, with a demo customer, over HTTPS
// with a certificate made at start, and a service account key made at start (written, as Google's JSON
// key file, where a connector config can read it), until Ctrl-C. GOOGLE_EMULATOR_PORT (default 4903)
// picks the port.
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loopbackTls } from '../loopback-tls.js';
import { startGoogleEmulator } from './index.js';

const port = Number(process.env.GOOGLE_EMULATOR_PORT ?? 4903);
if (!Number.isInteger(port) || port < 0 || port > 65535) {
  process.stderr.write(`GOOGLE_EMULATOR_PORT: must be a port number (0-65535), got "${process.env.GOOGLE_EMULATOR_PORT}"\n`);
  process.exit(2);
}

const customerId = 'C03az79cb';
const domain = 'acme.example.com';
const clientEmail = 'tenantwatch@tenantwatch-demo.iam.gserviceaccount.com';
const clientId = '104857600000000000001';
const keys = generateKeyPairSync('rsa', { modulusLength: 2048 });
const tls = await loopbackTls();
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tenantwatch-google-emulator-'));
const caFile = path.join(dir, 'emulator.pem');
const keyFile = path.join(dir, 'service-account.json');
fs.writeFileSync(caFile, tls.cert);
const emulator = await startGoogleEmulator({
  port,
  tls,
  // The demo's webhook receiver listens on plain http on loopback.
  allowHttpWebhooks: true,
  customers: [
    {
      customerId,
      domain,
      displayName: 'Acme (emulated)',
      users: 120,
      suspended: 4,
      archived: 2,
      admins: 2,
      delegatedAdmins: 2,
      groups: 10,
      apps: 6,
      tokens: 80,
      files: 200,
      sharedDrives: 2,
      filesPerSharedDrive: 15,
      oversizeDocs: 1,
      backfillDays: 3,
      eventsPerUserPerDay: 4,
      serviceAccounts: [{ clientEmail, clientId, publicKeyPem: keys.publicKey.export({ type: 'spki', format: 'pem' }).toString() }],
    },
  ],
});
// The shape of Google's service account key file (https://cloud.google.com/iam/docs/keys-create-delete).
fs.writeFileSync(
  keyFile,
  JSON.stringify(
    {
      type: 'service_account',
      project_id: 'tenantwatch-demo',
      private_key_id: randomBytes(20).toString('hex'),
      private_key: keys.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
      client_email: clientEmail,
      client_id: clientId,
      token_uri: emulator.tokenUrl,
    },
    null,
    2,
  ),
  { mode: 0o600 },
);
const admin = emulator
  .customer(customerId)
  .truth()
  .users.find((u) => u.isAdmin)!.primaryEmail;
process.stdout.write(
  [
    `Google Workspace emulator at ${emulator.url}`,
    `  token endpoint:   ${emulator.tokenUrl} (in place of https://oauth2.googleapis.com/token)`,
    `  API root:         ${emulator.rootUrl} (Admin SDK and Drive: pass it as the clients' rootUrl)`,
    `  certificate:      ${caFile} (start the scheduler with CONNECTOR_CA_FILE=${caFile})`,
    `  service account:  ${keyFile} (client id ${clientId}, delegated for every scope the emulator knows)`,
    `  impersonate:      ${admin} (a super administrator of ${domain}, customer ${customerId})`,
    `  ground truth:     ${emulator.url}/admin/customers/${customerId}/truth`,
    'Ctrl-C stops it.',
    '',
  ].join('\n'),
);
const stop = () =>
  void emulator.stop().then(() => {
    fs.rmSync(dir, { recursive: true, force: true });
    process.exit(0);
  });
process.once('SIGINT', stop);
process.once('SIGTERM', stop);
