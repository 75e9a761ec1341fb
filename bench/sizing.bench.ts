// `npm run bench:sizing`: what one PostgreSQL carries as instances are added. For each multiple of the
// demo (BENCH_MULTIPLES, default 1,2,4: the two demo tenants of `npm start`, twice, four times), on a
// fresh database of one embedded PostgreSQL: the whole stack (gateway, four subgraphs, one scheduler)
// connects every instance and runs its initial scan (the providers' limits raised out of the way, so
// the scan is bounded by Tenantwatch and PostgreSQL, not by the providers); then BENCH_SUBSCRIBERS
// (default 25) subscribers per instance follow `detectionRaised` of their instance while BENCH_RATE detections per second
// per instance (default 5) are committed for BENCH_SUBSCRIPTION_SECONDS (default 20). Prints, per
// multiple: the scan's wall time and items per second, PostgreSQL's CPU seconds (postmaster and
// backends, from /proc) and this process's, the peak of PostgreSQL connections, commits, the database
// size; the subscriptions' deliveries (all must arrive, exactly once), p50/p99 from commit to
// receipt, and both CPU figures again. The baseline is the first multiple: each later one prints its
// ratios to it, per instance.
import 'reflect-metadata';
import os from 'node:os';
import { createClient, type Client } from 'graphql-ws';
import pg from 'pg';
import { WebSocket } from 'ws';
import { z } from 'zod';
import { postgresCpuSeconds, runBenchmark } from './harness.js';
import { percentile } from './load.js';

const SettingsSchema = z.object({
  BENCH_MULTIPLES: z
    .string()
    .regex(/^\d+(,\d+)*$/, 'comma-separated whole numbers, e.g. 1,2,4')
    .default('1,2,4')
    .transform((s) => s.split(',').map(Number))
    .refine((list) => list.every((n) => n >= 1 && n <= 16), 'each multiple from 1 to 16'),
  BENCH_SUBSCRIBERS: z.coerce.number().int().min(0).max(500).default(25),
  BENCH_RATE: z.coerce.number().min(0.1).max(200).default(5),
  BENCH_SUBSCRIPTION_SECONDS: z.coerce.number().int().min(5).max(600).default(20),
});
const FLAGS = {
  multiples: 'BENCH_MULTIPLES',
  subscribers: 'BENCH_SUBSCRIBERS',
  rate: 'BENCH_RATE',
  seconds: 'BENCH_SUBSCRIPTION_SECONDS',
} as const;

const f1 = (n: number) => n.toFixed(1);
const f2 = (n: number) => n.toFixed(2);

const processCpu = () => {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1e6;
};

interface Figures {
  instances: number;
  scanSeconds: number;
  items: number;
  scanPostgresCpu: number;
  scanNodeCpu: number;
  peakConnections: number;
  commits: number;
  databaseMiB: number;
  delivered: number;
  expected: number;
  duplicates: number;
  p50: number;
  p99: number;
  subsPostgresCpu: number;
  subsNodeCpu: number;
  subsSeconds: number;
}

await runBenchmark({ settings: SettingsSchema, flags: FLAGS }, async (bench) => {
  const { loadConfig } = await import('../platform/config.js');
  const { signToken } = await import('../platform/auth.js');
  const { startStack } = await import('../scripts/stack.js');
  const { startSimulator } = await import('../connectors/simulated/server.js');
  const { DEMO_TENANTS } = await import('../connectors/simulated/demo-tenants.js');
  const { openDatabase } = await import('../platform/database.js');
  const { activitiesModule, DetectionService } = await import('../subgraphs/activities/public.js');
  const { Severity } = await import('../subgraphs/activities/policy.entity.js');
  const { settings } = bench;

  const admin = await bench.client();
  /** CPU seconds of PostgreSQL so far: the postmaster, its live backends, and those that ended. */
  const postgresCpu = () => postgresCpuSeconds(bench.postgresDir) ?? 0;

  const results: Figures[] = [];
  for (const multiple of settings.BENCH_MULTIPLES) {
    const name = `tenantwatch_sizing_${multiple}`;
    await admin.query(`drop database if exists ${name}`);
    await admin.query(`create database ${name}`);
    const databaseUrl = (await bench.database()).replace(/\/[^/]+$/, `/${name}`);
    const tenants = Array.from({ length: multiple }, (_, copy) =>
      DEMO_TENANTS.map((tenant) => ({
        ...tenant,
        id: `${tenant.id}-${copy + 1}`,
        name: `${tenant.name} ${copy + 1}`,
        token: `${tenant.token}-${copy + 1}`,
        seed: (tenant.seed ?? 1) + 100 * copy,
        // The providers out of the way: what is measured is Tenantwatch on one PostgreSQL.
        rateLimitPerMinute: 600_000,
        activityPerMinute: 0,
      })),
    ).flat();
    const simulator = await startSimulator({ tenants });
    const config = loadConfig(
      bench.configEnv({
        GATEWAY_WS_MAX_CONNECTIONS: '100000',
        GATEWAY_WS_PING_MS: '300000',
        SCHEDULER_CONCURRENCY: '8',
      }),
    );
    const stack = await startStack({ config, databaseUrl, port: 0, scheduler: true });
    const token = await signToken(config, { role: 'admin', subject: 'bench' });
    const gql = async <T>(query: string, variables?: Record<string, unknown>): Promise<T> => {
      const response = await fetch(stack.gateway.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
        body: JSON.stringify({ query, variables }),
      });
      const body = (await response.json()) as { data?: T; errors?: unknown[] };
      if (!body.data || body.errors?.length) throw new Error(JSON.stringify(body.errors ?? body));
      return body.data;
    };
    const clients: Client[] = [];
    const pool = new pg.Pool({ connectionString: databaseUrl, max: 2 });
    const db = await openDatabase({ ...activitiesModule, url: databaseUrl, poolMax: 8 });
    try {
      // Scan phase.
      let peak = 0;
      const sampler = setInterval(() => {
        void pool
          .query<{ n: string }>(`select count(*) as n from pg_stat_activity where datname = $1`, [name])
          .then((r) => (peak = Math.max(peak, Number(r.rows[0]!.n))))
          .catch(() => undefined);
      }, 200);
      const commitsOf = async () =>
        Number((await pool.query<{ n: string }>(`select xact_commit as n from pg_stat_database where datname = $1`, [name])).rows[0]!.n);
      const commitsBefore = await commitsOf();
      const pgBefore = postgresCpu();
      const nodeBefore = processCpu();
      const began = performance.now();
      const ids: string[] = [];
      for (const tenant of tenants) {
        const { connectApp } = await gql<{ connectApp: { id: string } }>(
          `mutation ($name: String!, $config: JSON!) { connectApp(input: { provider: "simulated", name: $name, config: $config }) { id } }`,
          { name: tenant.name, config: { endpoint: simulator.url, token: tenant.token } },
        );
        ids.push(connectApp.id);
      }
      const deadline = Date.now() + 30 * 60_000;
      for (;;) {
        const { appInstances } = await gql<{ appInstances: { status: string }[] }>('{ appInstances { status } }');
        if (appInstances.every((i) => i.status === 'CONNECTED')) break;
        if (appInstances.some((i) => i.status === 'ERROR')) throw new Error('an instance went to ERROR');
        if (Date.now() > deadline) throw new Error('the initial scans took over 30 minutes');
        await new Promise((resolve) => setTimeout(resolve, 250));
      }
      const scanSeconds = (performance.now() - began) / 1000;
      clearInterval(sampler);
      const scanPostgresCpu = postgresCpu() - pgBefore;
      const scanNodeCpu = processCpu() - nodeBefore;
      const commits = (await commitsOf()) - commitsBefore;
      const { items } = (await pool.query<{ items: string }>(`select coalesce(sum(items_scanned), 0) as items from accounts.scan_state`))
        .rows[0]!;
      const databaseMiB = Number((await pool.query<{ n: string }>(`select pg_database_size($1) as n`, [name])).rows[0]!.n) / (1024 * 1024);

      // Subscriptions phase: subscribers per instance on detectionRaised, detections committed at a steady rate per instance.
      const analyst = await signToken(config, { role: 'analyst', subject: 'bench-subscriber' });
      const { policies } = await gql<{ policies: { id: string }[] }>('{ policies { id } }');
      const subjects = await Promise.all(
        ids.map(async (instanceId) => {
          const { accounts } = await gql<{ accounts: { edges: { node: { id: string } }[] } }>(
            `{ accounts(first: 1, filter: { instanceId: "${instanceId}" }) { edges { node { id } } } }`,
          );
          return { instanceId, accountId: accounts.edges[0]!.node.id };
        }),
      );
      const latencies: number[] = [];
      const received = new Map<string, number>();
      let duplicates = 0;
      const subscriberCount = settings.BENCH_SUBSCRIBERS * ids.length;
      let ready = 0;
      await new Promise<void>((resolve, reject) => {
        if (subscriberCount === 0) resolve();
        for (let i = 0; i < subscriberCount; i++) {
          const client = createClient({
            url: stack.gateway.url.replace(/^http/, 'ws'),
            webSocketImpl: WebSocket,
            connectionParams: { authorization: `Bearer ${analyst}` },
            retryAttempts: 0,
          });
          clients.push(client);
          const seen = new Set<string>();
          client.subscribe<{ detectionRaised: { cursor: string; detection: { title: string } } }>(
            {
              // Each instance's responders follow their instance: deliveries grow with the instances, not with their square.
              query:
                'subscription ($instanceId: ID) { detectionRaised(filter: { instanceId: $instanceId }) { cursor detection { title } } }',
              variables: { instanceId: ids[i % ids.length] },
            },
            {
              next: ({ data }) => {
                const event = data?.detectionRaised;
                if (!event) return;
                const match = /^sizing (\d+) (\d+)$/.exec(event.detection.title);
                if (!match) return;
                if (seen.has(event.cursor)) duplicates += 1;
                seen.add(event.cursor);
                latencies.push(Date.now() - Number(match[2]));
                received.set(match[1]!, (received.get(match[1]!) ?? 0) + 1);
              },
              error: (error) => reject(new Error(`a subscriber ended: ${JSON.stringify(error)}`)),
              complete: () => undefined,
            },
          );
          client.on('connected', () => {
            ready += 1;
            if (ready === subscriberCount) resolve();
          });
        }
      });
      // Every subscription is open at the subgraph once the upstream count settles.
      await new Promise((resolve) => setTimeout(resolve, 1_000));
      const perSecond = settings.BENCH_RATE * ids.length;
      const total = Math.round(perSecond * settings.BENCH_SUBSCRIPTION_SECONDS);
      const pgSubsBefore = postgresCpu();
      const nodeSubsBefore = processCpu();
      const subsBegan = performance.now();
      const inFlight = new Set<Promise<unknown>>();
      for (let n = 0; n < total; n++) {
        const due = subsBegan + (n * 1000) / perSecond;
        const wait = due - performance.now();
        if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
        const subject = subjects[n % subjects.length]!;
        const raising = new DetectionService(db.fork())
          .raise({
            policyId: policies[0]!.id,
            severity: Severity.LOW,
            title: `sizing ${n} ${Date.now()}`,
            description: 'raised by bench:sizing',
            ...subject,
          })
          .finally(() => inFlight.delete(raising));
        inFlight.add(raising);
      }
      await Promise.all(inFlight);
      // Each detection reaches its instance's subscribers.
      const expected = total * settings.BENCH_SUBSCRIBERS;
      const waitUntil = Date.now() + 120_000;
      while (latencies.length < expected && Date.now() < waitUntil) await new Promise((resolve) => setTimeout(resolve, 100));
      const subsSeconds = (performance.now() - subsBegan) / 1000;
      const subsPostgresCpu = postgresCpu() - pgSubsBefore;
      const subsNodeCpu = processCpu() - nodeSubsBefore;
      latencies.sort((a, b) => a - b);
      results.push({
        instances: ids.length,
        scanSeconds,
        items: Number(items),
        scanPostgresCpu,
        scanNodeCpu,
        peakConnections: peak,
        commits,
        databaseMiB,
        delivered: latencies.length,
        expected,
        duplicates,
        p50: percentile(latencies, 50),
        p99: percentile(latencies, 99),
        subsPostgresCpu,
        subsNodeCpu,
        subsSeconds,
      });
      const r = results.at(-1)!;
      console.log(
        `×${multiple} (${r.instances} instances): initial scans ${f1(r.scanSeconds)} s, ${r.items} items (${f1(r.items / r.scanSeconds)}/s); ` +
          `PostgreSQL CPU ${f1(r.scanPostgresCpu)} s, Tenantwatch CPU ${f1(r.scanNodeCpu)} s; peak ${r.peakConnections} connections; ` +
          `${r.commits} commits; database ${f1(r.databaseMiB)} MiB`,
      );
      console.log(
        `   subscriptions: ${subscriberCount} subscribers, ${f1(perSecond)} detections/s for ${settings.BENCH_SUBSCRIPTION_SECONDS} s: ` +
          `${r.delivered}/${r.expected} delivered, ${r.duplicates} duplicates, p50 ${r.p50} ms, p99 ${r.p99} ms; ` +
          `PostgreSQL CPU ${f1(r.subsPostgresCpu)} s (${f2(r.subsPostgresCpu / r.subsSeconds)} core), Tenantwatch CPU ${f1(r.subsNodeCpu)} s (${f2(r.subsNodeCpu / r.subsSeconds)} core)`,
      );
    } finally {
      await Promise.all(clients.map((c) => c.dispose()));
      await stack.stop();
      await db.close();
      await pool.end();
      await simulator.stop();
      await admin.query(`drop database if exists ${name} with (force)`).catch(() => undefined);
    }
  }

  const base = results[0]!;
  console.log(`\nBaseline ×${settings.BENCH_MULTIPLES[0]} (${base.instances} instances); per instance, each multiple ÷ the baseline:`);
  for (const r of results.slice(1)) {
    const per = (value: number, baseValue: number) => f2(value / r.instances / (baseValue / base.instances));
    console.log(
      `  ${r.instances} instances: scan wall time ${f2(r.scanSeconds / base.scanSeconds)}× for ${f2(r.instances / base.instances)}× the instances; ` +
        `PostgreSQL CPU per item ${f2(r.scanPostgresCpu / r.items / (base.scanPostgresCpu / base.items))}; ` +
        `Tenantwatch CPU per item ${f2(r.scanNodeCpu / r.items / (base.scanNodeCpu / base.items))}; commits per instance ${per(r.commits, base.commits)}; ` +
        `subscriptions p99 ${f2(r.p99 / base.p99)}×, PostgreSQL CPU per delivery ${f2(r.subsPostgresCpu / r.delivered / (base.subsPostgresCpu / base.delivered))}`,
    );
  }
  console.log(
    `${os.availableParallelism()} CPU cores shared by everything (PostgreSQL, the stack, the simulator, the subscribers); load average at the end ${os.loadavg().map(f2).join(' ')}`,
  );
  const lost = results.some((r) => r.delivered !== r.expected || r.duplicates > 0);
  if (lost) console.error('FAILED: a subscriber missed or repeated an event');
  return lost ? 1 : 0;
});
