// `npm run bench:soak`: `npm start`'s stack (embedded PostgreSQL, the simulated demo tenants being
// scanned) under 200 concurrent clients for 5 minutes: most ask queries (nested pages across the four
// subgraphs, filtered lists), some triage detections and request dry-run governance, some hold a live
// subscription. Prints throughput and p50/p99 for the whole run and for its first and last minute
// (the baseline: the last minute ÷ the first), unexpected errors (must be 0: any GraphQL error, HTTP
// status other than 200, or subscription that ends), and each process's RSS after the warm-up and at the
// end (must stay within 10%). Exits 1 when either bound is broken.
//   BENCH_SECONDS (300), BENCH_CLIENTS (200), BENCH_SUBSCRIBERS (20, among the clients), BENCH_WARMUP_SECONDS (30).
import 'reflect-metadata';
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { createClient } from 'graphql-ws';
import { WebSocket } from 'ws';
import { z } from 'zod';
import { runBenchmark } from './harness.js';
import { percentile } from './load.js';

const SettingsSchema = z.object({
  BENCH_SECONDS: z.coerce
    .number()
    .int()
    .min(10)
    .max(24 * 3600)
    .default(300),
  BENCH_CLIENTS: z.coerce.number().int().min(1).max(5_000).default(200),
  BENCH_SUBSCRIBERS: z.coerce.number().int().min(0).max(5_000).default(20),
  BENCH_WARMUP_SECONDS: z.coerce.number().int().min(0).max(600).default(30),
});

const ROOT = path.resolve(import.meta.dirname, '..');
const f1 = (n: number) => n.toFixed(1);
const f2 = (n: number) => n.toFixed(2);

/** Resident memory of a process, in MiB (from /proc). */
function rssMiB(pid: number): number {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1] ?? 0) / 1024;
}

/** The processes whose parent is `pid`. */
function childrenOf(pid: number): number[] {
  return fs
    .readdirSync('/proc')
    .filter((entry) => /^\d+$/.test(entry))
    .filter((entry) => {
      try {
        return Number(fs.readFileSync(`/proc/${entry}/stat`, 'utf8').split(') ')[1]!.split(' ')[1]) === pid;
      } catch {
        return false;
      }
    })
    .map(Number);
}

await runBenchmark({ settings: SettingsSchema }, async (bench) => {
  const { BENCH_SECONDS: seconds, BENCH_CLIENTS: clients, BENCH_SUBSCRIBERS: subscribers, BENCH_WARMUP_SECONDS: warmup } = bench.settings;
  const { freePort } = await import('../scripts/ports.js');
  const port = await freePort();
  const dataDir = path.join(bench.tmp, 'start');
  // npm start as a newcomer runs it (the demo tenants connected and scanned), with the client limits raised out of the way.
  const child: ChildProcess = spawn(
    process.execPath,
    ['--enable-source-maps', '--import', '@swc-node/register/esm-register', 'scripts/start.ts'],
    {
      cwd: ROOT,
      env: {
        PATH: process.env.PATH,
        HOME: process.env.HOME,
        DATA_DIR: dataDir,
        PORT: String(port),
        LOG_LEVEL: 'warn',
        GATEWAY_RATE_LIMIT_PER_MINUTE: '10000000',
        GATEWAY_WS_MAX_PENDING_PER_ADDRESS: '100000',
        GATEWAY_WS_MAX_CONNECTIONS_PER_SUBJECT: '100000',
        GATEWAY_WS_MAX_SUBSCRIPTIONS_PER_SUBJECT: '1000000',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let output = '';
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  bench.defer(async () => {
    if (child.exitCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGINT');
    await exited;
  });
  const token = (role: string) => new RegExp(`^\\s+${role}\\s+(eyJ\\S+)$`, 'm').exec(output)?.[1];
  const deadline = Date.now() + 120_000;
  while (!token('admin')) {
    if (child.exitCode !== null || Date.now() > deadline) throw new Error(`npm start did not print its tokens:\n${output}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  const url = `http://127.0.0.1:${port}/graphql`;
  const tokens = { viewer: token('viewer')!, analyst: token('analyst')!, responder: token('responder')!, admin: token('admin')! };
  const post = async <T>(query: string, variables: Record<string, unknown>, as: string): Promise<T> => {
    const response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${as}` },
      body: JSON.stringify({ query, variables }),
      signal: AbortSignal.timeout(60_000),
    });
    const body = (await response.json()) as { data?: T; errors?: { message: string; extensions?: { code?: string } }[] };
    if (response.status !== 200 || body.errors?.length)
      throw new Error(`HTTP ${response.status}: ${body.errors?.map((e) => `${e.extensions?.code ?? ''} ${e.message}`).join('; ') ?? ''}`);
    return body.data!;
  };

  // The demo's data, scanned: accounts and detections to act on.
  let accounts: string[] = [];
  let detections: string[] = [];
  while (accounts.length === 0 || detections.length === 0) {
    if (Date.now() > deadline) throw new Error('the demo tenants were not scanned in time');
    const page = await post<{ accounts: { edges: { node: { id: string } }[] }; detections: { edges: { node: { id: string } }[] } }>(
      '{ accounts(first: 200, filter: { status: ACTIVE, isAdmin: false }) { edges { node { id } } } detections(first: 200) { edges { node { id } } } }',
      {},
      tokens.viewer,
    );
    accounts = page.accounts.edges.map((e) => e.node.id);
    detections = page.detections.edges.map((e) => e.node.id);
    if (accounts.length === 0 || detections.length === 0) await new Promise((resolve) => setTimeout(resolve, 500));
  }

  const QUERIES = [
    '{ accounts(first: 20) { totalCount edges { node { email status instance { name } groups { name } files(first: 3) { totalCount } detections(first: 3) { totalCount } } } } }',
    '{ detections(first: 50, filter: { severityAtLeast: LOW }) { totalCount edges { node { title severity status policy { name } account { email } instance { name } } } } }',
    '{ activities(first: 50, filter: { succeeded: true }) { edges { node { action occurredAt actor { email } } } } }',
    '{ files(first: 50, filter: { hasSensitive: true }) { totalCount edges { node { name sharing owner { email } sensitiveMatches { type count } } } } }',
    '{ apps(first: 20) { edges { node { name users highestPermissionLevel instance { name } } } } appInstances { name status apiUsage { requestsLastHour throttledLastHour } } }',
  ];
  const pick = <T>(items: readonly T[], i: number) => items[i % items.length]!;

  type Sample = { at: number; ms: number };
  const samples: Sample[] = [];
  const errors = new Map<string, number>();
  const fail = (message: string) => errors.set(message, (errors.get(message) ?? 0) + 1);
  let stop = false;

  // Subscribers: a live stream each; an end or an error is an unexpected error.
  let events = 0;
  const sockets = Array.from({ length: Math.min(subscribers, clients) }, () => {
    const client = createClient({
      url: url.replace(/^http/, 'ws'),
      webSocketImpl: WebSocket,
      connectionParams: { authorization: `Bearer ${tokens.analyst}` },
      retryAttempts: 0,
    });
    client.subscribe(
      { query: 'subscription { detectionRaised { cursor change detection { id severity account { email } } } }' },
      {
        next: () => void (events += 1),
        error: (error: unknown) => fail(`subscription ended with an error: ${JSON.stringify(error).slice(0, 200)}`),
        complete: () => {
          if (!stop) fail('subscription completed before the end');
        },
      },
    );
    return client;
  });

  const started = Date.now();
  const warmEnd = started + warmup * 1000;
  const end = warmEnd + seconds * 1000;
  let rssStart: Record<string, number> | undefined;
  const pgPid = Number(fs.readFileSync(path.join(dataDir, 'postgres', 'postmaster.pid'), 'utf8').split('\n')[0]);
  const rss = () => ({
    tenantwatch: rssMiB(child.pid!),
    postgres: [pgPid, ...childrenOf(pgPid)].reduce((sum, pid) => {
      try {
        return sum + rssMiB(pid);
      } catch {
        return sum;
      }
    }, 0),
  });
  const warmed = (async () => {
    await new Promise((resolve) => setTimeout(resolve, warmup * 1000));
    rssStart = rss();
  })();

  const loop = async (id: number) => {
    for (let i = id; Date.now() < end; i += clients) {
      const kind = i % 10;
      const sent = performance.now();
      try {
        if (kind < 8) await post(pick(QUERIES, i), {}, tokens.viewer);
        else if (kind === 8)
          await post(
            'mutation ($id: ID!, $s: DetectionStatus!, $c: String) { setDetectionStatus(id: $id, status: $s, comment: $c) { id status } }',
            { id: pick(detections, i), s: i % 20 < 10 ? 'DISMISSED' : 'OPEN', c: `soak ${i}` },
            tokens.responder,
          );
        else
          await post(
            'mutation ($id: ID!) { suspendAccount(input: { targetId: $id, dryRun: true, reason: "soak" }) { id } }',
            { id: pick(accounts, i) },
            tokens.responder,
          );
        if (Date.now() >= warmEnd) samples.push({ at: Date.now(), ms: performance.now() - sent });
      } catch (error) {
        if (Date.now() >= warmEnd) fail((error as Error).message.slice(0, 300));
      }
    }
  };
  await Promise.all(Array.from({ length: clients }, (_, id) => loop(id)));
  await warmed;
  const rssEnd = rss();
  stop = true;
  await Promise.all(sockets.map((s) => s.dispose()));

  const window = (from: number, to: number) => {
    const inside = samples
      .filter((s) => s.at >= from && s.at < to)
      .map((s) => s.ms)
      .sort((a, b) => a - b);
    return { perSecond: inside.length / ((to - from) / 1000), p50: percentile(inside, 50), p99: percentile(inside, 99) };
  };
  const all = window(warmEnd, end);
  const minute = Math.min(60_000, (end - warmEnd) / 2);
  const first = window(warmEnd, warmEnd + minute);
  const last = window(end - minute, end);
  const unexpected = [...errors.values()].reduce((a, b) => a + b, 0);
  console.log(
    `soak: ${clients} clients (${sockets.length} subscribed) for ${seconds} s after a ${warmup} s warm-up, against npm start's stack`,
  );
  console.log(
    `  whole run:     ${f1(all.perSecond)} requests/s, p50 ${f1(all.p50)} ms, p99 ${f1(all.p99)} ms (${samples.length} requests)`,
  );
  console.log(`  first ${f1(minute / 1000)} s:  ${f1(first.perSecond)} requests/s, p50 ${f1(first.p50)} ms, p99 ${f1(first.p99)} ms`);
  console.log(`  last ${f1(minute / 1000)} s:   ${f1(last.perSecond)} requests/s, p50 ${f1(last.p50)} ms, p99 ${f1(last.p99)} ms`);
  console.log(`  last ÷ first:  throughput ${f2(last.perSecond / first.perSecond)}, p99 ${f2(last.p99 / first.p99)}`);
  console.log(`  subscription events delivered: ${events}`);
  console.log(`  unexpected errors: ${unexpected}${unexpected ? `: ${JSON.stringify(Object.fromEntries(errors))}` : ''}`);
  let flat = true;
  for (const [name, before] of Object.entries(rssStart!)) {
    const after = rssEnd[name as keyof typeof rssEnd];
    const ratio = after / before;
    if (ratio > 1.1) flat = false;
    console.log(
      `  RSS ${name}${name === 'postgres' ? ' (its processes summed, shared buffers in each)' : ''}: ${f1(before)} MiB after the warm-up, ${f1(after)} MiB at the end (× ${f2(ratio)})`,
    );
  }
  return unexpected === 0 && flat ? 0 : 1;
});
