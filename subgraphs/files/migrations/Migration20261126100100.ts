import { Migration } from '@mikro-orm/migrations';

/** Scan passes, late-link ids and content versions for the connectors' scans. */
export class Migration20261126100100 extends Migration {
  override async up(): Promise<void> {
    this.addSql(
      `alter table "files"."file" add column "scan_pass" uuid null, add column "content_version" text null, add column "scanned_version" text null`,
    );
  }
}
