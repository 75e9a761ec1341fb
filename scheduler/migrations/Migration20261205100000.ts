import { Migration } from '@mikro-orm/migrations';

/**
 * Rate budgets per provider service: a provider that throttles its APIs separately (Microsoft Graph's
 * directory, audit logs and files) gets one bucket per service of an instance; '' is the instance's
 * default bucket, the only one of a provider with a single limit.
 */
export class Migration20261205100000 extends Migration {
  override async up(): Promise<void> {
    this.addSql(`alter table "scheduler"."rate_budget" add column "service" varchar(64) not null default ''`);
    this.addSql(`alter table "scheduler"."rate_budget" drop constraint "rate_budget_pkey"`);
    this.addSql(`alter table "scheduler"."rate_budget" add constraint "rate_budget_pkey" primary key ("instance_id", "service")`);
  }
}
