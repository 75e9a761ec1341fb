import { Migration } from '@mikro-orm/migrations';

/**
 * Alert sinks: HTTPS endpoints that receive matching detection events, each with its filter, its
 * sealed signing secret and the event-log cursor it has been delivered up to; and their delivery
 * log, one row per event delivered (or given up on), keyed by sink and cursor.
 */
export class Migration20261207500000 extends Migration {
  override async up(): Promise<void> {
    this.addSql(
      `create table "activities"."alert_sink" ("id" uuid not null, "name" text not null, "url" text not null, "format" text not null,
        "severity_at_least" text null, "instance_id" uuid null, "policy_id" uuid null, "changes" text[] not null default '{}',
        "enabled" boolean not null default true, "sealed_secret" text not null, "cursor" bigint not null,
        "created_at" timestamptz not null, "updated_at" timestamptz not null, "last_delivered_at" timestamptz null,
        "last_error" text null, "failing_since" timestamptz null, constraint "alert_sink_pkey" primary key ("id"))`,
    );
    this.addSql(
      `create table "activities"."alert_delivery" ("sink_id" uuid not null, "cursor" bigint not null, "delivery_id" text not null,
        "detection_id" uuid not null, "change" text not null, "status" text not null, "attempts" int not null default 0,
        "last_status_code" int null, "last_error" text null, "first_attempt_at" timestamptz not null, "ended_at" timestamptz null,
        constraint "alert_delivery_pkey" primary key ("sink_id", "cursor"))`,
    );
  }
}
