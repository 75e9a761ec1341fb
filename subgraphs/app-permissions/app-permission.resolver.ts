import { Arg, Ctx, Directive, Field, FieldResolver, ID, InputType, Int, ObjectType, Query, Resolver, Root } from 'type-graphql';
import { byKeys, loader, type SubgraphContext } from '../../platform/context.js';
import { scopeOf } from '../../platform/scope.js';
import { badInput } from '../../platform/errors.js';
import { parseId, parseOptionalId } from '../../platform/ids.js';
import { AFTER_ARG, connectionType, FIRST_ARG, readPage, type Connection, type PageRequest } from '../../platform/pagination.js';
import { AppInstanceRef, ref } from '../../platform/references.js';
import { AppPermission } from './app-permission.entity.js';
import { APP_PERMISSION_ORDER, AppPermissionService, type AppPermissionFilter } from './app-permission.service.js';
import { PermissionLevel } from '../../platform/vocabulary/permission-level.js';

@ObjectType({ description: 'A page of OAuth grants, with where it starts and ends and how many match in all.' })
export class AppPermissionConnection extends connectionType(AppPermission, 'AppPermission', 'OAuth grants') {}

/** Account as the app-permissions subgraph sees it: it contributes `Account.appPermissions`. */
@ObjectType('Account')
@Directive('@key(fields: "id")')
export class Grantor {
  @Field(() => ID)
  id!: string;
}

@InputType('AppPermissionFilter', { description: 'Which grants to list; every field given must match (none: every grant).' })
export class AppPermissionFilterInput {
  @Field(() => ID, { nullable: true, description: 'Grants in this app instance.' })
  instanceId?: string | null;

  @Field(() => ID, { nullable: true, description: 'Grants this account made.' })
  grantedById?: string | null;

  @Field(() => PermissionLevel, { nullable: true, description: 'Grants at exactly this permission level.' })
  permissionLevel?: PermissionLevel | null;

  @Field(() => Boolean, { nullable: true, description: 'Only revoked (true) or only live (false) grants.' })
  revoked?: boolean | null;

  @Field(() => String, { nullable: true, description: "The app's name, matched exactly but case-insensitively." })
  appName?: string | null;

  @Field(() => String, { nullable: true, description: "The app's OAuth client id, exactly." })
  clientId?: string | null;
}

function readFilter(filter: AppPermissionFilterInput | null | undefined): AppPermissionFilter {
  if (!filter) return {};
  if (filter.appName && filter.appName.length > 200) throw badInput('filter.appName', 'must be at most 200 characters');
  if (filter.clientId && filter.clientId.length > 500) throw badInput('filter.clientId', 'must be at most 500 characters');
  return {
    instanceId: parseOptionalId(filter.instanceId, 'filter.instanceId'),
    grantedById: parseOptionalId(filter.grantedById, 'filter.grantedById'),
    permissionLevel: filter.permissionLevel ?? undefined,
    revoked: filter.revoked ?? undefined,
    appName: filter.appName || undefined,
    clientId: filter.clientId || undefined,
  };
}

const service = (ctx: SubgraphContext) => new AppPermissionService(ctx.em, scopeOf(ctx));

export const appPermissionLoaders = {
  grant: (ctx: SubgraphContext) =>
    loader<string, AppPermission | null>(ctx, 'grant', async (ids) => byKeys(ids, await service(ctx).byIds(ids), (p) => p.id)),
  grantsOfAccount: (ctx: SubgraphContext, page: PageRequest) =>
    loader<string, Connection<AppPermission>>(ctx, `grantsOfAccount:${JSON.stringify(page)}`, async (ids) => {
      const found = await service(ctx).grantsOfAccounts(ids, page);
      return ids.map((id) => found.get(id)!);
    }),
};

@Resolver(() => AppPermission)
export class AppPermissionResolver {
  @Query(() => AppPermissionConnection, {
    description: 'OAuth grants of every instance (deleted at the provider excluded), by app name then id.',
  })
  async appPermissions(
    @Ctx() ctx: SubgraphContext,
    @Arg('filter', () => AppPermissionFilterInput, { nullable: true, description: 'Which grants; absent: all of them.' })
    filter?: AppPermissionFilterInput | null,
    @Arg('first', () => Int, FIRST_ARG) first?: number | null,
    @Arg('after', () => String, AFTER_ARG) after?: string | null,
  ): Promise<Connection<AppPermission>> {
    const parsed = readFilter(filter);
    return service(ctx).list(parsed, readPage({ first, after }, APP_PERMISSION_ORDER));
  }

  @Query(() => AppPermission, {
    nullable: true,
    description: 'One OAuth grant by id, also after the provider deleted it; null when no grant has this id.',
  })
  async appPermission(
    @Arg('id', () => ID, { description: "The grant's id." }) id: string,
    @Ctx() ctx: SubgraphContext,
  ): Promise<AppPermission | null> {
    return appPermissionLoaders.grant(ctx).load(parseId(id, 'id'));
  }

  @FieldResolver(() => AppInstanceRef, {
    nullable: true,
    description: 'The app instance the grant was made in. Null only while the accounts subgraph cannot be reached (the error names it).',
  })
  instance(@Root() grant: AppPermission): AppInstanceRef {
    return ref(grant.instanceId);
  }

  @FieldResolver(() => Grantor, {
    nullable: true,
    description: 'The account that granted it; null when the provider names none or Tenantwatch does not know the account.',
  })
  grantedBy(@Root() grant: AppPermission): Grantor | null {
    return ref(grant.grantedById);
  }
}

@Resolver(() => Grantor)
export class GrantorResolver {
  @FieldResolver(() => AppPermissionConnection, {
    nullable: true,
    description:
      'OAuth grants this account made (deleted at the provider excluded), by app name then id. Null only while the app-permissions subgraph cannot be reached (the error names it).',
  })
  async appPermissions(
    @Root() account: Grantor,
    @Ctx() ctx: SubgraphContext,
    @Arg('first', () => Int, FIRST_ARG) first?: number | null,
    @Arg('after', () => String, AFTER_ARG) after?: string | null,
  ): Promise<Connection<AppPermission>> {
    return appPermissionLoaders.grantsOfAccount(ctx, readPage({ first, after }, APP_PERMISSION_ORDER)).load(account.id);
  }
}
