import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { DEMO_TENANTS } from '../connectors/simulated/demo-tenants.js';
import { startSimulator, type Simulator } from '../connectors/simulated/server.js';
import { AppInstanceService } from '../subgraphs/accounts/public.js';
import type { Config } from '../platform/config.js';
import { credentialsKey } from '../platform/crypto.js';
import type { Database } from '../platform/database.js';
import { logger } from '../platform/logger.js';

/** The demo: a simulated provider with two tenants, connected as two instances of one provider. */
export interface Demo {
  /** What the demo provider is, and where it listens (printed by npm start). */
  readonly description: string;
  readonly simulator?: Simulator;
  /** Instance id per demo tenant id. */
  readonly instances: Readonly<Record<string, string>>;
  stop(): Promise<void>;
}

/** A secret made for this start: 256 random bits, base64url. */
const fresh = () => randomBytes(32).toString('base64url');

/**
 * Starts the simulated provider (on loopback) with the demo tenants and connects each as an app
 * instance the first time (their ids are kept in `<DATA_DIR>/demo.json`); on later starts the
 * instances are pointed at the simulator's new address. Webhooks go to the scheduler's receiver.
 * Each tenant's API token and webhook secret are made anew on every start, never the published
 * defaults: whoever reaches the scheduler's webhook receiver cannot sign a delivery it accepts.
 */
export async function startDemo(config: Config, accounts: Database, webhookBaseUrl: string): Promise<Demo> {
  const tenants = DEMO_TENANTS.map((tenant) => ({ ...tenant, token: `${tenant.id}-${fresh()}` }));
  const simulator = await startSimulator({ port: config.SIMULATOR_PORT, host: '127.0.0.1', tenants });
  try {
    const file = path.join(config.dataDir, 'demo.json');
    const known = fs.existsSync(file) ? (JSON.parse(fs.readFileSync(file, 'utf8')) as Record<string, string>) : {};
    const service = new AppInstanceService(accounts.fork(), credentialsKey(config));
    const instances: Record<string, string> = {};
    for (const tenant of tenants) {
      const secret = fresh();
      const instanceConfig = {
        endpoint: simulator.url,
        token: tenant.token,
        webhookSecret: secret,
        rateLimitPerMinute: tenant.rateLimitPerMinute,
      };
      const existing = known[tenant.id] ? (await service.byIds([known[tenant.id]!]))[0] : undefined;
      if (existing) {
        await service.updateConfig(existing.id, instanceConfig);
        instances[tenant.id] = existing.id;
      } else {
        const created = await service.connect({
          provider: 'simulated',
          name: `${tenant.name ?? tenant.id} (demo)`,
          config: instanceConfig,
        });
        instances[tenant.id] = created.id;
        logger.info({ tenant: tenant.id, instanceId: created.id }, 'demo instance connected');
      }
      simulator.tenant(tenant.id).update({ webhook: { url: `${webhookBaseUrl}/${instances[tenant.id]}`, secret } });
    }
    fs.writeFileSync(file, `${JSON.stringify(instances, null, 2)}\n`);
    return {
      description: `simulated provider at ${simulator.url} with ${Object.keys(instances).length} instances connecting`,
      simulator,
      instances,
      stop: () => simulator.stop(),
    };
  } catch (error) {
    await simulator.stop();
    throw error;
  }
}
