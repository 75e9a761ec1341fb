import { Migration } from '@mikro-orm/migrations';

/** Scan passes, late-link ids and content versions for the connectors' scans. */
export class Migration20261126100200 extends Migration {
  override async up(): Promise<void> {
    this.addSql(`alter table "app_permissions"."app_permission" add column "scan_pass" uuid null`);
  }
}
