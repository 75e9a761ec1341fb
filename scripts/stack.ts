import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { startGateway, type GatewayServer } from '../gateway/server.js';
import { SUPERGRAPH_PATH } from '../schema/path.js';
import { SUBGRAPHS } from '../subgraphs/index.js';
import type { Config, DemoName } from '../platform/config.js';
import { logger } from '../platform/logger.js';
import type { SubgraphServer } from '../platform/server.js';
import { startSubgraph } from '../platform/subgraph.js';
import { startScheduler, type Scheduler } from '../scheduler/scheduler.js';
import type { Demo } from './demo.js';
import { isEmulatorDemo, startDemos, writeDemoCaFile } from './demos.js';
import { startEmbeddedPostgres, type EmbeddedPostgres } from './embedded-postgres.js';
import { freePort } from './ports.js';
import { loopbackTls, type LoopbackTls } from '../emulators/loopback-tls.js';

/** The database Tenantwatch uses inside the embedded PostgreSQL. */
export const DATABASE_NAME = 'tenantwatch';

export interface StackOptions {
  readonly config: Config;
  /** Use this database instead of DATABASE_URL or the embedded one. */
  readonly databaseUrl?: string;
  /** Gateway port; 0 picks a free one. Subgraphs always take free ports. */
  readonly port: number;
  /** Run the scheduler in this process too (npm start does; most tests do not). */
  readonly scheduler?: boolean;
  /** Start demos (needs the scheduler): the simulated provider with two instances, and provider emulators with one each. */
  readonly demo?: false | readonly DemoName[];
  /** Job lock lifetime for the scheduler (tests shorten it). */
  readonly lockLifetimeMs?: number;
}

/** Everything `npm start` runs, in one process: PostgreSQL (embedded unless given), subgraphs, gateway, scheduler, demo. */
export interface Stack {
  readonly gateway: GatewayServer;
  readonly subgraphs: Readonly<Record<string, SubgraphServer>>;
  readonly databaseUrl: string;
  readonly postgres?: EmbeddedPostgres;
  readonly scheduler?: Scheduler;
  readonly demo?: Demo;
  /** Stops the gateway, then the subgraphs, then PostgreSQL (if it started it). Safe to call twice. */
  stop(): Promise<void>;
}

/**
 * Starts the whole graph: the database (DATABASE_URL, or embedded PostgreSQL in `<DATA_DIR>/postgres`),
 * the four subgraphs on free ports at SUBGRAPH_HOST (each migrating its schema) and the gateway on
 * `port`; the scheduler and the demo when asked. In production without GATEWAY_SHARED_SECRET, the
 * gateway and the subgraphs share one made for this start: the subgraphs answer only this gateway.
 * Whatever started is stopped again when a later step fails.
 */
export async function startStack(options: StackOptions): Promise<Stack> {
  const config =
    options.config.NODE_ENV === 'production' && !options.config.GATEWAY_SHARED_SECRET
      ? { ...options.config, GATEWAY_SHARED_SECRET: randomBytes(32).toString('base64url') }
      : options.config;
  const started: { name: string; stop(): Promise<void> }[] = [];
  const stopAll = async () => {
    for (const part of started.reverse()) {
      const began = performance.now();
      await part.stop().catch((error: unknown) => logger.error({ err: error, part: part.name }, 'error while stopping'));
      logger.debug({ part: part.name, ms: Math.round(performance.now() - began) }, 'stopped');
    }
    started.length = 0;
  };
  const named = <T extends { stop(): Promise<void> }>(name: string, part: T) => ({ name, stop: () => part.stop() });
  try {
    let databaseUrl = options.databaseUrl ?? config.DATABASE_URL;
    let postgres: EmbeddedPostgres | undefined;
    if (!databaseUrl) {
      postgres = await startEmbeddedPostgres(path.join(config.dataDir, 'postgres'));
      started.push(named('postgres', postgres));
      await postgres.ensureDatabase(DATABASE_NAME);
      databaseUrl = postgres.databaseUrl(DATABASE_NAME);
    }
    const subgraphs = await Promise.all(
      SUBGRAPHS.map((definition) => startSubgraph(definition, { config, databaseUrl: databaseUrl!, port: 0 })),
    );
    started.push(...subgraphs.map((s) => named(s.name, s)));
    const gateway = await startGateway({
      config,
      supergraphSdl: fs.readFileSync(SUPERGRAPH_PATH, 'utf8'),
      subgraphUrls: Object.fromEntries(subgraphs.map((s) => [s.name, s.url])),
      port: options.port,
      databaseUrl,
    });
    started.push(named('gateway', gateway));
    let scheduler: Scheduler | undefined;
    let demo: Demo | undefined;
    if (options.scheduler) {
      // The provider emulators' demos reach the receiver on loopback: that is its public address.
      let schedulerConfig = config;
      let demoTls: LoopbackTls | undefined;
      if (options.demo && options.demo.some(isEmulatorDemo)) {
        if (!config.PUBLIC_WEBHOOK_URL) {
          const port = config.WEBHOOK_PORT || (await freePort());
          schedulerConfig = { ...schedulerConfig, WEBHOOK_PORT: port, PUBLIC_WEBHOOK_URL: `http://127.0.0.1:${port}` };
        }
        // The emulators serve HTTPS with a certificate made now; the scheduler trusts it (and whatever CONNECTOR_CA_FILE held).
        demoTls = await loopbackTls();
        schedulerConfig = { ...schedulerConfig, CONNECTOR_CA_FILE: writeDemoCaFile(config, demoTls) };
      }
      scheduler = await startScheduler({ config: schedulerConfig, databaseUrl, lockLifetimeMs: options.lockLifetimeMs });
      started.push(named('scheduler', scheduler));
      if (options.demo && options.demo.length > 0) {
        const accounts = subgraphs.find((s) => s.name === 'accounts')!.db;
        demo = await startDemos(options.demo, {
          config,
          accounts,
          ...(demoTls ? { tls: demoTls } : {}),
          webhookUrl: scheduler.webhookUrl,
          resubscribe: (instanceId) => scheduler!.jobs.syncSubscriptionsSoon(instanceId),
        });
        // Stopped after the scheduler (which stops first): its running jobs may still call the provider.
        started.splice(started.length - 1, 0, named('demo', demo));
      }
    }
    let stopping: Promise<void> | undefined;
    return {
      gateway,
      subgraphs: Object.fromEntries(subgraphs.map((s) => [s.name, s])),
      databaseUrl,
      postgres,
      scheduler,
      demo,
      stop: () => (stopping ??= stopAll()),
    };
  } catch (error) {
    await stopAll();
    throw error;
  }
}
