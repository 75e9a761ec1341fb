// `npm run bench:subscriptions`: BENCH_SUBSCRIBERS (default 1,000) subscribers on `detectionRaised`
// through the gateway, each event completed with fields of all four subgraphs, while detections are
// committed at BENCH_RATE (default 200/s) for BENCH_WARMUP_SECONDS (default 5, latency reported apart)
// then BENCH_SECONDS (default 30, measured); then the same run with the subscribers straight on the
// activities subgraph (its own fields only) as the baseline.
// Flags override the environment: `npm run bench:subscriptions -- --subscribers 100 --rate 50 --seconds 5`.
// BENCH_PATHS (`--paths`, default `gateway,direct`) runs one path alone, e.g. to profile it.
// BENCH_SUBSCRIBER_THREADS (`--threads`, default 2): worker threads the subscribers are spread over.
// BENCH_CLIENT (`--client`): `light` (default: a raw-socket client that reads each event's number
// from its bytes and parses one message in 100 in full, see subscribers.worker.ts) or `graphql-ws`
// (graphql-ws's client, which parses every message: on this machine's two cores its parsing is the
// limit past ~100,000 events/s, and it takes that CPU from the server it measures).
// BENCH_GATEWAY_THREAD (`--gateway-thread`, default `own`): the measured gateway in a worker thread,
// as a service of its own; `main` runs it on the subgraphs' thread.
// BENCH_SIZES (`--sizes`, e.g. `100,1000,10000x20`): runs each size in turn (subscribers, or
// subscribers x detections/s; without a rate, BENCH_RATE) and ends with one table of them all.
// BENCH_IDLE (`--idle N`): instead, N subscribers that receive nothing for BENCH_IDLE_SECONDS
// (`--idle-seconds`, default 60): the gateway thread's memory per subscriber, at the start and the end.
// GATEWAY_* variables (e.g. GATEWAY_SUBSCRIPTION_FLUSH_MS) configure the gateway under test.
// Prints delivered vs expected (committed × subscribers), commit-to-receipt latency, memory, and the
// gateway/direct ratios. Exits 1 when an event of the gateway path (of the only path, with --paths)
// was lost, repeated, incomplete or not committed (or arrived later than BENCH_DRAIN_SECONDS after the
// last commit), 2 on bad settings. The direct baseline falls behind at 1,000 subscribers × 200/s
// (one GraphQL execution per subscriber and event): its losses are printed, not in the exit status.
import 'reflect-metadata';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { loadConfig } from '../platform/config.js';
import { runBenchmark } from './harness.js';
import {
  monotonicMs,
  warmUpTitle,
  type CommitterData,
  type DetectionSubject,
  type FromCommitter,
  type ToCommitter,
  type FromGateway,
  type GatewayWorkerData,
  type ToGateway,
} from './subscriptions.protocol.js';
import { printReport, printSizes, type Memory, type PathReport, type Size } from './subscriptions.report.js';
import { measureIdle } from './subscriptions.idle.js';
import { threadMemory, type ThreadMemory } from './thread-memory.js';
import { watchThread, type ThreadWatch } from './thread-watch.js';
import { SubscriberThreads } from './subscriber-threads.js';
import { WorkerThread } from './worker-thread.js';
import { SUPERGRAPH_PATH } from '../schema/path.js';

/** Every subscriber must have seen a warm-up event within this long of subscribing. */
const LIVE_TIMEOUT_MS = 60_000;
/** How long stats may take to show every subscription released after the subscribers left. */
const RELEASE_TIMEOUT_MS = 30_000;

const SettingsSchema = z
  .object({
    BENCH_SUBSCRIBERS: z.coerce.number().int().min(1).max(10_000).default(1_000),
    BENCH_RATE: z.coerce.number().positive().max(5_000).default(200),
    BENCH_SECONDS: z.coerce.number().positive().max(600).default(30),
    /** Seconds committed at the rate before the measured ones (delivered and checked; latency reported apart). */
    BENCH_WARMUP_SECONDS: z.coerce.number().min(0).max(600).default(5),
    /** After the last commit, how long to wait for the last deliveries before counting what is missing. */
    BENCH_DRAIN_SECONDS: z.coerce.number().positive().max(600).default(30),
    /** Which paths to measure, in order: `gateway`, `direct` or both (the ratio needs both). */
    BENCH_PATHS: z
      .string()
      .default('gateway,direct')
      .transform((value) => value.split(',').map((p) => p.trim()))
      .pipe(z.array(z.enum(['gateway', 'direct'])).min(1)),
    BENCH_CLIENT: z.enum(['graphql-ws', 'light']).default('light'),
    /** Worker threads the subscribers are spread over. */
    BENCH_SUBSCRIBER_THREADS: z.coerce.number().int().min(1).max(8).default(2),
    /** `own`: the measured gateway runs in a worker thread, as a service of its own; `main`: on the subgraphs' thread. */
    BENCH_GATEWAY_THREAD: z.enum(['own', 'main']).default('own'),
    /** Sizes run in turn: `subscribers` or `subscribersxrate`, comma-separated (unset: BENCH_SUBSCRIBERS at BENCH_RATE). */
    BENCH_SIZES: z
      .string()
      .regex(
        /^\d+(x\d+(\.\d+)?)?(,\d+(x\d+(\.\d+)?)?)*$/,
        'a comma-separated list of subscribers or subscribersxrate, e.g. 100,1000,10000x20',
      )
      .optional(),
    /** Idle subscribers whose memory is measured instead of a run with detections (0: none). */
    BENCH_IDLE: z.coerce.number().int().min(0).max(10_000).default(0),
    BENCH_IDLE_SECONDS: z.coerce.number().min(0).max(3_600).default(60),
  })
  .transform((s) => ({ ...s, sizes: sizesOf(s.BENCH_SIZES, s.BENCH_SUBSCRIBERS, s.BENCH_RATE) }))
  .refine((s) => s.sizes.every((size) => size.subscribers >= 1 && size.subscribers <= 10_000 && size.rate > 0 && size.rate <= 5_000), {
    message: 'each size must have 1 to 10,000 subscribers and a rate above 0 and at most 5,000 detections/s',
  })
  .refine(
    (s) => s.sizes.every((size) => size.subscribers * Math.round(size.rate * (s.BENCH_SECONDS + s.BENCH_WARMUP_SECONDS)) <= 50_000_000),
    {
      message: 'subscribers × rate × (seconds + warm-up seconds) must stay under 50,000,000 events (the receipt table is kept in memory)',
    },
  );
type Settings = z.infer<typeof SettingsSchema>;

/** Flags and the settings they override (a flag wins over the variable). */
const FLAGS = {
  subscribers: 'BENCH_SUBSCRIBERS',
  rate: 'BENCH_RATE',
  seconds: 'BENCH_SECONDS',
  'drain-seconds': 'BENCH_DRAIN_SECONDS',
  paths: 'BENCH_PATHS',
  client: 'BENCH_CLIENT',
  threads: 'BENCH_SUBSCRIBER_THREADS',
  'gateway-thread': 'BENCH_GATEWAY_THREAD',
  'warm-up-seconds': 'BENCH_WARMUP_SECONDS',
  sizes: 'BENCH_SIZES',
  idle: 'BENCH_IDLE',
  'idle-seconds': 'BENCH_IDLE_SECONDS',
} as const;

/** The sizes of BENCH_SIZES (`100,1000x200`), or the one of BENCH_SUBSCRIBERS and BENCH_RATE. */
function sizesOf(list: string | undefined, subscribers: number, rate: number): Size[] {
  if (!list) return [{ subscribers, rate }];
  return list.split(',').map((entry) => {
    const [count, perSecond] = entry.split('x');
    return { subscribers: Number(count), rate: perSecond === undefined ? rate : Number(perSecond) };
  });
}

const sizeName = (size: Size) => `${size.subscribers} subscribers at ${size.rate} detections/s`;

/** The p99 the gateway should stay under: 40 ms at low load (up to 10 subscribers at 20 detections/s), 100 ms otherwise. */
const p99TargetOf = (size: Size) => (size.subscribers <= 10 && size.rate <= 20 ? 40 : 100);

/** Fields of all four subgraphs: the gateway completes each event with entity fetches to the other three. */
const GATEWAY_QUERY = `subscription Bench { detectionRaised { cursor detection { id title severity account { email } file { name } appPermission { appName } } } }`;
/** The activities subgraph's own fields only. */
const DIRECT_QUERY = `subscription Bench { detectionRaised { cursor detection { id title severity } } }`;

/** One way to subscribe, and how to tell from the servers' counters that its subscriptions are gone. */
interface PathSpec {
  readonly name: 'gateway' | 'direct';
  readonly url: string;
  readonly query: string;
  readonly checkReferences: boolean;
  /** What the servers hold while subscribed (printed), and whether everything was let go. */
  readonly holding: () => Promise<string>;
  /** Requests the gateway has sent to subgraphs so far (the per-event entity fetches), when it is on the path. */
  readonly subgraphRequests?: () => Promise<number>;
  readonly released: () => Promise<boolean>;
  /** Starts watching the threads serving the path (named); the answer stops and reports each. */
  readonly watch: () => Promise<() => Promise<{ name: string; watch: ThreadWatch }[]>>;
  /** The gateway thread's memory after a full GC, when the gateway is on the path. */
  readonly gatewayMemory?: () => Promise<ThreadMemory>;
}

const memory = (): Memory => {
  const { rss, heapUsed } = process.memoryUsage();
  return { rss, heapUsed };
};

/** Busy and total CPU time of the whole machine (all cores), in ms. */
function machineCpu(): { busy: number; total: number } {
  let busy = 0;
  let total = 0;
  for (const { times } of os.cpus()) {
    busy += times.user + times.nice + times.sys + times.irq;
    total += times.user + times.nice + times.sys + times.irq + times.idle;
  }
  return { busy, total };
}

/** Starts counting CPU; the answer stops and tells this process's and the machine's share of all cores. */
function cpuMeter(): () => { process: number; machine: number } {
  const ownBefore = process.cpuUsage();
  const machineBefore = machineCpu();
  return () => {
    const own = process.cpuUsage(ownBefore);
    const machine = machineCpu();
    const total = machine.total - machineBefore.total;
    return { process: (own.user + own.system) / 1000 / total, machine: (machine.busy - machineBefore.busy) / total };
  };
}

/** Polls `condition` every 20 ms until it holds, or throws naming `what` after `timeoutMs`. */
async function until(what: string, condition: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/**
 * A subscription without `after` starts when it reaches the activities subgraph, which no client
 * message acknowledges: warm-up detections are raised until every subscriber has received one.
 */
export async function untilLive(
  what: string,
  run: string,
  committer: WorkerThread<ToCommitter, FromCommitter>,
  subscribers: SubscriberThreads,
): Promise<void> {
  const liveBy = monotonicMs() + LIVE_TIMEOUT_MS;
  for (let n = 0; ; n++) {
    committer.send({ type: 'raise', title: warmUpTitle(run, n) });
    await committer.expect('raised', 30_000);
    if (await subscribers.allLive(100)) return;
    if (monotonicMs() > liveBy) throw new Error(`${what}: not every subscriber received a warm-up event within ${LIVE_TIMEOUT_MS} ms`);
  }
}

/** Subscribes `size.subscribers`, warms up until every subscriber is live, commits at `size.rate`, collects and unsubscribes. */
async function measurePath(
  spec: PathSpec,
  size: Size,
  settings: Settings,
  token: string,
  committer: WorkerThread<ToCommitter, FromCommitter>,
  subscribers: SubscriberThreads,
): Promise<PathReport> {
  // The warm-up's detections come first, at the same rate and without a pause: delivered and checked like the rest, their latency reported apart.
  const warmUps = Math.round(size.rate * settings.BENCH_WARMUP_SECONDS);
  const planned = warmUps + Math.round(size.rate * settings.BENCH_SECONDS);
  const run = `${spec.name}-${Date.now()}`;
  const before = memory();
  const gatewayBefore = await spec.gatewayMemory?.();
  const subscribeMs = await subscribers.subscribe(
    {
      run,
      url: spec.url.replace(/^http/, 'ws'),
      token,
      subscribers: size.subscribers,
      query: spec.query,
      planned,
      checkReferences: spec.checkReferences,
      client: settings.BENCH_CLIENT,
    },
    300_000,
  );
  await untilLive(spec.name, run, committer, subscribers);
  const gatewayLive = await spec.gatewayMemory?.();
  const holding = await spec.holding();
  const watched = await spec.watch();
  const cpu = cpuMeter();
  const requestsBefore = await spec.subgraphRequests?.();
  committer.send({ type: 'commit', run, count: planned, rate: size.rate });
  const { result: commits } = await committer.expect('committed', (settings.BENCH_WARMUP_SECONDS + settings.BENCH_SECONDS + 120) * 1000);
  let threads: { name: string; watch: ThreadWatch }[] = [];
  let cpuShare = { process: Number.NaN, machine: Number.NaN };
  const receipts = await subscribers.results(
    commits.commitTimes,
    settings.BENCH_DRAIN_SECONDS * 1000,
    warmUps,
    (settings.BENCH_DRAIN_SECONDS + 120) * 1000,
    async () => {
      threads = await watched();
      cpuShare = cpu();
    },
  );
  const subgraphRequests = requestsBefore === undefined ? undefined : (await spec.subgraphRequests!()) - requestsBefore;
  const after = memory();
  await subscribers.unsubscribe(120_000);
  await until(`${spec.name}: the servers to release every subscription`, spec.released, RELEASE_TIMEOUT_MS);
  const firstCommit = commits.commitTimes.find((t) => !Number.isNaN(t)) ?? Number.NaN;
  return {
    name: spec.name,
    size,
    subscribeMs,
    holding,
    commits,
    warmUpSeconds: settings.BENCH_WARMUP_SECONDS,
    firstCommit,
    receipts,
    before,
    after,
    threads,
    cpu: cpuShare,
    subgraphRequests,
    ...(gatewayBefore && gatewayLive ? { gatewayMemory: { before: gatewayBefore, live: gatewayLive } } : {}),
  };
}

/** Accounts that own a file and granted an app, as the subjects detections rotate over. */
async function subjectsOf(url: string, token: string): Promise<DetectionSubject[]> {
  type Page = {
    accounts: {
      edges: {
        node: {
          id: string;
          instance: { id: string };
          files: { edges: { node: { id: string } }[] };
          appPermissions: { edges: { node: { id: string } }[] };
        };
      }[];
    };
  };
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify({
      query:
        '{ accounts(first: 20) { edges { node { id instance { id } files(first: 1) { edges { node { id } } } appPermissions(first: 1) { edges { node { id } } } } } } }',
    }),
  });
  const body = (await response.json()) as { data?: Page; errors?: unknown[] };
  if (!body.data || body.errors?.length) throw new Error(`subjects: ${JSON.stringify(body.errors ?? body)}`);
  const subjects = body.data.accounts.edges.flatMap(({ node }) => {
    const fileId = node.files.edges[0]?.node.id;
    const appPermissionId = node.appPermissions.edges[0]?.node.id;
    return fileId && appPermissionId ? [{ instanceId: node.instance.id, accountId: node.id, fileId, appPermissionId }] : [];
  });
  if (subjects.length === 0) throw new Error('subjects: no seeded account owns a file and an app grant');
  return subjects;
}

await runBenchmark({ settings: SettingsSchema, flags: FLAGS }, async (bench) => {
  // Modules that log are imported here, once harness.js has set LOG_LEVEL (the logger reads it when it loads).
  const { signToken } = await import('../platform/auth.js');
  const { Fixtures, seedDataset } = await import('../test/fixtures.js');
  const { settings } = bench;
  const configEnv = bench.configEnv({
    // The gateway's subscription settings (GATEWAY_SUBSCRIPTION_FLUSH_MS, GATEWAY_SUBSCRIBER_QUEUE_LIMIT, ...) from the environment, to compare them.
    ...Object.fromEntries(
      Object.entries(process.env).filter((entry): entry is [string, string] => entry[0].startsWith('GATEWAY_') && Boolean(entry[1])),
    ),
    GATEWAY_WS_MAX_CONNECTIONS: String(Math.max(5_000, settings.BENCH_IDLE, ...settings.sizes.map((size) => size.subscribers))),
    // The longest keep-alive: a subscriber reading more than a keep-alive period behind would be
    // closed (4420, resumable) and its events counted as lost; here every event is waited for.
    GATEWAY_WS_PING_MS: '300000',
  });
  const config = loadConfig(configEnv);
  const stack = await bench.startStack(config);
  // Closed in the order they start, before the stack: the committer, then the subscribers, then the gateway they are connected to.
  const threads: { close(): Promise<void> }[] = [];
  bench.defer(async () => {
    for (const thread of threads) await thread.close();
  });
  const data = await seedDataset(new Fixtures(stack, config), { accountsPerInstance: 10, perAccount: 2 });
  const subjects = await subjectsOf(stack.gateway.url, await signToken(config, { role: 'admin', subject: 'bench' }));
  const token = await signToken(config, { role: 'analyst', subject: 'bench' });
  const committerData: CommitterData = { databaseUrl: stack.databaseUrl, policyId: data.policies[0]!, subjects };
  const committer = new WorkerThread<ToCommitter, FromCommitter>(
    'detections',
    new URL('./detections.worker.ts', import.meta.url),
    { type: 'close' },
    committerData,
  );
  const subscribers = new SubscriberThreads(settings.BENCH_SUBSCRIBER_THREADS);
  threads.push(committer, subscribers);
  await committer.expect('ready', 60_000);

  const activities = stack.subgraphs.activities!;
  // The measured gateway: in a thread of its own (a separate service in a deployment), or the stack's own on the subgraphs' thread.
  let gatewayThread: WorkerThread<ToGateway, FromGateway> | undefined;
  let gatewayUrl = stack.gateway.url;
  if (settings.BENCH_GATEWAY_THREAD === 'own') {
    const gatewayData: GatewayWorkerData = {
      env: configEnv,
      supergraphPath: fileURLToPath(SUPERGRAPH_PATH),
      subgraphUrls: Object.fromEntries(Object.entries(stack.subgraphs).map(([name, s]) => [name, s.url])),
    };
    gatewayThread = new WorkerThread<ToGateway, FromGateway>(
      'gateway',
      new URL('./gateway.worker.ts', import.meta.url),
      { type: 'close' },
      gatewayData,
    );
    threads.push(gatewayThread);
    gatewayUrl = (await gatewayThread.expect('ready', 60_000)).url;
  }
  const gatewayStats = async () => {
    if (!gatewayThread) {
      const { upstreams, subscribers: held } = stack.gateway.subscriptions.stats();
      return { upstreams, subscribers: held, subgraphRequests: stack.gateway.dedup.sent + stack.gateway.dedup.shared };
    }
    gatewayThread.send({ type: 'stats' });
    return gatewayThread.expect('stats', 30_000);
  };
  const gatewayMemory = async () => {
    if (!gatewayThread) return threadMemory();
    gatewayThread.send({ type: 'memory' });
    return (await gatewayThread.expect('memory', 60_000)).memory;
  };
  const watchMain = (name: string) => {
    const stop = watchThread();
    return () => ({ name, watch: stop() });
  };
  const specs: PathSpec[] = [
    {
      name: 'gateway',
      url: gatewayUrl,
      query: GATEWAY_QUERY,
      checkReferences: true,
      holding: async () => {
        const { upstreams, subscribers: held } = await gatewayStats();
        return `gateway: ${held} subscriptions on ${upstreams} upstream(s); activities subgraph: ${activities.stats().subscribers} subscriber(s)`;
      },
      released: async () => (await gatewayStats()).subscribers === 0 && activities.stats().subscribers === 0,
      gatewayMemory,
      subgraphRequests: async () => (await gatewayStats()).subgraphRequests,
      watch: async () => {
        if (!gatewayThread) {
          const main = watchMain('main thread (gateway + subgraphs)');
          return async () => [main()];
        }
        const thread = gatewayThread;
        thread.send({ type: 'watch' });
        await thread.expect('watching', 30_000);
        const main = watchMain('main thread (subgraphs)');
        return async () => {
          thread.send({ type: 'watched' });
          const { watch } = await thread.expect('watched', 30_000);
          return [{ name: 'gateway thread', watch }, main()];
        };
      },
    },
    {
      name: 'direct',
      url: activities.url,
      query: DIRECT_QUERY,
      checkReferences: false,
      holding: async () => `activities subgraph: ${activities.stats().subscribers} subscriber(s)`,
      released: async () => activities.stats().subscribers === 0,
      watch: async () => {
        const main = watchMain('main thread (subgraphs)');
        return async () => [main()];
      },
    },
  ];
  console.log(
    [
      settings.BENCH_IDLE > 0
        ? `Tenantwatch subscription benchmark: ${settings.BENCH_IDLE} idle subscribers on the gateway for ${settings.BENCH_IDLE_SECONDS} s (Node ${process.version}).`
        : `Tenantwatch subscription benchmark: ${settings.sizes.map(sizeName).join(', then ')} (${settings.BENCH_CLIENT === 'light' ? 'light raw-socket clients' : "graphql-ws's client"}) for ${settings.BENCH_SECONDS} s per path after ${settings.BENCH_WARMUP_SECONDS} s of warm-up at the same rate (Node ${process.version}).`,
      `gateway: ${GATEWAY_QUERY}`,
      `direct:  ${DIRECT_QUERY}`,
      `${os.availableParallelism()} CPU cores shared by everything: ${gatewayThread ? "the four subgraphs run on this process's main thread, the gateway in a worker thread (BENCH_GATEWAY_THREAD=own)," : "the gateway and the four subgraphs run on this process's main thread (BENCH_GATEWAY_THREAD=main),"}`,
      `the committer in a worker thread and the subscribers in ${settings.BENCH_SUBSCRIBER_THREADS} of the same process, PostgreSQL beside them. Load average at start: ${os
        .loadavg()
        .map((l) => l.toFixed(2))
        .join(' ')}.`,
      `The gateway pings every 300 s (GATEWAY_WS_PING_MS): subscribers that fall behind are waited for, not closed with 4420.`,
      `It fans events out at most every ${config.GATEWAY_SUBSCRIPTION_FLUSH_MS} ms (GATEWAY_SUBSCRIPTION_FLUSH_MS; GATEWAY_* settings are read from the environment).`,
    ].join('\n'),
  );
  if (settings.BENCH_IDLE > 0) {
    return measureIdle({
      subscribers,
      count: settings.BENCH_IDLE,
      seconds: settings.BENCH_IDLE_SECONDS,
      subscribe: (run, count) =>
        subscribers.subscribe(
          {
            run,
            url: gatewayUrl.replace(/^http/, 'ws'),
            token,
            subscribers: count,
            query: GATEWAY_QUERY,
            planned: 1,
            checkReferences: true,
            client: settings.BENCH_CLIENT,
          },
          300_000,
        ),
      live: (run) => untilLive('idle', run, committer, subscribers),
      holding: specs[0]!.holding,
      released: () => until('the gateway to release every subscription', specs[0]!.released, RELEASE_TIMEOUT_MS),
      gatewayMemory,
    });
  }
  let status = 0;
  const sized: PathReport[][] = [];
  for (const size of settings.sizes) {
    if (settings.sizes.length > 1) console.log(`\n=== ${sizeName(size)}`);
    const reports: PathReport[] = [];
    for (const name of settings.BENCH_PATHS)
      reports.push(
        await measurePath(
          specs.find((s) => s.name === name)!,
          size,
          settings,
          token,
          committer,
          subscribers,
        ),
      );
    sized.push(reports);
    status = Math.max(
      status,
      printReport(reports, {
        p99TargetMs: p99TargetOf(size),
        drainSeconds: settings.BENCH_DRAIN_SECONDS,
        peakRssBytes: process.resourceUsage().maxRSS * 1024,
        loadAverage: os.loadavg(),
      }),
    );
  }
  if (settings.sizes.length > 1) printSizes(sized.flat());
  return status;
});
