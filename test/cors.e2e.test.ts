import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { startTestStack, waitFor, type TestStack } from './harness.js';

/**
 * The gateway with browsers: CORS for the origins in CORS_ORIGINS (and none for others), the same
 * allowlist (or the gateway's own origin) on the websocket, and RFC 6750's challenge on a 401.
 */

let t: TestStack;
const ALLOWED = 'https://soc.example.com';
const OTHER = 'https://evil.example.net';

beforeAll(async () => {
  t = await startTestStack({ CORS_ORIGINS: `${ALLOWED}, http://localhost:5173` });
}, 60_000);

afterAll(async () => {
  await t?.stop();
});

const post = (origin: string | undefined, token: string | undefined = t.token('viewer')) =>
  fetch(t.url, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      ...(origin ? { origin } : {}),
      ...(token ? { authorization: `Bearer ${token}` } : {}),
    },
    body: JSON.stringify({ query: '{ appInstances { id } }' }),
  });

/** Opens a graphql-ws socket sending `origin` (none: as a server would); answers the upgrade's outcome. */
async function upgrade(origin: string | undefined): Promise<'open' | number> {
  const socket = new WebSocket(t.url.replace(/^http/, 'ws'), 'graphql-transport-ws', origin ? { origin } : {});
  try {
    return await new Promise<'open' | number>((resolve, reject) => {
      socket.once('open', () => resolve('open'));
      socket.once('unexpected-response', (_request, response) => resolve(response.statusCode ?? 0));
      socket.once('error', reject);
    });
  } finally {
    socket.terminate();
  }
}

describe('CORS', () => {
  it('answers a preflight from an allowed origin with what a browser client needs, and one from another origin with nothing', async () => {
    const preflight = (origin: string) =>
      fetch(t.url, {
        method: 'OPTIONS',
        headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization, content-type' },
      });
    const allowed = await preflight(ALLOWED);
    expect(allowed.status).toBe(204);
    expect(allowed.headers.get('access-control-allow-origin')).toBe(ALLOWED);
    expect(allowed.headers.get('access-control-allow-headers')).toContain('authorization');
    expect(allowed.headers.get('access-control-allow-methods')).toBe('GET,POST');
    expect(allowed.headers.get('access-control-max-age')).toBe('600');
    expect(allowed.headers.get('access-control-allow-credentials')).toBeNull();
    const other = await preflight(OTHER);
    expect(other.headers.get('access-control-allow-origin')).toBeNull();
  });

  it('lets an allowed origin read answers, not another one (the query still runs: browsers refuse the answer)', async () => {
    const allowed = await post(ALLOWED);
    expect(allowed.status).toBe(200);
    expect(allowed.headers.get('access-control-allow-origin')).toBe(ALLOWED);
    expect(allowed.headers.get('vary')).toContain('Origin');
    expect((await post('http://localhost:5173')).headers.get('access-control-allow-origin')).toBe('http://localhost:5173');
    expect((await post(OTHER)).headers.get('access-control-allow-origin')).toBeNull();
    expect((await post(undefined)).headers.get('access-control-allow-origin')).toBeNull();
  });

  it('opens the websocket for an allowed origin, the gateway’s own and clients without Origin; refuses another origin with 403', async () => {
    expect(await upgrade(ALLOWED)).toBe('open');
    expect(await upgrade(undefined)).toBe('open');
    expect(await upgrade(new URL(t.url).origin)).toBe('open');
    expect(await upgrade(OTHER)).toBe(403);
    expect(await upgrade('null')).toBe(403);
    // Refused before anything ran: the gateway still answers.
    await waitFor('the gateway answering', async () => ((await post(undefined)).ok ? true : undefined), 5_000);
  });
});

describe('401', () => {
  it('carries the Bearer challenge: bare without a token, invalid_token with the reason for a bad one', async () => {
    const missing = await post(undefined, '');
    expect(missing.status).toBe(401);
    expect(missing.headers.get('www-authenticate')).toBe('Bearer realm="tenantwatch"');
    const bad = await post(undefined, 'not-a-jwt');
    expect(bad.status).toBe(401);
    expect(bad.headers.get('www-authenticate')).toBe(
      'Bearer realm="tenantwatch", error="invalid_token", error_description="Token rejected: invalid signature or format"',
    );
    expect(((await bad.json()) as { errors: { extensions: Record<string, unknown> }[] }).errors[0]!.extensions).toEqual({
      code: 'UNAUTHENTICATED',
    });
  });
});
