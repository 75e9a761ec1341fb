import type { Knex } from '@mikro-orm/postgresql';
import { applyKeyset, countRows, toConnection, type Connection, type Ordering, type PageRequest } from '../../platform/pagination.js';
import { EVERY_INSTANCE, restrictTo, type InstanceScope } from '../../platform/scope.js';
import type { PermissionLevel } from '../../platform/vocabulary/permission-level.js';

/** One OAuth app in one instance, as its live grants add up. */
export interface AppSummary {
  readonly instanceId: string;
  readonly clientId: string;
  readonly name: string;
  readonly publisher: string | null;
  /** Accounts holding a live grant. */
  readonly users: number;
  readonly grants: number;
  readonly highestPermissionLevel: PermissionLevel;
  readonly scopes: readonly string[];
  readonly firstGrantedAt: Date | null;
  readonly lastUsedAt: Date | null;
}

export interface AppFilter {
  readonly instanceId?: string;
  /** Apps whose highest grant is at this level. */
  readonly permissionLevel?: PermissionLevel;
  /** A case-insensitive part of the name or client id. */
  readonly search?: string;
}

/** By name, then client id, then instance. */
export const APP_ORDER: Ordering = {
  direction: 'asc',
  columns: [
    { column: 'name', type: 'text' },
    { column: 'client_id', type: 'text' },
    { column: 'instance_id', type: 'uuid' },
  ],
};

const GRANT = 'app_permissions.app_permission';

/**
 * The app view: live, unrevoked grants grouped per app (client id) and instance, aggregated in
 * PostgreSQL (users, grants, the highest permission level, the union of scopes, first grant, last use).
 */
export class AppService {
  /** `scope`: the instances a caller may read (null: every one); every read keeps to it. */
  constructor(
    private readonly knex: Knex,
    private readonly scope: InstanceScope = EVERY_INSTANCE,
  ) {}

  private apps(): Knex.QueryBuilder {
    const grouped = this.knex(GRANT)
      .select(
        'instance_id',
        'client_id',
        this.knex.raw('min(app_name) as name'),
        this.knex.raw('min(publisher) as publisher'),
        this.knex.raw('count(distinct granted_by_id)::int as users'),
        this.knex.raw('count(*)::int as grants'),
        this.knex.raw(
          `(array_agg(permission_level order by case permission_level when 'HIGH' then 3 when 'MEDIUM' then 2 else 1 end desc))[1] as highest_permission_level`,
        ),
        this.knex.raw(
          `(select array_agg(distinct s order by s) from ${GRANT} g2, unnest(g2.scopes) as s
             where g2.instance_id = app_permission.instance_id and g2.client_id = app_permission.client_id
               and g2.deleted_at is null and not g2.revoked) as scopes`,
        ),
        this.knex.raw('min(granted_at) as first_granted_at'),
        this.knex.raw('max(last_used_at) as last_used_at'),
      )
      .whereNull('deleted_at')
      .where('revoked', false)
      .modify(restrictTo(this.scope, 'instance_id'))
      .groupBy('instance_id', 'client_id');
    return this.knex.from(grouped.as('a'));
  }

  private filtered(filter: AppFilter): Knex.QueryBuilder {
    const qb = this.apps();
    if (filter.instanceId) qb.where('a.instance_id', filter.instanceId);
    if (filter.permissionLevel) qb.where('a.highest_permission_level', filter.permissionLevel);
    if (filter.search)
      qb.where((q) =>
        q
          .whereRaw(`a.name ilike ? escape '\\'`, [contains(filter.search!)])
          .orWhereRaw(`a.client_id ilike ? escape '\\'`, [contains(filter.search!)]),
      );
    return qb;
  }

  async list(filter: AppFilter, page: PageRequest): Promise<Connection<AppSummary>> {
    const rows: Record<string, unknown>[] = await applyKeyset(this.filtered(filter).select('a.*'), 'a', APP_ORDER, page);
    return toConnection(
      rows,
      page,
      (r) => [r.name as string, r.client_id as string, r.instance_id as string],
      toSummary,
      () => countRows(this.filtered(filter)),
    );
  }

  /** One app of one instance, or null when it has no live grant. */
  async get(instanceId: string, clientId: string): Promise<AppSummary | null> {
    const [row] = (await this.apps().select('a.*').where({ 'a.instance_id': instanceId, 'a.client_id': clientId })) as Record<
      string,
      unknown
    >[];
    return row ? toSummary(row) : null;
  }
}

function contains(term: string): string {
  return `%${term.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}

function toSummary(r: Record<string, unknown>): AppSummary {
  return {
    instanceId: r.instance_id as string,
    clientId: r.client_id as string,
    name: r.name as string,
    publisher: (r.publisher as string | null) ?? null,
    users: Number(r.users),
    grants: Number(r.grants),
    highestPermissionLevel: r.highest_permission_level as PermissionLevel,
    scopes: (r.scopes as string[] | null) ?? [],
    firstGrantedAt: r.first_granted_at ? new Date(r.first_granted_at as string) : null,
    lastUsedAt: r.last_used_at ? new Date(r.last_used_at as string) : null,
  };
}
