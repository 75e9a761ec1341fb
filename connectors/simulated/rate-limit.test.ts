import { afterEach, describe, expect, it } from 'vitest';
import { TokenBucket } from './rate-limiter.js';
import { call, ManualClock, simulator, smallTenant } from './test-support.js';

const stops: (() => Promise<void>)[] = [];
const track = (stop: () => Promise<void>) => stops.push(stop);
afterEach(async () => {
  await Promise.all(stops.splice(0).map((stop) => stop()));
});

const TOKEN = 'acme-test-token';

describe('TokenBucket', () => {
  it('lets a burst of burstSeconds through, then refills continuously', () => {
    const bucket = new TokenBucket(60, 5, 0);
    for (let i = 0; i < 5; i++) expect(bucket.take(0).allowed).toBe(true);
    const refused = bucket.take(0);
    expect(refused).toMatchObject({ allowed: false, limit: 60, remaining: 0, retryAfterSeconds: 1, resetAt: 5 });
    expect(bucket.take(999).allowed).toBe(false);
    expect(bucket.take(1000).allowed).toBe(true);
    expect(bucket.take(60_000).remaining).toBe(4); // full (5) again, one taken
  });

  it('applies a new limit at once, keeping at most the new capacity', () => {
    const bucket = new TokenBucket(600, 5, 0);
    bucket.setLimit(60, 2, 0);
    expect(bucket.take(0)).toMatchObject({ allowed: true, remaining: 1, limit: 60 });
    expect(bucket.take(0).allowed).toBe(true);
    expect(bucket.take(0)).toMatchObject({ allowed: false, retryAfterSeconds: 1 });
  });
});

describe('the API rate limit', () => {
  it('answers 429 with Retry-After over the limit, rate headers on every answer, and follows run-time changes', async () => {
    const clock = new ManualClock();
    const sim = await simulator(track, { clock: clock.now, tenants: [smallTenant({ rateLimitPerMinute: 60, burstSeconds: 5 })] });
    const statuses: number[] = [];
    for (let i = 0; i < 5; i++) {
      const answer = await call(sim.url, '/api/v1/me', TOKEN);
      statuses.push(answer.status);
      expect(answer.headers.get('x-ratelimit-limit')).toBe('60');
      expect(answer.headers.get('x-ratelimit-remaining')).toBe(String(4 - i));
      expect(Number(answer.headers.get('x-ratelimit-reset'))).toBeGreaterThan(clock.now() / 1000);
    }
    expect(statuses).toEqual([200, 200, 200, 200, 200]);
    const throttled = await call<{ error: string; message: string }>(sim.url, '/api/v1/users', TOKEN);
    expect(throttled.status).toBe(429);
    expect(throttled.headers.get('retry-after')).toBe('1');
    expect(throttled.headers.get('x-ratelimit-remaining')).toBe('0');
    expect(throttled.body.error).toBe('rate_limited');
    expect(throttled.body.message).toMatch(/retry after 1 s/);

    clock.advance(1000);
    expect((await call(sim.url, '/api/v1/users', TOKEN)).status).toBe(200);
    expect((await call(sim.url, '/api/v1/users', TOKEN)).status).toBe(429);

    // Raised through the admin API: the refill is 100 per second from now on.
    await call(sim.url, '/admin/tenants/acme', null, { method: 'PATCH', body: { rateLimitPerMinute: 6000 } });
    clock.advance(100);
    const raised = await call(sim.url, '/api/v1/users', TOKEN);
    expect(raised.status).toBe(200);
    expect(raised.headers.get('x-ratelimit-limit')).toBe('6000');
    expect(raised.headers.get('x-ratelimit-remaining')).toBe('9');

    // Lowered in process: a 2-per-minute bucket holds at most one request (5 s of burst is 0.17, floored to 1).
    sim.tenant('acme').setRateLimit(2);
    expect((await call(sim.url, '/api/v1/me', TOKEN)).status).toBe(200);
    const lowered = await call(sim.url, '/api/v1/me', TOKEN);
    expect(lowered.status).toBe(429);
    expect(lowered.headers.get('x-ratelimit-limit')).toBe('2');
    expect(lowered.headers.get('retry-after')).toBe('30');

    const stats = sim.tenant('acme').stats();
    expect(stats.throttled).toBe(3);
    expect(stats.routes['GET /api/v1/users']!.statuses).toEqual({ '200': 2, '429': 2 });
  });

  it('leaves the admin API and unauthenticated calls out of the budget', async () => {
    const clock = new ManualClock();
    const sim = await simulator(track, { clock: clock.now, tenants: [smallTenant({ rateLimitPerMinute: 60, burstSeconds: 1 })] });
    for (let i = 0; i < 5; i++) expect((await call(sim.url, '/admin/tenants/acme/stats', null)).status).toBe(200);
    expect((await call(sim.url, '/api/v1/me', 'wrong-token')).status).toBe(401);
    expect((await call(sim.url, '/api/v1/me', TOKEN)).status).toBe(200);
    expect((await call(sim.url, '/api/v1/me', TOKEN)).status).toBe(429);
  });
});
