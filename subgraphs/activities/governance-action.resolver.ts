import { Arg, Ctx, Field, FieldResolver, ID, InputType, Int, ObjectType, Query, Resolver, Root } from 'type-graphql';
import type { SubgraphContext } from '../../platform/context.js';
import { parseId, parseOptionalId } from '../../platform/ids.js';
import { AFTER_ARG, connectionType, FIRST_ARG, readPage, type Connection } from '../../platform/pagination.js';
import { AppInstanceRef, ref } from '../../platform/references.js';
import { loaders, services } from './context.js';
import { Detection } from './detection.entity.js';
import { GovernanceAction } from './governance-action.entity.js';
import { GOVERNANCE_ORDER, type GovernanceFilter } from './governance.service.js';
import { Actor, AppPermissionRef, FileRef } from './references.js';
import { GovernanceActionType, GovernanceStatus } from '../../platform/governance/actions.js';

@ObjectType({ description: 'A page of governance actions, with where it starts and ends and how many match in all.' })
export class GovernanceActionConnection extends connectionType(GovernanceAction, 'GovernanceAction', 'governance actions') {}

@InputType('GovernanceFilter')
export class GovernanceFilterInput {
  @Field(() => ID, { nullable: true })
  instanceId?: string | null;

  @Field(() => GovernanceActionType, { nullable: true })
  type?: GovernanceActionType | null;

  @Field(() => GovernanceStatus, { nullable: true })
  status?: GovernanceStatus | null;
}

export function readGovernanceFilter(filter: GovernanceFilterInput | null | undefined): GovernanceFilter {
  if (!filter) return {};
  return {
    instanceId: parseOptionalId(filter.instanceId, 'filter.instanceId'),
    type: filter.type ?? undefined,
    status: filter.status ?? undefined,
  };
}

@Resolver(() => GovernanceAction)
export class GovernanceActionResolver {
  @Query(() => GovernanceActionConnection, { description: 'The governance log, newest request first.' })
  async governanceActions(
    @Ctx() ctx: SubgraphContext,
    @Arg('filter', () => GovernanceFilterInput, { nullable: true }) filter?: GovernanceFilterInput | null,
    @Arg('first', () => Int, FIRST_ARG) first?: number | null,
    @Arg('after', () => String, AFTER_ARG) after?: string | null,
  ): Promise<Connection<GovernanceAction>> {
    const parsed = readGovernanceFilter(filter);
    return services.governance(ctx).list(parsed, readPage({ first, after }, GOVERNANCE_ORDER));
  }

  @Query(() => GovernanceAction, { nullable: true })
  async governanceAction(@Arg('id', () => ID) id: string, @Ctx() ctx: SubgraphContext): Promise<GovernanceAction | null> {
    return loaders.governanceAction(ctx).load(parseId(id, 'id'));
  }

  @FieldResolver(() => AppInstanceRef)
  instance(@Root() action: GovernanceAction): AppInstanceRef {
    return ref(action.instanceId);
  }

  @FieldResolver(() => Actor, { nullable: true })
  account(@Root() action: GovernanceAction): Actor | null {
    return ref(action.accountId);
  }

  @FieldResolver(() => FileRef, { nullable: true })
  file(@Root() action: GovernanceAction): FileRef | null {
    return ref(action.fileId);
  }

  @FieldResolver(() => AppPermissionRef, { nullable: true })
  appPermission(@Root() action: GovernanceAction): AppPermissionRef | null {
    return ref(action.appPermissionId);
  }

  @FieldResolver(() => Detection, { nullable: true })
  async detection(@Root() action: GovernanceAction, @Ctx() ctx: SubgraphContext): Promise<Detection | null> {
    return action.detectionId ? loaders.detection(ctx).load(action.detectionId) : null;
  }
}
