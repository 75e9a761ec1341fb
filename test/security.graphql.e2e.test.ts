import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signToken } from '../platform/auth.js';
import { graphql, startTestStack, type TestStack } from './harness.js';

// graphql-cop's checks (alias and directive overloading, batching, field suggestions, GET mutations,
// CSRF, introspection, unhandled errors, deep recursion) against the gateway of a production-mode
// stack, each refused with its code, while /readyz keeps answering.

let t: TestStack;
let viewer: string;

beforeAll(async () => {
  t = await startTestStack({ NODE_ENV: 'production', CREDENTIALS_KEY: 'ab'.repeat(32) });
  viewer = await signToken(t.config, { role: 'viewer' });
});
afterAll(async () => {
  await t?.stop();
});

interface Answer {
  readonly status: number;
  readonly body: { data?: unknown; errors?: { message: string; extensions?: Record<string, unknown> }[] } | unknown[];
  readonly text: string;
}

/** Sends a raw request to the gateway's `/graphql` with the viewer's token unless `headers` say otherwise. */
async function send(init: { method?: string; query?: string; body?: string; headers?: Record<string, string> }): Promise<Answer> {
  const url = new URL(t.url);
  if (init.query !== undefined) url.search = new URLSearchParams({ query: init.query }).toString();
  const response = await fetch(url, {
    method: init.method ?? 'POST',
    headers: {
      authorization: `Bearer ${viewer}`,
      ...(init.body !== undefined ? { 'content-type': 'application/json' } : {}),
      ...init.headers,
    },
    body: init.body,
  });
  const text = await response.text();
  let body: Answer['body'] = {};
  try {
    body = JSON.parse(text) as Answer['body'];
  } catch {
    // Not JSON: the assertions below say so.
  }
  return { status: response.status, body, text };
}

const errorsOf = (answer: Answer) => (Array.isArray(answer.body) ? [] : (answer.body.errors ?? []));

/** Everything a client may see must be free of stack traces and file paths. */
function expectNoInternals(answer: Answer): void {
  expect(answer.text).not.toMatch(/\n\s+at |node_modules|\/work\/|\.ts:\d+|stacktrace/);
}

describe('graphql-cop checks against a production-mode gateway', () => {
  it('refuses alias overloading (101 aliases)', async () => {
    const answer = await send({
      body: JSON.stringify({ query: `{ ${Array.from({ length: 101 }, (_, i) => `a${i}: __typename`).join(' ')} }` }),
    });
    expect(answer.status).toBe(400);
    expect(errorsOf(answer)[0]?.extensions).toMatchObject({ code: 'QUERY_TOO_COMPLEX', limit: 'QUERY_MAX_ALIASES' });
  });

  it('refuses directive overloading', async () => {
    const fields = Array.from({ length: 51 }, (_, i) => `f${i}: __typename @include(if: true)`).join(' ');
    const answer = await send({ body: JSON.stringify({ query: `{ ${fields} }` }) });
    expect(answer.status).toBe(400);
    expect(errorsOf(answer).map((e) => e.extensions?.code)).toContain('QUERY_TOO_COMPLEX');
    const unknown = await send({ body: JSON.stringify({ query: `{ __typename ${'@aa '.repeat(10)}}` }) });
    expect(unknown.status).toBe(400);
    expect(errorsOf(unknown)[0]?.extensions?.code).toBe('GRAPHQL_VALIDATION_FAILED');
  });

  it('refuses batched requests', async () => {
    const answer = await send({ body: JSON.stringify([{ query: '{ __typename }' }, { query: '{ __typename }' }]) });
    expect(answer.status).toBe(400);
    expectNoInternals(answer);
  });

  it('hides field suggestions', async () => {
    const answer = await send({ body: JSON.stringify({ query: '{ accountz { totalCount } }' }) });
    expect(answer.status).toBe(400);
    const [error] = errorsOf(answer);
    expect(error?.message).toBe('Cannot query field "accountz" on type "Query".');
    expect(answer.text).not.toMatch(/Did you mean/);
  });

  it('answers no introspection', async () => {
    const answer = await send({ body: JSON.stringify({ query: '{ __schema { types { name } } }' }) });
    expect(answer.status).toBe(400);
    expect(errorsOf(answer)[0]?.message).toMatch(/introspection is not allowed/i);
    expect(answer.text).not.toMatch(/AppInstance/);
  });

  it('refuses a mutation over GET and a GET query without a CSRF preflight header', async () => {
    const mutation = await send({
      method: 'GET',
      query: 'mutation { disconnectApp(id: "x") { id } }',
      headers: { 'apollo-require-preflight': 'true' },
    });
    expect(mutation.status).toBe(405);
    const simple = await send({ method: 'GET', query: '{ __typename }' });
    expect(simple.status).toBe(400);
    expect(simple.text).toMatch(/CSRF|preflight/i);
  });

  it('refuses a POST that a browser could send cross-site without a preflight (CSRF)', async () => {
    for (const contentType of ['application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', 'text/plain']) {
      const answer = await send({ body: JSON.stringify({ query: '{ __typename }' }), headers: { 'content-type': contentType } });
      expect(answer.status, contentType).toBe(400);
      expectNoInternals(answer);
    }
  });

  it('answers malformed requests with a client error, never a stack trace', async () => {
    for (const body of [
      '{"query": ',
      'null',
      '"just a string"',
      JSON.stringify({ query: 42 }),
      JSON.stringify({ query: '{ __typename', variables: 'x' }),
    ]) {
      const answer = await send({ body });
      expect(answer.status, body).toBeGreaterThanOrEqual(400);
      expect(answer.status, body).toBeLessThan(500);
      expectNoInternals(answer);
    }
  });

  it('refuses deep recursion through fragments and the graph', async () => {
    const fragments = `fragment A on Account { groups { members { edges { node { ...B } } } } } fragment B on Account { groups { members { edges { node { ...A } } } } }`;
    const cycle = await send({ body: JSON.stringify({ query: `{ accounts { edges { node { ...A } } } } ${fragments}` }) });
    expect(cycle.status).toBe(400);
    expect(errorsOf(cycle)[0]?.message).toMatch(/Cannot spread fragment "A" within itself/);
  });

  it('keeps /readyz answering while the refusals above are sent at once', async () => {
    const attack = `{ ${Array.from({ length: 1000 }, (_, i) => `a${i}: activities(first: 500) { edges { node { id action } } }`).join(' ')} }`;
    const attacks = Array.from({ length: 50 }, () => send({ body: JSON.stringify({ query: attack }) }));
    const started = performance.now();
    const ready = await fetch(new URL('/readyz', t.url));
    const readyMs = performance.now() - started;
    expect(ready.status).toBe(200);
    for (const answer of await Promise.all(attacks)) expect(answer.status).toBe(400);
    // A liveness deadline, not a performance figure: fifty refusals may not hold the gateway for seconds.
    expect(readyMs).toBeLessThan(2_000);
  });
});

describe('a valid token is still needed for everything', () => {
  it('refuses a request without a token with 401 UNAUTHENTICATED', async () => {
    const answer = await graphql(t.url, null, '{ __typename }');
    expect(answer.status).toBe(401);
    expect(answer.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
  });
});
