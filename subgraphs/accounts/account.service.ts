import type { EntityManager, Knex } from '@mikro-orm/postgresql';
import { likePattern, upsertRows } from '../../platform/bulk.js';
import type { DbRow } from '../../platform/database.js';
import { ProviderMirror, type MirrorTable } from '../../platform/mirror.js';
import { EVERY_INSTANCE, restrictTo, type InstanceScope } from '../../platform/scope.js';
import { countsByParent, type Connection, type Ordering, type PageRequest } from '../../platform/pagination.js';
import { AccountStatus } from '../../platform/vocabulary/account-status.js';
import { Account, Group } from './account.entity.js';

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

const ACCOUNT = 'accounts.account';
const GROUP = 'accounts.group';
const MEMBERSHIP = 'accounts.group_membership';

const ACCOUNTS: MirrorTable<Account> = {
  table: ACCOUNT,
  entity: Account,
  alias: 'a',
  ordering: ACCOUNT_ORDER,
  sortKey: (r: DbRow) => [r.display_name as string, r.id as string],
  updatable: ['email', 'display_name', 'status', 'is_admin', 'privileges'],
};

const GROUPS: MirrorTable<Group> = {
  table: GROUP,
  entity: Group,
  alias: 'g',
  ordering: GROUP_ORDER,
  sortKey: (r: DbRow) => [r.name as string, r.id as string],
  updatable: ['name'],
};

/** The only writer of accounts, groups and memberships; also their reads. */
export class AccountService {
  private readonly accounts: ProviderMirror<Account>;
  private readonly groups: ProviderMirror<Group>;

  /** `scope`: the instances a caller may read (null: every one); every read keeps to it. */
  constructor(
    private readonly em: EntityManager,
    private readonly scope: InstanceScope = EVERY_INSTANCE,
  ) {
    this.accounts = new ProviderMirror(em, ACCOUNTS, scope);
    this.groups = new ProviderMirror(em, GROUPS, scope);
  }

  private get knex(): Knex {
    return this.em.getKnex();
  }

  /**
   * Inserts or updates accounts by `(instance, externalId)` in bulk; answers externalId → id.
   * `pass` names the full scan pass that saw them (see {@link markAccountsMissingFrom}).
   */
  upsertAccounts(instanceId: string, records: readonly AccountRecord[], pass: string | null = null): Promise<Map<string, string>> {
    const rows = records.map((r) => ({
      external_id: r.externalId,
      email: r.email ?? null,
      display_name: r.displayName,
      status: r.status ?? AccountStatus.ACTIVE,
      is_admin: r.isAdmin ?? false,
      privileges: [...(r.privileges ?? [])],
    }));
    return this.accounts.upsert(instanceId, rows, pass);
  }

  /** Inserts or updates groups by `(instance, externalId)` in bulk; answers externalId → id. */
  upsertGroups(instanceId: string, records: readonly GroupRecord[], pass: string | null = null): Promise<Map<string, string>> {
    return this.groups.upsert(
      instanceId,
      records.map((r) => ({ external_id: r.externalId, name: r.name })),
      pass,
    );
  }

  /** Marks deleted the instance's accounts that the finished full pass `pass` did not see. */
  markAccountsMissingFrom(instanceId: string, pass: string): Promise<number> {
    return this.accounts.markMissingFrom(instanceId, pass);
  }

  /** Marks deleted the instance's accounts the provider says were deleted (a change feed's deletions). */
  markAccountsDeleted(instanceId: string, externalIds: readonly string[]): Promise<number> {
    return this.accounts.markDeleted(instanceId, externalIds);
  }

  /** Marks deleted the instance's groups that the finished full pass `pass` did not see. */
  markGroupsMissingFrom(instanceId: string, pass: string): Promise<number> {
    return this.groups.markMissingFrom(instanceId, pass);
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
  accountIdsByExternalId(instanceId: string, externalIds: readonly string[]): Promise<Map<string, string>> {
    return this.accounts.idsByExternalId(instanceId, externalIds);
  }

  accountsByIds(ids: readonly string[]): Promise<Account[]> {
    return this.accounts.byIds(ids);
  }

  groupsByIds(ids: readonly string[]): Promise<Group[]> {
    return this.groups.byIds(ids);
  }

  /** Live accounts matching `filter`, one page in (displayName, id) order. */
  listAccounts(filter: AccountFilter, page: PageRequest): Promise<Connection<Account>> {
    return this.accounts.list(() => this.filteredAccounts(filter), page);
  }

  private filteredAccounts(filter: AccountFilter): Knex.QueryBuilder {
    const qb = this.accounts.from().whereNull('a.deleted_at');
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
  listGroups(instanceId: string | undefined, page: PageRequest): Promise<Connection<Group>> {
    return this.groups.list(() => {
      const qb = this.groups.from().whereNull('g.deleted_at');
      return instanceId ? qb.where('g.instance_id', instanceId) : qb;
    }, page);
  }

  /** The groups of each account, by account id. */
  async groupsOfAccounts(accountIds: readonly string[]): Promise<Map<string, Group[]>> {
    const rows: DbRow[] = await this.knex(`${MEMBERSHIP} as m`)
      .join(`${GROUP} as g`, 'g.id', 'm.group_id')
      .whereIn('m.account_id', [...accountIds])
      .modify(restrictTo(this.scope, 'g.instance_id'))
      .whereNull('g.deleted_at')
      .select('g.*', 'm.account_id as __account')
      .orderBy(['g.name', 'g.id']);
    const out = new Map<string, Group[]>(accountIds.map((id) => [id, []]));
    for (const { __account, ...row } of rows) out.get(__account as string)?.push(this.groups.hydrate(row));
    return out;
  }

  /** How many live accounts each group has. */
  async memberCounts(groupIds: readonly string[]): Promise<Map<string, number>> {
    const query = this.knex(`${MEMBERSHIP} as m`)
      .join(`${ACCOUNT} as a`, 'a.id', 'm.account_id')
      .whereNull('a.deleted_at')
      .modify(restrictTo(this.scope, 'a.instance_id'));
    return countsByParent(query, 'm.group_id', groupIds);
  }

  /** One page of live members per group, in one statement. */
  membersOfGroups(groupIds: readonly string[], page: PageRequest): Promise<Map<string, Connection<Account>>> {
    return this.accounts.listByParent(
      groupIds,
      page,
      (parent) =>
        this.accounts
          .from()
          .select('a.*')
          .join(`${MEMBERSHIP} as m`, 'm.account_id', 'a.id')
          .where('m.group_id', parent)
          .whereNull('a.deleted_at'),
      () => this.memberCounts(groupIds),
    );
  }
}
