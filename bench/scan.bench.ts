// `npm run bench:scan`: connects one large simulated tenant (100,000 files, 500,000+ audit events by
// default) under a fixed provider limit and measures how well the scheduler spends the allowed rate:
// achieved requests/s ÷ allowed requests/s (the limit less the headroom), wall time ÷ the theoretical
// minimum (the requests a perfect client needs ÷ the allowed rate), and the throttled (429) count.
// Targets (issue): utilization ≥ 0.9 with under 1% of requests throttled. The metadata scan ends when the
// instance is CONNECTED; the data scan (one download per file) starts when the file listing is done,
// shares the budget, and is only waited for with BENCH_DATA_SCAN=on. Afterwards the stored counts are
// checked against the simulator's ground truth; a mismatch, a failed scan or a timeout exits 1.
// BENCH_SIZES (`--sizes 10000,100000`, files) runs one round per size, one after another, each on a
// fresh simulated tenant (its own simulator thread), a fresh database (created for the round in the
// same PostgreSQL server and dropped after it) and a fresh stack; users, groups and grants keep the
// base tenant's ratio to files (BENCH_USERS, BENCH_GROUPS, BENCH_GRANTS per BENCH_FILES: by default
// 3,000, 40 and 2,000 per 100,000 files), days and events per user per day stay as they are, so the
// audit events grow with the users. Every round prints the single-size report and checks its counts;
// at the end a table shows how the cost grows: each size's figures against the first size's.
// The simulator runs in a worker thread of this process, as a provider on its own event loop would.
import 'reflect-metadata';
import os from 'node:os';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import type pg from 'pg';
import { z } from 'zod';
import type { Truth } from '../connectors/simulated/model.js';
import type { StatsSnapshot } from '../connectors/simulated/stats.js';
import type { TenantSpec } from '../connectors/simulated/spec.js';
import { loadConfig } from '../platform/config.js';
import { runBenchmark, sizesSetting, type Bench } from './harness.js';

const DAY_MS = 86_400_000;
const POLL_MS = 250;
const PROGRESS_EVERY_MS = 15_000;
const TENANT = { id: 'bench', token: 'bench-token-0123456789' } as const;

const flag = z.enum(['on', 'off', 'true', 'false', '1', '0']).transform((v) => v === 'on' || v === 'true' || v === '1');
const SettingsSchema = z
  .object({
    BENCH_FILES: z.coerce.number().int().min(0).max(100_000).default(100_000),
    BENCH_USERS: z.coerce.number().int().min(1).max(100_000).default(3_000),
    BENCH_GROUPS: z.coerce.number().int().min(0).max(10_000).default(40),
    BENCH_GRANTS: z.coerce.number().int().min(0).max(100_000).default(2_000),
    BENCH_DAYS: z.coerce.number().int().min(1).max(90).default(14),
    BENCH_EVENTS_PER_USER_PER_DAY: z.coerce.number().min(0).max(1000).default(13),
    /**
     * The provider's limit, requests per minute. 600 sits among documented SaaS limits (Atlassian
     * 1,000/min, ShareFile 420, Smartsheet 300, Zendesk 200, GitHub 5,000/hour). At 6,000/min with
     * 500-event pages a 2-core machine cannot store what the provider allows (~45,000 events/s): the
     * figure then measures ingest, not how the scheduler spends the budget.
     */
    BENCH_LIMIT: z.coerce.number().int().min(60).max(600_000).default(600),
    BENCH_PAGE_SIZE: z.coerce.number().int().min(1).max(10_000).default(500),
    BENCH_DATA_SCAN: flag.default(false),
    /**
     * Time the simulator takes to answer each API request, ms (default 0: a few ms of its own work).
     * Real providers answer a page in 100–500 ms; scans that wait for each answer before storing the
     * page, and then ask for the next, are bound by it.
     */
    BENCH_LATENCY_MS: z.coerce.number().int().min(0).max(10_000).default(0),
    BENCH_TIMEOUT_SECONDS: z.coerce.number().positive().max(7_200).default(1_800),
    /** Pages per listing the raw-simulator baseline reads. */
    BENCH_RAW_PAGES: z.coerce.number().int().min(1).max(10_000).default(100),
    /**
     * Rounds of this many files each, one after another, each on a fresh tenant and database (default:
     * one round of the base tenant, BENCH_FILES and the rest). The other dimensions scale with the files.
     */
    BENCH_SIZES: sizesSetting('files', 100, 100_000, '10000,100000'),
    /** `--provider simulated`, accepted beside `--sizes`: the provider is chosen at the bottom of this file, from the arguments. */
    BENCH_PROVIDER: z.literal('simulated', 'the provider is chosen with --provider (this benchmark: simulated)').optional(),
  })
  .refine((s) => s.BENCH_SIZES === undefined || s.BENCH_FILES > 0, {
    path: ['BENCH_FILES'],
    message: 'must be above 0 with BENCH_SIZES (the users, groups and grants per file are taken from it)',
  });
type Settings = z.output<typeof SettingsSchema>;
const FLAGS = { sizes: 'BENCH_SIZES', provider: 'BENCH_PROVIDER' } as const;

// ---------------------------------------------------------------- the simulator's thread

/** What the ground truth says a complete scan stores, and the requests a perfect client needs for it. */
interface Expected {
  readonly counts: Readonly<Record<'users' | 'groups' | 'memberships' | 'grants' | 'files' | 'activities', number>>;
  /** Metadata requests per scan kind (CONNECT: the permission check); DATA: one download per file. */
  readonly requests: Readonly<Record<string, number>>;
}

/** What the main thread asks the simulator thread; each answer comes back with the same id. */
type WorkerOp =
  | { readonly op: 'stats' }
  | { readonly op: 'expected'; readonly from: number; readonly to: number; readonly pageSize: number }
  | { readonly op: 'unlimit' }
  | { readonly op: 'stop' };
type WorkerRequest = WorkerOp & { readonly id: number };
type WorkerReply = { readonly id: number; readonly value: unknown } | { readonly id: number; readonly error: string };

/** The worker: hosts the tenant of `workerData` and answers {@link WorkerRequest}s about it. */
async function simulatorThread(port: NonNullable<typeof parentPort>): Promise<void> {
  const { startSimulator } = await import('../connectors/simulated/server.js');
  const simulator = await startSimulator({ tenants: [workerData as TenantSpec] });
  const tenant = simulator.tenant(TENANT.id);
  port.on('message', (request: WorkerRequest) => {
    void (async (): Promise<unknown> => {
      switch (request.op) {
        case 'stats':
          return tenant.stats();
        case 'expected':
          return expectedFromTruth(tenant.truth(), request.from, request.to, request.pageSize);
        case 'unlimit':
          return tenant.setRateLimit(1_000_000);
        case 'stop':
          return simulator.stop();
        default:
          throw new Error(`unknown request ${JSON.stringify(request satisfies never)}`);
      }
    })().then(
      (value) => port.postMessage({ id: request.id, value } satisfies WorkerReply),
      (error: unknown) => port.postMessage({ id: request.id, error: String(error) } satisfies WorkerReply),
    );
  });
  port.postMessage({ url: simulator.url });
}

/** Counts of live things, events in [from, to) visible by `to`, and the pages of `pageSize` that list them. */
function expectedFromTruth(truth: Truth, from: number, to: number, pageSize: number): Expected {
  const pages = (n: number) => Math.max(1, Math.ceil(n / pageSize));
  const users = new Set(truth.users.filter((u) => !u.deleted).map((u) => u.id));
  const groups = truth.groups.filter((g) => !g.deleted);
  const membersOf = (groupId: string) => truth.memberships.filter((m) => m.groupId === groupId && users.has(m.userId)).length;
  const grants = truth.grants.filter((g) => !g.deleted).length;
  const files = truth.files.filter((f) => !f.deleted).length;
  const activities = truth.events.filter((e) => {
    const at = Date.parse(e.occurredAt);
    return at >= from && at < to && Date.parse(e.visibleAt) <= to;
  }).length;
  const memberships = groups.reduce((sum, g) => sum + membersOf(g.id), 0);
  return {
    counts: { users: users.size, groups: groups.length, memberships, grants, files, activities },
    requests: {
      CONNECT: 1,
      USERS: pages(users.size),
      GROUPS: pages(groups.length) + groups.reduce((sum, g) => sum + pages(membersOf(g.id)), 0),
      ACTIVITIES: pages(activities),
      // The listing, and the change feed's starting cursor taken before it.
      FILES: 1 + pages(files),
      APP_PERMISSIONS: pages(grants),
      DATA: files,
    },
  };
}

/** The main thread's handle on the simulator thread. */
class SimulatorThread {
  private next = 0;
  private readonly pending = new Map<number, { resolve: (value: unknown) => void; reject: (error: Error) => void }>();

  private constructor(
    private readonly worker: Worker,
    readonly url: string,
  ) {
    worker.on('message', (reply: WorkerReply) => {
      const waiter = this.pending.get(reply.id);
      this.pending.delete(reply.id);
      if ('error' in reply) waiter?.reject(new Error(`simulator: ${reply.error}`));
      else waiter?.resolve(reply.value);
    });
  }

  /** Starts the worker and waits until its tenant is generated and the server listens. */
  static start(spec: TenantSpec): Promise<SimulatorThread> {
    const worker = new Worker(new URL(import.meta.url), { workerData: spec });
    return new Promise((resolve, reject) => {
      const exited = (code: number) => reject(new Error(`the simulator thread exited (${code}) before it listened`));
      worker.once('error', reject).once('exit', exited);
      worker.once('message', (message: { url: string }) => {
        // Only our own listeners: Worker keeps internal ones (removeAllListeners() would stop its messages).
        worker.off('error', reject).off('exit', exited);
        resolve(new SimulatorThread(worker, message.url));
      });
    });
  }

  private ask<T>(request: WorkerOp): Promise<T> {
    const id = this.next++;
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (value: unknown) => void, reject });
      this.worker.postMessage({ ...request, id });
    });
  }

  stats = () => this.ask<StatsSnapshot>({ op: 'stats' });
  expected = (from: number, to: number, pageSize: number) => this.ask<Expected>({ op: 'expected', from, to, pageSize });
  unlimit = () => this.ask<void>({ op: 'unlimit' });

  private stopping?: Promise<void>;

  /** Stops the server and ends the thread; a second call waits for the first. */
  stop(): Promise<void> {
    return (this.stopping ??= (async () => {
      // A thread that no longer answers is terminated all the same.
      const stopped = this.ask<void>({ op: 'stop' }).catch(() => undefined);
      await Promise.race([stopped, new Promise((resolve) => setTimeout(resolve, 10_000).unref())]);
      await this.worker.terminate();
    })());
  }
}

// ---------------------------------------------------------------- the main thread

/** Scan kinds in report order; CONNECT is the permission check before the first scan. */
const KINDS = ['CONNECT', 'USERS', 'GROUPS', 'ACTIVITIES', 'FILES', 'APP_PERMISSIONS', 'DATA'] as const;
type Kind = (typeof KINDS)[number];
const METADATA_KINDS = KINDS.filter((k) => k !== 'DATA');

/** Which scan kind sends each simulator route (`METHOD /pattern`, as its stats name them). */
const KIND_OF_ROUTE: Readonly<Record<string, Kind>> = {
  'GET /api/v1/me': 'CONNECT',
  'GET /api/v1/users': 'USERS',
  'GET /api/v1/groups': 'GROUPS',
  'GET /api/v1/groups/:id/members': 'GROUPS',
  'GET /api/v1/audit/events': 'ACTIVITIES',
  'GET /api/v1/files': 'FILES',
  'GET /api/v1/files/changes': 'FILES',
  'GET /api/v1/oauth-grants': 'APP_PERMISSIONS',
  'GET /api/v1/files/:id/content': 'DATA',
};

interface Sent {
  readonly total: number;
  readonly throttled: number;
}

/** Requests answered so far per kind (routes no scan should call count as `other`). */
function sentByKind(stats: StatsSnapshot): Map<Kind | 'other', Sent> {
  const out = new Map<Kind | 'other', Sent>();
  for (const [route, { total, statuses }] of Object.entries(stats.routes)) {
    const kind = KIND_OF_ROUTE[route] ?? 'other';
    const before = out.get(kind) ?? { total: 0, throttled: 0 };
    out.set(kind, { total: before.total + total, throttled: before.throttled + (statuses['429'] ?? 0) });
  }
  return out;
}

const sum = (sent: Map<Kind | 'other', Sent>, kinds: readonly (Kind | 'other')[]) =>
  kinds.reduce((acc, k) => ({ total: acc.total + (sent.get(k)?.total ?? 0), throttled: acc.throttled + (sent.get(k)?.throttled ?? 0) }), {
    total: 0,
    throttled: 0,
  });

interface ScanRow {
  readonly kind: Kind;
  readonly state: string;
  readonly itemsScanned: number;
  readonly lastStartedAt: string | null;
  readonly lastCompletedAt: string | null;
  readonly lastError: string | null;
}
interface InstanceState {
  readonly status: string;
  readonly statusMessage: string | null;
  readonly scans: readonly ScanRow[];
}
const INSTANCE_QUERY = `query Instance($id: ID!) { appInstance(id: $id) {
  status statusMessage scans { kind state itemsScanned lastStartedAt lastCompletedAt lastError } } }`;

/** POSTs a GraphQL request and answers `data`; throws with the errors' messages. */
async function postGraphQL<T>(url: string, token: string, query: string, variables: Record<string, unknown> = {}): Promise<T> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify({ query, variables }),
    signal: AbortSignal.timeout(30_000),
  });
  const body = (await response.json()) as { data?: T | null; errors?: { message: string }[] };
  if (body.errors?.length) throw new Error(body.errors.map((e) => e.message).join('; '));
  if (!body.data) throw new Error(`HTTP ${response.status} without data`);
  return body.data;
}

/** What one timed phase (connectApp until `until`) saw. */
interface Phase {
  readonly name: string;
  readonly seconds: number;
  readonly stats: StatsSnapshot;
  readonly instance: InstanceState;
  /** Requests a perfect client needs for this phase. */
  readonly needed: number;
}

interface Run {
  readonly settings: Settings;
  readonly gatewayUrl: string;
  readonly token: string;
  readonly instanceId: string;
  readonly simulator: SimulatorThread;
  readonly startedAt: number;
}

/** Polls the instance until `done` holds; throws on ERROR, DISCONNECTED or the deadline. Prints progress. */
async function waitFor(run: Run, what: string, done: (s: InstanceState) => boolean): Promise<InstanceState> {
  const deadline = run.startedAt + run.settings.BENCH_TIMEOUT_SECONDS * 1000;
  let nextProgress = performance.now() + PROGRESS_EVERY_MS;
  for (;;) {
    const { appInstance: state } = await postGraphQL<{ appInstance: InstanceState }>(run.gatewayUrl, run.token, INSTANCE_QUERY, {
      id: run.instanceId,
    });
    if (done(state)) return state;
    if (state.status === 'ERROR' || state.status === 'DISCONNECTED')
      throw new Error(`instance ${state.status}: ${state.statusMessage ?? ''}`);
    const now = performance.now();
    if (now > deadline)
      throw new Error(
        `timed out after ${run.settings.BENCH_TIMEOUT_SECONDS} s waiting for ${what} (status ${state.status}: ${state.statusMessage ?? ''})`,
      );
    if (now >= nextProgress) {
      nextProgress = now + PROGRESS_EVERY_MS;
      const stats = await run.simulator.stats();
      const items = state.scans
        .filter((s) => s.itemsScanned > 0)
        .map((s) => `${s.kind.toLowerCase()} ${s.itemsScanned}`)
        .join(', ');
      console.log(
        `  ${((now - run.startedAt) / 1000).toFixed(0).padStart(5)} s  ${stats.total} requests (${stats.throttled} throttled)  ${items}`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
}

const scanOf = (state: InstanceState, kind: Kind) => state.scans.find((s) => s.kind === kind);

/** Seconds from the kind's start to its completion, when it completed. */
function streamSeconds(scan: ScanRow | undefined): number | undefined {
  if (!scan?.lastStartedAt || !scan.lastCompletedAt) return undefined;
  return (Date.parse(scan.lastCompletedAt) - Date.parse(scan.lastStartedAt)) / 1000;
}

const f1 = (n: number) => n.toFixed(1);
const f2 = (n: number) => n.toFixed(2);
const pct = (part: number, whole: number) => (whole === 0 ? '0.00%' : `${((100 * part) / whole).toFixed(2)}%`);
const row = (cells: readonly string[], widths: readonly number[]) =>
  cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join(' ');

function printPhase(
  phase: Phase,
  expected: Expected,
  allowedPerSecond: number,
  kinds: readonly Kind[],
): { utilization: number; throttledShare: number } {
  const sent = sentByKind(phase.stats);
  const all = phase.stats.total;
  const achieved = all / phase.seconds;
  const utilization = achieved / allowedPerSecond;
  const minimum = phase.needed / allowedPerSecond;
  const widths = [16, 9, 9, 9, 7, 9, 9];
  const lines = [
    '',
    `${phase.name}: ${f1(phase.seconds)} s wall`,
    row(['kind', 'items', 'needed', 'sent', '429', 'run s', 'req/s'], widths),
  ];
  for (const kind of kinds) {
    const scan = scanOf(phase.instance, kind);
    const s = sent.get(kind) ?? { total: 0, throttled: 0 };
    const seconds = streamSeconds(scan);
    lines.push(
      row(
        [
          kind,
          scan ? String(scan.itemsScanned) : '-',
          String(expected.requests[kind] ?? 0),
          String(s.total),
          String(s.throttled),
          seconds === undefined ? '-' : f1(seconds),
          seconds ? f1(s.total / seconds) : '-',
        ],
        widths,
      ),
    );
  }
  const outside = [...sent.entries()].filter(([k]) => !kinds.includes(k as Kind));
  for (const [kind, s] of outside)
    lines.push(row([`(${kind.toLowerCase()})`, '-', '-', String(s.total), String(s.throttled), '-', '-'], widths));
  lines.push(
    `requests sent ${all} (${phase.stats.throttled} throttled = ${pct(phase.stats.throttled, all)}); needed ${phase.needed}`,
    `achieved ${f1(achieved)} req/s; allowed ${f1(allowedPerSecond)} req/s; utilization ${f2(utilization)}`,
    `theoretical minimum ${f1(minimum)} s (needed ÷ allowed); wall ÷ minimum ${f2(phase.seconds / minimum)}`,
  );
  console.log(lines.join('\n'));
  return { utilization, throttledShare: all === 0 ? 0 : phase.stats.throttled / all };
}

/** What the database holds for the instance after the scans. */
async function storedCounts(db: pg.Client, instanceId: string): Promise<Record<string, number>> {
  const live = (table: string) => `(select count(*) from ${table} where instance_id = $1 and deleted_at is null)`;
  const { rows } = await db.query<Record<string, string>>(
    `select ${live('accounts.account')} as users, ${live('accounts."group"')} as groups,
            (select count(*) from accounts.group_membership where instance_id = $1) as memberships,
            ${live('app_permissions.app_permission')} as grants, ${live('files.file')} as files,
            (select count(*) from files.file where instance_id = $1 and deleted_at is null and last_scanned_at is not null) as scanned_files,
            (select count(*) from activities.activity where instance_id = $1) as activities,
            (select count(*) from activities.activity where instance_id = $1 and actor_id is null and actor_external_id is not null) as unlinked_actors,
            (select count(*) from activities.activity where instance_id = $1 and file_id is null and file_external_id is not null) as unlinked_files`,
    [instanceId],
  );
  return Object.fromEntries(Object.entries(rows[0]!).map(([k, v]) => [k, Number(v)]));
}

/** The audit window the first activity scan read: its saved watermark is the window's end. */
async function activityWindow(
  db: pg.Client,
  instanceId: string,
  lagSeconds: number,
  backfillDays: number,
): Promise<{ from: number; to: number }> {
  const { rows } = await db.query<{ cursor: unknown }>(
    `select cursor from accounts.scan_state where instance_id = $1 and kind = 'ACTIVITIES'`,
    [instanceId],
  );
  const cursor = (typeof rows[0]?.cursor === 'string' ? JSON.parse(rows[0].cursor) : rows[0]?.cursor) as
    { watermark?: string } | null | undefined;
  if (!cursor?.watermark) throw new Error('the activity scan saved no watermark');
  const to = Date.parse(cursor.watermark);
  // The scan took now - lag as the end and now - backfill days as the start (scheduler/jobs/activities.ts).
  return { from: to + lagSeconds * 1000 - backfillDays * DAY_MS, to };
}

/** One sequential client reading the simulator with no limit: ms per request per route. */
async function rawBaseline(
  url: string,
  pageSize: number,
  maxPages: number,
  window: { from: number; to: number },
  fileIds: readonly string[],
) {
  const headers = { authorization: `Bearer ${TENANT.token}` };
  const walk = async (route: string, first: string) => {
    let next: string | null = null;
    let pages = 0;
    const started = performance.now();
    do {
      const response = await fetch(`${url}${first}${next ? `&pageToken=${encodeURIComponent(next)}` : ''}`, { headers });
      if (!response.ok) throw new Error(`raw baseline: ${route}: HTTP ${response.status}`);
      next = ((await response.json()) as { nextPageToken: string | null }).nextPageToken;
      pages += 1;
    } while (next && pages < maxPages);
    return { route, requests: pages, ms: performance.now() - started };
  };
  const iso = (t: number) => encodeURIComponent(new Date(t).toISOString());
  const results = [
    await walk('users', `/api/v1/users?limit=${pageSize}`),
    await walk('groups', `/api/v1/groups?limit=${pageSize}`),
    await walk('audit events', `/api/v1/audit/events?limit=${pageSize}&from=${iso(window.from)}&to=${iso(window.to)}`),
    await walk('files', `/api/v1/files?limit=${pageSize}`),
    await walk('oauth grants', `/api/v1/oauth-grants?limit=${pageSize}`),
  ];
  const started = performance.now();
  for (const id of fileIds) {
    const response = await fetch(`${url}/api/v1/files/${encodeURIComponent(id)}/content`, { headers });
    if (!response.ok) throw new Error(`raw baseline: content: HTTP ${response.status}`);
    await response.arrayBuffer();
  }
  results.push({ route: 'file content', requests: fileIds.length, ms: performance.now() - started });
  return results;
}

/** A tenant's dimensions that `--sizes` scales; days and events per user per day stay as the settings say. */
interface TenantSize {
  readonly users: number;
  readonly groups: number;
  readonly files: number;
  readonly grants: number;
}

/** What one round measured, for the growth table. */
interface RoundFigures {
  readonly files: number;
  readonly users: number;
  readonly events: number;
  /** connectApp → CONNECTED. */
  readonly metadataSeconds: number;
  readonly minimumSeconds: number;
  readonly utilization: number;
  readonly throttled: number;
  /** The audit backfill (the first ACTIVITIES scan), start to completion. */
  readonly backfillSeconds: number;
  /** The file listing (the first FILES scan), start to completion. */
  readonly listingSeconds: number;
  readonly mismatches: number;
  /** The machine's 1-minute load average when the round started (others' work moves every figure). */
  readonly loadAtStart: number;
}

/** Where a round of `--sizes` runs: its own database, and everything it started closed when it ends. */
interface FreshRound {
  readonly database: string;
}

/**
 * One tenant of `size` connected and scanned: prints the report and answers its figures. A round of
 * `--sizes` runs on its own database, which is dropped, with its stack and simulator stopped, at the end.
 */
async function scanRound(bench: Bench<Settings>, size: TenantSize, fresh?: FreshRound): Promise<RoundFigures> {
  const { settings } = bench;
  const { BENCH_LIMIT: limit, BENCH_PAGE_SIZE: pageSize } = settings;
  // Modules that log are imported here, once harness.js has set LOG_LEVEL (the logger reads it when it loads), and not at
  // the top level: the simulator's thread loads this module too.
  const { signToken } = await import('../platform/auth.js');

  const spec: TenantSpec = {
    ...TENANT,
    ...size,
    backfillDays: settings.BENCH_DAYS,
    backfillEventsPerUserPerDay: settings.BENCH_EVENTS_PER_USER_PER_DAY,
    activityPerMinute: 0,
    auditLagMs: 1_000,
    rateLimitPerMinute: limit,
    maxPageSize: pageSize,
    ...(settings.BENCH_LATENCY_MS > 0
      ? { faults: { errorRate: 0, slowRate: 1, slowMs: settings.BENCH_LATENCY_MS, dropRate: 0, throttleRate: 0 } }
      : {}),
  };
  // The whole history falls inside the first activity scan's window.
  const config = loadConfig(bench.configEnv({ BACKFILL_DAYS: String(settings.BENCH_DAYS + 1) }));
  const generating = performance.now();
  // The tenant is generated while PostgreSQL and the stack start; its thread is closed at the end once it listens.
  const starting = SimulatorThread.start(spec).then((simulator) => {
    bench.defer(() => simulator.stop());
    return { simulator, generatedMs: performance.now() - generating };
  });
  // Awaited below; until then a failure must not count as an unhandled rejection.
  starting.catch(() => undefined);
  const stack = await bench.startStack(config, { scheduler: true, ...(fresh ? { database: fresh.database } : {}) });
  const { simulator: sim, generatedMs } = await starting;
  const db = await bench.client(fresh?.database);
  const token = await signToken(config, { role: 'admin', subject: 'bench' });
  const allowed = (limit * (1 - config.HEADROOM_PERCENT / 100)) / 60;
  const loadAtStart = os.loadavg()[0]!;

  console.log(
    [
      `Tenantwatch scan benchmark (Node ${process.version}): one simulated tenant, connected through the gateway, scanned by the scheduler.`,
      `Tenant: ${spec.users} users, ${spec.groups} groups, ${spec.files} files, ${spec.grants} grants, ${spec.backfillDays} days × ${spec.backfillEventsPerUserPerDay} events per user per day (generated in ${f1(generatedMs / 1000)} s).`,
      `Provider limit ${limit}/min, page size ${pageSize}${settings.BENCH_LATENCY_MS ? `, ${settings.BENCH_LATENCY_MS} ms per answer` : ''}; headroom ${config.HEADROOM_PERCENT}% → allowed ${f1(allowed)} req/s. Data scan ${settings.BENCH_DATA_SCAN ? 'waited for' : 'not waited for'}.`,
      `Caveat: ${os.availableParallelism()} CPU cores shared by everything: the gateway, subgraphs and scheduler (one event loop), the simulator`,
      `(a worker thread of the same process) and PostgreSQL. Load average at start: ${os
        .loadavg()
        .map((l) => l.toFixed(2))
        .join(' ')}.`,
    ].join('\n'),
  );

  // Failed jobs are retried by Agenda and logged (silently here): count them, they cost requests and time.
  const failures = new Map<string, number>();
  stack.scheduler?.agenda.on('fail', (error: Error, job: { attrs: { name: string } }) => {
    const key = `${job.attrs.name}: ${error.message.slice(0, 200)}`;
    failures.set(key, (failures.get(key) ?? 0) + 1);
  });
  const startedAt = performance.now();
  const { connectApp } = await postGraphQL<{ connectApp: { id: string } }>(
    stack.gateway.url,
    token,
    'mutation Connect($input: ConnectAppInput!) { connectApp(input: $input) { id } }',
    {
      input: {
        provider: 'simulated',
        name: 'Scan bench',
        config: { endpoint: sim.url, token: TENANT.token, rateLimitPerMinute: limit, maxPageSize: pageSize },
      },
    },
  );
  const run: Run = { settings, gatewayUrl: stack.gateway.url, token, instanceId: connectApp.id, simulator: sim, startedAt };
  const connected = await waitFor(run, 'CONNECTED', (s) => s.status === 'CONNECTED');
  const connectedSeconds = (performance.now() - startedAt) / 1000;
  const connectedStats = await sim.stats();
  let dataPhase: { seconds: number; stats: StatsSnapshot; instance: InstanceState } | undefined;
  if (settings.BENCH_DATA_SCAN) {
    const instance = await waitFor(
      run,
      'the data scan',
      (s) => Boolean(scanOf(s, 'DATA')?.lastCompletedAt) && scanOf(s, 'DATA')?.state === 'IDLE',
    );
    dataPhase = { seconds: (performance.now() - startedAt) / 1000, stats: await sim.stats(), instance };
  }
  // Nothing else may spend the simulator's or the database's time from here on.
  await stack.scheduler?.stop();

  const window = await activityWindow(db, run.instanceId, config.AUDIT_LAG_SECONDS, config.BACKFILL_DAYS);
  const expected = await sim.expected(window.from, window.to, pageSize);
  const metadataNeeded = METADATA_KINDS.reduce((n, k) => n + (expected.requests[k] ?? 0), 0);
  const results = [
    printPhase(
      {
        name: 'Metadata scan (connectApp → CONNECTED)',
        seconds: connectedSeconds,
        stats: connectedStats,
        instance: connected,
        needed: metadataNeeded,
      },
      expected,
      allowed,
      METADATA_KINDS,
    ),
  ];
  if (dataPhase) {
    results.push(
      printPhase(
        {
          name: 'Metadata and data scan (connectApp → data scan done)',
          ...dataPhase,
          needed: metadataNeeded + (expected.requests.DATA ?? 0),
        },
        expected,
        allowed,
        KINDS,
      ),
    );
  }
  const inWindow = sum(sentByKind(connectedStats), ['DATA']).total;
  if (inWindow > 0)
    console.log(
      `Of the metadata scan's requests, ${inWindow} were data-scan downloads (it starts once the file listing is done and shares the budget).`,
    );

  const stored = await storedCounts(db, run.instanceId);
  const checks: [string, number, number][] = Object.entries(expected.counts).map(([kind, count]) => [kind, stored[kind]!, count]);
  if (dataPhase) checks.push(['scanned files', stored.scanned_files!, expected.counts.files]);
  const mismatches = checks.filter(([, got, want]) => got !== want);
  console.log(
    [
      '',
      `Stored vs truth: ${checks.map(([kind, got, want]) => `${kind} ${got}${got === want ? '' : ` (truth ${want}: MISMATCH)`}`).join(', ')}.`,
      `Activities stored without their account: ${stored.unlinked_actors}; without their file: ${stored.unlinked_files}.`,
      `Failed jobs (retried): ${[...failures.values()].reduce((n, c) => n + c, 0)}${[...failures].map(([m, c]) => `\n  ${c}× ${m}`).join('')}`,
    ].join('\n'),
  );

  await sim.unlimit();
  const { rows: sample } = await db.query<{ external_id: string }>(
    'select external_id from files.file where instance_id = $1 order by external_id limit $2',
    [run.instanceId, settings.BENCH_RAW_PAGES],
  );
  const raw = await rawBaseline(
    sim.url,
    pageSize,
    settings.BENCH_RAW_PAGES,
    window,
    sample.map((r) => r.external_id),
  );
  const rawRequests = raw.reduce((n, r) => n + r.requests, 0);
  const rawMs = raw.reduce((n, r) => n + r.ms, 0);
  console.log(
    [
      '',
      `Raw simulator, no limit, one sequential client (scans are sequential per kind), up to ${settings.BENCH_RAW_PAGES} requests per route:`,
      ...raw.map(
        (r) =>
          `  ${r.route.padEnd(13)} ${String(r.requests).padStart(5)} requests ${f2(r.ms / r.requests).padStart(8)} ms each ${f1((1000 * r.requests) / r.ms).padStart(8)} req/s`,
      ),
      `  all           ${String(rawRequests).padStart(5)} requests ${f2(rawMs / rawRequests).padStart(8)} ms each ${f1((1000 * rawRequests) / rawMs).padStart(8)} req/s (allowed: ${f1(allowed)} req/s)`,
    ].join('\n'),
  );

  const [main] = results;
  const verdict = (ok: boolean) => (ok ? 'met' : 'MISSED');
  console.log(
    [
      '',
      `Targets (metadata scan): utilization ${f2(main!.utilization)} ≥ 0.90: ${verdict(main!.utilization >= 0.9)}; throttled ${pct(main!.throttledShare, 1)} < 1%: ${verdict(main!.throttledShare < 0.01)}.`,
      `Exactness: ${mismatches.length === 0 ? 'every count matches the ground truth' : `${mismatches.length} mismatch(es)`}.`,
    ].join('\n'),
  );
  if (fresh) {
    await stack.stop();
    await sim.stop();
    await db.end();
    await bench.dropDatabase(fresh.database);
  }
  const backfillSeconds = streamSeconds(scanOf(connected, 'ACTIVITIES'));
  const listingSeconds = streamSeconds(scanOf(connected, 'FILES'));
  if (backfillSeconds === undefined || listingSeconds === undefined)
    throw new Error('CONNECTED before the first activity and file scans completed');
  return {
    files: size.files,
    users: size.users,
    events: expected.counts.activities,
    metadataSeconds: connectedSeconds,
    minimumSeconds: metadataNeeded / allowed,
    utilization: main!.utilization,
    throttled: connectedStats.throttled,
    backfillSeconds,
    listingSeconds,
    mismatches: mismatches.length,
    loadAtStart,
  };
}

/** The tenant of `files` files with the base tenant's users, groups and grants per file (at least one user). */
function scaledTenant(settings: Settings, files: number): TenantSize {
  const per = (n: number) => Math.round((n * files) / settings.BENCH_FILES);
  return { files, users: Math.max(1, per(settings.BENCH_USERS)), groups: per(settings.BENCH_GROUPS), grants: per(settings.BENCH_GRANTS) };
}

/** How the cost grew from round to round: each figure, and in parentheses its ratio to the first round's. */
function printGrowth(rounds: readonly RoundFigures[]): void {
  const base = rounds[0]!;
  const perThousand = (seconds: number, items: number) => (items === 0 ? 0 : (1000 * seconds) / items);
  const columns: { title: string; value: (r: RoundFigures) => number; format: (n: number) => string; ratio: boolean }[] = [
    { title: 'files', value: (r) => r.files, format: String, ratio: true },
    { title: 'users', value: (r) => r.users, format: String, ratio: false },
    { title: 'events', value: (r) => r.events, format: String, ratio: true },
    { title: 'metadata s', value: (r) => r.metadataSeconds, format: f1, ratio: true },
    { title: 'wall ÷ min', value: (r) => r.metadataSeconds / r.minimumSeconds, format: f2, ratio: false },
    { title: 'utilization', value: (r) => r.utilization, format: f2, ratio: true },
    { title: '429', value: (r) => r.throttled, format: String, ratio: false },
    { title: 'backfill ev/s', value: (r) => r.events / r.backfillSeconds, format: f1, ratio: true },
    { title: 's / 1k files', value: (r) => perThousand(r.metadataSeconds, r.files), format: f2, ratio: true },
    { title: 'listing s / 1k files', value: (r) => perThousand(r.listingSeconds, r.files), format: f2, ratio: true },
    { title: 'backfill s / 1k events', value: (r) => perThousand(r.backfillSeconds, r.events), format: f2, ratio: true },
    { title: 'load', value: (r) => r.loadAtStart, format: f2, ratio: false },
  ];
  const cell = (r: RoundFigures, c: (typeof columns)[number]) => {
    const value = c.value(r);
    const against = c.value(base);
    return c.ratio ? `${c.format(value)} (${against === 0 ? '-' : f2(value / against)})` : c.format(value);
  };
  const cells = rounds.map((r) => columns.map((c) => cell(r, c)));
  const widths = columns.map((c, i) => Math.max(c.title.length, ...cells.map((line) => line[i]!.length)));
  const line = (values: readonly string[]) => `  ${values.map((v, i) => v.padStart(widths[i]!)).join('  ')}`;
  console.log(
    [
      '',
      `How cost grows (each round against the first, ${base.files} files; in parentheses: the figure ÷ the first round's):`,
      line(columns.map((c) => c.title)),
      ...cells.map(line),
      'metadata s: connectApp → CONNECTED; wall ÷ min: that ÷ (requests a perfect client needs ÷ the allowed rate);',
      's / 1k files: metadata s per 1,000 files; listing: the file listing (FILES scan) alone; backfill: the audit backfill',
      '(ACTIVITIES scan) alone. Linear growth keeps the per-1,000 ratios near 1.00 while files and events grow; a ratio',
      "above 1 is where a stage costs more per item at the larger size. load: the 1-minute load average at the round's start.",
    ].join('\n'),
  );
}

/** The benchmark itself, on the main thread; answers the exit status. */
async function scanBenchmark(bench: Bench<Settings>): Promise<number> {
  const { settings } = bench;
  const sizes = settings.BENCH_SIZES;
  if (!sizes) {
    const round = await scanRound(bench, {
      users: settings.BENCH_USERS,
      groups: settings.BENCH_GROUPS,
      files: settings.BENCH_FILES,
      grants: settings.BENCH_GRANTS,
    });
    return round.mismatches > 0 ? 1 : 0;
  }
  const rounds: RoundFigures[] = [];
  for (const [i, files] of sizes.entries()) {
    const database = `tenantwatch_bench_round${i + 1}`;
    console.log(
      `${i === 0 ? '' : '\n'}Round ${i + 1} of ${sizes.length}: ${files} files, a new simulated tenant, a fresh stack and database (${database}).`,
    );
    rounds.push(await scanRound(bench, scaledTenant(settings, files), { database }));
  }
  printGrowth(rounds);
  const failed = rounds.filter((r) => r.mismatches > 0).length;
  if (failed > 0) console.log(`\n${failed} of ${rounds.length} rounds stored counts that differ from the ground truth.`);
  return failed > 0 ? 1 : 0;
}

// The simulator's worker thread loads this module too, and serves the tenant instead.
/** `--provider simulated` (default), `m365`, `google` or `salesforce` (bench/scan-<provider>.bench.ts). */
const providerAt = process.argv.indexOf('--provider');
const provider = providerAt >= 0 ? process.argv[providerAt + 1] : 'simulated';
if (!isMainThread) await simulatorThread(parentPort!);
else if (provider === 'm365') await import('./scan-m365.bench.js');
else if (provider === 'google') await import('./scan-google.bench.js');
else if (provider === 'salesforce') await import('./scan-salesforce.bench.js');
else if (provider !== 'simulated') {
  console.error(`--provider: must be simulated, m365, google or salesforce, got "${provider}"`);
  process.exit(2);
} else await runBenchmark({ settings: SettingsSchema, flags: FLAGS }, scanBenchmark);
