import {
  Arg,
  Authorized,
  Ctx,
  Directive,
  Field,
  FieldResolver,
  ID,
  InputType,
  Int,
  Mutation,
  ObjectType,
  Query,
  Resolver,
  Root,
} from 'type-graphql';
import type { SubgraphContext } from '../../platform/context.js';
import { badInput } from '../../platform/errors.js';
import { GovernanceActionType } from '../../platform/governance/actions.js';
import type { GovernanceContext } from '../../platform/governance/request.js';
import { validateRequest } from '../../platform/governance/request.js';
import { parseId, parseOptionalId } from '../../platform/ids.js';
import { AFTER_ARG, connectionType, FIRST_ARG, readPage, type Connection } from '../../platform/pagination.js';
import { AppInstanceRef, GovernanceActionRef, governanceActionRef, PROVIDES_GOVERNANCE_ACTION, ref } from '../../platform/references.js';
import { PermissionLevel } from '../../platform/vocabulary/permission-level.js';
import { scopeOf } from '../../platform/scope.js';
import { AppPermissionService } from './app-permission.service.js';
import { APP_ORDER, AppService, type AppFilter, type AppSummary } from './app.service.js';

/** An OAuth app in one instance: its live grants added up. */
@ObjectType({ description: 'An OAuth app in one instance, as its live (unrevoked) grants add up.' })
export class App {
  instanceId!: string;

  @Field({ description: "The app's OAuth client id at the provider." })
  clientId!: string;

  @Field({ description: 'Its name, as the provider shows it.' })
  name!: string;

  @Field(() => String, { nullable: true, description: 'Who publishes it, when the provider tells.' })
  publisher!: string | null;

  @Field(() => Int, { description: 'Accounts holding a live grant.' })
  users!: number;

  @Field(() => Int, { description: 'Live grants.' })
  grants!: number;

  @Field(() => PermissionLevel, { description: 'The highest permission level among its grants.' })
  highestPermissionLevel!: PermissionLevel;

  @Field(() => [String], { description: 'Every scope any of its grants holds.' })
  scopes!: string[];

  @Field(() => Date, { nullable: true, description: 'Its first grant, when the provider tells.' })
  firstGrantedAt!: Date | null;

  @Field(() => Date, { nullable: true, description: 'Its last use by any account, when the provider tells.' })
  lastUsedAt!: Date | null;
}

@ObjectType({ description: 'A page of OAuth apps, with where it starts and ends and how many match in all.' })
export class AppConnection extends connectionType(App, 'App', 'OAuth apps') {}

@InputType('AppFilter', { description: 'Which apps to list; every field given must match (none: every app).' })
export class AppFilterInput {
  @Field(() => ID, { nullable: true, description: 'Apps of this instance.' })
  instanceId?: string | null;

  @Field(() => PermissionLevel, { nullable: true, description: 'Apps whose highest permission level is this one.' })
  permissionLevel?: PermissionLevel | null;

  @Field(() => String, { nullable: true, description: 'A case-insensitive part of the name or client id (at most 200 characters).' })
  search?: string | null;
}

@InputType({ description: 'An app to revoke for everyone in one instance.' })
export class RevokeAppInput {
  @Field(() => ID, { description: 'The instance whose grants of the app are revoked.' })
  instanceId!: string;

  @Field({ description: "The app's OAuth client id." })
  clientId!: string;

  @Field(() => String, { nullable: true, description: 'Why, for the governance log (at most 1,000 characters).' })
  reason?: string | null;
}

@ObjectType({ description: 'The governance actions revoking an app: one per live grant.' })
export class RevokeAppResult {
  @Field(() => [GovernanceActionRef], { description: 'One REVOKE_APP_PERMISSION action per live grant, followed like any other.' })
  @Directive(PROVIDES_GOVERNANCE_ACTION)
  actions!: GovernanceActionRef[];
}

/** The most grants one revokeApp takes on (a ban policy revokes the rest as it sees them). */
const MAX_REVOKE = 5_000;

const apps = (ctx: SubgraphContext) => new AppService(ctx.em.getKnex(), scopeOf(ctx));

function toApp(summary: AppSummary): App {
  return Object.assign(new App(), { ...summary, scopes: [...summary.scopes] });
}

function readAppFilter(filter: AppFilterInput | null | undefined): AppFilter {
  if (!filter) return {};
  const search = filter.search?.trim();
  if (search && search.length > 200) throw badInput('filter.search', 'must be at most 200 characters');
  return {
    instanceId: parseOptionalId(filter.instanceId, 'filter.instanceId'),
    permissionLevel: filter.permissionLevel ?? undefined,
    ...(search ? { search } : {}),
  };
}

@Resolver(() => App)
export class AppResolver {
  @Query(() => AppConnection, {
    description:
      'OAuth apps with live grants, one per instance and client id, by name then client id, with their live (unrevoked) grants added up.',
  })
  async apps(
    @Ctx() ctx: SubgraphContext,
    @Arg('filter', () => AppFilterInput, { nullable: true, description: 'Which apps.' }) filter?: AppFilterInput | null,
    @Arg('first', () => Int, FIRST_ARG) first?: number | null,
    @Arg('after', () => String, AFTER_ARG) after?: string | null,
  ): Promise<Connection<App>> {
    const connection = await apps(ctx).list(readAppFilter(filter), readPage({ first, after }, APP_ORDER));
    return { ...connection, edges: connection.edges.map((e) => ({ cursor: e.cursor, node: toApp(e.node) })) };
  }

  @FieldResolver(() => AppInstanceRef, {
    nullable: true,
    description: 'The instance it is granted in. Null only while the accounts subgraph cannot be reached (the error names it).',
  })
  instance(@Root() app: App): AppInstanceRef {
    return ref(app.instanceId)!;
  }

  @Authorized('responder')
  @Mutation(() => RevokeAppResult, {
    description: `Revokes every live grant of an app in an instance (at most ${MAX_REVOKE}), one REVOKE_APP_PERMISSION action each, carried out and streamed like any other. To keep it out, add a policy of kind APP_PERMISSION on its clientId with autoGovernance REVOKE_APP_PERMISSION. Role: responder or higher.`,
  })
  async revokeApp(
    @Arg('input', () => RevokeAppInput, { description: "The instance, the app's client id, and why." }) input: RevokeAppInput,
    @Ctx() ctx: GovernanceContext,
  ): Promise<RevokeAppResult> {
    const instanceId = parseId(input.instanceId, 'input.instanceId');
    const clientId = input.clientId.trim();
    if (clientId.length === 0 || clientId.length > 500) throw badInput('input.clientId', 'must be 1 to 500 characters');
    const reason = input.reason?.trim() || null;
    if (reason && reason.length > 1000) throw badInput('input.reason', 'must be at most 1000 characters');
    // Out of the caller's scope: no grant (as if the instance did not exist).
    const grants = await new AppPermissionService(ctx.em, scopeOf(ctx)).liveGrantsOfApps(instanceId, [clientId], MAX_REVOKE + 1);
    if (grants.length === 0) throw badInput('input.clientId', `no live grant of app ${clientId.slice(0, 100)} in instance ${instanceId}`);
    if (grants.length > MAX_REVOKE)
      throw badInput(
        'input.clientId',
        `the app has more than ${MAX_REVOKE} live grants: revoke it with a policy (autoGovernance REVOKE_APP_PERMISSION)`,
      );
    const actions: GovernanceActionRef[] = [];
    for (const grant of grants) {
      const target = {
        id: grant.id,
        instanceId: grant.instanceId,
        deleted: false,
        label: `${grant.appName} (${grant.externalId})`,
        state: { kind: 'appPermission' as const, revoked: grant.revoked },
      };
      const outcome = await ctx.governance.log.request(
        {
          type: GovernanceActionType.REVOKE_APP_PERMISSION,
          instanceId,
          accountId: null,
          fileId: null,
          appPermissionId: grant.id,
          requestedBy: ctx.principal.subject,
          reason: reason ?? `App ${grant.appName} revoked for everyone`,
        },
        () => validateRequest(ctx.governance.instances, GovernanceActionType.REVOKE_APP_PERMISSION, target),
      );
      actions.push(governanceActionRef(outcome.action));
    }
    return { actions };
  }
}
