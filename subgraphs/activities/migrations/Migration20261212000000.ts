import { Migration } from '@mikro-orm/migrations';

/**
 * Events waiting for policy evaluation move from a flag on each activity row to a narrow queue of
 * their ids. Clearing the flag rewrote the whole row and every one of its ten indexes (the trigram
 * and address ones included: a column in a partial index's predicate rules out HOT updates), which
 * cost a scan's page about as much as storing it; deleting a queue row touches one small index.
 */
export class Migration20261212000000 extends Migration {
  override async up(): Promise<void> {
    this.addSql(
      `create table "activities"."activity_evaluation_queue" ("activity_id" uuid not null, "instance_id" uuid not null, "occurred_at" timestamptz not null, constraint "activity_evaluation_queue_pkey" primary key ("activity_id"))`,
    );
    this.addSql(
      `create index "activity_evaluation_queue_instance_index" on "activities"."activity_evaluation_queue" ("instance_id", "occurred_at", "activity_id")`,
    );
    this.addSql(
      `insert into "activities"."activity_evaluation_queue" ("activity_id", "instance_id", "occurred_at") select "id", "instance_id", "occurred_at" from "activities"."activity" where "evaluation_pending"`,
    );
    this.addSql(`drop index "activities"."activity_evaluation_pending_index"`);
    this.addSql(`alter table "activities"."activity" drop column "evaluation_pending"`);
  }
}
