import type { Knex } from '@mikro-orm/postgresql';
import { Field, ID, InputType } from 'type-graphql';
import { AppCapability, ConnectionStatus } from '../accounts/app-instance.entity.js';
import { instanceGovernance } from '../accounts/app-instance.service.js';
import type { SubgraphContext } from '../../platform/context.js';
import { badInput } from '../../platform/errors.js';
import { parseId } from '../../platform/ids.js';
import type { GovernanceActionRef } from '../../platform/references.js';
import { GovernanceActionType } from './governance-action.entity.js';
import { GovernanceService, type GovernanceRequest, type RequestOutcome } from './governance.service.js';

export type GovernanceTargetKind = 'account' | 'file' | 'appPermission';

/** What each action acts on and the capability its instance's connector must have been granted. */
export const GOVERNANCE_ACTIONS: Readonly<
  Record<GovernanceActionType, { readonly target: GovernanceTargetKind; readonly capability: AppCapability }>
> = {
  [GovernanceActionType.SUSPEND_ACCOUNT]: { target: 'account', capability: AppCapability.ACCOUNT_GOVERNANCE },
  [GovernanceActionType.UNSUSPEND_ACCOUNT]: { target: 'account', capability: AppCapability.ACCOUNT_GOVERNANCE },
  [GovernanceActionType.REQUIRE_PASSWORD_RESET]: { target: 'account', capability: AppCapability.ACCOUNT_GOVERNANCE },
  [GovernanceActionType.REVOKE_APP_PERMISSION]: { target: 'appPermission', capability: AppCapability.APP_PERMISSION_GOVERNANCE },
  [GovernanceActionType.QUARANTINE_FILE]: { target: 'file', capability: AppCapability.DATA_GOVERNANCE },
  [GovernanceActionType.RESTORE_FILE]: { target: 'file', capability: AppCapability.DATA_GOVERNANCE },
  [GovernanceActionType.TRASH_FILE]: { target: 'file', capability: AppCapability.DATA_GOVERNANCE },
  [GovernanceActionType.REMOVE_EXTERNAL_SHARING]: { target: 'file', capability: AppCapability.DATA_GOVERNANCE },
  [GovernanceActionType.OVERWRITE_FILE]: { target: 'file', capability: AppCapability.DATA_GOVERNANCE },
};

const NOUN: Record<GovernanceTargetKind, string> = { account: 'account', file: 'file', appPermission: 'app permission' };

@InputType('GovernanceInput')
export class GovernanceInput {
  @Field(() => ID, { description: 'The account, file or app permission to act on.' })
  targetId!: string;

  @Field(() => String, { nullable: true, description: 'Why, for the governance log (at most 1,000 characters).' })
  reason?: string | null;

  @Field(() => String, {
    nullable: true,
    description:
      'Repeating a request with the same key (per requester) answers the same action and never acts twice; the same key with a different input is a CONFLICT.',
  })
  idempotencyKey?: string | null;

  @Field(() => Boolean, {
    nullable: true,
    description: 'Answer the action that would run, recorded as a dry run; nothing is called or changed.',
  })
  dryRun?: boolean | null;
}

/** What the refusal rules read about a target. */
export type TargetState =
  | { readonly kind: 'account'; readonly status: 'ACTIVE' | 'SUSPENDED' | 'DISABLED' }
  | {
      readonly kind: 'file';
      readonly sharing: 'PRIVATE' | 'INTERNAL' | 'EXTERNAL' | 'PUBLIC';
      readonly trashed: boolean;
      readonly quarantined: boolean;
    }
  | { readonly kind: 'appPermission'; readonly revoked: boolean };

/** The target as the owning subgraph sees it. */
export interface GovernanceTarget {
  readonly id: string;
  readonly instanceId: string;
  /** Gone at the provider (the last scan no longer listed it). */
  readonly deleted: boolean;
  /** How to name it in a message, e.g. `alice@example.com`. */
  readonly label: string;
  readonly state: TargetState;
}

/** Why the target cannot take the action now (it is already in the state the action leads to...), or null. */
export function refusalOf(type: GovernanceActionType, state: TargetState): string | null {
  switch (state.kind) {
    case 'account':
      if (type === GovernanceActionType.SUSPEND_ACCOUNT)
        return state.status === 'SUSPENDED' ? 'is already SUSPENDED' : state.status === 'DISABLED' ? 'is DISABLED at the provider' : null;
      if (type === GovernanceActionType.UNSUSPEND_ACCOUNT) return state.status !== 'SUSPENDED' ? `is ${state.status}, not SUSPENDED` : null;
      return state.status === 'DISABLED' ? 'is DISABLED at the provider' : null;
    case 'appPermission':
      return state.revoked ? 'is already revoked' : null;
    case 'file':
      switch (type) {
        case GovernanceActionType.QUARANTINE_FILE:
          return state.quarantined ? 'is already quarantined' : null;
        case GovernanceActionType.RESTORE_FILE:
          return !state.quarantined && !state.trashed ? 'is neither quarantined nor trashed' : null;
        case GovernanceActionType.TRASH_FILE:
          return state.trashed ? 'is already trashed' : null;
        case GovernanceActionType.REMOVE_EXTERNAL_SHARING:
          return state.sharing === 'PUBLIC' || state.sharing === 'EXTERNAL' ? null : `is not shared externally (sharing ${state.sharing})`;
        default:
          return null;
      }
  }
}

/**
 * Checks a new request against its target and instance: not deleted, not already in the state the
 * action leads to, the instance connected and granted the capability. Throws BAD_USER_INPUT.
 */
export async function validateRequest(knex: Knex, type: GovernanceActionType, target: GovernanceTarget): Promise<void> {
  const kind = GOVERNANCE_ACTIONS[type].target;
  if (target.deleted) throw badInput('input.targetId', `${NOUN[kind]} ${target.label} was deleted at the provider`);
  const refusal = refusalOf(type, target.state);
  if (refusal) throw badInput('input.targetId', `${NOUN[kind]} ${target.label} ${refusal}`);
  await checkInstance(knex, type, target.instanceId);
}

export interface GovernanceMutation {
  readonly type: GovernanceActionType;
  readonly input: GovernanceInput;
  readonly load: (id: string) => Promise<GovernanceTarget | null>;
}

function readInput(input: GovernanceInput): { targetId: string; reason: string | null; idempotencyKey: string | null; dryRun: boolean } {
  const targetId = parseId(input.targetId, 'input.targetId');
  const reason = input.reason?.trim() || null;
  if (reason !== null && reason.length > 1000) throw badInput('input.reason', 'must be at most 1,000 characters');
  const key = input.idempotencyKey ?? null;
  if (key !== null && (key.length === 0 || key.length > 200)) throw badInput('input.idempotencyKey', 'must be 1 to 200 characters');
  return { targetId, reason, idempotencyKey: key, dryRun: input.dryRun === true };
}

/** Checks that the instance is connected and its connector was granted what the action needs. */
export async function checkInstance(knex: Knex, type: GovernanceActionType, instanceId: string): Promise<void> {
  const instance = await instanceGovernance(knex, instanceId);
  const { capability } = GOVERNANCE_ACTIONS[type];
  if (!instance) throw badInput('input.targetId', `the target's app instance ${instanceId} no longer exists`);
  if (instance.status === ConnectionStatus.DISCONNECTED)
    throw badInput('input.targetId', `app instance "${instance.name}" is disconnected; reconnect it to act on it`);
  if (!instance.capabilities.includes(capability)) {
    throw badInput(
      'input.targetId',
      `app instance "${instance.name}" (${instance.provider}) does not allow ${type}: its connector lacks the ${capability} capability or was not granted it`,
    );
  }
}

/**
 * A governance mutation in the subgraph that owns the target: parses the input, finds the target,
 * answers the existing action for a retried key or a live duplicate, otherwise checks the instance
 * and the target's state and records a PENDING action (requestedBy: the token's subject). Answers
 * the action's reference; the gateway resolves the rest from the activities subgraph.
 */
export async function requestGovernance(ctx: SubgraphContext, mutation: GovernanceMutation): Promise<GovernanceActionRef> {
  const { type } = mutation;
  const input = readInput(mutation.input);
  const kind = GOVERNANCE_ACTIONS[type].target;
  const target = await mutation.load(input.targetId);
  if (!target) throw badInput('input.targetId', `no ${NOUN[kind]} has id ${input.targetId}`);
  const request: GovernanceRequest = {
    type,
    instanceId: target.instanceId,
    accountId: kind === 'account' ? target.id : null,
    fileId: kind === 'file' ? target.id : null,
    appPermissionId: kind === 'appPermission' ? target.id : null,
    requestedBy: ctx.principal.subject,
    reason: input.reason,
    dryRun: input.dryRun,
    idempotencyKey: input.idempotencyKey,
  };
  const outcome: RequestOutcome = await new GovernanceService(ctx.em).request(request, () =>
    validateRequest(ctx.em.getKnex(), type, target),
  );
  return { id: outcome.action.id };
}
