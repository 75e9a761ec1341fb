// The scheduler as its own process (`node dist/scheduler/index.js`): needs DATABASE_URL (and
// MONGODB_URL for the production job store; CREDENTIALS_KEY in production, checked before anything
// opens); stops gracefully on SIGINT/SIGTERM.
import 'reflect-metadata';
import { requireProductionSecrets } from '../platform/auth.js';
import { loadConfig } from '../platform/config.js';
import { logger } from '../platform/logger.js';
import { startScheduler } from './scheduler.js';

try {
  const config = loadConfig();
  requireProductionSecrets(config, { credentials: true });
  if (!config.DATABASE_URL) throw new Error('DATABASE_URL must be set to run the scheduler on its own');
  const scheduler = await startScheduler({
    config,
    databaseUrl: config.DATABASE_URL,
    lockLifetimeMs: Number(process.env.JOB_LOCK_LIFETIME_MS) || undefined,
  });
  const stop = async (signal: string) => {
    logger.info({ signal }, 'stopping scheduler: running jobs finish their page');
    await scheduler.stop();
    process.exit(0);
  };
  process.once('SIGINT', () => void stop('SIGINT'));
  process.once('SIGTERM', () => void stop('SIGTERM'));
} catch (error) {
  logger.fatal({ err: error }, (error as Error).message);
  process.exit(1);
}
