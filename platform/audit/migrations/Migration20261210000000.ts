import { Migration } from '@mikro-orm/migrations';

/**
 * The audit log's table, append-only in the database itself: UPDATE and TRUNCATE are refused, and
 * DELETE of entries younger than a day (retention, at least a day, deletes only older ones).
 */
export class Migration20261210000000 extends Migration {
  override async up(): Promise<void> {
    this.addSql(
      `create table "audit"."audit_event" ("id" bigserial primary key, "at" timestamptz not null, "kind" text not null, "action" text not null, "service" text not null, "subject" text null, "role" text null, "instances" jsonb null, "operation_name" text null, "input" jsonb not null, "result" text not null, "client_address" text null, "request_id" text null, "occurrences" int not null)`,
    );
    this.addSql(`create index "audit_event_action_id_index" on "audit"."audit_event" ("action", "id")`);
    this.addSql(`create index "audit_event_subject_id_index" on "audit"."audit_event" ("subject", "id")`);
    this.addSql(`create index "audit_event_at_index" on "audit"."audit_event" ("at")`);
    this.addSql(`create function "audit"."audit_event_append_only"() returns trigger language plpgsql as $$
begin
  if tg_op = 'DELETE' then
    if old.at > now() - interval '1 day' then
      raise exception 'audit events are append-only: an entry younger than a day cannot be deleted (id %)', old.id
        using errcode = 'insufficient_privilege';
    end if;
    return old;
  end if;
  raise exception 'audit events are append-only: % is refused', tg_op using errcode = 'insufficient_privilege';
end
$$`);
    this.addSql(
      `create trigger "audit_event_no_update" before update or delete on "audit"."audit_event" for each row execute function "audit"."audit_event_append_only"()`,
    );
    this.addSql(
      `create trigger "audit_event_no_truncate" before truncate on "audit"."audit_event" for each statement execute function "audit"."audit_event_append_only"()`,
    );
  }
}
