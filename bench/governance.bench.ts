// `npm run bench:governance`: 1,000 governance actions (suspend accounts, revoke grants, quarantine
// files; distinct targets) issued through the gateway by concurrent clients against one connected
// simulated tenant. Prints the mutation latency, the time until every action has SUCCEEDED, and that
// time against the provider-limit minimum (actions ÷ the allowed rate: the provider's limit less the
// headroom; governance reserves nothing below it); then the provider's count of governance calls
// against the actions (must be equal: each action applied exactly once). A mismatch, a failed action
// or a timeout exits 1. Everything runs in this process (gateway, subgraphs, scheduler, simulator) with
// embedded PostgreSQL beside it.
// BENCH_SIZES (`--sizes 100,1000,3000`) runs one round per size on the same stack, one after another
// (fresh targets each; the governance log grows from round to round), and prints how the cost grows:
// each round's time per action, minimum ratio and p99 against the first round's.
// BENCH_SCHEDULER (`--scheduler process`) runs the scheduler as its own process, the production shape
// (docker compose, Kubernetes), instead of in this one; each round then prints the CPU seconds the
// bench process (gateway, subgraphs, simulator), the scheduler and PostgreSQL each used.
import 'reflect-metadata';
import os from 'node:os';
import { z } from 'zod';
import { loadConfig } from '../platform/config.js';
import { postgresCpuSeconds, runBenchmark, sizesSetting, type SchedulerProcess } from './harness.js';
import { percentile } from './load.js';

const TENANT = { id: 'govbench', token: 'govbench-token-0123456789' } as const;

const SettingsSchema = z.object({
  BENCH_ACTIONS: z.coerce.number().int().min(3).max(20_000).default(1_000),
  BENCH_CLIENTS: z.coerce.number().int().min(1).max(1_000).default(50),
  /** The provider's limit, requests per minute. */
  BENCH_LIMIT: z.coerce.number().int().min(60).max(600_000).default(6_000),
  BENCH_TIMEOUT_SECONDS: z.coerce.number().positive().max(3_600).default(600),
  /** Rounds of this many actions each, one after another (default: one round of BENCH_ACTIONS). */
  BENCH_SIZES: sizesSetting('actions', 3, 20_000, '100,1000'),
  /** Where the scheduler runs: in this process beside the gateway and subgraphs (`npm start`'s shape), or as its own process (production's). */
  BENCH_SCHEDULER: z.enum(['in-process', 'process']).default('in-process'),
});

/** One round's figures. */
interface Round {
  readonly actions: number;
  readonly issuedSeconds: number;
  readonly doneSeconds: number;
  readonly minimumSeconds: number;
  readonly p50: number;
  readonly p99: number;
  readonly ok: boolean;
}

const f1 = (n: number) => n.toFixed(1);
const f2 = (n: number) => n.toFixed(2);

async function postGraphQL<T>(url: string, token: string, query: string, variables: Record<string, unknown> = {}): Promise<T> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify({ query, variables }),
    signal: AbortSignal.timeout(60_000),
  });
  const body = (await response.json()) as { data?: T | null; errors?: { message: string }[] };
  if (body.errors?.length) throw new Error(body.errors.map((e) => e.message).join('; '));
  if (!body.data) throw new Error(`HTTP ${response.status} without data`);
  return body.data;
}

const FLAGS = {
  sizes: 'BENCH_SIZES',
  actions: 'BENCH_ACTIONS',
  clients: 'BENCH_CLIENTS',
  limit: 'BENCH_LIMIT',
  scheduler: 'BENCH_SCHEDULER',
} as const;

/** CPU seconds used so far by each process of the run (null: /proc cannot tell). */
interface CpuSample {
  readonly bench: number;
  readonly scheduler: number | null;
  readonly postgres: number | null;
}

await runBenchmark({ settings: SettingsSchema, flags: FLAGS }, async (bench) => {
  // Modules that log are imported here, once harness.js has set LOG_LEVEL (the logger reads it when it loads).
  const { signToken } = await import('../platform/auth.js');
  const { startSimulator } = await import('../connectors/simulated/server.js');
  const { BENCH_CLIENTS: clients, BENCH_LIMIT: limit, BENCH_TIMEOUT_SECONDS: timeoutSeconds } = bench.settings;
  const sizes = bench.settings.BENCH_SIZES ?? [bench.settings.BENCH_ACTIONS];
  const actions = sizes.reduce((a, b) => a + b, 0);
  // Targets: half accounts to suspend, a quarter grants to revoke, a quarter files to quarantine.
  const plan = {
    accounts: Math.ceil(actions / 2),
    grants: Math.floor(actions / 4),
    files: actions - Math.ceil(actions / 2) - Math.floor(actions / 4),
  };
  // Room for suspended and admin accounts the generator makes, which are not targets.
  const simulator = await startSimulator({
    tenants: [
      {
        ...TENANT,
        seed: 11,
        users: Math.ceil(plan.accounts * 1.3) + 20,
        groups: 5,
        files: plan.files + 20,
        grants: plan.grants + 20,
        backfillDays: 1,
        backfillEventsPerUserPerDay: 1,
        activityPerMinute: 0,
        auditLagMs: 0,
        rateLimitPerMinute: limit,
        maxPageSize: 500,
      },
    ],
  });
  bench.defer(() => simulator.stop());
  const tenant = simulator.tenant(TENANT.id);
  const config = loadConfig(bench.configEnv());
  const ownProcess = bench.settings.BENCH_SCHEDULER === 'process';
  const stack = await bench.startStack(config, { scheduler: !ownProcess });
  const scheduler: SchedulerProcess | undefined = ownProcess ? await bench.startSchedulerProcess(bench.configEnv()) : undefined;
  const cpu = (): CpuSample => {
    const used = process.cpuUsage();
    return {
      bench: (used.user + used.system) / 1e6,
      scheduler: scheduler?.cpuSeconds() ?? null,
      postgres: postgresCpuSeconds(bench.postgresDir),
    };
  };
  const db = await bench.client();
  const admin = await signToken(config, { role: 'admin', subject: 'bench' });
  const responder = await signToken(config, { role: 'responder', subject: 'bench-responder' });
  const url = stack.gateway.url;

  const { connectApp } = await postGraphQL<{ connectApp: { id: string } }>(
    url,
    admin,
    'mutation ($input: ConnectAppInput!) { connectApp(input: $input) { id } }',
    {
      input: {
        provider: 'simulated',
        name: 'Governance bench',
        config: { endpoint: simulator.url, token: TENANT.token, rateLimitPerMinute: limit, maxPageSize: 500 },
      },
    },
  );
  const instanceId = connectApp.id;
  const connectDeadline = Date.now() + timeoutSeconds * 1000;
  for (;;) {
    const { rows } = await db.query<{ status: string; status_message: string | null }>(
      'select status, status_message from accounts.app_instance where id = $1',
      [instanceId],
    );
    if (rows[0]?.status === 'CONNECTED') break;
    if (rows[0]?.status === 'ERROR') throw new Error(`the instance ended in ERROR: ${rows[0].status_message}`);
    if (Date.now() > connectDeadline) throw new Error('timed out waiting for the instance to connect');
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  // The data scan downloads every file after the listing; let it finish so that only governance spends the budget.
  for (;;) {
    const { rows } = await db.query<{ n: string }>(
      `select count(*) as n from files.file where instance_id = $1 and last_scanned_at is null and deleted_at is null`,
      [instanceId],
    );
    if (Number(rows[0]!.n) === 0) break;
    if (Date.now() > connectDeadline) throw new Error('timed out waiting for the data scan');
    await new Promise((resolve) => setTimeout(resolve, 200));
  }

  const pickIds = async (sql: string, count: number): Promise<string[]> =>
    (await db.query<{ id: string }>(sql, [instanceId, count])).rows.map((r) => r.id);
  const accountIds = await pickIds(
    `select id from accounts.account where instance_id = $1 and status = 'ACTIVE' and deleted_at is null order by id limit $2`,
    plan.accounts,
  );
  const grantIds = await pickIds(
    `select id from app_permissions.app_permission where instance_id = $1 and not revoked and deleted_at is null order by id limit $2`,
    plan.grants,
  );
  const fileIds = await pickIds(
    `select id from files.file where instance_id = $1 and not quarantined and deleted_at is null order by id limit $2`,
    plan.files,
  );
  const work: { mutation: string; targetId: string }[] = [
    ...accountIds.map((targetId) => ({ mutation: 'suspendAccount', targetId })),
    ...grantIds.map((targetId) => ({ mutation: 'revokeAppPermission', targetId })),
    ...fileIds.map((targetId) => ({ mutation: 'quarantineFile', targetId })),
  ];
  // Interleave the kinds, as real automation would send them.
  work.sort((a, b) => (a.targetId < b.targetId ? -1 : 1));
  if (work.length !== actions) throw new Error(`the tenant offers ${work.length} targets, not ${actions}`);

  const allowed = (limit * (1 - config.HEADROOM_PERCENT / 100)) / 60;
  console.log(
    [
      `Tenantwatch governance benchmark (Node ${process.version}): ${sizes.length === 1 ? `${actions} actions` : `rounds of ${sizes.join(', ')} actions`} (suspendAccount, revokeAppPermission and quarantineFile, 2:1:1, distinct targets)`,
      `sent through the gateway by ${clients} concurrent clients, each one mutation after another.`,
      `Provider limit ${limit}/min, headroom ${config.HEADROOM_PERCENT}% → allowed ${f1(allowed)} req/s; a round's provider-limit minimum is its actions ÷ that rate.`,
      ownProcess
        ? `The scheduler runs as its own process (production's shape); the gateway, subgraphs and simulator in this one.`
        : `The scheduler runs in this process beside the gateway, subgraphs and simulator (npm start's shape; --scheduler process for production's).`,
      `Caveat: ${os.availableParallelism()} CPU cores shared by these processes and PostgreSQL. Load average at start: ${os
        .loadavg()
        .map((l) => l.toFixed(2))
        .join(' ')}.`,
    ].join('\n'),
  );

  const query = (mutation: string) => `mutation ($input: GovernanceInput!) { ${mutation}(input: $input) { id status } }`;
  const governanceEvents = () =>
    tenant
      .truth()
      .events.filter(
        (e) => e.scenario === 'governance' && ['admin.user.suspend', 'admin.grant.revoke', 'admin.file.quarantine'].includes(e.action),
      ).length;
  const rounds: Round[] = [];
  let done = 0;
  for (const size of sizes) {
    const batch = work.slice(done, done + size);
    const minimumSeconds = size / allowed;
    const before = tenant.stats();
    const appliedBefore = governanceEvents();
    const latencies: number[] = [];
    const cpuBefore = cpu();
    const started = performance.now();
    let next = 0;
    await Promise.all(
      Array.from({ length: Math.min(clients, size) }, async () => {
        while (next < batch.length) {
          const item = batch[next++]!;
          const sent = performance.now();
          await postGraphQL(url, responder, query(item.mutation), {
            input: { targetId: item.targetId, idempotencyKey: `bench-${item.targetId}` },
          });
          latencies.push(performance.now() - sent);
        }
      }),
    );
    const issuedSeconds = (performance.now() - started) / 1000;
    const cpuIssued = cpu();
    done += size;
    const deadline = Date.now() + timeoutSeconds * 1000;
    let counts: Record<string, number> = {};
    for (;;) {
      const { rows } = await db.query<{ status: string; n: string }>(
        'select status, count(*) as n from activities.governance_action where instance_id = $1 group by status',
        [instanceId],
      );
      counts = Object.fromEntries(rows.map((r) => [r.status, Number(r.n)]));
      if ((counts.SUCCEEDED ?? 0) + (counts.FAILED ?? 0) >= done) break;
      if (Date.now() > deadline) throw new Error(`timed out with ${JSON.stringify(counts)}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    const doneSeconds = (performance.now() - started) / 1000;
    const cpuAfter = cpu();
    const cpuLine = (until: CpuSample) =>
      (
        [
          [`this process (gateway, subgraphs, simulator${ownProcess ? '' : ', scheduler'})`, until.bench - cpuBefore.bench],
          [
            'the scheduler process',
            until.scheduler !== null && cpuBefore.scheduler !== null ? until.scheduler - cpuBefore.scheduler : null,
          ],
          ['PostgreSQL', until.postgres !== null && cpuBefore.postgres !== null ? until.postgres - cpuBefore.postgres : null],
        ] as const
      )
        .filter(([, seconds]) => seconds !== null)
        .map(([name, seconds]) => `${name} ${f1(seconds!)} s (${f1((seconds! * 1000) / size)} ms per action)`)
        .join(', ');
    const after = tenant.stats();
    const governanceCalls = Object.entries(after.governance).reduce((n, [route, c]) => n + c - (before.governance[route] ?? 0), 0);
    const sent = Object.entries(after.routes)
      .filter(
        ([route]) =>
          route.startsWith('POST /api/v1/users/:id/suspend') ||
          route.startsWith('DELETE /api/v1/oauth-grants') ||
          route.startsWith('POST /api/v1/files/:id/quarantine'),
      )
      .reduce((n, [route, r]) => n + r.total - (before.routes[route]?.total ?? 0), 0);
    const throttled = after.throttled - before.throttled;
    latencies.sort((a, b) => a - b);
    const appliedAtProvider = governanceEvents() - appliedBefore;
    const ok = (counts.SUCCEEDED ?? 0) === done && governanceCalls === size && appliedAtProvider === size;
    const round: Round = {
      actions: size,
      issuedSeconds,
      doneSeconds,
      minimumSeconds,
      p50: percentile(latencies, 50),
      p99: percentile(latencies, 99),
      ok,
    };
    rounds.push(round);
    console.log(
      [
        '',
        `Round of ${size} actions${rounds.length > 1 ? ` (${done - size} already in the governance log)` : ''}:`,
        `Mutations answered in ${f1(issuedSeconds)} s: p50 ${f1(round.p50)} ms, p95 ${f1(percentile(latencies, 95))} ms, p99 ${f1(round.p99)} ms.`,
        `All ${size} actions ended ${f1(doneSeconds)} s after the first mutation: ${JSON.stringify(counts)} (the instance's whole log).`,
        `Time to all SUCCEEDED ÷ provider-limit minimum: ${f1(doneSeconds)} s ÷ ${f1(minimumSeconds)} s = ${f2(doneSeconds / minimumSeconds)} (1.00 is the limit; achieved ${f1(size / doneSeconds)} actions/s of ${f1(allowed)} allowed).`,
        `CPU used while the mutations were answered: ${cpuLine(cpuIssued)}.`,
        `CPU used until all had ended: ${cpuLine(cpuAfter)}.`,
        // Closed-loop clients: each waits for its answer before the next, so latency ≈ clients ÷ throughput.
        `${Math.min(clients, size)} clients one mutation after another: a mean latency of 100 ms needs ${f1((Math.min(clients, size) * 1000) / 100)} mutations/s; answered ${f1(size / issuedSeconds)}/s.`,
        `Provider calls vs actions: ${governanceCalls} successful governance calls, ${sent} sent (${throttled} answered 429), ${appliedAtProvider} applied in the provider's audit trail, for ${size} actions: ${governanceCalls === size && appliedAtProvider === size ? 'equal' : 'NOT EQUAL'}.`,
        ok ? 'Result: every action applied exactly once.' : 'Result: FAILED (see above).',
      ].join('\n'),
    );
  }
  const { rows: attemptRows } = await db.query<{ attempts: string }>(
    'select sum(attempts) as attempts from activities.governance_action where instance_id = $1',
    [instanceId],
  );
  console.log(`\nAttempts recorded over all rounds: ${Number(attemptRows[0]!.attempts)} for ${actions} actions.`);
  if (rounds.length > 1) {
    const base = rounds[0]!;
    console.log(`\nHow cost grows (each round against the first, ${base.actions} actions):`);
    console.log('  actions   all done s   ÷ minimum   ms per action   per action ×   p99 ms   p99 ×');
    for (const r of rounds) {
      const perAction = (r.doneSeconds * 1000) / r.actions;
      const basePerAction = (base.doneSeconds * 1000) / base.actions;
      console.log(
        `  ${String(r.actions).padStart(7)}   ${f1(r.doneSeconds).padStart(10)}   ${f2(r.doneSeconds / r.minimumSeconds).padStart(9)}   ${f1(perAction).padStart(13)}   ${f2(perAction / basePerAction).padStart(12)}   ${f1(r.p99).padStart(6)}   ${f2(r.p99 / base.p99).padStart(5)}`,
      );
    }
  }
  return rounds.every((r) => r.ok) ? 0 : 1;
});
