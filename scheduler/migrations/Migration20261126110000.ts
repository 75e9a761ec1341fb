import { Migration } from '@mikro-orm/migrations';

/** The shared rate budgets. */
export class Migration20261126110000 extends Migration {
  override async up(): Promise<void> {
    this.addSql(
      `create table "scheduler"."rate_budget" ("instance_id" uuid not null, "rate_per_ms" double precision not null, "capacity" double precision not null, "tokens" double precision not null, "updated_at" timestamptz not null, "blocked_until" timestamptz null, constraint "rate_budget_pkey" primary key ("instance_id"))`,
    );
  }
}
