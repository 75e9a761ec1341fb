import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { startSimulator, type Simulator, type SimulatorOptions } from './server.js';
import type { TenantSpec } from './spec.js';

/**
 * Helpers for the simulator's own tests (no test-framework imports, so the build can carry it):
 * a manual clock, a condition poller with a deadline, a small tenant, HTTP shorthands and a webhook
 * receiver. Nothing here sleeps to synchronise.
 */

/** A clock that moves only when told. */
export class ManualClock {
  constructor(private t = Date.parse('2026-03-02T12:00:00.000Z')) {}
  readonly now = (): number => this.t;
  advance(ms: number): void {
    this.t += ms;
  }
}

type Truthy<T> = Exclude<T, false | null | undefined | 0 | ''>;

/** Polls `check` until it answers something truthy; throws after `timeoutMs` naming `what`. */
export async function waitFor<T>(what: string, check: () => T | Promise<T>, timeoutMs = 5000): Promise<Truthy<T>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value as Truthy<T>;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** A small, quiet tenant: no live activity, no lag, a limit tests never reach. */
export function smallTenant(overrides: Partial<TenantSpec> = {}): TenantSpec {
  return {
    id: 'acme',
    token: 'acme-test-token',
    seed: 7,
    users: 30,
    groups: 5,
    files: 40,
    grants: 25,
    activityPerMinute: 0,
    backfillDays: 2,
    auditLagMs: 0,
    rateLimitPerMinute: 1_000_000,
    ...overrides,
  };
}

/** Starts a simulator and registers it with `track` (the test's cleanup list). */
export async function simulator(track: (stop: () => Promise<void>) => void, options: Partial<SimulatorOptions> = {}): Promise<Simulator> {
  const sim = await startSimulator({ tenants: [smallTenant()], ...options });
  track(() => sim.stop());
  return sim;
}

export interface Answer<T = unknown> {
  readonly status: number;
  readonly headers: Headers;
  readonly body: T;
}

/** Calls the simulator: `token` (null: none) as Bearer, JSON in and out. */
export async function call<T = unknown>(
  base: string,
  path: string,
  token: string | null,
  init: { method?: string; body?: unknown } = {},
): Promise<Answer<T>> {
  const response = await fetch(`${base}${path}`, {
    method: init.method ?? 'GET',
    headers: {
      ...(token ? { authorization: `Bearer ${token}` } : {}),
      ...(init.body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    body: init.body === undefined ? undefined : JSON.stringify(init.body),
  });
  const text = await response.text();
  const body = (response.headers.get('content-type') ?? '').includes('json') ? (JSON.parse(text) as T) : (text as T);
  return { status: response.status, headers: response.headers, body };
}

/** Follows `nextPageToken` through a list and answers every item. */
export async function readAll<T>(base: string, path: string, token: string, limit: number): Promise<T[]> {
  const items: T[] = [];
  let pageToken: string | null = null;
  do {
    const sep = path.includes('?') ? '&' : '?';
    const tokenPart: string = pageToken ? `&pageToken=${encodeURIComponent(pageToken)}` : '';
    const answer: Answer<{ items: T[]; nextPageToken: string | null }> = await call(base, `${path}${sep}limit=${limit}${tokenPart}`, token);
    if (answer.status !== 200) throw new Error(`${path}: ${answer.status} ${JSON.stringify(answer.body)}`);
    items.push(...answer.body.items);
    pageToken = answer.body.nextPageToken;
  } while (pageToken);
  return items;
}

export interface Received {
  readonly headers: Headers;
  readonly rawBody: Buffer;
}

/** An HTTP server collecting webhook deliveries. */
export interface Receiver {
  readonly url: string;
  readonly deliveries: Received[];
  /** Validation tokens received (with `echo`, answered as a subscriber must). */
  readonly handshakes: string[];
  close(): Promise<void>;
}

/**
 * A receiver answering 204 to every delivery. With `echo`, a request with `?validationToken=` is a
 * subscription's handshake: answered 200 with the token as text/plain, and not counted as a delivery.
 */
export async function webhookReceiver(options: { readonly echo?: boolean } = {}): Promise<Receiver> {
  const deliveries: Received[] = [];
  const handshakes: string[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const token = new URL(req.url ?? '/', 'http://receiver').searchParams.get('validationToken');
      if (token !== null) {
        handshakes.push(token);
        if (options.echo) {
          res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8' }).end(token);
          return;
        }
      }
      const headers = new Headers();
      for (const [key, value] of Object.entries(req.headers)) if (typeof value === 'string') headers.set(key, value);
      deliveries.push({ headers, rawBody: Buffer.concat(chunks) });
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks`,
    deliveries,
    handshakes,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
