import { Migration } from '@mikro-orm/migrations';

/**
 * An instance's change notifications, as the scheduler last kept them at the provider: whether the
 * provider pushes changes (subscriptions kept) or the change feeds are polled, how many
 * subscriptions are alive, when they are next renewed, and the last failure. `notifications_claimed_at`
 * marks a disconnected instance whose subscriptions a scheduler is removing.
 */
export class Migration20261206000000 extends Migration {
  override async up(): Promise<void> {
    this.addSql(`alter table "accounts"."app_instance"
      add column "notification_mode" text null,
      add column "notification_subscriptions" integer not null default 0,
      add column "notifications_renew_at" timestamptz null,
      add column "notifications_synced_at" timestamptz null,
      add column "notifications_error" text null,
      add column "notifications_claimed_at" timestamptz null`);
  }
}
