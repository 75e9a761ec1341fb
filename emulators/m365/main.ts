// `npm run emulator:m365`: the Microsoft 365 emulator on its own, with a demo tenant, over HTTPS with a
// certificate made at start (written where Tenantwatch's CONNECTOR_CA_FILE can name it), until Ctrl-C.
// M365_EMULATOR_PORT (default 4901) picks the port.
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loopbackTls } from '../loopback-tls.js';
import { startM365Emulator } from './index.js';

const tenantId = 'c0ffee00-0365-4d3e-8a1b-7e57e0a11ce5';
const clientId = 'c0ffee00-0365-4a2b-9c3d-0123456789ab';
const clientSecret = randomBytes(24).toString('base64url');
const port = Number(process.env.M365_EMULATOR_PORT ?? 4901);
if (!Number.isInteger(port) || port < 0 || port > 65535) {
  process.stderr.write(`M365_EMULATOR_PORT: must be a port number (0-65535), got "${process.env.M365_EMULATOR_PORT}"\n`);
  process.exit(2);
}

const tls = await loopbackTls();
const caFile = path.join(os.tmpdir(), `tenantwatch-m365-emulator-${port}.pem`);
fs.writeFileSync(caFile, tls.cert);
const emulator = await startM365Emulator({
  port,
  tls,
  tenants: [
    {
      tenantId,
      displayName: 'Contoso (emulated)',
      users: 120,
      guests: 8,
      admins: 3,
      groups: 10,
      files: 150,
      apps: 6,
      grants: 80,
      backfillDays: 3,
      signInsPerUserPerDay: 3,
      fileActivityPerMinute: 20,
      massDownload: true,
      clients: [{ clientId, clientSecret }],
    },
  ],
});
process.stdout.write(
  [
    `Microsoft 365 emulator at ${emulator.url}`,
    `  token endpoint: ${emulator.authorityHost}/${tenantId}/oauth2/v2.0/token`,
    `  Graph:          ${emulator.graphEndpoint}/v1.0`,
    `  Management API: ${emulator.managementEndpoint}/api/v1.0/${tenantId}/activity/feed`,
    `  certificate:    ${caFile} (start the scheduler with CONNECTOR_CA_FILE=${caFile})`,
    `  ground truth:   ${emulator.url}/admin/tenants/${tenantId}/truth`,
    '  connect it with:',
    `    { "tenantId": "${tenantId}", "clientId": "${clientId}", "clientSecret": "${clientSecret}",`,
    `      "authorityHost": "${emulator.authorityHost}", "graphEndpoint": "${emulator.graphEndpoint}",`,
    `      "managementEndpoint": "${emulator.managementEndpoint}", "clientState": "${randomBytes(18).toString('base64url')}" }`,
    'Ctrl-C stops it.',
    '',
  ].join('\n'),
);
const stop = () => void emulator.stop().then(() => process.exit(0));
process.once('SIGINT', stop);
process.once('SIGTERM', stop);
