import { Arg, Authorized, Ctx, Directive, Mutation, Resolver } from 'type-graphql';
import { GovernanceActionRef, PROVIDES_GOVERNANCE_ACTION } from '../../platform/references.js';
import type { Account } from './account.entity.js';
import { loaders, type AccountsContext } from './context.js';
import { GovernanceActionType } from '../../platform/governance/actions.js';
import { type GovernanceTarget } from '../../platform/governance/actions.js';
import { GovernanceInput, requestGovernance } from '../../platform/governance/request.js';

const target =
  (ctx: AccountsContext) =>
  async (id: string): Promise<GovernanceTarget | null> => {
    const account: Account | null = await loaders.account(ctx).load(id);
    return account
      ? {
          id: account.id,
          instanceId: account.instanceId,
          deleted: account.deletedAt !== null,
          label: account.email ?? account.displayName,
          state: { kind: 'account', status: account.status },
        }
      : null;
  };

const mutation = (ctx: AccountsContext, type: GovernanceActionType, input: GovernanceInput) =>
  requestGovernance(ctx, { type, input, load: target(ctx) });

/** Account governance: recorded here, carried out at the provider by the scheduler, results streamed. */
@Resolver()
export class AccountGovernanceResolver {
  @Authorized('responder')
  @Directive(PROVIDES_GOVERNANCE_ACTION)
  @Mutation(() => GovernanceActionRef, {
    description:
      'Suspends the account at the provider (sign-in blocked). Role: responder or higher. Answers the governance action, which the scheduler then carries out (see governanceResult).',
  })
  suspendAccount(
    @Arg('input', () => GovernanceInput, { description: 'The account (`targetId`), why, and how to run it.' }) input: GovernanceInput,
    @Ctx() ctx: AccountsContext,
  ): Promise<GovernanceActionRef> {
    return mutation(ctx, GovernanceActionType.SUSPEND_ACCOUNT, input);
  }

  @Authorized('responder')
  @Directive(PROVIDES_GOVERNANCE_ACTION)
  @Mutation(() => GovernanceActionRef, {
    description:
      'Lifts a suspension at the provider. Role: responder or higher. Answers the governance action, which the scheduler then carries out (see governanceResult).',
  })
  unsuspendAccount(
    @Arg('input', () => GovernanceInput, { description: 'The account (`targetId`), why, and how to run it.' }) input: GovernanceInput,
    @Ctx() ctx: AccountsContext,
  ): Promise<GovernanceActionRef> {
    return mutation(ctx, GovernanceActionType.UNSUSPEND_ACCOUNT, input);
  }

  @Authorized('responder')
  @Directive(PROVIDES_GOVERNANCE_ACTION)
  @Mutation(() => GovernanceActionRef, {
    description: `"Revoke password": ends the account's sessions and forces a new password at next sign-in. Role: responder or higher. Answers the governance action, which the scheduler then carries out (see governanceResult).`,
  })
  requirePasswordReset(
    @Arg('input', () => GovernanceInput, { description: 'The account (`targetId`), why, and how to run it.' }) input: GovernanceInput,
    @Ctx() ctx: AccountsContext,
  ): Promise<GovernanceActionRef> {
    return mutation(ctx, GovernanceActionType.REQUIRE_PASSWORD_RESET, input);
  }
}
