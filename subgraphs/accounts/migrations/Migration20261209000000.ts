import { Migration } from '@mikro-orm/migrations';

/**
 * An instance's life after connecting: the administrator's own request limit (kept apart from the
 * provider's documented one, which every connect step writes again), when it was deleted (a tombstone
 * the governance log still points at) and when its data's purge was claimed and finished; per scan,
 * the items its run skipped and why, and since when its capability is refused (the instance DEGRADED).
 */
export class Migration20261209000000 extends Migration {
  override async up(): Promise<void> {
    this.addSql(`alter table "accounts"."app_instance"
      add column "limit_per_minute_override" integer null,
      add column "deleted_at" timestamptz null,
      add column "purge_claimed_at" timestamptz null,
      add column "purged_at" timestamptz null`);
    this.addSql(`alter table "accounts"."scan_state"
      add column "items_skipped" integer not null default 0,
      add column "last_skip_reason" text null,
      add column "refused_since" timestamptz null`);
  }
}
