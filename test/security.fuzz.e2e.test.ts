import v8 from 'node:v8';
import vm from 'node:vm';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { signToken } from '../platform/auth.js';
import { startTestStack, waitFor, type TestStack } from './harness.js';
import { connect, disposeClients, record, within } from './subscription-client.js';

// Thousands of generated malformed documents, variables, bodies and websocket messages against a
// production-mode stack: never a 5xx, never a crash (the gateway answers afterwards), heap flat.

v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc') as () => void;

let t: TestStack;
let analyst: string;

beforeAll(async () => {
  t = await startTestStack({ NODE_ENV: 'production', CREDENTIALS_KEY: 'cd'.repeat(32) });
  analyst = await signToken(t.config, { role: 'analyst' });
});
afterAll(async () => {
  await disposeClients();
  await t?.stop();
});

/** The heap after a full collection, in MB. */
function heapMb(): number {
  gc();
  gc();
  return process.memoryUsage().heapUsed / 1024 / 1024;
}

// Pieces of GraphQL documents, real ones among them, so that generated documents reach validation
// and execution as well as the parser.
const FIELDS = [
  'accounts',
  'activities',
  'files',
  'appPermissions',
  'detections',
  'governanceActions',
  'appInstances',
  '__typename',
  'edges',
  'node',
  'id',
  'totalCount',
  'nope',
];
const TOKENS = [
  ...FIELDS,
  '{',
  '}',
  '(',
  ')',
  ':',
  '...',
  'on',
  'Account',
  'query',
  'mutation',
  'subscription',
  'fragment',
  'F',
  '$v',
  'first:',
  'after:',
  'filter:',
  '500',
  '-1',
  '1e309',
  '"x"',
  '"""',
  '@include(if: true)',
  '@skip(if: $v)',
  'null',
  '[',
  ']',
  ',',
  '#',
  '\\u0000',
  'a:',
  '=',
  '!',
];
const documents = fc.oneof(
  fc.array(fc.constantFrom(...TOKENS), { maxLength: 60 }).map((parts) => parts.join(' ')),
  fc.string({ maxLength: 200 }),
  fc.string({ unit: 'binary', maxLength: 200 }),
);
const variables = fc.oneof(
  fc.constant(undefined),
  fc.jsonValue({ maxDepth: 3 }),
  fc.dictionary(fc.string({ maxLength: 5 }), fc.jsonValue({ maxDepth: 2 })),
);
const operationNames = fc.oneof(fc.constant(undefined), fc.string({ maxLength: 10 }), fc.integer());

describe('generated input', () => {
  it('never answers an HTTP request with a 5xx', async () => {
    const before = heapMb();
    let answered = 0;
    await fc.assert(
      fc.asyncProperty(documents, variables, operationNames, fc.boolean(), async (query, vars, operationName, asBody) => {
        const body = asBody ? JSON.stringify({ query, variables: vars, operationName }) : query;
        const response = await fetch(t.url, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${analyst}` },
          body,
        });
        const text = await response.text();
        answered += 1;
        expect(response.status, `${response.status} for ${body.slice(0, 200)}: ${text.slice(0, 200)}`).toBeLessThan(500);
        expect(text).not.toMatch(/\n\s+at |node_modules/);
      }),
      { numRuns: 2_000 },
    );
    expect(answered).toBe(2_000);
    // Refusals keep nothing: two thousand of them leave the heap where it was (give or take caches and JIT).
    expect(heapMb() - before).toBeLessThan(40);
  });

  it('never breaks the websocket server with generated messages', async () => {
    const messages = fc.oneof(
      fc.jsonValue({ maxDepth: 3 }).map((v) => JSON.stringify(v)),
      fc
        .record({
          type: fc.constantFrom('connection_init', 'subscribe', 'complete', 'ping', 'pong', 'next', 'nope'),
          id: fc.oneof(fc.string({ maxLength: 8 }), fc.integer()),
          payload: fc.oneof(
            fc.jsonValue({ maxDepth: 2 }),
            documents.map((query) => ({ query })),
          ),
        })
        .map((m) => JSON.stringify(m)),
      fc.string({ maxLength: 100 }),
    );
    const before = heapMb();
    await fc.assert(
      fc.asyncProperty(fc.array(messages, { minLength: 1, maxLength: 8 }), fc.boolean(), async (sequence, authenticate) => {
        const socket = new WebSocket(t.url.replace(/^http/, 'ws'), 'graphql-transport-ws');
        socket.on('error', () => undefined);
        const closed = new Promise<number>((resolve) => socket.once('close', (code) => resolve(code)));
        await new Promise<void>((resolve) => {
          socket.once('open', () => resolve());
          socket.once('close', () => resolve());
        });
        if (socket.readyState === socket.OPEN) {
          if (authenticate) socket.send(JSON.stringify({ type: 'connection_init', payload: { authorization: `Bearer ${analyst}` } }));
          for (const message of sequence) if (socket.readyState === socket.OPEN) socket.send(message);
          // The server handles messages in order: a pong says it took the ones before; a close, how it refused one.
          const answered = new Promise<void>((resolve) =>
            socket.on('message', (data) => {
              if (String(data).includes('"pong"')) resolve();
            }),
          );
          if (socket.readyState === socket.OPEN) socket.send(JSON.stringify({ type: 'ping' }));
          await Promise.race([answered, closed]);
          if (socket.readyState === socket.OPEN) socket.close();
        }
        // A client's bad message closes its socket with a client error (4400...), never an internal one (4500, 1011).
        const code = await within(closed, 10_000, 'the socket closed');
        expect([4500, 1011], `closed with ${code} after ${JSON.stringify(sequence)}`).not.toContain(code);
      }),
      { numRuns: 500 },
    );
    expect(heapMb() - before).toBeLessThan(40);
    // The server is still there: a real subscription works.
    const subscription = record(connect(t.url, analyst), 'subscription { detectionRaised { cursor } }');
    await waitFor('a subscription after the generated messages', async () =>
      t.stack.gateway.subscriptions.stats().subscribers >= 1 ? true : undefined,
    );
    subscription.unsubscribe();
  });
});
