import { byKeys, loader } from '../../platform/context.js';
import { scopeOf } from '../../platform/scope.js';
import type { GovernanceContext } from '../../platform/governance/request.js';
import type { ConnectorCatalog } from '../../platform/ports.js';
import type { Connection, PageRequest } from '../../platform/pagination.js';
import type { Account, Group } from './account.entity.js';
import { AccountService } from './account.service.js';
import type { ApiUsage, AppInstance, ScanState } from './app-instance.entity.js';
import { AppInstanceService } from './app-instance.service.js';

/** The accounts subgraph's request context: the shared one, the governance ports, the credentials key and the connectors. */
export interface AccountsContext extends GovernanceContext {
  readonly credentialsKey: Buffer;
  readonly connectors: ConnectorCatalog;
  /** CONNECTOR_ALLOW_PRIVATE: whether a connector endpoint may be a private address. */
  readonly allowPrivateEndpoints: boolean;
  /** HEADROOM_PERCENT: the headroom of an instance that has none of its own. */
  readonly defaultHeadroomPercent: number;
}

export const accountService = (ctx: AccountsContext) => new AccountService(ctx.em, scopeOf(ctx));
export const instanceService = (ctx: AccountsContext) => new AppInstanceService(ctx.em, ctx.credentialsKey, scopeOf(ctx));

/** Per-request batch loaders: one SQL statement per kind of lookup per query level. */
export const loaders = {
  instance: (ctx: AccountsContext) =>
    loader<string, AppInstance | null>(ctx, 'instance', async (ids) => byKeys(ids, await instanceService(ctx).byIds(ids), (i) => i.id)),
  account: (ctx: AccountsContext) =>
    loader<string, Account | null>(ctx, 'account', async (ids) => byKeys(ids, await accountService(ctx).accountsByIds(ids), (a) => a.id)),
  group: (ctx: AccountsContext) =>
    loader<string, Group | null>(ctx, 'group', async (ids) => byKeys(ids, await accountService(ctx).groupsByIds(ids), (g) => g.id)),
  groupsOfAccount: (ctx: AccountsContext) =>
    loader<string, Group[]>(ctx, 'groupsOfAccount', async (ids) => {
      const found = await accountService(ctx).groupsOfAccounts(ids);
      return ids.map((id) => found.get(id) ?? []);
    }),
  memberCount: (ctx: AccountsContext) =>
    loader<string, number>(ctx, 'memberCount', async (ids) => {
      const found = await accountService(ctx).memberCounts(ids);
      return ids.map((id) => found.get(id) ?? 0);
    }),
  members: (ctx: AccountsContext, page: PageRequest) =>
    loader<string, Connection<Account>>(ctx, `members:${JSON.stringify(page)}`, async (ids) => {
      const found = await accountService(ctx).membersOfGroups(ids, page);
      return ids.map((id) => found.get(id)!);
    }),
  scans: (ctx: AccountsContext) =>
    loader<string, ScanState[]>(ctx, 'scans', async (ids) => {
      const found = await instanceService(ctx).scansOf(ids);
      return ids.map((id) => found.get(id) ?? []);
    }),
  usage: (ctx: AccountsContext) =>
    loader<AppInstance, ApiUsage>(
      ctx,
      'usage',
      async (instances) => {
        const found = await instanceService(ctx).usageOf(instances, ctx.defaultHeadroomPercent);
        return instances.map((i) => found.get(i.id)!);
      },
      (i) => i.id,
    ),
};
