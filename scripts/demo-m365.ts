import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { LoopbackTls } from '../emulators/loopback-tls.js';
import { startM365Emulator } from '../emulators/m365/index.js';
import type { Config } from '../platform/config.js';
import { credentialsKey } from '../platform/crypto.js';
import type { Database } from '../platform/database.js';
import { logger } from '../platform/logger.js';
import { AppInstanceService } from '../subgraphs/accounts/public.js';
import type { Demo } from './demo.js';

/** The demo tenant's directory id (fixed, so that a restart finds its instance again). */
const TENANT_ID = 'c0ffee00-0365-4d3e-8a1b-7e57e0a11ce5';
const CLIENT_ID = 'c0ffee00-0365-4a2b-9c3d-0123456789ab';

/**
 * `DEMO=m365`: the Microsoft 365 emulator on loopback with one tenant (members, guests, admins, groups,
 * sign-ins, directory audits, two document libraries with planted sensitive data, delegated grants to
 * five apps, one of them over-privileged), connected as an instance of the Microsoft 365 connector,
 * which subscribes each library to the scheduler's receiver (the stack sets PUBLIC_WEBHOOK_URL to it).
 * The client secret and clientState are made anew on every start.
 */
export async function startM365Demo(
  config: Config,
  accounts: Database,
  tls: LoopbackTls,
  resubscribe: (instanceId: string) => Promise<void>,
): Promise<Demo> {
  const secret = randomBytes(32).toString('base64url');
  const clientState = randomBytes(24).toString('base64url');
  const emulator = await startM365Emulator({
    host: '127.0.0.1',
    tls,
    tenants: [
      {
        tenantId: TENANT_ID,
        displayName: 'Contoso (Microsoft 365 demo)',
        users: 120,
        guests: 8,
        admins: 3,
        groups: 10,
        files: 150,
        apps: 6,
        grants: 80,
        backfillDays: 3,
        signInsPerUserPerDay: 3,
        // File activity in the Management Activity API's feed, and one user's mass download to detect.
        fileActivityPerMinute: 20,
        massDownload: true,
        clients: [{ clientId: CLIENT_ID, clientSecret: secret }],
      },
    ],
  });
  try {
    const file = path.join(config.dataDir, 'demo-m365.json');
    const known = fs.existsSync(file) ? (JSON.parse(fs.readFileSync(file, 'utf8')) as { instanceId?: string }) : {};
    const service = new AppInstanceService(accounts.fork(), credentialsKey(config));
    const instanceConfig = {
      tenantId: TENANT_ID,
      clientId: CLIENT_ID,
      clientSecret: secret,
      authorityHost: emulator.authorityHost,
      graphEndpoint: emulator.graphEndpoint,
      managementEndpoint: emulator.managementEndpoint,
      clientState,
    };
    const existing = known.instanceId ? (await service.byIds([known.instanceId]))[0] : undefined;
    let instanceId: string;
    if (existing) {
      await service.updateConfig(existing.id, instanceConfig);
      instanceId = existing.id;
    } else {
      instanceId = (await service.connect({ provider: 'm365', name: 'Contoso (Microsoft 365 demo)', config: instanceConfig })).id;
      logger.info({ instanceId }, 'Microsoft 365 demo instance connected');
    }
    fs.writeFileSync(file, `${JSON.stringify({ instanceId }, null, 2)}\n`);
    // A new instance subscribes when it becomes CONNECTED; a known one (new secret, new emulator) subscribes again now.
    if (existing) await resubscribe(instanceId);
    return {
      description: `Microsoft 365 emulator at ${emulator.url} (tenant ${TENANT_ID}) connecting as one instance`,
      instances: { m365: instanceId },
      stop: () => emulator.stop(),
    };
  } catch (error) {
    await emulator.stop();
    throw error;
  }
}
