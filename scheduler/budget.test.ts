import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ThrottledError, type Priority } from '../connectors/contract.js';
import { openDatabase, type Database } from '../platform/database.js';
import { freshDatabase } from '../test/harness.js';
import { RateBudget } from './budget.js';
import { schedulerModule } from './module.js';

/**
 * The shared rate budget on a real PostgreSQL. Two opened databases (two pools) stand for two
 * scheduler processes. Rates are measured as tokens granted over the time they took.
 */

const delay = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** A RateBudget whose waits are real but recorded, so a test can tell how long it was told to wait. */
function recordingBudget(database: Database, onWait: (ms: number) => void = () => undefined): { budget: RateBudget; waits: number[] } {
  const waits: number[] = [];
  const budget = new RateBudget(database.knex(), async (ms) => {
    waits.push(ms);
    onWait(ms);
    await delay(ms);
  });
  return { budget, waits };
}

/** Resolves as `promise` does, or rejects naming `what` after `timeoutMs`. */
async function within<T>(what: string, promise: Promise<T>, timeoutMs = 10_000): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)), timeoutMs);
  });
  try {
    return await Promise.race([promise, deadline]);
  } finally {
    clearTimeout(timer);
  }
}

/** Milliseconds `work` took to resolve. */
async function timed(work: Promise<unknown>): Promise<number> {
  const start = performance.now();
  await work;
  return performance.now() - start;
}

describe('RateBudget', () => {
  let drop: () => Promise<void>;
  /** Two scheduler processes: each its own pool on the same database. */
  let first: Database;
  let second: Database;

  beforeAll(async () => {
    const database = await freshDatabase();
    drop = database.drop;
    first = await openDatabase({ ...schedulerModule, url: database.url, poolMax: 4 });
    second = await openDatabase({ ...schedulerModule, url: database.url, poolMax: 4 });
  });

  afterAll(async () => {
    await first?.close();
    await second?.close();
    await drop?.();
  });

  const bucketOf = async (instanceId: string) => {
    const { rows } = (await first
      .knex()
      .raw('select rate_per_ms, capacity, tokens, blocked_until from scheduler.rate_budget where instance_id = ?', [instanceId])) as {
      rows: { rate_per_ms: number; capacity: number; tokens: number; blocked_until: string | Date | null }[];
    };
    return rows;
  };

  it('configures a bucket from the limit less the headroom, grants its burst at once, then waits for a refill', async () => {
    const instanceId = randomUUID();
    const { budget, waits } = recordingBudget(first);
    await budget.configure(instanceId, { requestsPerMinute: 600, headroomPercent: 10 });
    const [bucket] = await bucketOf(instanceId);
    expect(bucket?.rate_per_ms).toBeCloseTo(540 / 60_000, 10); // 600/min less 10 %
    expect(bucket?.capacity).toBeCloseTo(9, 10); // one second of the allowed rate
    expect(bucket?.tokens).toBeCloseTo(9, 10);

    for (let i = 0; i < 9; i++) await budget.acquire(instanceId, 'governance');
    expect(waits).toEqual([]);
    await budget.acquire(instanceId, 'governance');
    // The tenth token needs a refill: about 1/9 s at 9 tokens a second, never more.
    expect(waits.length).toBeGreaterThan(0);
    expect(waits[0]!).toBeGreaterThan(0);
    expect(waits[0]!).toBeLessThanOrEqual(Math.ceil(1000 / 9));

    // A lower limit shrinks the bucket, and what it holds with it.
    await budget.configure(instanceId, { requestsPerMinute: 240, headroomPercent: 0 });
    const [smaller] = await bucketOf(instanceId);
    expect(smaller?.capacity).toBeCloseTo(4, 10);
    expect(smaller?.tokens).toBeLessThanOrEqual(4);

    await expect(budget.acquire(randomUUID(), 'governance')).rejects.toThrow(/No rate budget configured for instance/);
  });

  it('lines up a process’s waiters for one bucket: only the first asks the database, so waits do not grow with the waiters', async () => {
    const instanceId = randomUUID();
    const { budget, waits } = recordingBudget(first);
    await budget.configure(instanceId, { requestsPerMinute: 1200, headroomPercent: 0 }); // 20/s, a burst of 20
    for (let i = 0; i < 20; i++) await budget.acquire(instanceId, 'governance');
    // 20 waiters at once for 10 refilled tokens: each token is waited for about once, not once per waiter.
    const order: number[] = [];
    await within(
      'ten waiters',
      Promise.all(Array.from({ length: 10 }, (_, n) => budget.acquire(instanceId, 'governance').then(() => order.push(n)))),
    );
    expect(order).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(waits.length).toBeLessThanOrEqual(30); // each waiter polling would make ~55
    // A waiter that fails (no bucket) does not hold up the line behind it.
    const missing = randomUUID();
    await expect(budget.acquire(missing, 'governance')).rejects.toThrow(/No rate budget/);
    await budget.configure(missing, { requestsPerMinute: 600, headroomPercent: 0 });
    await within('the next waiter', budget.acquire(missing, 'governance'));
  });

  it('grants every priority on a slow limit (a bucket under 2 tokens would starve backfill and periodic work)', async () => {
    const instanceId = randomUUID();
    const { budget } = recordingBudget(first);
    await budget.configure(instanceId, { requestsPerMinute: 60, headroomPercent: 10 }); // 0.9 requests a second
    await within('a backfill token on a slow limit', budget.acquire(instanceId, 'backfill'), 5_000);
    const other = randomUUID();
    await budget.configure(other, { requestsPerMinute: 60, headroomPercent: 10 });
    await within('a periodic token on a slow limit', budget.acquire(other, 'periodic'), 5_000);
  });

  it('holds the achieved rate just under limit × (1 − headroom), at the highest and the lowest priority', async () => {
    const limit = 6000; // requests per minute
    const headroomPercent = 10;
    const allowedPerSecond = (limit * (1 - headroomPercent / 100)) / 60; // 90
    const measure = async (priority: Priority) => {
      const instanceId = randomUUID();
      const { budget, waits } = recordingBudget(first);
      await budget.configure(instanceId, { requestsPerMinute: limit, headroomPercent, burstSeconds: 0.1 });
      // Spend the burst first, up to a grant that had to wait: the rate is measured from a bucket at its floor.
      while (waits.length === 0) await budget.acquire(instanceId, priority);
      const start = performance.now();
      let granted = 0;
      let elapsed = 0;
      while (elapsed < 1200) {
        await budget.acquire(instanceId, priority);
        granted += 1;
        elapsed = performance.now() - start;
      }
      return { granted, expected: (allowedPerSecond * elapsed) / 1000 };
    };
    const results = await Promise.all([measure('governance'), measure('backfill')]);
    for (const { granted, expected } of results) {
      expect(granted).toBeLessThanOrEqual(expected + 1); // never above the allowed rate (+ the token in the bucket at the start)
      expect(granted).toBeGreaterThanOrEqual(expected * 0.95); // and within a few % of it
    }
  });

  it('is one bucket for two scheduler processes: their combined rate respects the limit', async () => {
    const instanceId = randomUUID();
    const allowedPerSecond = (3000 * 0.9) / 60; // 45
    const capacity = allowedPerSecond * 0.2; // 9
    const processes = [new RateBudget(first.knex()), new RateBudget(second.knex())];
    await processes[0]!.configure(instanceId, { requestsPerMinute: 3000, headroomPercent: 10, burstSeconds: 0.2 });
    const start = performance.now();
    const counts = await Promise.all(
      processes.map(async (budget) => {
        let granted = 0;
        while (performance.now() - start < 1200) {
          await budget.acquire(instanceId, 'periodic');
          granted += 1;
        }
        return granted;
      }),
    );
    const elapsed = performance.now() - start;
    const total = counts[0]! + counts[1]!;
    // One bucket: the burst plus the refill over the whole run, however many processes spend it.
    expect(total).toBeLessThanOrEqual(capacity + (allowedPerSecond * elapsed) / 1000 + 1);
    expect(total).toBeGreaterThanOrEqual(((allowedPerSecond * elapsed) / 1000) * 0.9);
    for (const count of counts) expect(count).toBeGreaterThan(total * 0.2);
    expect(await bucketOf(instanceId)).toHaveLength(1);
  });

  it('grants governance and change-triggered work promptly while a backfill consumer keeps the bucket low', async () => {
    const instanceId = randomUUID();
    let throttled!: () => void;
    const consumerThrottled = new Promise<void>((resolve) => (throttled = resolve));
    const { budget: backfill } = recordingBudget(first, () => throttled());
    await backfill.configure(instanceId, { requestsPerMinute: 600, headroomPercent: 0 }); // 10 a second, bucket of 10
    let stop = false;
    let consumed = 0;
    const consumer = (async () => {
      while (!stop) {
        await backfill.acquire(instanceId, 'backfill');
        consumed += 1;
      }
    })();
    try {
      await within('the backfill consumer to reach its reserve', consumerThrottled);
      const [bucket] = await bucketOf(instanceId);
      expect(bucket!.tokens).toBeLessThan(0.5 * 10 + 1); // held at the backfill reserve
      expect(consumed).toBeGreaterThanOrEqual(4);

      const other = new RateBudget(second.knex());
      const order: Priority[] = [];
      const ask = (priority: Priority) => timed(other.acquire(instanceId, priority).then(() => void order.push(priority)));
      const [governance, change, anotherBackfill] = await Promise.all([ask('governance'), ask('change'), ask('backfill')]);
      expect(order[2]).toBe('backfill');
      // Governance and change find the reserve; backfill waits for a refill above it.
      expect(governance * 3).toBeLessThan(anotherBackfill);
      expect(change * 3).toBeLessThan(anotherBackfill);
    } finally {
      stop = true;
      await consumer;
    }
  });

  it('blocks every acquirer, of every process and priority, until Retry-After has passed', async () => {
    const throttledId = randomUUID();
    const fallbackId = randomUUID();
    const one = recordingBudget(first);
    const two = recordingBudget(second);
    await one.budget.configure(throttledId, { requestsPerMinute: 6000, headroomPercent: 10 });
    await one.budget.configure(fallbackId, { requestsPerMinute: 6000, headroomPercent: 10 });

    const observedAt = Date.now();
    await one.budget.observe(throttledId, { throttled: true, retryAfterMs: 700 });
    await one.budget.observe(fallbackId, { throttled: true }, 300); // no Retry-After: the fallback
    const [bucket] = await bucketOf(throttledId);
    expect(bucket!.tokens).toBeLessThanOrEqual(0); // emptied
    expect(new Date(bucket!.blocked_until!).getTime()).toBeGreaterThanOrEqual(observedAt + 700);

    const grantedAt = (budget: RateBudget, instanceId: string, priority: Priority) =>
      budget.acquire(instanceId, priority).then(() => Date.now());
    const granted = await Promise.all([
      grantedAt(one.budget, throttledId, 'governance'),
      grantedAt(two.budget, throttledId, 'governance'),
      grantedAt(two.budget, throttledId, 'backfill'),
    ]);
    for (const at of granted) expect(at).toBeGreaterThanOrEqual(observedAt + 700);
    expect(await grantedAt(one.budget, fallbackId, 'governance')).toBeGreaterThanOrEqual(observedAt + 300);
    // Every acquirer slept through the block rather than polling it.
    expect(Math.max(...two.waits)).toBeGreaterThan(500);
  });

  it('keeps one bucket per provider service: a Retry-After on one service blocks it alone, at its own rate', async () => {
    const instanceId = randomUUID();
    const setup = recordingBudget(first);
    await setup.budget.configure(instanceId, { requestsPerMinute: 6000, headroomPercent: 10 });
    await setup.budget.configure(instanceId, { requestsPerMinute: 6000, headroomPercent: 10 }, 'files');
    await setup.budget.configure(instanceId, { requestsPerMinute: 60, headroomPercent: 10 }, 'audit');
    await setup.budget.observe(instanceId, { throttled: true, retryAfterMs: 800 }, undefined, 'files');
    // The other services and the default bucket are granted without a wait while files is blocked...
    const others = recordingBudget(first);
    await others.budget.acquire(instanceId, 'periodic');
    await others.budget.acquire(instanceId, 'periodic', 'audit');
    expect(others.waits).toEqual([]);
    // ...and files waits out its Retry-After.
    const files = recordingBudget(first);
    await within('the files budget after its Retry-After', files.budget.acquire(instanceId, 'governance', 'files'));
    expect(files.waits.reduce((sum, ms) => sum + ms, 0)).toBeGreaterThan(500);
    const rows = await first
      .knex()
      .raw<{ rows: { service: string; rate_per_ms: number }[] }>(
        'select service, rate_per_ms from scheduler.rate_budget where instance_id = ? order by service',
        [instanceId],
      );
    expect(rows.rows.map((r) => r.service)).toEqual(['', 'audit', 'files']);
    expect(rows.rows[1]!.rate_per_ms).toBeCloseTo((60 * 0.9) / 60_000, 10);
    await expect(setup.budget.acquire(randomUUID(), 'periodic', 'audit')).rejects.toThrow(
      /No rate budget configured for instance .* and service audit/,
    );
  });

  it('blocks until the provider window resets when it reports no request left, and not otherwise', async () => {
    const exhausted = randomUUID();
    const left = randomUUID();
    const { budget, waits } = recordingBudget(first);
    await budget.configure(exhausted, { requestsPerMinute: 6000, headroomPercent: 10 });
    await budget.configure(left, { requestsPerMinute: 6000, headroomPercent: 10 });

    await budget.observe(left, { throttled: false, remaining: 3, limit: 100, resetAt: Date.now() + 60_000 });
    await budget.observe(left, { throttled: false });
    await budget.acquire(left, 'backfill');
    expect(waits).toEqual([]);

    const resetAt = Date.now() + 600;
    await budget.observe(exhausted, { throttled: false, remaining: 0, limit: 100, resetAt });
    const [grantedGovernance, grantedBackfill] = await Promise.all(
      (['governance', 'backfill'] as const).map((priority) => budget.acquire(exhausted, priority).then(() => Date.now())),
    );
    expect(grantedGovernance).toBeGreaterThanOrEqual(resetAt);
    expect(grantedBackfill).toBeGreaterThanOrEqual(resetAt);
  });

  it('keeps a daily quota across processes: half the allowance at once, then a day’s refill; a spent quota is a ThrottledError saying when', async () => {
    const instance = randomUUID();
    const one = recordingBudget(first);
    const two = recordingBudget(second);
    // 40 a day less 25 % headroom: 30 in any 24 hours, 15 of them at once.
    for (const { budget } of [one, two])
      await budget.configure(instance, { requestsPerMinute: 600_000, headroomPercent: 25, requestsPerDay: 40 });
    const take = async (budget: RateBudget, priority: Priority): Promise<true | ThrottledError> =>
      budget.acquire(instance, priority).then(
        () => true as const,
        (error: unknown) => {
          if (error instanceof ThrottledError) return error;
          throw error;
        },
      );
    // Backfill leaves half the day's bucket to more urgent work: 7 of 15 (a token taken must leave 7.5).
    let backfill = 0;
    for (;;) {
      const granted = await take(backfill % 2 ? one.budget : two.budget, 'backfill');
      if (granted !== true) {
        expect(granted.message).toMatch(/daily request quota is spent .* requests resume in about \d+ min/);
        // Half a token short of the reserve (8 left, 7.5 kept): a day's refill of 15 brings it back in 48 minutes.
        expect(granted.retryAfterMs).toBeGreaterThan(47 * 60_000);
        expect(granted.retryAfterMs).toBeLessThanOrEqual(48 * 60_000);
        break;
      }
      backfill++;
    }
    expect(backfill).toBe(7);
    let governance = 0;
    while ((await take(governance % 2 ? one.budget : two.budget, 'governance')) === true) governance++;
    expect(backfill + governance).toBe(15);
    expect([...one.waits, ...two.waits]).toEqual([]);
    // Without a daily quota nothing changes: the row's day columns stay empty.
    const plain = randomUUID();
    await one.budget.configure(plain, { requestsPerMinute: 600_000, headroomPercent: 25 });
    const { rows } = (await first
      .knex()
      .raw('select day_capacity, day_tokens from scheduler.rate_budget where instance_id = ?', [plain])) as {
      rows: { day_capacity: number | null; day_tokens: number | null }[];
    };
    expect(rows).toEqual([{ day_capacity: null, day_tokens: null }]);
  });

  it('follows the daily quota the provider reports: sized by its limit, never spending the headroom others left, paused when it refuses', async () => {
    const instance = randomUUID();
    const one = recordingBudget(first);
    const two = recordingBudget(second);
    const take = async (budget: RateBudget, priority: Priority): Promise<true | ThrottledError> =>
      budget.acquire(instance, priority).then(
        () => true as const,
        (error: unknown) => {
          if (error instanceof ThrottledError) return error;
          throw error;
        },
      );
    const row = async () =>
      (
        (await first
          .knex()
          .raw('select day_capacity, day_tokens, day_limit_reported from scheduler.rate_budget where instance_id = ?', [instance])) as {
          rows: { day_capacity: number; day_tokens: number; day_limit_reported: number | null }[];
        }
      ).rows[0]!;
    // The documented default (100,000 a day, 10 % headroom) until the org says otherwise.
    await one.budget.configure(instance, { requestsPerMinute: 600_000, headroomPercent: 10, requestsPerDay: 100_000 });
    expect((await row()).day_capacity).toBe(45_000);
    // The org's limit is 1,000 a day, and other integrations used 880: Tenantwatch may spend 900 - 880 = 20.
    await one.budget.observe(instance, { throttled: false, daily: { used: 880, limit: 1000 } });
    expect(await row()).toMatchObject({ day_capacity: 450, day_limit_reported: 1000 });
    expect((await row()).day_tokens).toBeCloseTo(20, 1);
    // Another process configuring with the documented default keeps the reported limit.
    await two.budget.configure(instance, { requestsPerMinute: 600_000, headroomPercent: 10, requestsPerDay: 100_000 });
    expect((await row()).day_capacity).toBe(450);
    let governance = 0;
    while ((await take(governance % 2 ? one.budget : two.budget, 'governance')) === true) governance++;
    expect(governance).toBe(20);
    // REQUEST_LIMIT_EXCEEDED from the provider: nothing more until the quota refills, whatever the bucket held.
    const other = randomUUID();
    await one.budget.configure(other, { requestsPerMinute: 600_000, headroomPercent: 10, requestsPerDay: 100_000 });
    await one.budget.observe(other, { throttled: true, retryAfterMs: 1000, daily: { used: 1000, limit: 1000 } });
    const refused = await one.budget.acquire(other, 'governance').then(
      () => true as const,
      (error: unknown) => error,
    );
    expect(refused).toBeInstanceOf(ThrottledError);
    expect((refused as ThrottledError).message).toMatch(/daily request quota is spent/);
    // 100 short (the headroom the org spent too): 100 of a day's refill of 450, about 5.3 hours.
    expect((refused as ThrottledError).retryAfterMs).toBeGreaterThan(5 * 3_600_000);
    expect([...one.waits, ...two.waits]).toEqual([]);
  });

  it('grows the day’s bucket when the provider reports a larger daily limit than configured, keeping what was spent', async () => {
    const instance = randomUUID();
    const { budget, waits } = recordingBudget(first);
    const row = async () =>
      (
        (await first.knex().raw('select day_capacity, day_tokens from scheduler.rate_budget where instance_id = ?', [instance])) as {
          rows: { day_capacity: number; day_tokens: number }[];
        }
      ).rows[0]!;
    // Configured for 15,000 a day (a bucket of 6,750); 10 requests spent before the first answer says the org allows 200,000.
    await budget.configure(instance, { requestsPerMinute: 600_000, headroomPercent: 10, requestsPerDay: 15_000 });
    for (let k = 0; k < 10; k++) await budget.acquire(instance, 'governance');
    await budget.observe(instance, { throttled: false, daily: { used: 10, limit: 200_000 } });
    const grown = await row();
    expect(grown.day_capacity).toBe(90_000);
    expect(grown.day_tokens).toBeCloseTo(90_000 - 10, 0);
    // Backfill (which keeps half the bucket in reserve) goes on at once instead of waiting hours.
    await budget.acquire(instance, 'backfill');
    expect(waits).toEqual([]);
  });

  it('spreads what is left of a provider window until it resets, then returns to its own rate', async () => {
    const instance = randomUUID();
    const { budget, waits } = recordingBudget(first);
    // 6,000 a minute less 10 %: 90 a second, a burst of 90.
    await budget.configure(instance, { requestsPerMinute: 6000, headroomPercent: 10 });
    const resetAt = Date.now() + 1_000;
    await budget.observe(instance, { throttled: false, window: true, remaining: 4, limit: 1000, resetAt });
    // At most the 4 left at once, then about 4 a second (4 over the second to the reset).
    for (let k = 0; k < 4; k++) await budget.acquire(instance, 'governance');
    expect(waits).toEqual([]);
    await budget.acquire(instance, 'governance');
    expect(waits.length).toBeGreaterThan(0);
    expect(Math.max(...waits)).toBeGreaterThan(150);
    // Paced requests until the window resets (the budget's own waits), then the configured rate again:
    // a wait of at most one token at 90 a second.
    for (let k = 0; Date.now() <= resetAt && k < 20; k++) await budget.acquire(instance, 'governance');
    expect(Date.now()).toBeGreaterThan(resetAt);
    waits.length = 0;
    await budget.acquire(instance, 'governance');
    await budget.acquire(instance, 'governance');
    expect(waits.every((ms) => ms <= 20)).toBe(true);
    // A signal that is no window (a refilling bucket's count) paces nothing.
    const bucket = randomUUID();
    await budget.configure(bucket, { requestsPerMinute: 6000, headroomPercent: 10 });
    await budget.observe(bucket, { throttled: false, remaining: 4, limit: 1000, resetAt: Date.now() + 2_000 });
    const before = waits.length;
    for (let k = 0; k < 20; k++) await budget.acquire(bucket, 'governance');
    expect(waits.length).toBe(before);
  });
});
