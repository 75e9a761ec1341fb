import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { CredentialError, CursorExpiredError, PermanentError, TransientError } from '../connectors/contract.js';
import { parseSimulatorThrottle } from '../connectors/simulated/throttle.js';
import { openDatabase, type Database } from '../platform/database.js';
import { freshDatabase } from '../test/harness.js';
import { RateBudget } from './budget.js';
import { schedulerModule } from './module.js';
import { BudgetedProviderHttp } from './provider-http.js';
import { UsageRecorder } from './usage.js';

/**
 * The scheduler's provider client against a real HTTP server on a free port, scripted per test:
 * each request takes the next step of the script. The budget is a real RateBudget on PostgreSQL.
 */

type Step = (request: IncomingMessage, response: ServerResponse, body: string) => void;

interface Received {
  /** When the request arrived, by the server's clock. */
  readonly at: number;
  readonly method: string;
  readonly url: string;
  readonly authorization: string | undefined;
  readonly contentType: string | undefined;
  readonly body: string;
}

const json =
  (status: number, body: unknown, headers: Record<string, string> = {}): Step =>
  (_request, response) => {
    response.writeHead(status, { 'content-type': 'application/json', ...headers });
    response.end(JSON.stringify(body));
  };

/** Drops the connection without an answer. */
const hangUp: Step = (request) => request.socket.destroy();

describe('BudgetedProviderHttp', () => {
  let server: Server;
  let endpoint: string;
  let script: Step[] = [];
  let received: Received[] = [];
  let drop: () => Promise<void>;
  let database: Database;
  let budget: RateBudget;
  let instanceId: string;
  let usage: UsageRecorder;
  let recorded: { instanceId: string; requests: number; throttled: number }[];

  beforeAll(async () => {
    const fresh = await freshDatabase();
    drop = fresh.drop;
    database = await openDatabase({ ...schedulerModule, url: fresh.url, poolMax: 2 });
    budget = new RateBudget(database.knex());
    server = createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        const body = Buffer.concat(chunks).toString('utf8');
        received.push({
          at: Date.now(),
          method: request.method ?? '',
          url: request.url ?? '',
          authorization: request.headers.authorization,
          contentType: request.headers['content-type'],
          body,
        });
        const step = script.shift() ?? json(500, { message: 'unscripted request' });
        step(request, response, body);
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}/api`;
  });

  afterAll(async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve, reject) => server.close((error) => (error ? reject(error) : resolve())));
    await database?.close();
    await drop?.();
  });

  beforeEach(async () => {
    script = [];
    received = [];
    recorded = [];
    instanceId = randomUUID();
    await budget.configure(instanceId, { requestsPerMinute: 60_000, headroomPercent: 10 });
    usage = new UsageRecorder(async (id, requests, throttled) => void recorded.push({ instanceId: id, requests, throttled }), 60_000);
  });

  afterEach(async () => {
    await usage.close();
  });

  const client = (maxAttempts = 4) =>
    new BudgetedProviderHttp({
      instanceId,
      endpoint,
      credentials: { headers: async () => ({ authorization: 'Bearer test-token' }), invalidate: () => {} },
      priority: 'periodic',
      budget,
      usage,
      parseThrottle: parseSimulatorThrottle,
      maxAttempts,
      backoffMs: 5,
    });

  /** What the usage sink was told, summed, once the recorder has flushed. */
  const usageTotals = async () => {
    await usage.flush();
    expect(recorded.every((entry) => entry.instanceId === instanceId)).toBe(true);
    return { requests: recorded.reduce((n, e) => n + e.requests, 0), throttled: recorded.reduce((n, e) => n + e.throttled, 0) };
  };

  it('answers a 200 with its JSON parsed, sending the path under the endpoint, the query, the credentials and the body', async () => {
    script = [json(200, { users: [{ id: 'u-1' }], next: null }), json(201, { id: 'g-1' })];
    const list = await client().request({ method: 'GET', path: '/v1/users', query: { limit: 2, cursor: undefined } });
    expect(list.status).toBe(200);
    expect(list.body).toEqual({ users: [{ id: 'u-1' }], next: null });
    const created = await client().request({ method: 'POST', path: '/v1/groups', body: { name: 'Sales' } });
    expect(created).toMatchObject({ status: 201, body: { id: 'g-1' } });

    expect(received.map(({ method, url }) => `${method} ${url}`)).toEqual(['GET /api/v1/users?limit=2', 'POST /api/v1/groups']);
    expect(received[0]?.authorization).toBe('Bearer test-token');
    expect(received[1]).toMatchObject({ contentType: 'application/json', body: '{"name":"Sales"}' });
    expect(await usageTotals()).toEqual({ requests: 2, throttled: 0 });
  });

  it('retries a 503 and succeeds', async () => {
    script = [json(503, { message: 'Service Unavailable' }), json(200, { ok: true })];
    const response = await client().request({ method: 'GET', path: '/v1/users' });
    expect(response.body).toEqual({ ok: true });
    expect(received).toHaveLength(2);
    expect(await usageTotals()).toEqual({ requests: 2, throttled: 0 });
  });

  it('retries a dropped connection and succeeds', async () => {
    script = [hangUp, json(200, { ok: true })];
    const response = await client().request({ method: 'GET', path: '/v1/users' });
    expect(response.body).toEqual({ ok: true });
    expect(received).toHaveLength(2);
    expect(await usageTotals()).toEqual({ requests: 2, throttled: 0 });
  });

  it('waits out a 429 Retry-After through the budget, then succeeds, counting one throttled request', async () => {
    script = [json(429, { message: 'Too Many Requests' }, { 'retry-after': '1' }), json(200, { ok: true })];
    const response = await client().request({ method: 'GET', path: '/v1/users' });
    expect(response.body).toEqual({ ok: true });
    expect(received).toHaveLength(2);
    expect(received[1]!.at - received[0]!.at).toBeGreaterThanOrEqual(1000);
    expect(await usageTotals()).toEqual({ requests: 2, throttled: 1 });
  });

  it('asks for fresh credentials once on a 401, then turns a second 401 into a CredentialError; a 403 is final at once', async () => {
    script = [
      json(401, { error: 'invalid_token' }),
      json(401, { error: 'invalid_token' }),
      json(403, { message: 'Missing scope: audit.read' }),
    ];
    await expect(client().request({ method: 'GET', path: '/v1/users' })).rejects.toSatisfy(
      (error) =>
        error instanceof CredentialError && error.status === 401 && error.message === 'The provider refused the credentials (HTTP 401)',
    );
    await expect(client().request({ method: 'GET', path: '/v1/audit' })).rejects.toSatisfy(
      (error) =>
        error instanceof CredentialError &&
        error.status === 403 &&
        error.message === 'The credentials lack a permission the connector needs (HTTP 403)',
    );
    expect(received).toHaveLength(3);
  });

  it('retries a 401 with the token the credentials acquire after being told the old one was refused', async () => {
    let issued = 0;
    const seen: string[] = [];
    const credentials = {
      headers: async () => ({ authorization: `Bearer t-${issued}` }),
      invalidate: (service?: string) => {
        seen.push(service ?? 'default');
        issued++;
      },
    };
    script = [json(401, { error: 'invalid_token' }), json(200, { ok: true })];
    const http = new BudgetedProviderHttp({
      instanceId,
      endpoint,
      credentials,
      priority: 'periodic',
      budget,
      usage,
      parseThrottle: parseSimulatorThrottle,
      backoffMs: 5,
    });
    await expect(http.request({ method: 'GET', path: '/v1/users', service: 'directory' })).resolves.toMatchObject({ body: { ok: true } });
    expect(received.map((r) => r.authorization)).toEqual(['Bearer t-0', 'Bearer t-1']);
    expect(seen).toEqual(['directory']);
  });

  it("authenticates as the request's subject, and lets the connector read throttling from the body (a 403 that is a rate limit)", async () => {
    const asked: string[] = [];
    const refused: string[] = [];
    const credentials = {
      headers: async (service?: string, subject?: string) => {
        asked.push(`${service ?? '-'}:${subject ?? '-'}`);
        return { authorization: `Bearer for-${subject ?? 'admin'}` };
      },
      invalidate: (service?: string, subject?: string) => void refused.push(`${service ?? '-'}:${subject ?? '-'}`),
    };
    const rateLimited = { error: { code: 403, errors: [{ domain: 'usageLimits', reason: 'userRateLimitExceeded' }] } };
    script = [json(403, rateLimited), json(401, { error: 'expired' }), json(200, { ok: true })];
    const http = new BudgetedProviderHttp({
      instanceId,
      endpoint,
      credentials,
      priority: 'periodic',
      budget,
      usage,
      parseThrottle: ({ status, bytes }) => ({
        throttled: status === 429 || (status === 403 && (bytes?.toString('utf8') ?? '').includes('RateLimitExceeded')),
        retryAfterMs: 20,
      }),
      backoffMs: 5,
    });
    await expect(
      http.request({ method: 'GET', path: '/drive/v3/files', service: 'drive', subject: 'ada@example.com' }),
    ).resolves.toMatchObject({
      body: { ok: true },
    });
    expect(received.map((r) => r.authorization)).toEqual([
      'Bearer for-ada@example.com',
      'Bearer for-ada@example.com',
      'Bearer for-ada@example.com',
    ]);
    expect(asked).toEqual(['drive:ada@example.com', 'drive:ada@example.com', 'drive:ada@example.com']);
    expect(refused).toEqual(['drive:ada@example.com']);
    expect(await usageTotals()).toEqual({ requests: 3, throttled: 1 });
  });

  it("keeps a query carried in the path (a provider's next-page link), beside the query parameters", async () => {
    script = [json(200, { ok: true })];
    await client().request({ method: 'GET', path: '/v1/users?$skiptoken=abc%3D&$top=5', query: { extra: 1 } });
    expect(received[0]!.url).toBe('/api/v1/users?%24skiptoken=abc%3D&%24top=5&extra=1');
  });

  it("spends the budget of the request's service when it has one, and a 429 blocks that service alone", async () => {
    await budget.configure(instanceId, { requestsPerMinute: 60_000, headroomPercent: 10 }, 'files');
    const http = new BudgetedProviderHttp({
      instanceId,
      endpoint,
      credentials: { headers: async () => ({ authorization: 'Bearer test-token' }), invalidate: () => {} },
      priority: 'periodic',
      budget,
      usage,
      parseThrottle: parseSimulatorThrottle,
      maxAttempts: 1,
      backoffMs: 5,
    });
    http.budgetServices = new Set(['files']);
    script = [json(429, { message: 'slow down' }, { 'retry-after': '30' }), json(200, { ok: true })];
    await expect(http.request({ method: 'GET', path: '/v1/files', service: 'files' })).rejects.toBeInstanceOf(Error);
    const rows = await database
      .knex()
      .raw<{ rows: { service: string; blocked: boolean }[] }>(
        'select service, coalesce(blocked_until > clock_timestamp(), false) as blocked from scheduler.rate_budget where instance_id = ? order by service',
        [instanceId],
      );
    expect(rows.rows).toEqual([
      { service: '', blocked: false },
      { service: 'files', blocked: true },
    ]);
    // The directory (no budget of its own) still goes at once.
    await expect(http.request({ method: 'GET', path: '/v1/users', service: 'directory' })).resolves.toMatchObject({ body: { ok: true } });
  });

  it("turns a 404 into a PermanentError in Tenantwatch's words, the provider's message left to the log", async () => {
    script = [json(404, { message: 'User u-9 does not exist' })];
    const failure = client().request({ method: 'GET', path: '/v1/users/u-9' });
    await expect(failure).rejects.toBeInstanceOf(PermanentError);
    await expect(failure).rejects.toMatchObject({
      status: 404,
      message: 'The provider refused the request: it has no such item (HTTP 404)',
      transient: false,
    });
    expect(received).toHaveLength(1);
  });

  it('turns a 410 into a CursorExpiredError', async () => {
    script = [json(410, { message: 'The delta cursor has expired' })];
    const failure = client().request({ method: 'GET', path: '/v1/files/delta', query: { cursor: 'c-1' } });
    await expect(failure).rejects.toBeInstanceOf(CursorExpiredError);
    await expect(failure).rejects.toMatchObject({
      status: 410,
      message: "The provider's change feed no longer knows this position (HTTP 410)",
    });
    expect(received).toHaveLength(1);
  });

  it('gives up on a 503 that outlasts maxAttempts with a TransientError', async () => {
    script = Array.from({ length: 5 }, () => json(503, { message: 'Service Unavailable' }));
    const failure = client(3).request({ method: 'GET', path: '/v1/users' });
    await expect(failure).rejects.toBeInstanceOf(TransientError);
    await expect(failure).rejects.toMatchObject({ status: 503, message: 'The provider answered HTTP 503', transient: true });
    expect(received).toHaveLength(3);
    expect(await usageTotals()).toEqual({ requests: 3, throttled: 0 });
  });
});
