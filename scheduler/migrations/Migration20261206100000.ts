import { Migration } from '@mikro-orm/migrations';

/**
 * Daily quotas beside the per-minute rate: a second bucket in the same row (null where the provider
 * has no daily quota), taken in the same statement as the minute's. And pacing learned from a
 * provider's window (RateLimit-Remaining until RateLimit-Reset): a lower rate until the window resets.
 */
export class Migration20261206100000 extends Migration {
  override async up(): Promise<void> {
    this.addSql(`alter table "scheduler"."rate_budget"
      add column "day_rate_per_ms" double precision null,
      add column "day_capacity" double precision null,
      add column "day_tokens" double precision null,
      add column "paced_rate_per_ms" double precision null,
      add column "paced_until" timestamptz null`);
  }
}
