import { Migration } from '@mikro-orm/migrations';

/** What FILE policies' custom content rules found in a file, and the digest of the rules its data scan applied. */
export class Migration20261210000100 extends Migration {
  override async up(): Promise<void> {
    this.addSql(`alter table "files"."file" add column "content_rule_matches" jsonb not null default '[]'`);
    this.addSql(`alter table "files"."file" add column "content_rules_hash" text null`);
  }
}
