import { Migration } from '@mikro-orm/migrations';

/**
 * Governance execution: the target of every action in one column (one live action per type and
 * target), idempotency keys scoped to the requester, and the dispatcher's and the job's marks.
 */
export class Migration20261127120000 extends Migration {
  override async up(): Promise<void> {
    this.addSql(
      `alter table "activities"."governance_action" add column "target_id" uuid null, add column "dispatched_at" timestamptz null, add column "started_at" timestamptz null`,
    );
    this.addSql(`update "activities"."governance_action" set "target_id" = coalesce("account_id", "file_id", "app_permission_id")`);
    this.addSql(`delete from "activities"."governance_action" where "target_id" is null`);
    this.addSql(`alter table "activities"."governance_action" alter column "target_id" set not null`);
    this.addSql(`alter table "activities"."governance_action" drop constraint "governance_action_idempotency_key_unique"`);
    this.addSql(
      `alter table "activities"."governance_action" add constraint "governance_action_requested_by_idempotency_key_unique" unique ("requested_by", "idempotency_key")`,
    );
    // Actions recorded before execution existed never ran: they are closed, not run months late.
    this.addSql(
      `update "activities"."governance_action" set "status" = 'FAILED', "error" = 'Recorded before governance execution existed; never sent to the provider', "completed_at" = now() where "status" in ('PENDING', 'RUNNING')`,
    );
    this.addSql(
      `create unique index "governance_action_live_target_unique" on "activities"."governance_action" ("type", "target_id") where "status" in ('PENDING', 'RUNNING') and not "dry_run"`,
    );
    this.addSql(
      `create index "governance_action_undispatched_index" on "activities"."governance_action" ("requested_at") where "status" = 'PENDING' and "dispatched_at" is null and not "dry_run"`,
    );
  }
}
