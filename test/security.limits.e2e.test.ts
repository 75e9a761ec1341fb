import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { WS_CLOSE } from '../gateway/subscriptions/server.js';
import { signToken } from '../platform/auth.js';
import { graphql, startTestStack, waitFor, type TestStack } from './harness.js';
import { connect, disposeClients, rawSocket, record, within } from './subscription-client.js';

// What one client may spend at the gateway: query limits (HTTP and websocket, and at a subgraph
// reached directly), request rates per token subject, failed authentications per source address,
// and websockets and subscriptions per address and per subject. Small limits so each shows at once.
const RATE = 20;
const AUTH_FAILURES = 5;
const PENDING_PER_ADDRESS = 3;
const CONNECTIONS_PER_SUBJECT = 2;
const SUBSCRIPTIONS_PER_SUBJECT = 2;

let t: TestStack;

beforeAll(async () => {
  t = await startTestStack({
    GATEWAY_RATE_LIMIT_PER_MINUTE: String(RATE),
    AUTH_FAILURES_PER_MINUTE: String(AUTH_FAILURES),
    GATEWAY_WS_MAX_PENDING_PER_ADDRESS: String(PENDING_PER_ADDRESS),
    GATEWAY_WS_MAX_CONNECTIONS_PER_SUBJECT: String(CONNECTIONS_PER_SUBJECT),
    GATEWAY_WS_MAX_SUBSCRIPTIONS_PER_SUBJECT: String(SUBSCRIPTIONS_PER_SUBJECT),
    GATEWAY_WS_INIT_TIMEOUT_MS: '60000',
  });
});
afterEach(async () => {
  await disposeClients();
});
afterAll(async () => {
  await disposeClients();
  await t?.stop();
});

/** A token of its own per test: the request rate is counted per subject. */
let subjects = 0;
const freshToken = (role: 'viewer' | 'analyst' | 'admin' = 'analyst') => signToken(t.config, { role, subject: `limits-${++subjects}` });

const aliases = (n: number, field: string) => `{ ${Array.from({ length: n }, (_, i) => `a${i}: ${field}`).join(' ')} }`;
const ALIAS_ATTACK = aliases(1000, 'activities(first: 500) { edges { node { id action } } }');

describe('query limits', () => {
  it('refuses the thousand-alias attack before any subgraph is called, naming the limit', async () => {
    const token = await freshToken('viewer');
    const sentBefore = t.stack.gateway.dedup.sent;
    const answer = await graphql(t.url, token, ALIAS_ATTACK);
    expect(answer.status).toBe(400);
    expect(answer.data).toBeUndefined();
    expect(answer.errors).toHaveLength(1);
    expect(answer.errors![0]!.extensions).toMatchObject({ code: 'QUERY_TOO_COMPLEX', limit: 'QUERY_MAX_TOKENS' });
    // Under the token limit, the alias limit refuses it; under both, the cost does.
    const thirtyOne = await graphql(t.url, token, aliases(31, 'activities(first: 5) { totalCount }'));
    expect(thirtyOne.errors?.[0]?.extensions).toMatchObject({ code: 'QUERY_TOO_COMPLEX', limit: 'QUERY_MAX_ALIASES', max: 30, actual: 31 });
    const costly = await graphql(t.url, token, aliases(30, 'activities(first: 500) { edges { node { id action } } }'));
    expect(costly.errors?.[0]?.extensions).toMatchObject({
      code: 'QUERY_TOO_COMPLEX',
      limit: 'QUERY_MAX_COST',
      max: 50_000,
      actual: 60_030,
    });
    expect(costly.errors?.[0]?.message).toMatch(/estimated cost is 60,030; the limit is 50,000 \(QUERY_MAX_COST\)/);
    expect(t.stack.gateway.dedup.sent).toBe(sentBefore);
  });

  it('refuses a cheap field aliased 16,666 times at the token limit', async () => {
    const answer = await graphql(t.url, await freshToken('viewer'), aliases(16_666, '__typename'));
    expect(answer.status).toBe(400);
    expect(answer.errors?.[0]?.message).toBe('The document has more than 5000 tokens; the limit is 5000 (QUERY_MAX_TOKENS)');
  });

  it('applies the same limits to subscriptions over the websocket', async () => {
    const client = connect(t.url, await freshToken());
    const nested = (depth: number): string =>
      depth === 0 ? 'id' : `account { groups { id members { edges { node { ${nested(depth - 1)} } } } } }`;
    const deep = record(client, `subscription { detectionRaised { detection { ${nested(70)} } } }`);
    const ending = await within(deep.ended, 10_000, 'the deep subscription refused');
    expect(ending.errors?.[0]?.extensions).toMatchObject({ code: 'QUERY_TOO_COMPLEX', limit: 'QUERY_MAX_DEPTH' });
    const wide = record(client, `subscription { detectionRaised { ${aliases(31, 'cursor').slice(2, -2)} } }`);
    expect((await within(wide.ended, 10_000, 'the wide subscription refused')).errors?.[0]?.extensions).toMatchObject({
      code: 'QUERY_TOO_COMPLEX',
      limit: 'QUERY_MAX_ALIASES',
    });
    expect(t.stack.gateway.subscriptions.stats().upstreams).toBe(0);
  });

  it('applies them at a subgraph reached directly too', async () => {
    const token = await freshToken('viewer');
    const activities = t.stack.subgraphs.activities!.url;
    const costly = await graphql(activities, token, aliases(30, 'activities(first: 500) { edges { node { id action } } }'));
    expect(costly.errors?.[0]?.extensions).toMatchObject({ code: 'QUERY_TOO_COMPLEX', limit: 'QUERY_MAX_COST' });
    const wide = await graphql(activities, token, aliases(31, 'activities(first: 1) { totalCount }'));
    expect(wide.errors?.[0]?.extensions).toMatchObject({ code: 'QUERY_TOO_COMPLEX', limit: 'QUERY_MAX_ALIASES' });
  });
});

describe('request rates', () => {
  it('answers 429 with Retry-After past the per-token rate, and leaves other tokens alone', async () => {
    const token = await freshToken('viewer');
    for (let i = 0; i < RATE; i++) expect((await graphql(t.url, token, '{ __typename }')).status).toBe(200);
    const response = await fetch(t.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({ query: '{ __typename }' }),
    });
    expect(response.status).toBe(429);
    expect(Number(response.headers.get('retry-after'))).toBeGreaterThan(0);
    const body = (await response.json()) as { errors: { message: string; extensions: Record<string, unknown> }[] };
    expect(body.errors[0]!.extensions).toMatchObject({ code: 'RATE_LIMITED' });
    expect(body.errors[0]!.message).toMatch(/GATEWAY_RATE_LIMIT_PER_MINUTE/);
    expect((await graphql(t.url, await freshToken('viewer'), '{ __typename }')).status).toBe(200);
  });
});

describe('websockets per address and per token', () => {
  it('refuses more sockets waiting for connection_init from one address than the limit', async () => {
    const idle = Array.from({ length: PENDING_PER_ADDRESS }, () => rawSocket(t.url));
    await Promise.all(idle.map((s) => s.opened));
    const extra = rawSocket(t.url);
    expect(await within(extra.closed, 10_000, 'the extra socket closed')).toMatchObject({ code: WS_CLOSE.TRY_AGAIN_LATER });
    // Once one of the idle sockets goes, an analyst from the same address gets in.
    idle[0]!.socket.close();
    await idle[0]!.closed;
    const analyst = record(connect(t.url, await freshToken()), 'subscription { detectionRaised { cursor } }');
    await waitFor('the analyst subscribed', async () => (t.stack.gateway.subscriptions.stats().subscribers >= 1 ? true : undefined));
    analyst.unsubscribe();
  });

  it('refuses a third connection and a third subscription on one token, not on another', async () => {
    const token = await freshToken();
    const sockets = Array.from({ length: CONNECTIONS_PER_SUBJECT + 1 }, () => rawSocket(t.url));
    await Promise.all(sockets.map((s) => s.opened));
    for (const [i, s] of sockets.entries()) {
      s.socket.send(JSON.stringify({ type: 'connection_init', payload: { authorization: `Bearer ${token}` } }));
      // One after the other: the last one is the third of the token.
      if (i < CONNECTIONS_PER_SUBJECT) expect((await s.nextMessage()).type).toBe('connection_ack');
    }
    expect(await within(sockets.at(-1)!.closed, 10_000, 'the third connection closed')).toMatchObject({
      code: WS_CLOSE.TRY_AGAIN_LATER,
      reason: expect.stringMatching(/GATEWAY_WS_MAX_CONNECTIONS_PER_SUBJECT/),
    });

    const first = connect(t.url, token);
    // The two raw sockets hold the token's connections: close one for the client.
    sockets[0]!.socket.close();
    await sockets[0]!.closed;
    const subscriptions = Array.from({ length: SUBSCRIPTIONS_PER_SUBJECT }, () =>
      record(first, 'subscription { detectionRaised { cursor } }'),
    );
    await waitFor('two subscriptions open', async () => (t.stack.gateway.subscriptions.stats().subscribers >= 2 ? true : undefined));
    const third = record(first, 'subscription { governanceResult { cursor } }');
    const ending = await within(third.ended, 10_000, 'the third subscription refused');
    expect(ending.errors?.[0]?.extensions).toMatchObject({ code: 'RATE_LIMITED' });
    expect(ending.errors?.[0]?.message).toMatch(/GATEWAY_WS_MAX_SUBSCRIPTIONS_PER_SUBJECT/);
    // Another token is not held back by this one's.
    const other = record(connect(t.url, await freshToken()), 'subscription { detectionRaised { cursor } }');
    await waitFor('the other token subscribed', async () => (t.stack.gateway.subscriptions.stats().subscribers >= 3 ? true : undefined));
    // A completed subscription gives its place back.
    subscriptions[0]!.unsubscribe();
    await waitFor('one subscription released', async () => (t.stack.gateway.subscriptions.stats().subscribers === 2 ? true : undefined));
    record(first, 'subscription { detectionRaised { cursor } }');
    await waitFor('the freed place taken', async () => (t.stack.gateway.subscriptions.stats().subscribers === 3 ? true : undefined));
    other.unsubscribe();
  });
});

// Last: it blocks the test's own address for the rest of the minute.
describe('failed authentications per address', () => {
  it('answers 429 to an address past the limit of failed authentications, whatever its next token', async () => {
    for (let i = 0; i <= AUTH_FAILURES; i++) {
      const answer = await graphql(t.url, `not-a-token-${i}`, '{ __typename }');
      expect(answer.status).toBe(401);
    }
    const response = await fetch(t.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${await freshToken('viewer')}` },
      body: JSON.stringify({ query: '{ __typename }' }),
    });
    expect(response.status).toBe(429);
    expect(Number(response.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(((await response.json()) as { errors: { message: string }[] }).errors[0]!.message).toMatch(/AUTH_FAILURES_PER_MINUTE/);
    // The websocket of a blocked address is closed before it can try a token.
    const socket = rawSocket(t.url);
    expect(await within(socket.closed, 10_000, 'the blocked address closed')).toMatchObject({ code: WS_CLOSE.TRY_AGAIN_LATER });
  });
});
