import { Arg, Ctx, Field, FieldResolver, ID, InputType, Int, ObjectType, Query, Resolver, Root } from 'type-graphql';
import { badInput } from '../../platform/errors.js';
import { parseId, parseOptionalId } from '../../platform/ids.js';
import { AFTER_ARG, connectionType, FIRST_ARG, readPage, type Connection } from '../../platform/pagination.js';
import { Account, Group } from './account.entity.js';
import { ACCOUNT_ORDER, GROUP_ORDER, type AccountFilter } from './account.service.js';
import { AppInstance } from './app-instance.entity.js';
import { accountService, loaders, type AccountsContext } from './context.js';
import { AccountStatus } from '../../platform/vocabulary/account-status.js';

@ObjectType({ description: 'A page of accounts, with where it starts and ends and how many match in all.' })
export class AccountConnection extends connectionType(Account, 'Account', 'accounts') {}

@ObjectType({ description: 'A page of groups, with where it starts and ends and how many match in all.' })
export class GroupConnection extends connectionType(Group, 'Group', 'groups') {}

@InputType('AccountFilter', { description: 'Which accounts to list; every field given must match (none: every account).' })
export class AccountFilterInput {
  @Field(() => ID, { nullable: true, description: 'Accounts of this app instance.' })
  instanceId?: string | null;

  @Field(() => String, {
    nullable: true,
    description: 'Accounts of every instance of this connector (`AppInstance.provider`, e.g. "m365").',
  })
  provider?: string | null;

  @Field(() => AccountStatus, { nullable: true, description: 'Accounts with this status.' })
  status?: AccountStatus | null;

  @Field(() => Boolean, { nullable: true, description: 'Only administrators (true) or only other accounts (false).' })
  isAdmin?: boolean | null;

  @Field(() => String, { nullable: true, description: 'A case-insensitive part of the email or display name (at most 200 characters).' })
  search?: string | null;
}

function readAccountFilter(filter: AccountFilterInput | null | undefined): AccountFilter {
  if (!filter) return {};
  if (filter.search !== null && filter.search !== undefined && filter.search.length > 200) {
    throw badInput('filter.search', 'must be at most 200 characters');
  }
  return {
    instanceId: parseOptionalId(filter.instanceId, 'filter.instanceId'),
    provider: filter.provider ?? undefined,
    status: filter.status ?? undefined,
    isAdmin: filter.isAdmin ?? undefined,
    search: filter.search || undefined,
  };
}

@Resolver(() => Account)
export class AccountResolver {
  @Query(() => AccountConnection, {
    description: 'Accounts of every instance (deleted at the provider excluded), by display name then id.',
  })
  async accounts(
    @Ctx() ctx: AccountsContext,
    @Arg('filter', () => AccountFilterInput, { nullable: true, description: 'Which accounts; absent: all of them.' })
    filter?: AccountFilterInput | null,
    @Arg('first', () => Int, FIRST_ARG) first?: number | null,
    @Arg('after', () => String, AFTER_ARG) after?: string | null,
  ): Promise<Connection<Account>> {
    const parsed = readAccountFilter(filter);
    return accountService(ctx).listAccounts(parsed, readPage({ first, after }, ACCOUNT_ORDER));
  }

  @Query(() => Account, {
    nullable: true,
    description: 'One account by id, also after the provider deleted it; null when no account has this id.',
  })
  async account(
    @Arg('id', () => ID, { description: "The account's id." }) id: string,
    @Ctx() ctx: AccountsContext,
  ): Promise<Account | null> {
    return loaders.account(ctx).load(parseId(id, 'id'));
  }

  @FieldResolver(() => AppInstance, { description: 'The app instance the account belongs to.' })
  async instance(@Root() account: Account, @Ctx() ctx: AccountsContext): Promise<AppInstance | null> {
    return loaders.instance(ctx).load(account.instanceId);
  }

  @FieldResolver(() => [Group], { description: 'The groups the account is a member of, by name.' })
  async groups(@Root() account: Account, @Ctx() ctx: AccountsContext): Promise<Group[]> {
    return loaders.groupsOfAccount(ctx).load(account.id);
  }
}

@Resolver(() => Group)
export class GroupResolver {
  @Query(() => GroupConnection, { description: 'Groups (deleted at the provider excluded), by name then id.' })
  async groups(
    @Ctx() ctx: AccountsContext,
    @Arg('instanceId', () => ID, { nullable: true, description: 'Groups of this app instance only; absent: of every instance.' })
    instanceId?: string | null,
    @Arg('first', () => Int, FIRST_ARG) first?: number | null,
    @Arg('after', () => String, AFTER_ARG) after?: string | null,
  ): Promise<Connection<Group>> {
    return accountService(ctx).listGroups(parseOptionalId(instanceId, 'instanceId'), readPage({ first, after }, GROUP_ORDER));
  }

  @FieldResolver(() => AppInstance, { description: 'The app instance the group belongs to.' })
  async instance(@Root() group: Group, @Ctx() ctx: AccountsContext): Promise<AppInstance | null> {
    return loaders.instance(ctx).load(group.instanceId);
  }

  @FieldResolver(() => Int, { description: 'How many accounts are members (deleted accounts excluded).' })
  async memberCount(@Root() group: Group, @Ctx() ctx: AccountsContext): Promise<number> {
    return loaders.memberCount(ctx).load(group.id);
  }

  @FieldResolver(() => AccountConnection, { description: 'The member accounts (deleted ones excluded), by display name then id.' })
  async members(
    @Root() group: Group,
    @Ctx() ctx: AccountsContext,
    @Arg('first', () => Int, FIRST_ARG) first?: number | null,
    @Arg('after', () => String, AFTER_ARG) after?: string | null,
  ): Promise<Connection<Account>> {
    return loaders.members(ctx, readPage({ first, after }, ACCOUNT_ORDER)).load(group.id);
  }
}
