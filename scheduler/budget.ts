import type { Knex } from '@mikro-orm/postgresql';
import { ThrottledError, type Priority, type ThrottleSignal } from '../connectors/contract.js';

/**
 * Share of the bucket that must stay after a request of each priority takes its token: lower
 * priorities wait while the bucket is low, so that governance and change-triggered work always
 * find tokens. Throughput is not lost: the lowest priority still spends the whole refill rate.
 */
export const PRIORITY_RESERVE: Readonly<Record<Priority, number>> = {
  governance: 0,
  change: 0.1,
  periodic: 0.3,
  backfill: 0.5,
};

/** The smallest bucket whose full state grants every priority (tokens - 1 >= reserve × capacity): 2. */
const MIN_CAPACITY = 1 / (1 - Math.max(...Object.values(PRIORITY_RESERVE)));

/** How a provider's limit becomes a bucket. */
export interface BudgetLimits {
  readonly requestsPerMinute: number;
  /** Share of the provider's limit left unused (default 10). */
  readonly headroomPercent: number;
  /** Seconds of the allowed rate the bucket may hold (default 1). */
  readonly burstSeconds?: number;
  /** The provider's daily quota (Salesforce's API requests per rolling 24 hours), less the same headroom. */
  readonly requestsPerDay?: number;
}

const DAY_MS = 86_400_000;

/**
 * Waits longer than this (a daily quota spent: hours) are not slept through by the job that asked:
 * it fails with a ThrottledError saying when requests resume, and is retried later with its cursor.
 */
export const MAX_QUOTA_WAIT_MS = 60_000;

const TABLE = 'scheduler.rate_budget';

/** What a budget tells its observer (the scheduler's metrics). */
export interface BudgetEvents {
  /** A request of `priority` had to wait for the bucket (once per request, however long it waited). */
  waited(instanceId: string, priority: Priority): void;
  /** The provider's word paused the instance's bucket (`service`; '' the default one) for `ms`. */
  paused(instanceId: string, service: string, ms: number): void;
}

/** One bucket's level now, as {@link RateBudget.levels} reads it. */
export interface BudgetLevel {
  readonly instanceId: string;
  /** '' for the instance's own bucket, else the provider service's. */
  readonly service: string;
  /** Tokens left over the bucket's capacity (0 to 1; below 0 while a throttled answer's pause drains it). */
  readonly level: number;
  /** The same for the daily quota; null without one. */
  readonly dayLevel: number | null;
  /** How long the bucket stays blocked by Retry-After or a spent provider window (0: not blocked). */
  readonly blockedSeconds: number;
}

/** How often one process writes the daily quota a provider reports on every answer. */
const DAILY_OBSERVE_MS = 5_000;

/**
 * One token bucket per instance (and per provider service, where the provider throttles its APIs
 * separately) in PostgreSQL, so that every job of every scheduler process spends the same budget.
 * Each take is one atomic statement. Retry-After and exhausted provider windows block the bucket
 * (the instance, or that one service of it) until they pass.
 */
export class RateBudget {
  constructor(
    private readonly knex: Knex,
    private readonly wait: (ms: number) => Promise<void> = (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
    private readonly events?: BudgetEvents,
  ) {}

  /** What this process last wrote per instance: every connector configures, but the row changes only when the limits do. */
  private readonly configured = new Map<string, string>();
  /** Share of the provider's limits Tenantwatch may spend (1 - headroom), per instance and service, as configured. */
  private readonly shares = new Map<string, number>();
  /** When this process last wrote a reported daily quota, per instance and service. */
  private readonly dailyWritten = new Map<string, number>();

  /** Sets (or changes) an instance's bucket (of one `service`; '' is the default one) from the provider's limit and the headroom. */
  async configure(instanceId: string, limits: BudgetLimits, service = ''): Promise<void> {
    const share = 1 - limits.headroomPercent / 100;
    const ratePerMs = (limits.requestsPerMinute * share) / 60_000;
    // At least MIN_CAPACITY: below it a slow limit (under ~2 requests/s) never lets backfill or periodic work through.
    const capacity = Math.max(MIN_CAPACITY, ratePerMs * 1000 * (limits.burstSeconds ?? 1));
    // A rolling 24-hour quota: a bucket holding half the allowance and refilling the other half over a day
    // never grants more than the allowance in any 24 hours (a full bucket, then a day's refill).
    const allowance = limits.requestsPerDay === undefined ? null : limits.requestsPerDay * share;
    const dayCapacity = allowance === null ? null : Math.max(MIN_CAPACITY, allowance / 2);
    const dayRatePerMs = allowance === null ? null : allowance / 2 / DAY_MS;
    const key = `${ratePerMs}:${capacity}:${dayCapacity}`;
    this.shares.set(`${instanceId}/${service}`, share);
    if (this.configured.get(`${instanceId}/${service}`) === key) return;
    // A daily limit the provider reported wins over the documented default the connector knows.
    await this.knex.raw(
      `insert into ${TABLE} (instance_id, service, rate_per_ms, capacity, tokens, day_rate_per_ms, day_capacity, day_tokens, updated_at)
       values (?, ?, ?, ?, ?, ?, ?, ?, clock_timestamp())
       on conflict (instance_id, service) do update set rate_per_ms = excluded.rate_per_ms, capacity = excluded.capacity,
         tokens = least(${TABLE}.tokens, excluded.capacity),
         day_rate_per_ms = case when excluded.day_capacity is null then null
                                when ${TABLE}.day_limit_reported is not null then ${TABLE}.day_limit_reported * ? / 2 / ${DAY_MS}
                                else excluded.day_rate_per_ms end,
         day_capacity = case when excluded.day_capacity is null then null
                             when ${TABLE}.day_limit_reported is not null then greatest(${MIN_CAPACITY}, ${TABLE}.day_limit_reported * ? / 2)
                             else excluded.day_capacity end,
         day_tokens = case when excluded.day_capacity is null then null
                           when ${TABLE}.day_limit_reported is not null
                             then least(coalesce(${TABLE}.day_tokens, excluded.day_capacity), greatest(${MIN_CAPACITY}, ${TABLE}.day_limit_reported * ? / 2))
                           else least(coalesce(${TABLE}.day_tokens, excluded.day_capacity), excluded.day_capacity) end`,
      [instanceId, service, ratePerMs, capacity, capacity, dayRatePerMs, dayCapacity, dayCapacity, share, share, share],
    );
    this.configured.set(`${instanceId}/${service}`, key);
  }

  /**
   * Waits until the instance's budget lets a request of `priority` go, and takes its token. Throws
   * {@link ThrottledError} when the daily quota would keep it waiting longer than {@link MAX_QUOTA_WAIT_MS}.
   */
  async acquire(instanceId: string, priority: Priority, service = ''): Promise<void> {
    // Waiters of one process for the same bucket and priority line up here: only the first asks the
    // database, the others wait their turn in memory. Without the line, every waiter woke at each
    // token's refill and all but one found it taken (1,000 governance calls at 90/s made ~6,800
    // budget statements, each holding the bucket's row lock).
    const key = `${instanceId}/${service}/${priority}`;
    const ahead = this.lines.get(key) ?? Promise.resolve();
    const mine = ahead.then(() => this.acquireNow(instanceId, priority, service));
    const settled = mine.then(
      () => undefined,
      () => undefined,
    );
    this.lines.set(key, settled);
    void settled.then(() => {
      if (this.lines.get(key) === settled) this.lines.delete(key);
    });
    return mine;
  }

  /** The process's line of waiters per bucket and priority: the promise the next waiter waits for. */
  private readonly lines = new Map<string, Promise<void>>();

  private async acquireNow(instanceId: string, priority: Priority, service: string): Promise<void> {
    for (let tries = 0; ; tries++) {
      const { waitMs, quotaMs } = await this.tryTake(instanceId, PRIORITY_RESERVE[priority], service);
      if (waitMs === 0) return;
      if (tries === 0) this.events?.waited(instanceId, priority);
      if (quotaMs > MAX_QUOTA_WAIT_MS)
        throw new ThrottledError(
          `The provider's daily request quota is spent (less the headroom Tenantwatch keeps); requests resume in about ${Math.ceil(quotaMs / 60_000)} min`,
          quotaMs,
        );
      await this.wait(waitMs);
    }
  }

  /**
   * Takes a token if the minute's bucket and the day's (where there is a daily quota) both allow, in
   * one statement; answers 0, or how long to wait before asking again and how much of that is the day's.
   */
  private async tryTake(instanceId: string, reserve: number, service: string): Promise<{ waitMs: number; quotaMs: number }> {
    const result: {
      rows: {
        granted: boolean;
        tokens: number;
        rate_per_ms: number;
        capacity: number;
        blocked_ms: number | null;
        day_tokens: number | null;
        day_rate_per_ms: number | null;
        day_capacity: number | null;
      }[];
    } = await this.knex.raw(
      `with paced as (
         select *, case when paced_until > clock_timestamp() then least(rate_per_ms, paced_rate_per_ms) else rate_per_ms end as rate
           from ${TABLE} where instance_id = ? and service = ? for update),
       cur as (
         select instance_id, service, rate as rate_per_ms, capacity, blocked_until, day_rate_per_ms, day_capacity,
                least(capacity, tokens + extract(epoch from clock_timestamp() - updated_at) * 1000 * rate) as tokens,
                least(day_capacity, day_tokens + extract(epoch from clock_timestamp() - updated_at) * 1000 * day_rate_per_ms) as day_tokens
           from paced),
       decision as (
         select *, (tokens - 1 >= ? * capacity and (blocked_until is null or blocked_until <= clock_timestamp())
                    and (day_capacity is null or day_tokens - 1 >= ? * day_capacity)) as granted
           from cur)
       update ${TABLE} b
          set tokens = case when d.granted then d.tokens - 1 else d.tokens end,
              day_tokens = case when d.granted then d.day_tokens - 1 else d.day_tokens end,
              updated_at = clock_timestamp()
         from decision d
        where b.instance_id = d.instance_id and b.service = d.service
       returning d.granted, d.tokens, d.rate_per_ms, d.capacity, d.day_tokens, d.day_rate_per_ms, d.day_capacity,
                 extract(epoch from d.blocked_until - clock_timestamp()) * 1000 as blocked_ms`,
      [instanceId, service, reserve, reserve],
    );
    const row = result.rows[0];
    if (!row) throw new Error(`No rate budget configured for instance ${instanceId}${service ? ` and service ${service}` : ''}`);
    if (row.granted) return { waitMs: 0, quotaMs: 0 };
    const blocked = row.blocked_ms !== null && Number(row.blocked_ms) > 0 ? Number(row.blocked_ms) : 0;
    const short = reserve * row.capacity + 1 - row.tokens;
    const refill = short > 0 ? short / row.rate_per_ms : 0;
    const dayShort = row.day_capacity === null || row.day_tokens === null ? 0 : reserve * row.day_capacity + 1 - row.day_tokens;
    const quotaMs = dayShort > 0 && row.day_rate_per_ms ? dayShort / row.day_rate_per_ms : 0;
    return { waitMs: Math.max(1, Math.ceil(Math.max(blocked, refill, quotaMs))), quotaMs };
  }

  /**
   * Lets the provider's word win: a throttled answer blocks the instance for Retry-After (or
   * `fallbackMs` when the provider gave none) and empties the bucket; a provider window with no
   * request left (someone else shares the org's bucket) blocks until it resets; a window with a few
   * left is spread until it resets (at most what is left now, then remaining ÷ time to the reset),
   * so that the budget slows before the provider throttles.
   */
  async observe(instanceId: string, signal: ThrottleSignal, fallbackMs = 1000, service = ''): Promise<void> {
    if (signal.daily) await this.observeDaily(instanceId, signal.daily, signal.throttled, service);
    let blockMs = 0;
    if (signal.throttled) blockMs = signal.retryAfterMs ?? fallbackMs;
    else if (signal.remaining !== undefined && signal.remaining <= 0 && signal.resetAt !== undefined) {
      blockMs = Math.max(0, signal.resetAt - Date.now());
    } else if (signal.window && signal.remaining !== undefined && signal.resetAt !== undefined && signal.resetAt > Date.now()) {
      const spreadMs = signal.resetAt - Date.now();
      await this.knex.raw(
        `update ${TABLE} set tokens = least(capacity, tokens + extract(epoch from clock_timestamp() - updated_at) * 1000 * rate_per_ms, ?),
                paced_rate_per_ms = ?, updated_at = clock_timestamp(),
                paced_until = clock_timestamp() + make_interval(secs => ?)
          where instance_id = ? and service = ?`,
        [signal.remaining, signal.remaining / spreadMs, spreadMs / 1000, instanceId, service],
      );
      return;
    }
    if (blockMs <= 0) return;
    this.events?.paused(instanceId, service, blockMs);
    await this.knex.raw(
      `update ${TABLE} set tokens = least(tokens, 0), updated_at = clock_timestamp(),
              blocked_until = greatest(coalesce(blocked_until, clock_timestamp()), clock_timestamp() + make_interval(secs => ?))
        where instance_id = ? and service = ?`,
      [blockMs / 1000, instanceId, service],
    );
  }

  /** Every bucket's level now (one row per instance and service: bounded by the instances). */
  async levels(): Promise<BudgetLevel[]> {
    const result: {
      rows: { instance_id: string; service: string; level: number; day_level: number | null; blocked_seconds: number | null }[];
    } = await this.knex.raw(
      `select instance_id, service,
              least(capacity, tokens + extract(epoch from clock_timestamp() - updated_at) * 1000 * rate_per_ms) / capacity as level,
              least(day_capacity, day_tokens + extract(epoch from clock_timestamp() - updated_at) * 1000 * day_rate_per_ms) / day_capacity as day_level,
              greatest(0, extract(epoch from blocked_until - clock_timestamp())) as blocked_seconds
         from ${TABLE}`,
    );
    return result.rows.map((r) => ({
      instanceId: r.instance_id,
      service: r.service,
      level: Number(r.level),
      dayLevel: r.day_level === null ? null : Number(r.day_level),
      blockedSeconds: Number(r.blocked_seconds ?? 0),
    }));
  }

  /**
   * Follows the daily quota the provider reports (used of limit over its rolling 24 hours, shared with
   * the org's other integrations): the day's bucket is sized from the reported limit and never holds
   * more than what Tenantwatch may still spend (limit less the headroom, less what is used) — below
   * zero when others spent the headroom too, so that requests wait for the quota to refill. Written at
   * most every {@link DAILY_OBSERVE_MS} per process (every answer reports it), at once when throttled.
   */
  private async observeDaily(
    instanceId: string,
    daily: { used: number; limit: number },
    throttled: boolean,
    service: string,
  ): Promise<void> {
    if (!(daily.limit > 0) || !(daily.used >= 0)) return;
    const key = `${instanceId}/${service}`;
    const now = Date.now();
    if (!throttled && now - (this.dailyWritten.get(key) ?? -Infinity) < DAILY_OBSERVE_MS) return;
    this.dailyWritten.set(key, now);
    const share = this.shares.get(key) ?? 0.9;
    const capacity = Math.max(MIN_CAPACITY, (daily.limit * share) / 2);
    const free = throttled ? Math.min(0, daily.limit * share - daily.used) : daily.limit * share - daily.used;
    // A reported limit above the configured one grows the bucket by the difference (what was spent stays
    // spent): kept at the old size, the bucket would sit below the priorities' reserve of the new
    // capacity and every scan would wait hours for a quota that is nearly all free.
    await this.knex.raw(
      `update ${TABLE} set
              tokens = least(capacity, tokens + extract(epoch from clock_timestamp() - updated_at) * 1000 * rate_per_ms),
              day_tokens = greatest(-?::float8, least(?::float8, ?::float8, coalesce(day_tokens + extract(epoch from clock_timestamp() - updated_at) * 1000 * day_rate_per_ms
                             + greatest(0, ?::float8 - coalesce(day_capacity, ?::float8)), ?::float8))),
              day_capacity = ?, day_rate_per_ms = ?, day_limit_reported = ?, updated_at = clock_timestamp()
        where instance_id = ? and service = ?`,
      [capacity, capacity, free, capacity, capacity, capacity, capacity, capacity / DAY_MS, daily.limit, instanceId, service],
    );
  }
}
