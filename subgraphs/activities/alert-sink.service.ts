import { randomBytes } from 'node:crypto';
import type { Knex } from '@mikro-orm/postgresql';
import { decryptSecret, encryptSecret } from '../../platform/crypto.js';
import { newId } from '../../platform/ids.js';
import { AlertDelivery, AlertDeliveryStatus, AlertFormat, AlertSink } from './alert-sink.entity.js';
import type { DetectionChange } from './detection.entity.js';
import { EventKind } from './event-log.entity.js';
import type { Severity } from './policy.entity.js';

const SINK = 'activities.alert_sink';
const DELIVERY = 'activities.alert_delivery';
const LOG = 'activities.event_log';

/** What an administrator writes to create or change a sink. */
export interface AlertSinkDefinition {
  readonly name: string;
  readonly url: string;
  readonly format: AlertFormat;
  readonly severityAtLeast: Severity | null;
  readonly instanceId: string | null;
  readonly policyId: string | null;
  readonly changes: readonly DetectionChange[];
  readonly enabled: boolean;
}

/** A sink as the delivery engine needs it: its definition, its secret and its place. */
export interface SinkForDelivery {
  readonly sink: AlertSink;
  readonly secret: string;
}

type Row = Record<string, unknown>;

function toSink(r: Row): AlertSink {
  return Object.assign(new AlertSink(), {
    id: r.id as string,
    name: r.name as string,
    url: r.url as string,
    format: r.format as AlertFormat,
    filter: {
      severityAtLeast: (r.severity_at_least as Severity | null) ?? null,
      instanceId: (r.instance_id as string | null) ?? null,
      policyId: (r.policy_id as string | null) ?? null,
      changes: (r.changes as DetectionChange[] | null) ?? [],
    },
    enabled: r.enabled as boolean,
    cursor: String(r.cursor),
    lastDeliveredAt: r.last_delivered_at ? new Date(r.last_delivered_at as string) : null,
    lastError: (r.last_error as string | null) ?? null,
    failingSince: r.failing_since ? new Date(r.failing_since as string) : null,
    createdAt: new Date(r.created_at as string),
  });
}

function toDelivery(r: Row): AlertDelivery {
  return Object.assign(new AlertDelivery(), {
    deliveryId: r.delivery_id as string,
    cursor: String(r.cursor),
    detectionId: r.detection_id as string,
    change: r.change as DetectionChange,
    status: r.status as AlertDeliveryStatus,
    attempts: Number(r.attempts),
    lastStatusCode: r.last_status_code === null ? null : Number(r.last_status_code),
    lastError: (r.last_error as string | null) ?? null,
    firstAttemptAt: new Date(r.first_attempt_at as string),
    endedAt: r.ended_at ? new Date(r.ended_at as string) : null,
  });
}

/** The only writer of alert sinks and their delivery log; also their reads. */
export class AlertSinkService {
  constructor(
    private readonly knex: Knex,
    private readonly credentialsKey: Buffer,
  ) {}

  /** Creates a sink that receives events from now on (its cursor: the log's newest entry); answers it with its new secret. */
  async create(definition: AlertSinkDefinition): Promise<{ sink: AlertSink; secret: string }> {
    const secret = randomBytes(32).toString('base64url');
    const [{ cursor }] = (await this.knex(LOG).max('cursor as cursor')) as { cursor: string | null }[];
    const now = new Date();
    const [row] = await this.knex(SINK)
      .insert({
        id: newId(),
        ...this.columns(definition),
        sealed_secret: encryptSecret(this.credentialsKey, secret),
        cursor: cursor ?? '0',
        created_at: now,
        updated_at: now,
      })
      .returning('*');
    return { sink: toSink(row as Row), secret };
  }

  /** Replaces a sink's definition (its place and secret stay); answers null for an unknown id. */
  async update(id: string, definition: AlertSinkDefinition): Promise<AlertSink | null> {
    const [row] = await this.knex(SINK)
      .where('id', id)
      .update({ ...this.columns(definition), updated_at: new Date() })
      .returning('*');
    return row ? toSink(row as Row) : null;
  }

  /** A new secret for the sink (the old one stops signing at once); answers null for an unknown id. */
  async rotateSecret(id: string): Promise<{ sink: AlertSink; secret: string } | null> {
    const secret = randomBytes(32).toString('base64url');
    const [row] = await this.knex(SINK)
      .where('id', id)
      .update({ sealed_secret: encryptSecret(this.credentialsKey, secret), updated_at: new Date() })
      .returning('*');
    return row ? { sink: toSink(row as Row), secret } : null;
  }

  /** Deletes a sink and its delivery log; answers whether it existed. */
  async delete(id: string): Promise<boolean> {
    return this.knex.transaction(async (trx) => {
      await trx(DELIVERY).where('sink_id', id).delete();
      return (await trx(SINK).where('id', id).delete()) > 0;
    });
  }

  async list(): Promise<AlertSink[]> {
    return (
      (await this.knex(SINK)
        .select('*')
        .orderBy([{ column: 'created_at' }, { column: 'id' }])) as Row[]
    ).map(toSink);
  }

  async byId(id: string): Promise<AlertSink | null> {
    const row = (await this.knex(SINK).where('id', id).first()) as Row | undefined;
    return row ? toSink(row) : null;
  }

  /** How many detection events after the sink's cursor are still to go (counted up to `cap`). */
  async lag(sink: AlertSink, cap = 10_000): Promise<number> {
    const [{ n }] = (await this.knex
      .from(this.knex(LOG).select('cursor').where('kind', EventKind.DETECTION).where('cursor', '>', sink.cursor).limit(cap).as('pending'))
      .count('* as n')) as { n: string }[];
    return Number(n);
  }

  /** The sink's deliveries, newest first. */
  async deliveries(sinkId: string, limit: number): Promise<AlertDelivery[]> {
    return ((await this.knex(DELIVERY).where('sink_id', sinkId).orderBy('cursor', 'desc').limit(limit)) as Row[]).map(toDelivery);
  }

  /** The enabled sinks, with their secrets, for the delivery engine. */
  async enabledForDelivery(): Promise<SinkForDelivery[]> {
    const rows = (await this.knex(SINK).where('enabled', true).orderBy('id')) as Row[];
    return rows.map((r) => ({ sink: toSink(r), secret: decryptSecret(this.credentialsKey, r.sealed_secret as string) }));
  }

  /** One sink with its secret, for the delivery engine; null when it is gone or disabled. */
  async enabledForDeliveryById(id: string): Promise<SinkForDelivery | null> {
    const row = (await this.knex(SINK).where({ id, enabled: true }).first()) as Row | undefined;
    return row ? { sink: toSink(row), secret: decryptSecret(this.credentialsKey, row.sealed_secret as string) } : null;
  }

  /** Detection events after `cursor`, oldest first. */
  async eventsAfter(
    cursor: string,
    limit: number,
  ): Promise<{ cursor: string; entityId: string; instanceId: string; attributes: Record<string, unknown> }[]> {
    const rows = (await this.knex(LOG)
      .select('cursor', 'entity_id', 'instance_id', 'attributes')
      .where('kind', EventKind.DETECTION)
      .where('cursor', '>', cursor)
      .orderBy('cursor')
      .limit(limit)) as Row[];
    return rows.map((r) => ({
      cursor: String(r.cursor),
      entityId: r.entity_id as string,
      instanceId: r.instance_id as string,
      attributes: r.attributes as Record<string, unknown>,
    }));
  }

  /** Records an attempt of one event (the delivery row made at the first), and, once it ended, moves the sink past it. */
  async recordAttempt(
    sinkId: string,
    event: { cursor: string; deliveryId: string; detectionId: string; change: DetectionChange },
    outcome: { status: AlertDeliveryStatus; statusCode: number | null; error: string | null },
  ): Promise<void> {
    const now = new Date();
    const ended = outcome.status !== AlertDeliveryStatus.RETRYING;
    await this.knex.transaction(async (trx) => {
      await trx(DELIVERY)
        .insert({
          sink_id: sinkId,
          cursor: event.cursor,
          delivery_id: event.deliveryId,
          detection_id: event.detectionId,
          change: event.change,
          status: outcome.status,
          attempts: 1,
          last_status_code: outcome.statusCode,
          last_error: outcome.error,
          first_attempt_at: now,
          ended_at: ended ? now : null,
        })
        .onConflict(['sink_id', 'cursor'])
        .merge({
          status: outcome.status,
          attempts: trx.raw('alert_delivery.attempts + 1'),
          last_status_code: outcome.statusCode,
          last_error: outcome.error,
          ended_at: ended ? now : null,
        });
      const delivered = outcome.status === AlertDeliveryStatus.DELIVERED;
      await trx(SINK)
        .where('id', sinkId)
        .update({
          ...(ended ? { cursor: trx.raw('greatest(cursor, ?::bigint)', [event.cursor]) } : {}),
          ...(delivered
            ? { last_delivered_at: now, last_error: null, failing_since: null }
            : { last_error: outcome.error, failing_since: trx.raw('coalesce(failing_since, ?)', [now]) }),
        });
    });
  }

  /** When the first attempt of an event was made (null: none yet). */
  async firstAttemptAt(sinkId: string, cursor: string): Promise<Date | null> {
    const row = (await this.knex(DELIVERY).select('first_attempt_at').where({ sink_id: sinkId, cursor }).first()) as Row | undefined;
    return row ? new Date(row.first_attempt_at as string) : null;
  }

  /** Moves the sink past events it does not receive (its filter), without a delivery. */
  async skipTo(sinkId: string, cursor: string): Promise<void> {
    await this.knex(SINK)
      .where('id', sinkId)
      .update({ cursor: this.knex.raw('greatest(cursor, ?::bigint)', [cursor]) });
  }

  private columns(d: AlertSinkDefinition) {
    return {
      name: d.name,
      url: d.url,
      format: d.format,
      severity_at_least: d.severityAtLeast,
      instance_id: d.instanceId,
      policy_id: d.policyId,
      changes: [...d.changes],
      enabled: d.enabled,
    };
  }
}
