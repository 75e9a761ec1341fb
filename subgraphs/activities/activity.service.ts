import type { EntityManager, Knex } from '@mikro-orm/postgresql';
import { upsertRows } from '../shared/bulk.js';
import { mapRow, mapRows, type DbRow } from '../shared/database.js';
import { newId } from '../shared/ids.js';
import {
  applyKeyset,
  countRows,
  countsByParent,
  pagesByParent,
  toConnection,
  type Connection,
  type Ordering,
  type PageRequest,
} from '../shared/pagination.js';
import { Activity, ActivityCategory } from './activity.entity.js';

/** An audit event as a connector reports it (actor and file already resolved to our ids). */
export interface ActivityRecord {
  readonly externalId: string;
  readonly category: ActivityCategory;
  readonly action: string;
  readonly actorId?: string | null;
  readonly occurredAt: Date;
  readonly ipAddress?: string | null;
  readonly country?: string | null;
  readonly userAgent?: string | null;
  readonly succeeded?: boolean;
  readonly targetType?: string | null;
  readonly targetId?: string | null;
  readonly fileId?: string | null;
  /** The provider's ids, kept so that events read before their actor or file can be linked later. */
  readonly actorExternalId?: string | null;
  readonly fileExternalId?: string | null;
  readonly raw?: unknown;
}

export interface ActivityFilter {
  readonly instanceId?: string;
  readonly actorId?: string;
  readonly category?: ActivityCategory;
  readonly action?: string;
  /** Inclusive. */
  readonly from?: Date;
  /** Exclusive. */
  readonly to?: Date;
  readonly ipAddress?: string;
}

/** Newest first. */
export const ACTIVITY_ORDER: Ordering = {
  direction: 'desc',
  columns: [
    { column: 'occurred_at', type: 'timestamptz' },
    { column: 'id', type: 'uuid' },
  ],
};

const ACTIVITY = 'activities.activity';
const activityKey = (r: DbRow) => [r.occurred_at as string, r.id as string];

/** The only writer of the audit trail; also its reads. */
export class ActivityService {
  constructor(private readonly em: EntityManager) {}

  private get knex(): Knex {
    return this.em.getKnex();
  }

  /**
   * Stores events in bulk, ignoring any whose `(instance, externalId)` is already stored: late,
   * repeated and overlapping reads never double an event. Answers the events newly stored.
   */
  async insertActivities(instanceId: string, records: readonly ActivityRecord[]): Promise<Activity[]> {
    const now = new Date();
    const rows = records.map((r) => ({
      id: newId(),
      instance_id: instanceId,
      external_id: r.externalId,
      category: r.category,
      action: r.action,
      actor_id: r.actorId ?? null,
      occurred_at: r.occurredAt,
      ingested_at: now,
      ip_address: r.ipAddress ?? null,
      country: r.country ?? null,
      user_agent: r.userAgent ?? null,
      succeeded: r.succeeded ?? true,
      target_type: r.targetType ?? null,
      target_id: r.targetId ?? null,
      file_id: r.fileId ?? null,
      actor_external_id: r.actorExternalId ?? null,
      file_external_id: r.fileExternalId ?? null,
      raw: r.raw === undefined || r.raw === null ? null : JSON.stringify(r.raw),
    }));
    const inserted = await upsertRows<DbRow>(this.knex, ACTIVITY, rows, { conflict: ['instance_id', 'external_id'], update: [], returning: ['*'] });
    return mapRows(this.em, Activity, inserted);
  }

  /** Provider ids of actors whose events are stored without an account (at most `limit`). */
  async unresolvedActors(instanceId: string, limit: number): Promise<string[]> {
    const rows: { actor_external_id: string }[] = await this.knex(ACTIVITY)
      .distinct('actor_external_id')
      .where('instance_id', instanceId)
      .whereNull('actor_id')
      .whereNotNull('actor_external_id')
      .limit(limit);
    return rows.map((r) => r.actor_external_id);
  }

  /** Provider ids of files that stored events name but that were not known then (at most `limit`). */
  async unresolvedFiles(instanceId: string, limit: number): Promise<string[]> {
    const rows: { file_external_id: string }[] = await this.knex(ACTIVITY)
      .distinct('file_external_id')
      .where('instance_id', instanceId)
      .whereNull('file_id')
      .whereNotNull('file_external_id')
      .limit(limit);
    return rows.map((r) => r.file_external_id);
  }

  /** Links the instance's events whose actor was unknown when they were stored (externalId → account id). */
  async linkActors(instanceId: string, accounts: ReadonlyMap<string, string>): Promise<number> {
    return this.link(instanceId, 'actor_id', 'actor_external_id', accounts);
  }

  /** Links the instance's events whose file was unknown when they were stored (externalId → file id). */
  async linkFiles(instanceId: string, files: ReadonlyMap<string, string>): Promise<number> {
    return this.link(instanceId, 'file_id', 'file_external_id', files);
  }

  private async link(instanceId: string, idColumn: string, externalColumn: string, ids: ReadonlyMap<string, string>): Promise<number> {
    if (ids.size === 0) return 0;
    const result = await this.knex.raw(
      `update ${ACTIVITY} e set ${idColumn} = m.id
         from unnest(?::text[], ?::uuid[]) as m(external_id, id)
        where e.instance_id = ? and e.${idColumn} is null and e.${externalColumn} = m.external_id`,
      [[...ids.keys()], [...ids.values()], instanceId],
    );
    return (result as { rowCount: number }).rowCount;
  }

  async byIds(ids: readonly string[]): Promise<Activity[]> {
    return mapRows(this.em, Activity, await this.knex(ACTIVITY).select('*').whereIn('id', [...ids]));
  }

  /** Events matching `filter`, newest first. */
  async list(filter: ActivityFilter, page: PageRequest): Promise<Connection<Activity>> {
    const base = () => this.filtered(this.knex(`${ACTIVITY} as e`), filter);
    const rows: DbRow[] = await applyKeyset(base().select('e.*'), 'e', ACTIVITY_ORDER, page);
    return toConnection(rows, page, activityKey, (r) => mapRow(this.em, Activity, r), () => countRows(base()));
  }

  private filtered(qb: Knex.QueryBuilder, filter: ActivityFilter): Knex.QueryBuilder {
    if (filter.instanceId) qb.where('e.instance_id', filter.instanceId);
    if (filter.actorId) qb.where('e.actor_id', filter.actorId);
    if (filter.category) qb.where('e.category', filter.category);
    if (filter.action) qb.where('e.action', filter.action);
    if (filter.from) qb.where('e.occurred_at', '>=', filter.from);
    if (filter.to) qb.where('e.occurred_at', '<', filter.to);
    if (filter.ipAddress) qb.where('e.ip_address', filter.ipAddress);
    return qb;
  }

  /** One page of events per actor (with `filter`), in one statement; totalCount batched. */
  async activitiesOfActors(actorIds: readonly string[], filter: ActivityFilter, page: PageRequest): Promise<Map<string, Connection<Activity>>> {
    const pages = await pagesByParent<DbRow>(this.knex, actorIds, 'e', ACTIVITY_ORDER, page, (parent) =>
      this.filtered(this.knex(`${ACTIVITY} as e`).select('e.*').where('e.actor_id', parent), filter),
    );
    let counts: Promise<Map<string, number>> | undefined;
    const out = new Map<string, Connection<Activity>>();
    for (const [actorId, rows] of pages) {
      out.set(
        actorId,
        toConnection(rows, page, activityKey, (r) => mapRow(this.em, Activity, r), async () => {
          counts ??= countsByParent(this.filtered(this.knex(`${ACTIVITY} as e`), filter), 'e.actor_id', actorIds);
          return (await counts).get(actorId) ?? 0;
        }),
      );
    }
    return out;
  }
}
