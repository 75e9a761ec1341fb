import { Migration } from '@mikro-orm/migrations';

/** Why a file's last data scan did not read its content (over a limit, unreadable). */
export class Migration20261208000100 extends Migration {
  override async up(): Promise<void> {
    this.addSql(`alter table "files"."file" add column "scan_skipped_reason" text null`);
  }
}
