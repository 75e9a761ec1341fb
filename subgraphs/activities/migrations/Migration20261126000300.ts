import { Migration } from '@mikro-orm/migrations';

export class Migration20261126000300 extends Migration {
  override async up(): Promise<void> {
    this.addSql(
      `create table "activities"."activity" ("id" uuid not null, "instance_id" uuid not null, "external_id" text not null, "category" text not null, "action" text not null, "actor_id" uuid null, "occurred_at" timestamptz not null, "ingested_at" timestamptz not null, "ip_address" text null, "country" text null, "user_agent" text null, "succeeded" boolean not null default true, "target_type" text null, "target_id" text null, "file_id" uuid null, "raw" jsonb null, constraint "activity_pkey" primary key ("id"))`,
    );
    this.addSql(`create index "activity_instance_id_occurred_at_id_index" on "activities"."activity" ("instance_id", "occurred_at", "id")`);
    this.addSql(`create index "activity_actor_id_occurred_at_id_index" on "activities"."activity" ("actor_id", "occurred_at", "id")`);
    this.addSql(`create index "activity_occurred_at_id_index" on "activities"."activity" ("occurred_at", "id")`);
    this.addSql(
      `alter table "activities"."activity" add constraint "activity_instance_id_external_id_unique" unique ("instance_id", "external_id")`,
    );
    this.addSql(
      `create table "activities"."detection" ("id" uuid not null, "policy_id" uuid not null, "severity" text not null, "title" text not null, "description" text not null, "status" text not null default 'OPEN', "status_comment" text null, "instance_id" uuid not null, "account_id" uuid null, "file_id" uuid null, "app_permission_id" uuid null, "activity_ids" text[] not null, "subject_key" text null, "evidence" jsonb not null, "detected_at" timestamptz not null, "updated_at" timestamptz not null, constraint "detection_pkey" primary key ("id"))`,
    );
    this.addSql(
      `create index "detection_policy_id_subject_key_status_index" on "activities"."detection" ("policy_id", "subject_key", "status")`,
    );
    this.addSql(`create index "detection_detected_at_id_index" on "activities"."detection" ("detected_at", "id")`);
    this.addSql(
      `create table "activities"."governance_action" ("id" uuid not null, "type" text not null, "status" text not null default 'PENDING', "instance_id" uuid not null, "account_id" uuid null, "file_id" uuid null, "app_permission_id" uuid null, "requested_by" text not null, "reason" text null, "dry_run" boolean not null default false, "attempts" int not null default 0, "error" text null, "requested_at" timestamptz not null, "completed_at" timestamptz null, "detection_id" uuid null, "idempotency_key" text null, "input_hash" text null, constraint "governance_action_pkey" primary key ("id"))`,
    );
    this.addSql(`create index "governance_action_requested_at_id_index" on "activities"."governance_action" ("requested_at", "id")`);
    this.addSql(
      `alter table "activities"."governance_action" add constraint "governance_action_idempotency_key_unique" unique ("idempotency_key")`,
    );
    this.addSql(
      `create table "activities"."policy" ("id" uuid not null, "name" text not null, "kind" text not null, "severity" text not null, "enabled" boolean not null default true, "description" text null, "condition" jsonb not null, "auto_governance" text[] not null, "built_in" boolean not null default false, "created_at" timestamptz not null, "updated_at" timestamptz not null, constraint "policy_pkey" primary key ("id"))`,
    );
  }
}
