import type { EntityManager, Knex } from '@mikro-orm/postgresql';
import { mapRows, type DbRow } from '../../platform/database.js';
import { ProviderMirror, type MirrorTable } from '../../platform/mirror.js';
import { EVERY_INSTANCE, restrictTo, type InstanceScope } from '../../platform/scope.js';
import { countsByParent, type Connection, type Ordering, type PageRequest } from '../../platform/pagination.js';
import type { PermissionLevel } from '../../platform/vocabulary/permission-level.js';
import { AppPermission } from './app-permission.entity.js';

/** An OAuth grant as a connector reports it (grantor already resolved to our account id). */
export interface AppPermissionRecord {
  readonly externalId: string;
  readonly appName: string;
  readonly clientId: string;
  readonly publisher?: string | null;
  readonly scopes: readonly string[];
  readonly permissionLevel: PermissionLevel;
  readonly grantedById?: string | null;
  readonly grantedAt?: Date | null;
  readonly lastUsedAt?: Date | null;
  readonly revoked?: boolean;
}

export interface AppPermissionFilter {
  readonly instanceId?: string;
  readonly grantedById?: string;
  readonly permissionLevel?: PermissionLevel;
  readonly revoked?: boolean;
  readonly appName?: string;
  readonly clientId?: string;
}

export const APP_PERMISSION_ORDER: Ordering = {
  direction: 'asc',
  columns: [
    { column: 'app_name', type: 'text' },
    { column: 'id', type: 'uuid' },
  ],
};

const GRANT = 'app_permissions.app_permission';

const GRANTS: MirrorTable<AppPermission> = {
  table: GRANT,
  entity: AppPermission,
  alias: 'p',
  ordering: APP_PERMISSION_ORDER,
  sortKey: (r: DbRow) => [r.app_name as string, r.id as string],
  updatable: ['app_name', 'client_id', 'publisher', 'scopes', 'permission_level', 'granted_by_id', 'granted_at', 'last_used_at', 'revoked'],
};

/** The only writer of OAuth app grants; also their reads. */
export class AppPermissionService {
  private readonly mirror: ProviderMirror<AppPermission>;

  /** `scope`: the instances a caller may read (null: every one); every read keeps to it. */
  constructor(
    private readonly em: EntityManager,
    scope: InstanceScope = EVERY_INSTANCE,
  ) {
    this.mirror = new ProviderMirror(em, GRANTS, scope);
  }

  private get knex(): Knex {
    return this.em.getKnex();
  }

  /** Inserts or updates grants by `(instance, externalId)` in bulk; answers externalId → id. */
  upsertAppPermissions(
    instanceId: string,
    records: readonly AppPermissionRecord[],
    pass: string | null = null,
  ): Promise<Map<string, string>> {
    const rows = records.map((r) => ({
      external_id: r.externalId,
      app_name: r.appName,
      client_id: r.clientId,
      publisher: r.publisher ?? null,
      scopes: [...r.scopes],
      permission_level: r.permissionLevel,
      granted_by_id: r.grantedById ?? null,
      granted_at: r.grantedAt ?? null,
      last_used_at: r.lastUsedAt ?? null,
      revoked: r.revoked ?? false,
    }));
    return this.mirror.upsert(instanceId, rows, pass);
  }

  /** Marks deleted the instance's grants that the finished full pass `pass` did not see. */
  markMissingFrom(instanceId: string, pass: string): Promise<number> {
    return this.mirror.markMissingFrom(instanceId, pass);
  }

  /** Marks a grant revoked (a governance action's effect). */
  async setRevoked(id: string, db: Knex = this.knex): Promise<void> {
    await db(GRANT).where('id', id).update({ revoked: true, updated_at: new Date() });
  }

  /** The instance's live, unrevoked grants of these apps (by client id), oldest grant first; at most `limit`. */
  async liveGrantsOfApps(instanceId: string, clientIds: readonly string[], limit = 50_000): Promise<AppPermission[]> {
    if (clientIds.length === 0) return [];
    const rows: DbRow[] = await this.knex(GRANT)
      .select('*')
      .where({ instance_id: instanceId, revoked: false })
      .modify(restrictTo(this.mirror.scope, 'instance_id'))
      .whereNull('deleted_at')
      .whereIn('client_id', [...clientIds])
      .orderByRaw('granted_at asc nulls last, id asc')
      .limit(limit);
    return mapRows(this.em, AppPermission, rows);
  }

  byIds(ids: readonly string[]): Promise<AppPermission[]> {
    return this.mirror.byIds(ids);
  }

  /** Live grants matching `filter`, by app name. */
  list(filter: AppPermissionFilter, page: PageRequest): Promise<Connection<AppPermission>> {
    return this.mirror.list(() => this.filtered(filter), page);
  }

  private filtered(filter: AppPermissionFilter): Knex.QueryBuilder {
    const qb = this.mirror.from().whereNull('p.deleted_at');
    if (filter.instanceId) qb.where('p.instance_id', filter.instanceId);
    if (filter.grantedById) qb.where('p.granted_by_id', filter.grantedById);
    if (filter.permissionLevel) qb.where('p.permission_level', filter.permissionLevel);
    if (filter.revoked !== undefined) qb.where('p.revoked', filter.revoked);
    if (filter.appName) qb.whereRaw('lower(p.app_name) = lower(?)', [filter.appName]);
    if (filter.clientId) qb.where('p.client_id', filter.clientId);
    return qb;
  }

  /** One page of live grants per grantor, in one statement; totalCount batched over the grantors. */
  grantsOfAccounts(accountIds: readonly string[], page: PageRequest): Promise<Map<string, Connection<AppPermission>>> {
    const live = () => this.mirror.from().whereNull('p.deleted_at');
    return this.mirror.listByParent(
      accountIds,
      page,
      (parent) => live().select('p.*').where('p.granted_by_id', parent),
      () => countsByParent(live(), 'p.granted_by_id', accountIds),
    );
  }
}
