import type { EntityManager, Knex } from '@mikro-orm/postgresql';
import { likePattern, markMissingDeleted, upsertRows } from '../../platform/bulk.js';
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
import { Account, Group } from './account.entity.js';
import { AccountStatus } from '../../platform/vocabulary/account-status.js';

/** An account as a connector reports it (ids are the provider's). */
export interface AccountRecord {
  readonly externalId: string;
  readonly email?: string | null;
  readonly displayName: string;
  readonly status?: AccountStatus;
  readonly isAdmin?: boolean;
  readonly privileges?: readonly string[];
}

/** A group as a connector reports it. */
export interface GroupRecord {
  readonly externalId: string;
  readonly name: string;
}

export interface AccountFilter {
  readonly instanceId?: string;
  readonly provider?: string;
  readonly status?: AccountStatus;
  readonly isAdmin?: boolean;
  readonly search?: string;
}

export const ACCOUNT_ORDER: Ordering = {
  direction: 'asc',
  columns: [
    { column: 'display_name', type: 'text' },
    { column: 'id', type: 'uuid' },
  ],
};
export const GROUP_ORDER: Ordering = {
  direction: 'asc',
  columns: [
    { column: 'name', type: 'text' },
    { column: 'id', type: 'uuid' },
  ],
};

const accountKey = (r: DbRow) => [r.display_name as string, r.id as string];

const ACCOUNT = 'accounts.account';
const GROUP = 'accounts.group';
const MEMBERSHIP = 'accounts.group_membership';

/** The only writer of accounts, groups and memberships; also their reads. */
export class AccountService {
  constructor(private readonly em: EntityManager) {}

  private get knex(): Knex {
    return this.em.getKnex();
  }

  /**
   * Inserts or updates accounts by `(instance, externalId)` in bulk; answers externalId → id.
   * `pass` names the full scan pass that saw them (see {@link markAccountsMissingFrom}).
   */
  async upsertAccounts(instanceId: string, records: readonly AccountRecord[], pass: string | null = null): Promise<Map<string, string>> {
    const now = new Date();
    const rows = records.map((r) => ({
      id: newId(),
      instance_id: instanceId,
      external_id: r.externalId,
      email: r.email ?? null,
      display_name: r.displayName,
      status: r.status ?? AccountStatus.ACTIVE,
      is_admin: r.isAdmin ?? false,
      privileges: [...(r.privileges ?? [])],
      updated_at: now,
      deleted_at: null,
      scan_pass: pass,
    }));
    const saved = await upsertRows<{ id: string; external_id: string }>(this.knex, ACCOUNT, rows, {
      conflict: ['instance_id', 'external_id'],
      update: ['email', 'display_name', 'status', 'is_admin', 'privileges', 'updated_at', 'deleted_at', 'scan_pass'],
      returning: ['id', 'external_id'],
    });
    return new Map(saved.map((r) => [r.external_id, r.id]));
  }

  /** Inserts or updates groups by `(instance, externalId)` in bulk; answers externalId → id. */
  async upsertGroups(instanceId: string, records: readonly GroupRecord[], pass: string | null = null): Promise<Map<string, string>> {
    const now = new Date();
    const rows = records.map((r) => ({
      id: newId(),
      instance_id: instanceId,
      external_id: r.externalId,
      name: r.name,
      updated_at: now,
      deleted_at: null,
      scan_pass: pass,
    }));
    const saved = await upsertRows<{ id: string; external_id: string }>(this.knex, GROUP, rows, {
      conflict: ['instance_id', 'external_id'],
      update: ['name', 'updated_at', 'deleted_at', 'scan_pass'],
      returning: ['id', 'external_id'],
    });
    return new Map(saved.map((r) => [r.external_id, r.id]));
  }

  /** Marks deleted the instance's accounts that the finished full pass `pass` did not see. */
  markAccountsMissingFrom(instanceId: string, pass: string): Promise<number> {
    return markMissingDeleted(this.knex, ACCOUNT, instanceId, pass);
  }

  /** Marks deleted the instance's groups that the finished full pass `pass` did not see. */
  markGroupsMissingFrom(instanceId: string, pass: string): Promise<number> {
    return markMissingDeleted(this.knex, GROUP, instanceId, pass);
  }

  /** The instance's live groups after `afterExternalId`, by external id (for walking memberships). */
  async groupsAfter(instanceId: string, afterExternalId: string | null, limit: number): Promise<{ id: string; externalId: string }[]> {
    const qb = this.knex(GROUP).select('id', 'external_id').where('instance_id', instanceId).whereNull('deleted_at');
    if (afterExternalId !== null) qb.where('external_id', '>', afterExternalId);
    const rows: { id: string; external_id: string }[] = await qb.orderBy('external_id').limit(limit);
    return rows.map((r) => ({ id: r.id, externalId: r.external_id }));
  }

  /** Sets an account's status (a governance action's effect). */
  async setAccountStatus(accountId: string, status: AccountStatus, db: Knex = this.knex): Promise<void> {
    await db(ACCOUNT).where('id', accountId).update({ status, updated_at: new Date() });
  }

  /** Makes `accountIds` exactly the members of `groupId` (adds the new, removes the gone). */
  async setGroupMembers(instanceId: string, groupId: string, accountIds: readonly string[]): Promise<void> {
    await this.knex.transaction(async (trx) => {
      const keep = [...new Set(accountIds)];
      const removal = trx(MEMBERSHIP).where('group_id', groupId);
      await (keep.length > 0 ? removal.whereNotIn('account_id', keep) : removal).delete();
      await upsertRows(
        trx,
        MEMBERSHIP,
        keep.map((accountId) => ({ group_id: groupId, account_id: accountId, instance_id: instanceId })),
        { conflict: ['group_id', 'account_id'], update: [] },
      );
    });
  }

  /** Answers accountId → id for the provider's ids of one instance (unknown ones are absent). */
  async accountIdsByExternalId(instanceId: string, externalIds: readonly string[]): Promise<Map<string, string>> {
    const rows: { id: string; external_id: string }[] = await this.knex(ACCOUNT)
      .select('id', 'external_id')
      .where('instance_id', instanceId)
      .whereIn('external_id', [...externalIds]);
    return new Map(rows.map((r) => [r.external_id, r.id]));
  }

  async accountsByIds(ids: readonly string[]): Promise<Account[]> {
    return mapRows(
      this.em,
      Account,
      await this.knex(ACCOUNT)
        .select('*')
        .whereIn('id', [...ids]),
    );
  }

  async groupsByIds(ids: readonly string[]): Promise<Group[]> {
    return mapRows(
      this.em,
      Group,
      await this.knex(GROUP)
        .select('*')
        .whereIn('id', [...ids]),
    );
  }

  /** Live accounts matching `filter`, one page in (displayName, id) order. */
  async listAccounts(filter: AccountFilter, page: PageRequest): Promise<Connection<Account>> {
    const base = () => this.filteredAccounts(filter);
    const rows: DbRow[] = await applyKeyset(base().select('a.*'), 'a', ACCOUNT_ORDER, page);
    return toConnection(
      rows,
      page,
      accountKey,
      (r) => mapRow(this.em, Account, r),
      () => countRows(base()),
    );
  }

  private filteredAccounts(filter: AccountFilter): Knex.QueryBuilder {
    const qb = this.knex(`${ACCOUNT} as a`).whereNull('a.deleted_at');
    if (filter.instanceId) qb.where('a.instance_id', filter.instanceId);
    if (filter.provider) qb.whereIn('a.instance_id', this.knex('accounts.app_instance').select('id').where('provider', filter.provider));
    if (filter.status) qb.where('a.status', filter.status);
    if (filter.isAdmin !== undefined) qb.where('a.is_admin', filter.isAdmin);
    if (filter.search) {
      const pattern = likePattern(filter.search);
      qb.where((q) => q.whereILike('a.email', pattern).orWhereILike('a.display_name', pattern));
    }
    return qb;
  }

  /** Live groups (of one instance, when given), one page in (name, id) order. */
  async listGroups(instanceId: string | undefined, page: PageRequest): Promise<Connection<Group>> {
    const base = () => {
      const qb = this.knex(`${GROUP} as g`).whereNull('g.deleted_at');
      return instanceId ? qb.where('g.instance_id', instanceId) : qb;
    };
    const rows: DbRow[] = await applyKeyset(base().select('g.*'), 'g', GROUP_ORDER, page);
    return toConnection(
      rows,
      page,
      (r) => [r.name as string, r.id as string],
      (r) => mapRow(this.em, Group, r),
      () => countRows(base()),
    );
  }

  /** The groups of each account, by account id. */
  async groupsOfAccounts(accountIds: readonly string[]): Promise<Map<string, Group[]>> {
    const rows: DbRow[] = await this.knex(`${MEMBERSHIP} as m`)
      .join(`${GROUP} as g`, 'g.id', 'm.group_id')
      .whereIn('m.account_id', [...accountIds])
      .whereNull('g.deleted_at')
      .select('g.*', 'm.account_id as __account')
      .orderBy(['g.name', 'g.id']);
    const out = new Map<string, Group[]>(accountIds.map((id) => [id, []]));
    for (const { __account, ...row } of rows) out.get(__account as string)?.push(mapRow(this.em, Group, row));
    return out;
  }

  /** How many live accounts each group has. */
  async memberCounts(groupIds: readonly string[]): Promise<Map<string, number>> {
    const query = this.knex(`${MEMBERSHIP} as m`).join(`${ACCOUNT} as a`, 'a.id', 'm.account_id').whereNull('a.deleted_at');
    return countsByParent(query, 'm.group_id', groupIds);
  }

  /** One page of live members per group, in one statement. */
  async membersOfGroups(groupIds: readonly string[], page: PageRequest): Promise<Map<string, Connection<Account>>> {
    const pages = await pagesByParent<DbRow>(this.knex, groupIds, 'a', ACCOUNT_ORDER, page, (parent) =>
      this.knex(`${ACCOUNT} as a`)
        .select('a.*')
        .join(`${MEMBERSHIP} as m`, 'm.account_id', 'a.id')
        .where('m.group_id', parent)
        .whereNull('a.deleted_at'),
    );
    return connectionsByParent(
      pages,
      page,
      accountKey,
      (r) => mapRow(this.em, Account, r),
      () => this.memberCounts(groupIds),
    );
  }
}
