import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase } from '../platform/database.js';
import { freshDatabase } from '../test/harness.js';
import { schedulerModule } from './module.js';
import { WebhookRateLimit } from './webhook-rate.js';

/** The webhook rate limit on a real PostgreSQL. Two pools on one database stand for two scheduler processes. */

let drop: () => Promise<void>;
let first: pg.Pool;
let second: pg.Pool;

beforeAll(async () => {
  const database = await freshDatabase();
  drop = database.drop;
  // Applies the scheduler's migrations (the limiter's table is one), as a scheduler's start does.
  await (await openDatabase({ ...schedulerModule, url: database.url, poolMax: 1 })).close();
  first = new pg.Pool({ connectionString: database.url, max: 2 });
  second = new pg.Pool({ connectionString: database.url, max: 2 });
});

afterAll(async () => {
  await first?.end();
  await second?.end();
  await drop?.();
});

describe('WebhookRateLimit', () => {
  it('allows the per-minute number of deliveries per instance across schedulers, then answers how long to wait', async () => {
    const [a, b] = [new WebhookRateLimit(first, 5), new WebhookRateLimit(second, 5)];
    const instanceId = randomUUID();
    const decisions = [];
    for (let i = 0; i < 5; i++) decisions.push(await (i % 2 ? a : b).take(instanceId));
    expect(decisions.every((d) => d.allowed)).toBe(true);
    for (const limit of [a, b]) {
      const refused = await limit.take(instanceId);
      expect(refused.allowed).toBe(false);
      if (!refused.allowed) {
        expect(refused.retryAfterSeconds).toBeGreaterThanOrEqual(1);
        expect(refused.retryAfterSeconds).toBeLessThanOrEqual(60);
      }
    }
    // Another instance has its own allowance.
    expect((await a.take(randomUUID())).allowed).toBe(true);
    const { rows } = await first.query<{ points: number }>('select points from scheduler.webhook_rate where key = $1', [
      `webhook:${instanceId}`,
    ]);
    expect(rows[0]!.points).toBeGreaterThan(5);
  });
});
