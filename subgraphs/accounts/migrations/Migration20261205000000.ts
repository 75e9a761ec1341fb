import { Migration } from '@mikro-orm/migrations';

/**
 * An instance's headroom is its own only when set: null means the deployment's HEADROOM_PERCENT.
 * Until now every row kept the column default of 10 (no API sets it), so every 10 becomes null.
 */
export class Migration20261205000000 extends Migration {
  override async up(): Promise<void> {
    this.addSql(`alter table "accounts"."app_instance" alter column "headroom_percent" drop not null`);
    this.addSql(`alter table "accounts"."app_instance" alter column "headroom_percent" drop default`);
    this.addSql(`update "accounts"."app_instance" set "headroom_percent" = null where "headroom_percent" = 10`);
  }
}
