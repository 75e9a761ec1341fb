import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { signToken } from '../platform/auth.js';
import { startTestStack, waitFor, type TestStack } from './harness.js';
import { connect, disposeClients, record, within } from './subscription-client.js';

// A subscription the subgraph refuses (a bad `after`, a bad filter) ends with one error and is never
// retried: through the gateway, whose upstream would otherwise reopen it forever, and directly on the
// activities subgraph.

let t: TestStack;
let analyst: string;

beforeAll(async () => {
  t = await startTestStack();
  analyst = await signToken(t.config, { role: 'analyst' });
});
afterEach(async () => {
  await disposeClients();
  await waitFor('every gateway upstream closed', async () => (t.stack.gateway.subscriptions.stats().upstreams === 0 ? true : undefined));
});
afterAll(async () => {
  await disposeClients();
  await t?.stop();
});

const BAD_CURSORS: readonly [string, string][] = [
  ['a word', 'abc'],
  ['a negative number', '-1'],
  ['a list cursor', Buffer.from('["2026-01-01T00:00:00Z","0a4c1f3e-0000-4000-8000-000000000000"]').toString('base64url')],
  ['past the largest cursor', '9999999999999999999'],
  ['ten thousand characters', '7'.repeat(10_000)],
];

const DETECTIONS = 'subscription ($after: String) { detectionRaised(after: $after) { cursor detection { title } } }';

describe.each([
  ['through the gateway', () => t.url],
  ['directly on the activities subgraph', () => t.stack.subgraphs.activities!.url],
])('a subscription with a bad after, %s', (_where, url) => {
  it.each(BAD_CURSORS)('ends with one BAD_USER_INPUT naming after for %s, and the connection goes on', async (_what, after) => {
    const client = connect(url(), analyst);
    const bad = record(client, DETECTIONS, { after });
    const ending = await within(bad.ended, 10_000, 'the bad subscription ended');
    expect(ending.errors).toHaveLength(1);
    expect(ending.errors![0]!.extensions).toMatchObject({ code: 'BAD_USER_INPUT', argument: 'after' });
    expect(bad.events).toEqual([]);
    // Nothing is left open for it at the gateway or the subgraph (an upstream reopening it would stay).
    await waitFor('nothing left open for the bad subscription', async () =>
      t.stack.gateway.subscriptions.stats().upstreams === 0 && (t.stack.subgraphs.activities!.stats().subscribers ?? 0) === 0
        ? true
        : undefined,
    );
    // The same connection serves a good subscription; the bad one stays silent.
    const good = record(client, 'subscription { governanceResult { cursor } }');
    // Live from the moment it reaches the activities subgraph (through the gateway's upstream or directly).
    await waitFor('the good subscription live', async () =>
      (t.stack.subgraphs.activities!.stats().subscribers ?? 0) >= 1 ? true : undefined,
    );
    const action = await t.fixtures.governanceAction({
      type: 'SUSPEND_ACCOUNT',
      instanceId: await t.fixtures.instance(`Bad cursor ${Math.random()}`),
      requestedBy: 'test',
    });
    expect(action).toBeTruthy();
    await within(good.received(1), 10_000, 'the good subscription served');
    expect(bad.events).toEqual([]);
    good.unsubscribe();
  });
});

describe('a subscription the subgraph refuses, through the gateway', () => {
  it('ends once for every client sharing its upstream, and the upstream is not reopened', async () => {
    // The gateway lets the filter through (its shape is valid); the activities subgraph refuses the id.
    const refused = 'subscription { detectionRaised(filter: { policyId: "not-an-id" }) { cursor } }';
    const clients = [connect(t.url, analyst), connect(t.url, analyst)];
    const subscriptions = clients.map((client) => record(client, refused));
    for (const subscription of subscriptions) {
      const ending = await within(subscription.ended, 10_000, 'the refused subscription ended');
      expect(ending.errors).toHaveLength(1);
      expect(ending.errors![0]!.extensions).toMatchObject({ code: 'BAD_USER_INPUT', argument: 'filter.policyId' });
    }
    await waitFor('its upstream closed', async () => (t.stack.gateway.subscriptions.stats().upstreams === 0 ? true : undefined));
    // The activities subgraph saw it refused, not reopened over and over: no subscriber left there.
    expect(t.stack.subgraphs.activities!.stats().subscribers ?? 0).toBe(0);
  });
});
