import { Migration } from '@mikro-orm/migrations';

export class Migration20261126000000 extends Migration {
  override async up(): Promise<void> {
    this.addSql(
      `create table "accounts"."account" ("id" uuid not null, "instance_id" uuid not null, "external_id" text not null, "email" text null, "display_name" text not null, "status" text not null default 'ACTIVE', "is_admin" boolean not null default false, "privileges" text[] not null, "updated_at" timestamptz not null, "deleted_at" timestamptz null, constraint "account_pkey" primary key ("id"))`,
    );
    this.addSql(`create index "account_display_name_id_index" on "accounts"."account" ("display_name", "id")`);
    this.addSql(
      `alter table "accounts"."account" add constraint "account_instance_id_external_id_unique" unique ("instance_id", "external_id")`,
    );
    this.addSql(
      `create table "accounts"."api_usage_minute" ("instance_id" uuid not null, "minute" timestamptz not null, "requests" int not null default 0, "throttled" int not null default 0, constraint "api_usage_minute_pkey" primary key ("instance_id", "minute"))`,
    );
    this.addSql(
      `create table "accounts"."app_instance" ("id" uuid not null, "provider" text not null, "name" text not null, "status" text not null default 'CONNECTING', "status_message" text null, "granted_permissions" text[] not null, "capabilities" text[] not null, "sealed_config" text not null, "connected_at" timestamptz not null, "disconnected_at" timestamptz null, "limit_per_minute" int null, "headroom_percent" double precision not null default 10, "updated_at" timestamptz not null, constraint "app_instance_pkey" primary key ("id"))`,
    );
    this.addSql(
      `create table "accounts"."group" ("id" uuid not null, "instance_id" uuid not null, "external_id" text not null, "name" text not null, "updated_at" timestamptz not null, "deleted_at" timestamptz null, constraint "group_pkey" primary key ("id"))`,
    );
    this.addSql(`create index "group_name_id_index" on "accounts"."group" ("name", "id")`);
    this.addSql(
      `alter table "accounts"."group" add constraint "group_instance_id_external_id_unique" unique ("instance_id", "external_id")`,
    );
    this.addSql(
      `create table "accounts"."group_membership" ("group_id" uuid not null, "account_id" uuid not null, "instance_id" uuid not null, constraint "group_membership_pkey" primary key ("group_id", "account_id"))`,
    );
    this.addSql(`create index "group_membership_account_id_index" on "accounts"."group_membership" ("account_id")`);
    this.addSql(
      `create table "accounts"."scan_state" ("instance_id" uuid not null, "kind" text not null, "state" text not null default 'IDLE', "last_started_at" timestamptz null, "last_completed_at" timestamptz null, "next_run_at" timestamptz null, "items_scanned" int not null default 0, "total_estimate" int null, "last_error" text null, "cursor" jsonb null, constraint "scan_state_pkey" primary key ("instance_id", "kind"))`,
    );
  }
}
