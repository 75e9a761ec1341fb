import { Migration } from '@mikro-orm/migrations';

/** FILE policies' custom content rules: named regular expressions and keyword lists. */
export class Migration20261210000300 extends Migration {
  override async up(): Promise<void> {
    this.addSql(`alter table "activities"."policy" add column "content_patterns" jsonb not null default '[]'`);
    this.addSql(`alter table "activities"."policy" add column "keyword_lists" jsonb not null default '[]'`);
  }
}
