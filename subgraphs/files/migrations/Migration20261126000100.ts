import { Migration } from '@mikro-orm/migrations';

export class Migration20261126000100 extends Migration {
  override async up(): Promise<void> {
    this.addSql(
      `create table "files"."file" ("id" uuid not null, "instance_id" uuid not null, "external_id" text not null, "name" text not null, "path" text not null, "mime_type" text null, "size_bytes" double precision not null, "owner_id" uuid null, "sharing" text not null default 'PRIVATE', "collaborators" text[] not null, "trashed" boolean not null default false, "quarantined" boolean not null default false, "modified_at" timestamptz not null, "last_scanned_at" timestamptz null, "sensitive_matches" jsonb not null, "updated_at" timestamptz not null, "deleted_at" timestamptz null, constraint "file_pkey" primary key ("id"))`,
    );
    this.addSql(`create index "file_owner_id_modified_at_id_index" on "files"."file" ("owner_id", "modified_at", "id")`);
    this.addSql(`create index "file_modified_at_id_index" on "files"."file" ("modified_at", "id")`);
    this.addSql(`alter table "files"."file" add constraint "file_instance_id_external_id_unique" unique ("instance_id", "external_id")`);
  }
}
