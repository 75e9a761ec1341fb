// What every `npm run bench:*` main shares: settings read once, a temp dir, the embedded PostgreSQL and
// the stack started on demand, everything closed in reverse order however the run ends (return, throw,
// uncaught error, SIGINT, SIGTERM), and one exit status: the body's, 1 when it throws, 2 on bad
// settings, 130 / 143 on SIGINT / SIGTERM.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { z } from 'zod';
import type { Config } from '../platform/config.js';
import type { Stack } from '../scripts/stack.js';

// The logger reads LOG_LEVEL when its module loads. This module loads no module that logs; a benchmark
// imports those with `await import(...)` in its body (or at its top level, after this static import).
process.env.LOG_LEVEL = 'silent';

/** The database every benchmark uses inside its embedded PostgreSQL. */
const DATABASE_NAME = 'tenantwatch_bench';
const BENCH_JWT_SECRET = 'tenantwatch-bench-secret-0123456789abcdef';
const SIGNAL_STATUS: Readonly<Record<'SIGINT' | 'SIGTERM', number>> = { SIGINT: 130, SIGTERM: 143 };

/** What a benchmark body is given. Whatever it starts through it, or registers with {@link defer}, is closed when the run ends. */
export interface Bench<Settings> {
  readonly settings: Settings;
  /** A private folder of this run, removed last. */
  readonly tmp: string;
  /** Where the embedded PostgreSQL keeps its data: `<tmp>/postgres`. */
  readonly postgresDir: string;
  /**
   * URL of the benchmark's database, or of another database `name` in the same PostgreSQL (a fresh
   * one per round of a benchmark). The first call starts the embedded PostgreSQL; each name's first
   * call creates its database.
   */
  database(name?: string): Promise<string>;
  /** A client connected to the benchmark's database (or `database`), ended at the end. */
  client(database?: string): Promise<pg.Client>;
  /**
   * Drops a database of {@link database} with whatever is still connected to it (a round's stack
   * stopped first, its clients then fail their next query); a later {@link database} call with the
   * name creates it again, empty.
   */
  dropDatabase(name: string): Promise<void>;
  /** Configuration variables of a benchmark's stack (data in `tmp`, a fixed JWT secret, loopback, silent logs); `extra` adds or overrides. */
  configEnv(extra?: Readonly<Record<string, string>>): Record<string, string>;
  /**
   * Starts the whole graph on the benchmark's database (or `database`), its gateway on a free port;
   * stopped at the end (stopping it earlier is allowed: a stack stops once).
   */
  startStack(config: Config, options?: { readonly scheduler?: boolean; readonly database?: string }): Promise<Stack>;
  /**
   * Starts a scheduler as its own process (`scheduler/index.ts`, as production runs it) on the
   * benchmark's database with `env` (from {@link configEnv}); stopped (SIGTERM, then SIGKILL after 10 s)
   * at the end. Its exit before then fails the run with what it printed.
   */
  startSchedulerProcess(env: Readonly<Record<string, string>>): Promise<SchedulerProcess>;
  /** Runs `close` when the run ends, before whatever was registered earlier. A `close` that throws is printed and makes a status of 0 a 1. */
  defer(close: () => Promise<unknown>): void;
}

/** A scheduler running as its own process. */
export interface SchedulerProcess {
  readonly pid: number;
  /** CPU seconds the process has used so far (user + system); null when /proc cannot tell. */
  cpuSeconds(): number | null;
}

/** USER_HZ, the unit of /proc's CPU times: 100 on every Linux this runs on. */
const TICKS_PER_SECOND = 100;

/**
 * A process's /proc stat fields after "(comm)", counted from 0: state, ppid, ... utime (11), stime (12),
 * cutime (13), cstime (14). Null when it has ended (or /proc cannot tell).
 */
function procStat(pid: number | string): number[] | null {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat
      .slice(stat.lastIndexOf(')') + 2)
      .split(' ')
      .map(Number);
  } catch {
    return null;
  }
}

/** CPU seconds used so far by one process (user + system, without its children); null when /proc cannot tell. */
export function processCpuSeconds(pid: number): number | null {
  const fields = procStat(pid);
  return fields ? (fields[11]! + fields[12]!) / TICKS_PER_SECOND : null;
}

/** The per-token and per-address limits raised out of a benchmark's way. */
const UNLIMITED_CLIENT: Readonly<Record<string, string>> = {
  GATEWAY_RATE_LIMIT_PER_MINUTE: '10000000',
  AUTH_FAILURES_PER_MINUTE: '1000000',
  GATEWAY_WS_MAX_PENDING_PER_ADDRESS: '100000',
  GATEWAY_WS_MAX_CONNECTIONS_PER_SUBJECT: '100000',
  GATEWAY_WS_MAX_SUBSCRIPTIONS_PER_SUBJECT: '1000000',
};

export interface BenchmarkOptions<Schema extends z.ZodType> {
  /** Read from the BENCH_* environment variables (an empty one counts as unset), overridden by `flags`. */
  readonly settings: Schema;
  /** Command-line flags (`--name value`) by the setting they override; without flags the arguments are not read. */
  readonly flags?: Readonly<Record<string, Extract<keyof z.input<Schema>, string>>>;
}

/** Bad BENCH_* values or flags: the message says which and what is accepted. */
class SettingsError extends Error {}

function readSettings<Schema extends z.ZodType>({ settings, flags = {} }: BenchmarkOptions<Schema>): z.output<Schema> {
  const env = Object.fromEntries(Object.entries(process.env).filter(([k, v]) => k.startsWith('BENCH_') && v));
  const parsed = settings.safeParse({ ...env, ...readFlags(flags) });
  if (!parsed.success)
    throw new SettingsError(
      `Invalid settings:\n${parsed.error.issues.map((i) => `  ${i.path.join('.') || '(settings)'}: ${i.message}`).join('\n')}`,
    );
  return parsed.data;
}

/** The given flags' values by the setting each overrides. */
function readFlags(flags: Readonly<Record<string, string>>): Record<string, string> {
  const names = Object.keys(flags);
  if (names.length === 0) return {};
  let values: Record<string, string | boolean | (string | boolean)[] | undefined>;
  try {
    ({ values } = parseArgs({ options: Object.fromEntries(names.map((name) => [name, { type: 'string' as const }])) }));
  } catch (error) {
    throw new SettingsError(`${(error as Error).message}; accepted: ${names.map((name) => `--${name}`).join(', ')} (each with a value)`);
  }
  return Object.fromEntries(names.flatMap((name) => (typeof values[name] === 'string' ? [[flags[name]!, values[name]]] : [])));
}

/**
 * How a run ends: the first of the body's status, a signal or an uncaught error sets the exit status;
 * then everything registered is closed, the latest first, and the process exits.
 */
class Ending {
  private readonly closers: (() => Promise<unknown>)[] = [];
  private closing?: Promise<void>;
  private status?: number;
  /** A close threw, or an error nothing caught: a status of 0 becomes 1. */
  private failed = false;
  private interrupted = false;

  /** Ends the run on SIGINT / SIGTERM (a second one kills at once, should closing hang) and on an uncaught error. */
  constructor() {
    const interrupt = (signal: keyof typeof SIGNAL_STATUS) => {
      this.interrupted = true;
      void this.end(SIGNAL_STATUS[signal]);
    };
    process.once('SIGINT', interrupt).once('SIGTERM', interrupt);
    // An 'error' event without a listener, a write to a closed pipe: PostgreSQL is a child process and
    // would outlive a crash, so these end the run as a throw does.
    const crash = (error: unknown) => {
      this.failed = true;
      this.report(error);
      void this.end(1);
    };
    process.on('uncaughtException', crash).on('unhandledRejection', crash);
  }

  defer(close: () => Promise<unknown>): void {
    this.closers.push(close);
  }

  /** Prints what went wrong, unless a signal is tearing the run down under the body (then failures are expected). */
  report(error: unknown): void {
    if (!this.interrupted) console.error(error);
  }

  end(status: number): Promise<never> {
    this.status ??= status;
    return this.closeAll().then(() => process.exit(this.status === 0 && this.failed ? 1 : this.status));
  }

  private closeAll(): Promise<void> {
    return (this.closing ??= (async () => {
      // Popped one at a time: what the body registers meanwhile is closed too.
      while (this.closers.length > 0) {
        const close = this.closers.pop()!;
        try {
          await close();
        } catch (error) {
          this.failed = true;
          console.error(error);
        }
      }
    })());
  }
}

/**
 * Runs a benchmark main: reads its settings, runs `body` and exits with the status it answers, after
 * closing everything it started. Bad settings exit 2 with the message; a throw (or an uncaught error) is
 * printed and exits 1; SIGINT and SIGTERM close everything and exit 130 and 143.
 */
export async function runBenchmark<Schema extends z.ZodType>(
  options: BenchmarkOptions<Schema>,
  body: (bench: Bench<z.output<Schema>>) => Promise<number>,
): Promise<never> {
  let settings: z.output<Schema>;
  try {
    settings = readSettings(options);
  } catch (error) {
    if (!(error instanceof SettingsError)) throw error;
    console.error(error.message);
    process.exit(2);
  }
  const ending = new Ending();
  const defer = (close: () => Promise<unknown>) => ending.defer(close);

  // Loaded before the body and what it imports: compiling them never overlaps what a body times (scan
  // times its simulator thread's start), and the heap figures a body prints (subscriptions) do not move
  // with the order modules load in.
  const { startEmbeddedPostgres } = await import('../scripts/embedded-postgres.js');
  const { startStack } = await import('../scripts/stack.js');

  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tenantwatch-bench-'));
  defer(() => fs.promises.rm(tmp, { recursive: true, force: true }));
  const postgresDir = path.join(tmp, 'postgres');
  let postgres: ReturnType<typeof startEmbeddedPostgres> | undefined;
  const startPostgres = () =>
    (postgres ??= (() => {
      const starting = startEmbeddedPostgres(postgresDir);
      // Registered before it has started: a run that ends meanwhile waits for it, so no PostgreSQL outlives the run.
      defer(async () => (await starting.catch(() => undefined))?.stop());
      return starting;
    })());
  const databaseUrls = new Map<string, Promise<string>>();
  const database = (name = DATABASE_NAME) => {
    let url = databaseUrls.get(name);
    if (!url) {
      url = (async () => {
        const server = await startPostgres();
        await server.ensureDatabase(name);
        return server.databaseUrl(name);
      })();
      databaseUrls.set(name, url);
    }
    return url;
  };
  const bench: Bench<z.output<Schema>> = {
    settings,
    tmp,
    postgresDir,
    database,
    dropDatabase: async (name) => {
      const known = databaseUrls.get(name);
      if (!known) return;
      databaseUrls.delete(name);
      await known.catch(() => undefined);
      const maintenance = new pg.Client({ connectionString: (await startPostgres()).url });
      await maintenance.connect();
      try {
        await maintenance.query(`drop database if exists "${name.replace(/"/g, '""')}" with (force)`);
      } finally {
        await maintenance.end();
      }
    },
    client: async (name) => {
      const client = new pg.Client({ connectionString: await database(name) });
      // A lost connection (Ctrl-C in a terminal reaches PostgreSQL too) fails the client's next query, which
      // says so where the body can tell; and a client that never connected, or lost it, has nothing to end.
      client.on('error', () => undefined);
      defer(() => client.end().catch(() => undefined));
      await client.connect();
      return client;
    },
    configEnv: (extra = {}) => ({
      DATA_DIR: tmp,
      AUTH_JWT_SECRET: BENCH_JWT_SECRET,
      HOST: '127.0.0.1',
      LOG_LEVEL: 'silent',
      // Each benchmark speaks for one token and one address at a rate no single client would be allowed: its measure is the path, not the limits.
      ...UNLIMITED_CLIENT,
      ...extra,
    }),
    startStack: async (config, { scheduler = false, database: name } = {}) => {
      const stack = await startStack({ config, databaseUrl: await database(name), port: 0, scheduler });
      defer(() => stack.stop());
      return stack;
    },
    startSchedulerProcess: async (env) => {
      const child = spawn(process.execPath, ['--import', '@swc-node/register/esm-register', 'scheduler/index.ts'], {
        cwd: path.resolve(import.meta.dirname, '..'),
        // NODE_OPTIONS passes on, so that a profiler or a preload given to the benchmark reaches the scheduler too.
        env: {
          PATH: process.env.PATH,
          ...(process.env.NODE_OPTIONS ? { NODE_OPTIONS: process.env.NODE_OPTIONS } : {}),
          ...env,
          DATABASE_URL: await database(),
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let output = '';
      const keep = (chunk: Buffer) => (output = (output + chunk.toString()).slice(-20_000));
      child.stdout.on('data', keep);
      child.stderr.on('data', keep);
      let stopping = false;
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      child.once('exit', (code, signal) => {
        if (stopping) return;
        console.error(`The scheduler process exited (${signal ?? `status ${code}`}) before the run ended:\n${output}`);
        void ending.end(1);
      });
      defer(async () => {
        stopping = true;
        if (child.exitCode !== null || child.signalCode !== null) return;
        child.kill('SIGTERM');
        const killer = setTimeout(() => child.kill('SIGKILL'), 10_000);
        await exited;
        clearTimeout(killer);
      });
      await new Promise<void>((resolve, reject) => child.once('spawn', resolve).once('error', reject));
      return { pid: child.pid!, cpuSeconds: () => processCpuSeconds(child.pid!) };
    },
    defer,
  };

  let status: number;
  try {
    status = await body(bench);
  } catch (error) {
    ending.report(error);
    status = 1;
  }
  return ending.end(status);
}

/**
 * CPU seconds used so far by the PostgreSQL in `dataDir`: the postmaster, its live children, and the
 * children it has reaped (backends that ended). Null when /proc cannot tell (not Linux).
 */
export function postgresCpuSeconds(dataDir: string): number | null {
  try {
    const postmaster = Number(fs.readFileSync(path.join(dataDir, 'postmaster.pid'), 'utf8').split('\n')[0]);
    let ticks = 0;
    for (const entry of fs.readdirSync('/proc')) {
      if (!/^\d+$/.test(entry)) continue;
      const fields = procStat(entry);
      if (!fields) continue; // ended meanwhile
      if (Number(entry) === postmaster) ticks += fields[11]! + fields[12]! + fields[13]! + fields[14]!;
      else if (fields[1] === postmaster) ticks += fields[11]! + fields[12]!;
    }
    return ticks / TICKS_PER_SECOND;
  } catch {
    return null;
  }
}

/** Sends a GraphQL operation to the gateway with one token; answers `data`, throws with the errors. */
export type GatewayClient = <T>(query: string, variables?: Record<string, unknown>) => Promise<T>;

export function gatewayClient(url: string, token: string): GatewayClient {
  return async <T>(query: string, variables: Record<string, unknown> = {}): Promise<T> => {
    const response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({ query, variables }),
    });
    const answer = (await response.json()) as { data?: T; errors?: unknown[] };
    if (answer.errors?.length) throw new Error(JSON.stringify(answer.errors));
    return answer.data!;
  };
}

/**
 * Asks for the instance's status until it is CONNECTED; throws when it ends in ERROR or is not
 * CONNECTED `timeoutSeconds` after `started` (a `performance.now()`). Every 15 s prints how long
 * it has been and the instance's status message, after what `progress` adds.
 */
export async function waitUntilConnected(
  ask: GatewayClient,
  instanceId: string,
  options: { readonly started: number; readonly timeoutSeconds: number; readonly progress?: () => string },
): Promise<void> {
  const deadline = Date.now() + options.timeoutSeconds * 1000;
  let lastReport = Date.now();
  for (;;) {
    const { appInstance } = await ask<{ appInstance: { status: string; statusMessage: string | null } }>(
      'query ($id: ID!) { appInstance(id: $id) { status statusMessage } }',
      { id: instanceId },
    );
    if (appInstance.status === 'CONNECTED') return;
    if (appInstance.status === 'ERROR') throw new Error(`the instance ended in ERROR: ${appInstance.statusMessage}`);
    if (Date.now() > deadline) throw new Error(`not CONNECTED after ${options.timeoutSeconds} s (${appInstance.statusMessage})`);
    if (Date.now() - lastReport > 15_000) {
      lastReport = Date.now();
      const extra = options.progress ? `${options.progress()}; ` : '';
      console.log(
        `  ${((performance.now() - options.started) / 1000).toFixed(0)} s: ${extra}${appInstance.statusMessage ?? appInstance.status}`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

/**
 * A `--sizes` setting: a comma-separated list of counts of `what`, each from `min` to `max`, one
 * round per size (e.g. `sizesSetting('files', 100, 100_000, '10000,100000')`).
 */
export function sizesSetting(what: string, min: number, max: number, example: string) {
  return z
    .string()
    .regex(/^\d+(,\d+)*$/, `a comma-separated list of counts of ${what}, e.g. ${example}`)
    .transform((v) => v.split(',').map(Number))
    .refine(
      (sizes) => sizes.every((n) => n >= min && n <= max),
      `each size from ${min.toLocaleString('en')} to ${max.toLocaleString('en')} ${what}`,
    )
    .optional();
}
