import type { EntityManager, Knex } from '@mikro-orm/postgresql';
import { EVERY_INSTANCE, type InstanceScope } from '../../platform/scope.js';
import { insertNewRows } from '../../platform/bulk.js';
import type { CopyValue } from '../../platform/copy.js';
import { mapRows, type DbRow } from '../../platform/database.js';
import { newId } from '../../platform/ids.js';
import { uuidArray } from '../../platform/purge.js';
import { ProviderMirror, type MirrorTable } from '../../platform/mirror.js';
import { countsByParent, type Connection, type Ordering, type PageRequest } from '../../platform/pagination.js';
import type { ActivityCategory } from '../../platform/vocabulary/activity-category.js';
import { Activity } from './activity.entity.js';
import { ACTIVITY_SEARCH_TEXT, likePattern } from './activity-search.js';

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
  /** ISO 3166 alpha-2 codes, upper case: any of them. */
  readonly countries?: readonly string[];
  readonly succeeded?: boolean;
  /** A CIDR block (or one address) the IP address is in. */
  readonly ipRange?: string;
  /** A case-insensitive substring of the activity's searchable text ({@link ACTIVITY_SEARCH_TEXT}). */
  readonly search?: string;
}

/** The parts of a policy condition the database can filter on (the rest is matched in memory). */
export interface EventNarrowing {
  readonly actions?: readonly string[];
  readonly categories?: readonly ActivityCategory[];
  readonly succeeded?: boolean;
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
const EVALUATION_QUEUE = 'activities.activity_evaluation_queue';

/** The audit trail mirrors the provider's, append-only: events are stored once and never updated or deleted. */
const ACTIVITIES: MirrorTable<Activity> = {
  table: ACTIVITY,
  entity: Activity,
  alias: 'e',
  ordering: ACTIVITY_ORDER,
  sortKey: (r: DbRow) => [r.occurred_at as string, r.id as string],
  updatable: [],
};

/** What insertActivities writes for each event, in the order of {@link activityRows}' values. */
export const ACTIVITY_COLUMNS = [
  'id',
  'instance_id',
  'external_id',
  'category',
  'action',
  'actor_id',
  'occurred_at',
  'ingested_at',
  'ip_address',
  'country',
  'user_agent',
  'succeeded',
  'target_type',
  'target_id',
  'file_id',
  'actor_external_id',
  'file_external_id',
  'raw',
] as const;

/**
 * The stored rows of `records` (values in the order of {@link ACTIVITY_COLUMNS}), made one at a time
 * as COPY asks for them. Exported for bench/ingest.bench.ts.
 */
export function* activityRows(instanceId: string, ingestedAt: Date, records: readonly ActivityRecord[]): Generator<CopyValue[]> {
  for (const r of records) {
    yield [
      newId(),
      instanceId,
      r.externalId,
      r.category,
      r.action,
      r.actorId ?? null,
      r.occurredAt,
      ingestedAt,
      r.ipAddress ?? null,
      r.country ?? null,
      r.userAgent ?? null,
      r.succeeded ?? true,
      r.targetType ?? null,
      r.targetId ?? null,
      r.fileId ?? null,
      r.actorExternalId ?? null,
      r.fileExternalId ?? null,
      r.raw === undefined || r.raw === null ? null : JSON.stringify(r.raw),
    ];
  }
}

/** The only writer of the audit trail; also its reads. */
export class ActivityService {
  private readonly mirror: ProviderMirror<Activity>;

  /** `scope`: the instances a caller may read (null: every one); every read keeps to it. */
  constructor(
    private readonly em: EntityManager,
    scope: InstanceScope = EVERY_INSTANCE,
  ) {
    this.mirror = new ProviderMirror(em, ACTIVITIES, scope);
  }

  private get knex(): Knex {
    return this.em.getKnex();
  }

  /**
   * Stores events in bulk, ignoring any whose `(instance, externalId)` is already stored: late,
   * repeated and overlapping reads never double an event (nor does an event repeated in `records`).
   * Answers the ids of the events newly stored (ids only: building an entity per stored row cost a
   * third of the ingest rate); they wait for policy evaluation ({@link pendingEvaluation}).
   */
  async insertActivities(instanceId: string, records: readonly ActivityRecord[]): Promise<string[]> {
    if (records.length === 0) return [];
    const inserted = await insertNewRows<{ id: string }>(
      this.knex,
      ACTIVITY,
      ACTIVITY_COLUMNS,
      activityRows(instanceId, new Date(), records),
      {
        conflict: ['instance_id', 'external_id'],
        returning: ['id'],
        // New events wait for policy evaluation, queued by the same statement that stores them.
        alsoInto: { table: EVALUATION_QUEUE, columns: { activity_id: 'id', instance_id: 'instance_id', occurred_at: 'occurred_at' } },
      },
    );
    return inserted.map((r) => r.id);
  }

  /** Provider ids of actors whose events are stored without an account (at most `limit`). */
  async unresolvedActors(instanceId: string, limit: number, after: string | null = null): Promise<string[]> {
    const qb = this.knex(ACTIVITY)
      .distinct('actor_external_id')
      .where('instance_id', instanceId)
      .whereNull('actor_id')
      .whereNotNull('actor_external_id');
    if (after !== null) qb.where('actor_external_id', '>', after);
    const rows: { actor_external_id: string }[] = await qb.orderBy('actor_external_id').limit(limit);
    return rows.map((r) => r.actor_external_id);
  }

  /** Provider ids of files that stored events name but that were not known then (at most `limit`). */
  async unresolvedFiles(instanceId: string, limit: number, after: string | null = null): Promise<string[]> {
    const qb = this.knex(ACTIVITY)
      .distinct('file_external_id')
      .where('instance_id', instanceId)
      .whereNull('file_id')
      .whereNotNull('file_external_id');
    if (after !== null) qb.where('file_external_id', '>', after);
    const rows: { file_external_id: string }[] = await qb.orderBy('file_external_id').limit(limit);
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

  /** The instance's events stored but not yet run through the policies, oldest first (at most `limit`). */
  async pendingEvaluation(instanceId: string, limit: number): Promise<Activity[]> {
    const { rows }: { rows: DbRow[] } = await this.knex.raw(
      `select a.* from ${EVALUATION_QUEUE} q join ${ACTIVITY} a on a.id = q.activity_id
        where q.instance_id = ? order by q.occurred_at, q.activity_id limit ?`,
      [instanceId, limit],
    );
    return mapRows(this.em, Activity, rows);
  }

  /** Marks events as run through the policies: out of the queue. */
  async markEvaluated(ids: readonly string[]): Promise<void> {
    if (ids.length > 0) await this.knex.raw(`delete from ${EVALUATION_QUEUE} where activity_id = any(?::uuid[])`, [uuidArray(ids)]);
  }

  /**
   * The instance's events in `[from, to]` (event time), of `actorIds` when given, oldest first,
   * narrowed by the simple parts of a policy condition; at most `limit` (a safety cap: policy
   * windows are short and narrowed).
   */
  async eventsBetween(
    instanceId: string,
    actorIds: readonly string[] | null,
    from: Date,
    to: Date,
    narrow: EventNarrowing = {},
    limit = 20_000,
  ): Promise<Activity[]> {
    if (actorIds?.length === 0) return [];
    const qb = this.knex(ACTIVITY).select('*').where('instance_id', instanceId).whereBetween('occurred_at', [from, to]);
    if (actorIds) qb.whereIn('actor_id', [...actorIds]);
    if (narrow.actions) qb.whereIn('action', [...narrow.actions]);
    if (narrow.categories) qb.whereIn('category', [...narrow.categories]);
    if (narrow.succeeded !== undefined) qb.where('succeeded', narrow.succeeded);
    return mapRows(this.em, Activity, await qb.orderBy([{ column: 'occurred_at' }, { column: 'id' }]).limit(limit));
  }

  /**
   * Of the given events, those from a country new for their actor: no successful event of the actor
   * came from that country before (ordered by time, then id), while at least `baseline` successful
   * events of the actor with a known country did (so an actor's first places are never "new").
   * One index probe per event (`activity_actor_country_index`).
   */
  async fromNewCountry(ids: readonly string[], baseline: number): Promise<Set<string>> {
    if (ids.length === 0) return new Set();
    const result = await this.knex.raw(
      `select e.id
         from ${ACTIVITY} e
        where e.id = any(?::uuid[]) and e.actor_id is not null and e.country is not null
          and not exists (select 1 from ${ACTIVITY} h
                           where h.actor_id = e.actor_id and h.succeeded and h.country = e.country
                             and (h.occurred_at, h.id) < (e.occurred_at, e.id))
          and (select count(*) from (select 1 from ${ACTIVITY} h
                                      where h.actor_id = e.actor_id and h.succeeded and h.country is not null
                                        and (h.occurred_at, h.id) < (e.occurred_at, e.id)
                                      limit ?) b) >= ?`,
      [[...ids], baseline, baseline],
    );
    return new Set((result as { rows: { id: string }[] }).rows.map((r) => r.id));
  }

  /**
   * Each actor's usual country: the one most of its successful activities came from (ties: the one
   * seen first). Actors with no located activity are absent.
   */
  async usualCountries(actorIds: readonly string[]): Promise<Map<string, string>> {
    if (actorIds.length === 0) return new Map();
    const rows: { actor_id: string; country: string }[] = await this.knex(ACTIVITY)
      .distinctOn('actor_id')
      .select('actor_id', 'country')
      .whereIn('actor_id', [...actorIds])
      .where('succeeded', true)
      .whereNotNull('country')
      .groupBy('actor_id', 'country')
      .orderByRaw('actor_id, count(*) desc, min(occurred_at) asc');
    return new Map(rows.map((r) => [r.actor_id, r.country]));
  }

  byIds(ids: readonly string[]): Promise<Activity[]> {
    return this.mirror.byIds(ids);
  }

  /** Events matching `filter`, newest first. */
  list(filter: ActivityFilter, page: PageRequest): Promise<Connection<Activity>> {
    return this.mirror.list(() => this.filtered(this.mirror.from(), filter), page);
  }

  private filtered(qb: Knex.QueryBuilder, filter: ActivityFilter): Knex.QueryBuilder {
    if (filter.instanceId) qb.where('e.instance_id', filter.instanceId);
    if (filter.actorId) qb.where('e.actor_id', filter.actorId);
    if (filter.category) qb.where('e.category', filter.category);
    if (filter.action) qb.where('e.action', filter.action);
    if (filter.from) qb.where('e.occurred_at', '>=', filter.from);
    if (filter.to) qb.where('e.occurred_at', '<', filter.to);
    if (filter.ipAddress) qb.where('e.ip_address', filter.ipAddress);
    if (filter.countries) qb.whereIn('e.country', [...filter.countries]);
    if (filter.succeeded !== undefined) qb.where('e.succeeded', filter.succeeded);
    if (filter.ipRange) qb.whereRaw(`activities.inet_or_null(e.ip_address) <<= ?::inet`, [filter.ipRange]);
    if (filter.search) qb.whereRaw(`${ACTIVITY_SEARCH_TEXT.replaceAll('("', '(e."')} like ? escape '\\'`, [likePattern(filter.search)]);
    return qb;
  }

  /** One page of events per actor (with `filter`), in one statement; totalCount batched. */
  activitiesOfActors(actorIds: readonly string[], filter: ActivityFilter, page: PageRequest): Promise<Map<string, Connection<Activity>>> {
    return this.mirror.listByParent(
      actorIds,
      page,
      (parent) => this.filtered(this.mirror.from().select('e.*').where('e.actor_id', parent), filter),
      () => countsByParent(this.filtered(this.mirror.from(), filter), 'e.actor_id', actorIds),
    );
  }
}
