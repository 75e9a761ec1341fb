import { Migration } from '@mikro-orm/migrations';

/** Scan passes, late-link ids and content versions for the connectors' scans. */
export class Migration20261126100300 extends Migration {
  override async up(): Promise<void> {
    this.addSql(`alter table "activities"."activity" add column "actor_external_id" text null, add column "file_external_id" text null`);
    this.addSql(
      `create index "activity_unlinked_actor_index" on "activities"."activity" ("instance_id", "actor_external_id") where "actor_id" is null`,
    );
    this.addSql(
      `create index "activity_unlinked_file_index" on "activities"."activity" ("instance_id", "file_external_id") where "file_id" is null`,
    );
  }
}
