import { Migration } from '@mikro-orm/migrations';

/** The event log behind the live streams. */
export class Migration20261126120000 extends Migration {
  override async up(): Promise<void> {
    this.addSql(
      `create table "activities"."event_log" ("cursor" bigserial primary key, "kind" text not null, "entity_id" uuid not null, "instance_id" uuid not null, "attributes" jsonb not null, "created_at" timestamptz not null)`,
    );
    this.addSql(`create index "event_log_created_at_index" on "activities"."event_log" ("created_at")`);
  }
}
