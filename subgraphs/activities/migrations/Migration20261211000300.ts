import { Migration } from '@mikro-orm/migrations';

/** Where a governance action was asked for: the request id and W3C trace of its mutation, carried into the scheduler's job. */
export class Migration20261211000300 extends Migration {
  override async up(): Promise<void> {
    this.addSql(`alter table "activities"."governance_action" add column "origin" jsonb null`);
  }
}
