// `npm run bench:gateway`: a nested query over all four subgraphs through the gateway, against the same
// data fetched from the subgraphs directly (the baseline), and against the floor for this data: the
// SQL statements the subgraphs ran for each page (recorded from the driver while one direct answer of
// that page ran alone), replayed straight on PostgreSQL in the same order (accounts first, then the
// three other subgraphs' statements side by side) on a pool of its own. One run, a fresh embedded PostgreSQL.
// BENCH_CONCURRENCY (default 16) clients, BENCH_SECONDS (default 10) per measured run after a 2 s
// warm-up. Exits 1 when any answer had errors or the two paths disagree on the data.
import 'reflect-metadata';
import os from 'node:os';
import { isDeepStrictEqual } from 'node:util';
import pg from 'pg';
import { z } from 'zod';
import type { DedupStats } from '../gateway/data-source.js';
import { loadConfig } from '../platform/config.js';
import type { Stack } from '../scripts/stack.js';
import { runBenchmark } from './harness.js';
import { runLoad, type LoadRequest, type LoadResult } from './load.js';

const WARMUP_MS = 2_000;
const REQUEST_TIMEOUT_MS = 30_000;
const PAGE_SIZE = 20;

const SettingsSchema = z.object({
  BENCH_CONCURRENCY: z.coerce.number().int().min(1).max(256).default(16),
  BENCH_SECONDS: z.coerce.number().positive().max(600).default(10),
});

/** The nested query: accounts (accounts subgraph) with their activities, files and grants (the other three). */
const GATEWAY_QUERY = `query Bench($after: String) {
  accounts(first: ${PAGE_SIZE}, after: $after) { edges { node {
    displayName instance { name }
    activities(first: 3) { edges { node { action } } }
    files(first: 3) { totalCount edges { node { name } } }
    appPermissions(first: 3) { edges { node { appName } } }
  } } }
}`;
const ACCOUNTS_QUERY = `query Accounts($after: String) {
  accounts(first: ${PAGE_SIZE}, after: $after) { edges { node { id displayName instance { name } } } }
}`;
const entitiesQuery = (selection: string) =>
  `query Entities($representations: [_Any!]!) { _entities(representations: $representations) { ... on Account { ${selection} } } }`;
/** What a client without a gateway asks each of the other subgraphs, by subgraph name. */
const ENTITY_QUERIES = [
  ['activities', entitiesQuery('activities(first: 3) { edges { node { action } } }')],
  ['files', entitiesQuery('files(first: 3) { totalCount edges { node { name } } }')],
  ['app-permissions', entitiesQuery('appPermissions(first: 3) { edges { node { appName } } }')],
] as const;
/** Subgraph requests one answer takes without sharing: accounts, then the three entity fetches. */
const CALLS_PER_ANSWER = 1 + ENTITY_QUERIES.length;

interface AccountPage {
  accounts: { edges: { node: Record<string, unknown> }[] };
}

/** POSTs a GraphQL request and answers `data`; throws naming `label` when there are errors or no data. */
async function postGraphQL<T>(label: string, url: string, token: string, query: string, variables: Record<string, unknown>): Promise<T> {
  // Node's global fetch (undici) keeps connections alive between requests by default.
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify({ query, variables }),
    signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
  });
  const body = (await response.json()) as { data?: T | null; errors?: { message: string; extensions?: { code?: string } }[] };
  if (body.errors?.length)
    throw new Error(`${label}: ${body.errors.map((e) => `[${e.extensions?.code ?? 'no code'}] ${e.message}`).join('; ')}`);
  if (!body.data) throw new Error(`${label}: HTTP ${response.status} without data`);
  return body.data;
}

function checkPage(label: string, page: AccountPage): AccountPage {
  const count = page.accounts.edges.length;
  if (count !== PAGE_SIZE) throw new Error(`${label}: ${count} accounts, expected ${PAGE_SIZE}`);
  return page;
}

const viaGateway = async (stack: Stack, token: string, after: string | null): Promise<AccountPage> =>
  checkPage('gateway', await postGraphQL<AccountPage>('gateway', stack.gateway.url, token, GATEWAY_QUERY, { after }));

/** The same page as {@link GATEWAY_QUERY}, fetched as a client without a gateway would, merged into the gateway's shape. */
async function direct(stack: Stack, token: string, after: string | null): Promise<AccountPage> {
  type Node = { id: string } & Record<string, unknown>;
  const url = (name: string) => stack.subgraphs[name]!.url;
  const { accounts } = await postGraphQL<{ accounts: { edges: { node: Node }[] } }>('accounts', url('accounts'), token, ACCOUNTS_QUERY, {
    after,
  });
  const representations = accounts.edges.map(({ node }) => ({ __typename: 'Account', id: node.id }));
  const parts = await Promise.all(
    ENTITY_QUERIES.map(async ([name, query]) => {
      const { _entities } = await postGraphQL<{ _entities: (Record<string, unknown> | null)[] }>(name, url(name), token, query, {
        representations,
      });
      if (_entities.length !== representations.length || _entities.includes(null)) {
        throw new Error(`${name}: ${_entities.filter(Boolean).length} entities for ${representations.length} accounts`);
      }
      return _entities;
    }),
  );
  const edges = accounts.edges.map(({ node: { id: _id, ...fields } }, i) => ({
    node: Object.assign(fields, ...parts.map((part) => part[i])),
  }));
  return checkPage('direct', { accounts: { edges } });
}

/** One statement as the driver sent it. */
interface Statement {
  readonly text: string;
  readonly values: readonly unknown[] | undefined;
}

/**
 * Records the statements every pg client of this process sends while `work` runs alone (the subgraphs
 * run in this process): the subgraphs' own SQL, without transaction control and session settings.
 */
const recorded: { current: Statement[] | null } = { current: null };
{
  const query = pg.Client.prototype.query as (this: pg.Client, ...args: unknown[]) => unknown;
  pg.Client.prototype.query = function (this: pg.Client, ...args: unknown[]) {
    const [config, values] = args as [string | { text?: string; values?: unknown[] }, unknown];
    const text = typeof config === 'string' ? config : (config?.text ?? '');
    if (recorded.current && text && !/^\s*(begin|commit|rollback|set |select 1\b|listen )/i.test(text)) {
      recorded.current.push({ text, values: typeof config === 'string' ? (Array.isArray(values) ? values : undefined) : config.values });
    }
    return query.apply(this, args);
  } as typeof pg.Client.prototype.query;
}

async function recording(work: () => Promise<unknown>): Promise<Statement[]> {
  const statements: Statement[] = [];
  recorded.current = statements;
  try {
    await work();
  } finally {
    recorded.current = null;
  }
  return statements;
}

/** A page's statements: the accounts subgraph's, then each other subgraph's (run side by side). */
interface PagePlan {
  readonly accounts: readonly Statement[];
  readonly entities: readonly (readonly Statement[])[];
}

/** Records the statements of the direct answer of the page after `after`, one subgraph request at a time. */
async function planOf(stack: Stack, token: string, after: string | null): Promise<PagePlan> {
  const url = (name: string) => stack.subgraphs[name]!.url;
  let ids: string[] = [];
  const accounts = await recording(async () => {
    const page = await postGraphQL<{ accounts: { edges: { node: { id: string } }[] } }>(
      'accounts',
      url('accounts'),
      token,
      ACCOUNTS_QUERY,
      {
        after,
      },
    );
    ids = page.accounts.edges.map((e) => e.node.id);
  });
  const representations = ids.map((id) => ({ __typename: 'Account', id }));
  const entities: Statement[][] = [];
  for (const [name, query] of ENTITY_QUERIES)
    entities.push(await recording(() => postGraphQL(name, url(name), token, query, { representations })));
  if (accounts.length === 0 || entities.some((e) => e.length === 0)) throw new Error('sql: a subgraph request ran no recorded statement');
  return { accounts, entities };
}

/** The floor: a page's recorded statements straight on PostgreSQL, in the subgraphs' order. */
async function viaSql(pool: pg.Pool, plan: PagePlan): Promise<void> {
  const run = async (statements: readonly Statement[]) => {
    const client = await pool.connect();
    try {
      for (const { text, values } of statements) await client.query(text, values as unknown[] | undefined);
    } finally {
      client.release();
    }
  };
  await run(plan.accounts);
  await Promise.all(plan.entities.map(run));
}

/** A warm-up run, whose figures are dropped but whose errors count, and the measured run after it. */
interface Measurement {
  readonly warmup: LoadResult;
  readonly measured: LoadResult;
}

/** Warms up, calls `beforeMeasuring` with nothing in flight, then measures the same load. */
async function measure(concurrency: number, durationMs: number, request: LoadRequest, beforeMeasuring?: () => void): Promise<Measurement> {
  const warmup = await runLoad({ concurrency, durationMs: WARMUP_MS, request });
  beforeMeasuring?.();
  return { warmup, measured: await runLoad({ concurrency, durationMs, request }) };
}

const errorsOf = ({ warmup, measured }: Measurement) => warmup.errors + measured.errors;

interface PhaseReport {
  readonly name: string;
  readonly gateway: Measurement;
  readonly direct: Measurement;
  readonly sql: Measurement;
  /** Statements per answer on the SQL path. */
  readonly statements: number;
  /** gateway.dedup with nothing in flight, right before and right after the measured gateway run. */
  readonly dedupBefore: DedupStats;
  readonly dedupAfter: DedupStats;
}

const ms = (value: number) => value.toFixed(1);
const columns = (cells: readonly string[]) => cells.map((c, i) => (i < 2 ? c.padEnd(i === 0 ? 17 : 11) : c.padStart(9))).join(' ');

function printReport(reports: readonly PhaseReport[]): void {
  const lines = [columns(['phase', 'path', 'req/s', 'p50 ms', 'p95 ms', 'p99 ms', 'errors', 'subgraph calls/req'])];
  const notes: string[] = [];
  for (const { name, gateway, direct, sql, statements, dedupBefore, dedupAfter } of reports) {
    const g = gateway.measured;
    const d = direct.measured;
    const answers = g.requests + g.errors;
    const sent = dedupAfter.sent - dedupBefore.sent;
    const shared = dedupAfter.shared - dedupBefore.shared;
    const row = (label: string, m: Measurement, calls: string) => {
      const r = m.measured;
      return columns([name, label, r.requestsPerSecond.toFixed(1), ms(r.p50), ms(r.p95), ms(r.p99), String(errorsOf(m)), calls]);
    };
    lines.push(
      row('gateway', gateway, `${(sent / answers).toFixed(2)} of ${((sent + shared) / answers).toFixed(2)}`),
      row('direct', direct, `${CALLS_PER_ANSWER.toFixed(2)}`),
      row('sql', sql, `${statements.toFixed(2)} statements`),
      columns([name, 'gw/direct', `${(g.requestsPerSecond / d.requestsPerSecond).toFixed(2)}x`, `${(g.p50 / d.p50).toFixed(2)}x`]),
      columns([
        name,
        'direct/sql',
        `${(d.requestsPerSecond / sql.measured.requestsPerSecond).toFixed(2)}x`,
        `${(d.p50 / sql.measured.p50).toFixed(2)}x`,
      ]),
    );
    notes.push(
      `${name}: gateway.dedup before {sent ${dedupBefore.sent}, shared ${dedupBefore.shared}}, after {sent ${dedupAfter.sent}, shared ${dedupAfter.shared}}:` +
        ` ${sent} sent + ${shared} shared for ${answers} gateway requests (${g.seconds.toFixed(1)} s).`,
    );
  }
  console.log(['', ...lines, '', ...notes].join('\n'));
  console.log(
    [
      'subgraph calls/req: "sent of planned" per gateway request; planned - sent were answered by an identical request already in flight.',
      'gw/direct: req/s above 1x means the gateway serves more; p50 above 1x means the gateway answers slower.',
      'direct/sql: the subgraphs against the floor, their own statements run straight on PostgreSQL (targets: gw/direct >= 0.95, direct/sql >= 0.5 on distinct pages).',
      'errors include the warm-up.',
    ].join('\n'),
  );
}

await runBenchmark({ settings: SettingsSchema }, async (bench) => {
  // Modules that log are imported here, once harness.js has set LOG_LEVEL (the logger reads it when it loads).
  const { signToken } = await import('../platform/auth.js');
  const { Fixtures, seedDataset } = await import('../test/fixtures.js');
  const { BENCH_CONCURRENCY: concurrency, BENCH_SECONDS: seconds } = bench.settings;
  // Enough accounts that every client's page (starting after account `client`) is full and its own.
  const accountsPerInstance = Math.max(50, Math.ceil((concurrency + PAGE_SIZE) / 2));

  const config = loadConfig(bench.configEnv());
  const stack = await bench.startStack(config);
  const data = await seedDataset(new Fixtures(stack, config), { accountsPerInstance, perAccount: 5 });
  const token = await signToken(config, { role: 'admin', subject: 'bench' });
  const { accounts } = await postGraphQL<{ accounts: { edges: { cursor: string }[] } }>(
    'cursors',
    stack.gateway.url,
    token,
    `{ accounts(first: ${data.accounts.size}) { edges { cursor } } }`,
    {},
  );
  const cursors = accounts.edges.map((e) => e.cursor);
  const sqlPool = new pg.Pool({ connectionString: stack.databaseUrl, max: concurrency * 3 });
  bench.defer(() => sqlPool.end());

  const cores = os.availableParallelism();
  console.log(
    [
      `Tenantwatch gateway benchmark: ${concurrency} concurrent clients, ${seconds} s per measured run after a ${WARMUP_MS / 1000} s warm-up (Node ${process.version}).`,
      `Data: ${data.accounts.size} accounts, ${data.activityCount} activities, ${data.fileCount} files, ${data.grantCount} grants. Each answer: ${PAGE_SIZE} accounts with instance, 3 activities, 3 files (+ totalCount), 3 grants.`,
      `Caveat: ${cores} CPU cores shared by everything. The gateway, the four subgraphs and the load generator run in this one Node process`,
      `(one event loop); PostgreSQL runs beside them on the same cores. Figures compare the two paths on this machine; they are not capacity.`,
      `Load average at start: ${os
        .loadavg()
        .map((l) => l.toFixed(2))
        .join(' ')}.`,
    ].join('\n'),
  );

  const workloads: readonly { name: string; after: (client: number) => string | null }[] = [
    { name: 'identical query', after: () => null },
    { name: 'distinct pages', after: (client) => cursors[client]! },
  ];
  const reports: PhaseReport[] = [];
  let mismatches = 0;
  for (const { name, after } of workloads) {
    // The baseline must be the same data: compare one answer of each path before loading them.
    for (const client of new Set([0, concurrency - 1])) {
      const [a, b] = await Promise.all([viaGateway(stack, token, after(client)), direct(stack, token, after(client))]);
      if (!isDeepStrictEqual(a, b)) {
        mismatches += 1;
        console.error(
          `${name}: client ${client}: gateway and direct answers differ\n  gateway: ${JSON.stringify(a).slice(0, 400)}\n  direct:  ${JSON.stringify(b).slice(0, 400)}`,
        );
      }
    }
    let dedupBefore: DedupStats = { sent: 0, shared: 0 };
    const gateway = await measure(
      concurrency,
      seconds * 1000,
      async (client) => void (await viaGateway(stack, token, after(client))),
      () => {
        dedupBefore = stack.gateway.dedup;
      },
    );
    const dedupAfter = stack.gateway.dedup;
    const baseline = await measure(concurrency, seconds * 1000, async (client) => void (await direct(stack, token, after(client))));
    const plans = new Map<number, PagePlan>();
    for (let client = 0; client < concurrency; client++) plans.set(client, await planOf(stack, token, after(client)));
    const floor = await measure(concurrency, seconds * 1000, (client) => viaSql(sqlPool, plans.get(client)!));
    const statements = [...plans.values()].reduce((sum, p) => sum + p.accounts.length + p.entities.flat().length, 0) / plans.size;
    reports.push({ name, gateway, direct: baseline, sql: floor, statements, dedupBefore, dedupAfter });
  }
  printReport(reports);

  const errors = reports.reduce((sum, r) => sum + errorsOf(r.gateway) + errorsOf(r.direct) + errorsOf(r.sql), 0);
  for (const report of reports) {
    for (const label of ['gateway', 'direct', 'sql'] as const) {
      for (const run of [report[label].warmup, report[label].measured]) {
        for (const [message, count] of run.errorSamples) console.error(`${report.name} ${label}: ${count}× ${message}`);
      }
    }
  }
  console.log(`Errors: ${errors}; data mismatches: ${mismatches}.`);
  return errors + mismatches > 0 ? 1 : 0;
});
