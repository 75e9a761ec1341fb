import { Migration } from '@mikro-orm/migrations';
import { ACTIVITY_SEARCH_TEXT } from '../activity-search.js';

/**
 * Activity search: a trigram index (pg_trgm, a trusted extension since PostgreSQL 13) on the
 * activity's searchable text, and an index on its IP address as `inet` for CIDR filters (addresses
 * that are not valid IPs index as null, so one bad provider value never fails a query).
 */
export class Migration20261207300000 extends Migration {
  override async up(): Promise<void> {
    this.addSql(`create extension if not exists pg_trgm`);
    this.addSql(`create or replace function "activities"."inet_or_null"(value text) returns inet
      language plpgsql immutable strict parallel safe as $$
      begin
        return value::inet;
      exception when others then
        return null;
      end $$`);
    this.addSql(`create index "activity_search_index" on "activities"."activity" using gin ((${ACTIVITY_SEARCH_TEXT}) gin_trgm_ops)`);
    this.addSql(
      `create index "activity_ip_index" on "activities"."activity" using gist (("activities"."inet_or_null"("ip_address")) inet_ops)`,
    );
  }
}
