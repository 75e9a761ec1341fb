import { Migration } from '@mikro-orm/migrations';

/**
 * The daily request quota a provider reports on its answers (Salesforce's `Sforce-Limit-Info`): its
 * limit and what the org had used of it (every integration's requests), as last reported.
 */
export class Migration20261207000000 extends Migration {
  override async up(): Promise<void> {
    this.addSql(`alter table "accounts"."app_instance"
      add column "daily_quota_limit" integer null,
      add column "daily_quota_used" integer null,
      add column "daily_quota_reported_at" timestamptz null`);
  }
}
