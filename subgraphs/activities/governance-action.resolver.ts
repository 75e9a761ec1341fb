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

@InputType('GovernanceFilter', { description: 'Which governance actions to list; every field given must match (none: every action).' })
export class GovernanceFilterInput {
  @Field(() => ID, { nullable: true, description: 'Actions in this app instance.' })
  instanceId?: string | null;

  @Field(() => GovernanceActionType, { nullable: true, description: 'Actions of this type.' })
  type?: GovernanceActionType | null;

  @Field(() => GovernanceStatus, {
    nullable: true,
    description: 'Actions with this status (as they are now; for a subscription, as each event left them).',
  })
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
    @Arg('filter', () => GovernanceFilterInput, { nullable: true, description: 'Which actions; absent: all of them.' })
    filter?: GovernanceFilterInput | null,
    @Arg('first', () => Int, FIRST_ARG) first?: number | null,
    @Arg('after', () => String, AFTER_ARG) after?: string | null,
  ): Promise<Connection<GovernanceAction>> {
    const parsed = readGovernanceFilter(filter);
    return services.governance(ctx).list(parsed, readPage({ first, after }, GOVERNANCE_ORDER));
  }

  @Query(() => GovernanceAction, { nullable: true, description: 'One governance action by id; null when none has it.' })
  async governanceAction(
    @Arg('id', () => ID, { description: "The action's id." }) id: string,
    @Ctx() ctx: SubgraphContext,
  ): Promise<GovernanceAction | null> {
    return loaders.governanceAction(ctx).load(parseId(id, 'id'));
  }

  @FieldResolver(() => AppInstanceRef, {
    nullable: true,
    description: 'The app instance of its target. Null only while the accounts subgraph cannot be reached (the error names it).',
  })
  instance(@Root() action: GovernanceAction): AppInstanceRef {
    return ref(action.instanceId);
  }

  @FieldResolver(() => Actor, { nullable: true, description: 'The account it acts on; null when it acts on a file or an app permission.' })
  account(@Root() action: GovernanceAction): Actor | null {
    return ref(action.accountId);
  }

  @FieldResolver(() => FileRef, {
    nullable: true,
    description: 'The file it acts on; null when it acts on an account or an app permission.',
  })
  file(@Root() action: GovernanceAction): FileRef | null {
    return ref(action.fileId);
  }

  @FieldResolver(() => AppPermissionRef, {
    nullable: true,
    description: 'The OAuth grant it acts on; null when it acts on an account or a file.',
  })
  appPermission(@Root() action: GovernanceAction): AppPermissionRef | null {
    return ref(action.appPermissionId);
  }

  @FieldResolver(() => Detection, {
    nullable: true,
    description: 'The detection whose policy requested it (automatic governance); null when a person requested it.',
  })
  async detection(@Root() action: GovernanceAction, @Ctx() ctx: SubgraphContext): Promise<Detection | null> {
    return action.detectionId ? loaders.detection(ctx).load(action.detectionId) : null;
  }
}
