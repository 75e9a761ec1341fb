import { randomUUID } from 'node:crypto';
import type { Message } from 'graphql-ws';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { encodeCursor } from '../platform/pagination.js';
import { PolicyKind, Severity } from '../subgraphs/activities/policy.entity.js';
import { startTestStack, waitFor, type TestStack } from './harness.js';
import { connect, disposeClients, record, within } from './subscription-client.js';

// A subscription whose `after` is not an event cursor ends with exactly one BAD_USER_INPUT error
// naming `after`, as graphql-ws's terminal `error` message, and nothing follows it: the gateway
// refuses it before opening any upstream (the event cursor format is shared through platform/),
// the activities subgraph before registering any event-stream subscriber. What the client's socket
// carries is recorded message by message (graphql-ws's `on.message`, which also sees messages for a
// subscription the client has already let go of); a valid subscription opened afterwards on the
// same client receives a new event, so every message sent for the refused one in the meantime
// would be in the record.

let t: TestStack;
let instanceId: string;
let policyId: string;

beforeAll(async () => {
  t = await startTestStack();
  instanceId = await t.fixtures.instance('Sales org');
  policyId = await t.fixtures.policy({ name: 'Cursor check', kind: PolicyKind.ACTIVITY, severity: Severity.HIGH, condition: {} });
});
afterEach(async () => {
  await disposeClients();
  await waitFor(
    'every subscription released',
    async () =>
      t.stack.gateway.subscriptions.stats().subscribers === 0 &&
      subgraphSubscribers() === 0 &&
      t.stack.gateway.subscriptions.stats().upstreams === 0
        ? true
        : undefined,
    10_000,
    10,
  );
});
afterAll(() => t?.stop());

interface DetectionRaised {
  detectionRaised: { cursor: string; detection: { id: string; title: string } };
}
const DETECTIONS = `subscription ($after: String) { detectionRaised(after: $after) { cursor detection { id title } } }`;

const subgraphSubscribers = () => t.stack.subgraphs.activities!.stats().subscribers ?? 0;
let raised = 0;
const raise = () =>
  t.fixtures.detection({ policyId, severity: Severity.HIGH, title: `Detection ${++raised}`, description: 'raised by a test', instanceId });

/** `after` values that are not event cursors: each must end its subscription with one error and open nothing. */
const NOT_CURSORS: readonly (readonly [string, string])[] = [
  ['a word', 'abc'],
  ['a negative number', '-1'],
  ['a list cursor (base64url JSON, as connections give)', encodeCursor(['2025-01-01T00:00:00.000Z', randomUUID()])],
  ['a 10,000-character string', '7'.repeat(10_000)],
  ['a number past the event log’s bigint', '9223372036854775808'],
];

interface Target {
  readonly url: () => string;
  /** Whether the valid subscription reached the event stream (through the gateway: its upstream did). */
  readonly live: () => boolean;
}

const THROUGH_GATEWAY: Target = {
  url: () => t.url,
  live: () => t.stack.gateway.subscriptions.stats().subscribers === 1 && subgraphSubscribers() === 1,
};
const ON_SUBGRAPH: Target = {
  url: () => t.stack.subgraphs.activities!.url,
  live: () => subgraphSubscribers() === 1,
};

/**
 * Subscribes with `after` (and `query`), expects the one `error` message, then shows a valid
 * subscription on the same client working while the refused one stays silent. Answers every
 * message the client received.
 */
async function refusedOnce(
  target: Target,
  variables: Record<string, unknown> | undefined,
  query = DETECTIONS,
  expected: object = { message: expect.stringMatching(/^Argument "after": /), extensions: { code: 'BAD_USER_INPUT', argument: 'after' } },
): Promise<readonly Message[]> {
  const messages: Message[] = [];
  const client = connect(target.url(), t.token('analyst'), { on: { message: (message) => void messages.push(message) } });
  const opensBefore = t.stack.gateway.subscriptions.stats().upstreamOpens;

  const refused = record<DetectionRaised>(client, query, variables);
  const ending = await within(refused.ended, 5_000, 'the refused subscription to end');
  expect(ending.errors).toHaveLength(1);
  expect(ending.errors![0]).toMatchObject(expected);
  expect(ending.errors![0]!.message.length).toBeLessThan(300);
  expect(refused.events).toEqual([]);
  const refusal = messages.find((m) => m.type === 'error');
  expect(refusal).toBeDefined();
  const refusedId = (refusal as { id: string }).id;
  // Nothing was opened for it: no upstream at the gateway, no subscriber on the event stream.
  expect(t.stack.gateway.subscriptions.stats()).toMatchObject({ upstreams: 0, subscribers: 0, upstreamOpens: opensBefore });
  expect(subgraphSubscribers()).toBe(0);

  const valid = record<DetectionRaised>(client, DETECTIONS);
  await waitFor('the valid subscription live', async () => (target.live() ? true : undefined), 10_000, 5);
  const id = await raise();
  const [event] = await within(valid.received(1), 10_000, 'the valid subscription’s event');
  expect(event!.detectionRaised.detection.id).toBe(id);
  valid.unsubscribe();

  // All the refused subscription ever got is its one error: no `next`, no `complete`, no repeat.
  expect(messages.filter((m) => 'id' in m && m.id === refusedId)).toEqual([refusal]);
  expect(messages.filter((m) => m.type === 'error')).toHaveLength(1);
  return messages;
}

describe.each([
  ['through the gateway', THROUGH_GATEWAY],
  ['directly on the activities subgraph', ON_SUBGRAPH],
])('a subscription with an `after` that is not an event cursor, %s', (_where, target) => {
  it.each(NOT_CURSORS)('ends with one BAD_USER_INPUT naming `after` for %s, and opens nothing', async (_case, after) => {
    await refusedOnce(target, { after });
  });

  it('is refused as a literal in the document and as a variable’s default value too', async () => {
    await refusedOnce(target, undefined, `subscription { detectionRaised(after: "abc") { cursor detection { id title } } }`);
    await refusedOnce(
      target,
      undefined,
      `subscription ($after: String = "-1") { detectionRaised(after: $after) { cursor detection { id title } } }`,
    );
  });

  it('ends with one BAD_USER_INPUT naming the variable when a variable does not fit its type, and opens nothing', async () => {
    const variableRefused = (variable: string) => ({
      message: expect.stringMatching(new RegExp(`^Variable "\\$${variable}" got invalid value`)),
      extensions: { code: 'BAD_USER_INPUT', variable },
    });
    await refusedOnce(target, { after: 5 }, DETECTIONS, variableRefused('after'));
    await refusedOnce(
      target,
      { filter: { severityAtLeast: 'SEVERE' } },
      `subscription ($filter: DetectionFilter) { detectionRaised(filter: $filter) { cursor detection { id title } } }`,
      variableRefused('filter'),
    );
  });
});

describe('a valid `after`', () => {
  it('still resumes through the gateway: the events after it, then live ones', async () => {
    const first = await raise();
    const stream = record<DetectionRaised>(connect(t.url, t.token('analyst')), DETECTIONS, { after: '0' });
    const replayed = await within(stream.received(raised), 10_000, 'the replay from cursor 0');
    expect(replayed.at(-1)!.detectionRaised.detection.id).toBe(first);
    const live = await raise();
    const events = await within(stream.received(raised), 10_000, 'the live event');
    expect(events.at(-1)!.detectionRaised.detection.id).toBe(live);
  });
});
