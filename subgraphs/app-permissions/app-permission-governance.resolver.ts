import { Arg, Authorized, Ctx, Directive, Mutation, Resolver } from 'type-graphql';
import { GovernanceActionRef, PROVIDES_GOVERNANCE_ACTION } from '../../platform/references.js';
import type { AppPermission } from './app-permission.entity.js';
import { appPermissionLoaders } from './app-permission.resolver.js';
import { GovernanceActionType } from '../../platform/governance/actions.js';
import { GovernanceInput, requestGovernance, type GovernanceContext } from '../../platform/governance/request.js';

/** App-permission governance: recorded here, carried out at the provider by the scheduler, results streamed. */
@Resolver()
export class AppPermissionGovernanceResolver {
  @Authorized('responder')
  @Directive(PROVIDES_GOVERNANCE_ACTION)
  @Mutation(() => GovernanceActionRef, {
    description:
      'Revokes the OAuth grant at the provider: the app loses its access for that account. Role: responder or higher. Answers the governance action, which the scheduler then carries out (see governanceResult).',
  })
  revokeAppPermission(
    @Arg('input', () => GovernanceInput, { description: 'The grant (`targetId`), why, and how to run it.' }) input: GovernanceInput,
    @Ctx() ctx: GovernanceContext,
  ): Promise<GovernanceActionRef> {
    return requestGovernance(ctx, {
      type: GovernanceActionType.REVOKE_APP_PERMISSION,
      input,
      load: async (id) => {
        const grant: AppPermission | null = await appPermissionLoaders.grant(ctx).load(id);
        return grant
          ? {
              id: grant.id,
              instanceId: grant.instanceId,
              deleted: grant.deletedAt !== null,
              label: `${grant.appName} (${grant.externalId})`,
              state: { kind: 'appPermission', revoked: grant.revoked },
            }
          : null;
      },
    });
  }
}
