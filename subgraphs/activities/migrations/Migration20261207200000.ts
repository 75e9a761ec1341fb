import { Migration } from '@mikro-orm/migrations';

/** A policy's scope: the instances and the providers it applies to (both empty: every instance). */
export class Migration20261207200000 extends Migration {
  override async up(): Promise<void> {
    this.addSql(`alter table "activities"."policy"
      add column "instance_ids" text[] not null default '{}',
      add column "providers" text[] not null default '{}'`);
  }
}
