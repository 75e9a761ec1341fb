import { Migration } from '@mikro-orm/migrations';

/** Scan passes, late-link ids and content versions for the connectors' scans. */
export class Migration20261126100000 extends Migration {
  override async up(): Promise<void> {
    this.addSql(`alter table "accounts"."account" add column "scan_pass" uuid null`);
    this.addSql(`alter table "accounts"."group" add column "scan_pass" uuid null`);
    this.addSql(`alter table "accounts"."scan_state" add column "dispatched_at" timestamptz null`);
  }
}
