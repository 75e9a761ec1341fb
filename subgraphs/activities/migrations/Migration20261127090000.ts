import { Migration } from '@mikro-orm/migrations';

/**
 * Policy evaluation: what each detection has already recorded (so a re-read never counts twice) and
 * when its evidence was first and last seen (the grouping window); activities wait for evaluation;
 * "has this actor succeeded from this country before" is one index probe.
 * The new activity column defaults to false, so existing rows are not re-evaluated and the table is
 * not rewritten.
 */
export class Migration20261127090000 extends Migration {
  override async up(): Promise<void> {
    this.addSql(
      `alter table "activities"."detection" add column "observations" text[] not null default '{}', add column "first_seen_at" timestamptz null, add column "last_seen_at" timestamptz null`,
    );
    this.addSql(`alter table "activities"."activity" add column "evaluation_pending" boolean not null default false`);
    this.addSql(
      `create index "activity_evaluation_pending_index" on "activities"."activity" ("instance_id", "occurred_at") where "evaluation_pending"`,
    );
    this.addSql(
      `create index "activity_actor_country_index" on "activities"."activity" ("actor_id", "country", "occurred_at", "id") where "succeeded"`,
    );
  }
}
