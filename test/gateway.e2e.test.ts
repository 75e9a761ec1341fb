import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seedDataset } from './fixtures.js';
import { startTestStack, type TestStack } from './harness.js';

let t: TestStack;

beforeAll(async () => {
  t = await startTestStack();
  await seedDataset(t.fixtures, { accountsPerInstance: 20, perAccount: 2 });
});
afterAll(() => t?.stop());

const base = () => new URL('/', t.url).toString();

describe('the gateway', () => {
  it('answers /healthz and /readyz with JSON naming every subgraph and its database', async () => {
    const health = await fetch(new URL('/healthz', base()));
    expect(health.status).toBe(200);
    expect(await health.json()).toEqual({ status: 'ok' });
    const ready = await fetch(new URL('/readyz', base()));
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({
      status: 'ready',
      subgraphs: Object.fromEntries(
        ['accounts', 'activities', 'files', 'app-permissions'].map((n) => [n, { status: 'ready', database: 'ok' }]),
      ),
    });
  });

  it('sends identical queries in flight at the same moment once and shares the answer', async () => {
    const query =
      '{ accounts(first: 20) { edges { node { displayName activities(first: 2) { edges { node { action } } } files(first: 2) { totalCount } } } } }';
    const before = t.stack.gateway.dedup;
    const answers = await Promise.all(Array.from({ length: 20 }, () => t.request(query)));
    const after = t.stack.gateway.dedup;
    for (const answer of answers) {
      expect(answer.errors).toBeUndefined();
      expect(answer.data).toEqual(answers[0]!.data);
    }
    // 20 requests × 3 subgraph fetches = 60 without sharing.
    expect(after.shared - before.shared).toBeGreaterThan(0);
    expect(after.sent - before.sent + (after.shared - before.shared)).toBe(60);
  });

  it('never shares a query across different Authorization headers', async () => {
    const query = '{ appInstances { id } }';
    const before = t.stack.gateway.dedup;
    await Promise.all([t.request(query, undefined, t.token('viewer')), t.request(query, undefined, t.token('admin'))]);
    const after = t.stack.gateway.dedup;
    expect(after.shared - before.shared).toBe(0);
  });

  it('never shares mutations', async () => {
    const before = t.stack.gateway.dedup;
    const mutation =
      'mutation { connectApp(input: { provider: "simulated", name: "Same", config: { endpoint: "http://127.0.0.1:9/api", token: "s" } }) { id } }';
    const answers = await Promise.all(Array.from({ length: 5 }, () => t.query<{ connectApp: { id: string } }>(mutation)));
    const after = t.stack.gateway.dedup;
    expect(new Set(answers.map((a) => a.connectApp.id)).size).toBe(5);
    expect(after.shared - before.shared).toBe(0);
  });

  it('passes a subgraph error on with its code and the subgraph name, never a stack trace', async () => {
    const answer = await t.request(
      'mutation { connectApp(input: { provider: "simulated", name: "x", config: { endpoint: "http://127.0.0.1:9/api", token: "s" } }) { id } }',
      undefined,
      t.token('viewer'),
    );
    expect(answer.errors).toHaveLength(1);
    expect(answer.errors![0]!.extensions).toEqual({ code: 'FORBIDDEN', serviceName: 'accounts' });
  });

  it('reports unready, and answers errors without a stack trace, while a subgraph is down', async () => {
    const files = t.stack.subgraphs.files!;
    await files.stop();
    const ready = await fetch(new URL('/readyz', base()));
    expect(ready.status).toBe(503);
    const body = (await ready.json()) as { status: string; subgraphs: Record<string, { status: string }> };
    expect(body.status).toBe('unready');
    expect(body.subgraphs.files!.status).toBe('unready');
    expect(body.subgraphs.accounts!.status).toBe('ready');
    const answer = await t.request('{ files(first: 1) { totalCount } }');
    expect(answer.status).toBeLessThan(500);
    expect(answer.errors?.[0]?.extensions?.serviceName).toBe('files');
    expect(JSON.stringify(answer)).not.toMatch(/stacktrace|\.ts:\d+|\.js:\d+/);
  });
});
