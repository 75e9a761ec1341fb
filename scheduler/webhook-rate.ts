import type pg from 'pg';
import { RateLimiterPostgres, RateLimiterRes } from 'rate-limiter-flexible';

/** What {@link WebhookRateLimit.take} decided. */
export type RateDecision = { readonly allowed: true } | { readonly allowed: false; readonly retryAfterSeconds: number };

/**
 * Webhook deliveries per instance and minute, counted in PostgreSQL (`scheduler.webhook_rate`, made
 * by the scheduler's migrations) so that every scheduler process spends the same allowance: a fixed
 * one-minute window per instance (rate-limiter-flexible's RateLimiterPostgres, one atomic upsert per
 * delivery). One row per instance that ever received a delivery, so no pruning is needed.
 */
export class WebhookRateLimit {
  private readonly limiter: RateLimiterPostgres;

  constructor(pool: pg.Pool, perMinute: number) {
    this.limiter = new RateLimiterPostgres({
      storeClient: pool,
      storeType: 'pool',
      schemaName: 'scheduler',
      tableName: 'webhook_rate',
      keyPrefix: 'webhook',
      // The migration made the table: no DDL at run time, and no clean-up timer left running after stop.
      tableCreated: true,
      clearExpiredByTimeout: false,
      points: perMinute,
      duration: 60,
      // Past the limit, this process refuses the instance from memory for the rest of the minute: a
      // flood costs no database write per request.
      inMemoryBlockOnConsumed: perMinute + 1,
    });
  }

  /** Counts one delivery for the instance; throws when the database cannot be asked. */
  async take(instanceId: string): Promise<RateDecision> {
    try {
      await this.limiter.consume(instanceId);
      return { allowed: true };
    } catch (error) {
      if (!(error instanceof RateLimiterRes)) throw error;
      return { allowed: false, retryAfterSeconds: Math.max(1, Math.ceil(error.msBeforeNext / 1000)) };
    }
  }
}
