// `npm run backup -- [--out <file>]` writes a backup of Tenantwatch's data (gzip; default
// DATA_DIR/backups/tenantwatch-<time>.backup.gz); `npm run restore -- <file> [--replace]` restores one.
// Against DATABASE_URL when set; otherwise against the embedded PostgreSQL in DATA_DIR: a backup
// reads it while `npm start` runs (one consistent snapshot), a restore needs Tenantwatch stopped.
// Exit codes: 0 done, 1 failed, 2 bad usage or a backup that cannot be restored here.
import 'reflect-metadata';
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { auditModule } from '../platform/audit/module.js';
import { BackupError, backupDatabase, restoreDatabase, type BackupModule } from '../platform/backup.js';
import { ConfigError, loadConfig, type Config } from '../platform/config.js';
import { schedulerModule } from '../scheduler/module.js';
import { SUBGRAPHS } from '../subgraphs/index.js';
import { embeddedDatabaseUrl, runningEmbeddedPort, startEmbeddedPostgres } from './embedded-postgres.js';
import { DATABASE_NAME } from './stack.js';

/** Every module's schema: the four subgraphs', the scheduler's and the audit log's. */
export const BACKUP_MODULES: readonly BackupModule[] = [...SUBGRAPHS.map((s) => s.module), schedulerModule, auditModule];

/** The database to work on, and how to let it go: DATABASE_URL, the running embedded one, or one started for this. */
async function database(config: Config, mayBeRunning: boolean): Promise<{ url: string; release(): Promise<void> }> {
  if (config.DATABASE_URL) return { url: config.DATABASE_URL, release: async () => {} };
  const dataDir = path.join(config.dataDir, 'postgres');
  const port = runningEmbeddedPort(dataDir);
  if (port !== null) {
    if (!mayBeRunning) throw new ConfigError('Tenantwatch is running on this DATA_DIR: stop it (Ctrl-C on npm start) before restoring');
    return { url: embeddedDatabaseUrl(port, DATABASE_NAME), release: async () => {} };
  }
  const postgres = await startEmbeddedPostgres(dataDir);
  await postgres.ensureDatabase(DATABASE_NAME);
  return { url: postgres.databaseUrl(DATABASE_NAME), release: () => postgres.stop() };
}

async function main(): Promise<void> {
  const [command, ...rest] = process.argv.slice(2);
  const config = loadConfig();
  if (command === 'backup') {
    const { values } = parseArgs({ args: rest, options: { out: { type: 'string' } } });
    const out =
      values.out ?? path.join(config.dataDir, 'backups', `tenantwatch-${new Date().toISOString().replace(/[:.]/g, '-')}.backup.gz`);
    fs.mkdirSync(path.dirname(path.resolve(out)), { recursive: true });
    const db = await database(config, true);
    try {
      const manifest = await backupDatabase(db.url, BACKUP_MODULES, fs.createWriteStream(out, { flags: 'wx', mode: 0o600 }));
      const rows = manifest.tables.reduce((n, t) => n + t.rows, 0);
      process.stdout.write(`Backup written to ${out}: ${manifest.tables.length} tables, ${rows} rows\n`);
    } finally {
      await db.release();
    }
    return;
  }
  if (command === 'restore') {
    const { values, positionals } = parseArgs({ args: rest, allowPositionals: true, options: { replace: { type: 'boolean' } } });
    const file = positionals[0];
    if (!file || positionals.length > 1) throw new ConfigError('usage: npm run restore -- <backup file> [--replace]');
    if (!fs.existsSync(file)) throw new ConfigError(`no such backup file: ${file}`);
    const db = await database(config, false);
    try {
      const manifest = await restoreDatabase(db.url, BACKUP_MODULES, () => fs.createReadStream(file), { replace: values.replace === true });
      const rows = manifest.tables.reduce((n, t) => n + t.rows, 0);
      process.stdout.write(`Restored ${file} (taken ${manifest.createdAt}): ${manifest.tables.length} tables, ${rows} rows\n`);
    } finally {
      await db.release();
    }
    return;
  }
  throw new ConfigError('usage: npm run backup -- [--out <file>] | npm run restore -- <backup file> [--replace]');
}

try {
  await main();
} catch (error) {
  process.stderr.write(`${(error as Error).message}\n`);
  process.exit(error instanceof ConfigError || error instanceof BackupError ? 2 : 1);
}
