import { Migration } from '@mikro-orm/migrations';

export class Migration20261126000200 extends Migration {
  override async up(): Promise<void> {
    this.addSql(
      `create table "app_permissions"."app_permission" ("id" uuid not null, "instance_id" uuid not null, "external_id" text not null, "app_name" text not null, "client_id" text not null, "publisher" text null, "scopes" text[] not null, "permission_level" text not null default 'LOW', "granted_by_id" uuid null, "granted_at" timestamptz null, "last_used_at" timestamptz null, "revoked" boolean not null default false, "updated_at" timestamptz not null, "deleted_at" timestamptz null, constraint "app_permission_pkey" primary key ("id"))`,
    );
    this.addSql(
      `create index "app_permission_granted_by_id_app_name_id_index" on "app_permissions"."app_permission" ("granted_by_id", "app_name", "id")`,
    );
    this.addSql(`create index "app_permission_app_name_id_index" on "app_permissions"."app_permission" ("app_name", "id")`);
    this.addSql(
      `alter table "app_permissions"."app_permission" add constraint "app_permission_instance_id_external_id_unique" unique ("instance_id", "external_id")`,
    );
  }
}
