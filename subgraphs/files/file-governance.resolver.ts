import { Arg, Authorized, Ctx, Directive, Mutation, Resolver } from 'type-graphql';
import { GovernanceActionRef, PROVIDES_GOVERNANCE_ACTION } from '../../platform/references.js';
import type { File } from './file.entity.js';
import { fileLoaders } from './file.resolver.js';
import { GovernanceActionType } from '../../platform/governance/actions.js';
import { type GovernanceTarget } from '../../platform/governance/actions.js';
import { GovernanceInput, requestGovernance, type GovernanceContext } from '../../platform/governance/request.js';

const target =
  (ctx: GovernanceContext) =>
  async (id: string): Promise<GovernanceTarget | null> => {
    const file: File | null = await fileLoaders.file(ctx).load(id);
    return file
      ? {
          id: file.id,
          instanceId: file.instanceId,
          deleted: file.deletedAt !== null,
          label: `"${file.path}"`,
          state: { kind: 'file', sharing: file.sharing, trashed: file.trashed, quarantined: file.quarantined },
        }
      : null;
  };

const mutation = (ctx: GovernanceContext, type: GovernanceActionType, input: GovernanceInput) =>
  requestGovernance(ctx, { type, input, load: target(ctx) });

/** File governance: recorded here, carried out at the provider by the scheduler, results streamed. */
@Resolver()
export class FileGovernanceResolver {
  @Authorized('responder')
  @Directive(PROVIDES_GOVERNANCE_ACTION)
  @Mutation(() => GovernanceActionRef, {
    description:
      "Moves the file into the provider's admin quarantine (trashed files too). Role: responder or higher. Answers the governance action, which the scheduler then carries out (see governanceResult).",
  })
  quarantineFile(
    @Arg('input', () => GovernanceInput, { description: 'The file (`targetId`), why, and how to run it.' }) input: GovernanceInput,
    @Ctx() ctx: GovernanceContext,
  ): Promise<GovernanceActionRef> {
    return mutation(ctx, GovernanceActionType.QUARANTINE_FILE, input);
  }

  @Authorized('responder')
  @Directive(PROVIDES_GOVERNANCE_ACTION)
  @Mutation(() => GovernanceActionRef, {
    description:
      'Takes the file out of quarantine and out of the trash. Role: responder or higher. Answers the governance action, which the scheduler then carries out (see governanceResult).',
  })
  restoreFile(
    @Arg('input', () => GovernanceInput, { description: 'The file (`targetId`), why, and how to run it.' }) input: GovernanceInput,
    @Ctx() ctx: GovernanceContext,
  ): Promise<GovernanceActionRef> {
    return mutation(ctx, GovernanceActionType.RESTORE_FILE, input);
  }

  @Authorized('responder')
  @Directive(PROVIDES_GOVERNANCE_ACTION)
  @Mutation(() => GovernanceActionRef, {
    description:
      'Moves the file to the trash. Role: responder or higher. Answers the governance action, which the scheduler then carries out (see governanceResult).',
  })
  trashFile(
    @Arg('input', () => GovernanceInput, { description: 'The file (`targetId`), why, and how to run it.' }) input: GovernanceInput,
    @Ctx() ctx: GovernanceContext,
  ): Promise<GovernanceActionRef> {
    return mutation(ctx, GovernanceActionType.TRASH_FILE, input);
  }

  @Authorized('responder')
  @Directive(PROVIDES_GOVERNANCE_ACTION)
  @Mutation(() => GovernanceActionRef, {
    description:
      'Removes public links and sharing with people outside the organization. Role: responder or higher. Answers the governance action, which the scheduler then carries out (see governanceResult).',
  })
  removeExternalSharing(
    @Arg('input', () => GovernanceInput, { description: 'The file (`targetId`), why, and how to run it.' }) input: GovernanceInput,
    @Ctx() ctx: GovernanceContext,
  ): Promise<GovernanceActionRef> {
    return mutation(ctx, GovernanceActionType.REMOVE_EXTERNAL_SHARING, input);
  }

  @Authorized('responder')
  @Directive(PROVIDES_GOVERNANCE_ACTION)
  @Mutation(() => GovernanceActionRef, {
    description:
      'Replaces the content with a notice; the provider keeps the original in quarantine. Role: responder or higher. Answers the governance action, which the scheduler then carries out (see governanceResult).',
  })
  overwriteFile(
    @Arg('input', () => GovernanceInput, { description: 'The file (`targetId`), why, and how to run it.' }) input: GovernanceInput,
    @Ctx() ctx: GovernanceContext,
  ): Promise<GovernanceActionRef> {
    return mutation(ctx, GovernanceActionType.OVERWRITE_FILE, input);
  }
}
