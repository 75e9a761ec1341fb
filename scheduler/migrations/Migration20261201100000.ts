import { Migration } from '@mikro-orm/migrations';

/**
 * The webhook receiver's shared state: the delivery ids seen per instance (replays are refused until
 * the signature expires) and the per-instance delivery rate, in the table shape rate-limiter-flexible's
 * RateLimiterPostgres reads and writes (key, points, expire: its inserts are positional).
 */
export class Migration20261201100000 extends Migration {
  override async up(): Promise<void> {
    this.addSql(
      `create table "scheduler"."webhook_delivery" ("instance_id" uuid not null, "delivery_id" varchar(200) not null, "expires_at" timestamptz not null, "received_at" timestamptz not null default clock_timestamp(), constraint "webhook_delivery_pkey" primary key ("instance_id", "delivery_id"))`,
    );
    this.addSql(`create index "webhook_delivery_expires_at_index" on "scheduler"."webhook_delivery" ("expires_at")`);
    this.addSql(
      `create table "scheduler"."webhook_rate" ("key" varchar(255) not null, "points" integer not null default 0, "expire" bigint null, constraint "webhook_rate_pkey" primary key ("key"))`,
    );
  }
}
