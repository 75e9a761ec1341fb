import type { EntityManager, Knex } from '@mikro-orm/postgresql';
import { markMissingDeleted, upsertRows } from '../../platform/bulk.js';
import { mapRow, mapRows, type DbRow } from '../../platform/database.js';
import { newId } from '../../platform/ids.js';
import {
  applyKeyset,
  countRows,
  countsByParent,
  connectionsByParent,
  pagesByParent,
  toConnection,
  type Connection,
  type Ordering,
  type PageRequest,
} from '../../platform/pagination.js';
import { AppPermission } from './app-permission.entity.js';
import { PermissionLevel } from '../../platform/vocabulary/permission-level.js';

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
}

export const APP_PERMISSION_ORDER: Ordering = {
  direction: 'asc',
  columns: [
    { column: 'app_name', type: 'text' },
    { column: 'id', type: 'uuid' },
  ],
};

const GRANT = 'app_permissions.app_permission';
const grantKey = (r: DbRow) => [r.app_name as string, r.id as string];

/** The only writer of OAuth app grants; also their reads. */
export class AppPermissionService {
  constructor(private readonly em: EntityManager) {}

  private get knex(): Knex {
    return this.em.getKnex();
  }

  /** Inserts or updates grants by `(instance, externalId)` in bulk; answers externalId → id. */
  async upsertAppPermissions(
    instanceId: string,
    records: readonly AppPermissionRecord[],
    pass: string | null = null,
  ): Promise<Map<string, string>> {
    const now = new Date();
    const rows = records.map((r) => ({
      id: newId(),
      instance_id: instanceId,
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
      updated_at: now,
      deleted_at: null,
      scan_pass: pass,
    }));
    const saved = await upsertRows<{ id: string; external_id: string }>(this.knex, GRANT, rows, {
      conflict: ['instance_id', 'external_id'],
      update: [
        'app_name',
        'client_id',
        'publisher',
        'scopes',
        'permission_level',
        'granted_by_id',
        'granted_at',
        'last_used_at',
        'revoked',
        'updated_at',
        'deleted_at',
        'scan_pass',
      ],
      returning: ['id', 'external_id'],
    });
    return new Map(saved.map((r) => [r.external_id, r.id]));
  }

  /** Marks deleted the instance's grants that the finished full pass `pass` did not see. */
  markMissingFrom(instanceId: string, pass: string): Promise<number> {
    return markMissingDeleted(this.knex, GRANT, instanceId, pass);
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
      .whereNull('deleted_at')
      .whereIn('client_id', [...clientIds])
      .orderByRaw('granted_at asc nulls last, id asc')
      .limit(limit);
    return mapRows(this.em, AppPermission, rows);
  }

  async byIds(ids: readonly string[]): Promise<AppPermission[]> {
    return mapRows(
      this.em,
      AppPermission,
      await this.knex(GRANT)
        .select('*')
        .whereIn('id', [...ids]),
    );
  }

  /** Live grants matching `filter`, by app name. */
  async list(filter: AppPermissionFilter, page: PageRequest): Promise<Connection<AppPermission>> {
    const base = () => this.filtered(filter);
    const rows: DbRow[] = await applyKeyset(base().select('p.*'), 'p', APP_PERMISSION_ORDER, page);
    return toConnection(
      rows,
      page,
      grantKey,
      (r) => mapRow(this.em, AppPermission, r),
      () => countRows(base()),
    );
  }

  private filtered(filter: AppPermissionFilter): Knex.QueryBuilder {
    const qb = this.knex(`${GRANT} as p`).whereNull('p.deleted_at');
    if (filter.instanceId) qb.where('p.instance_id', filter.instanceId);
    if (filter.grantedById) qb.where('p.granted_by_id', filter.grantedById);
    if (filter.permissionLevel) qb.where('p.permission_level', filter.permissionLevel);
    if (filter.revoked !== undefined) qb.where('p.revoked', filter.revoked);
    if (filter.appName) qb.whereRaw('lower(p.app_name) = lower(?)', [filter.appName]);
    return qb;
  }

  /** One page of live grants per grantor, in one statement; totalCount batched over the grantors. */
  async grantsOfAccounts(accountIds: readonly string[], page: PageRequest): Promise<Map<string, Connection<AppPermission>>> {
    const pages = await pagesByParent<DbRow>(this.knex, accountIds, 'p', APP_PERMISSION_ORDER, page, (parent) =>
      this.knex(`${GRANT} as p`).select('p.*').where('p.granted_by_id', parent).whereNull('p.deleted_at'),
    );
    return connectionsByParent(
      pages,
      page,
      grantKey,
      (r) => mapRow(this.em, AppPermission, r),
      () => countsByParent(this.knex(`${GRANT} as p`).whereNull('p.deleted_at'), 'p.granted_by_id', accountIds),
    );
  }
}
