import { Migration } from '@mikro-orm/migrations';

/**
 * The detection workflow: an assignee, a history of who changed a detection's status or assignee
 * (and when, from what, to what, why), and the indexes that list an account's, a file's or an app
 * permission's detections newest first.
 */
export class Migration20261207400000 extends Migration {
  override async up(): Promise<void> {
    this.addSql(`alter table "activities"."detection" add column "assignee" text null`);
    this.addSql(
      `create table "activities"."detection_history" ("id" uuid not null, "detection_id" uuid not null, "at" timestamptz not null,
        "actor" text not null, "change" text not null, "from_status" text null, "to_status" text null,
        "from_assignee" text null, "to_assignee" text null, "comment" text null, constraint "detection_history_pkey" primary key ("id"))`,
    );
    this.addSql(`create index "detection_history_detection_index" on "activities"."detection_history" ("detection_id", "at", "id")`);
    for (const column of ['account_id', 'file_id', 'app_permission_id'])
      this.addSql(
        `create index "detection_${column}_index" on "activities"."detection" ("${column}", "detected_at", "id") where "${column}" is not null`,
      );
  }
}
