import { Migration } from '@mikro-orm/migrations';

/**
 * A daily quota learned from the provider (Salesforce's `Sforce-Limit-Info`): the limit it reports,
 * which then sizes the day's bucket in place of the connector's documented default.
 */
export class Migration20261207100000 extends Migration {
  override async up(): Promise<void> {
    this.addSql(`alter table "scheduler"."rate_budget" add column "day_limit_reported" double precision null`);
  }
}
