import { Field, ID, InputType } from 'type-graphql';
import type { SubgraphContext } from '../context.js';
import { badInput } from '../errors.js';
import { parseId } from '../ids.js';
import { inScope, scopeOf } from '../scope.js';
import type { SubgraphPorts } from '../ports.js';
import { governanceActionRef, type GovernanceActionRef } from '../references.js';
import { ConnectionStatus } from '../vocabulary/instance.js';
import { GOVERNANCE_ACTIONS, refusalOf, TARGET_NOUN, type GovernanceActionType, type GovernanceTarget } from './actions.js';
import type { InstanceDirectory } from './instances.js';
import type { GovernanceLog, GovernanceRequest } from './log.js';

@InputType('GovernanceInput', { description: 'A governance request: what to act on, why, and how (idempotency, dry run).' })
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

/** The ports a governance mutation records through, for one request. */
export interface GovernancePorts {
  readonly log: GovernanceLog;
  readonly instances: InstanceDirectory;
}

/** The request context of a subgraph that owns governance targets. */
export interface GovernanceContext extends SubgraphContext {
  readonly governance: GovernancePorts;
}

/** Adds the governance ports to each request's context (a subgraph definition's `context`). */
export function withGovernance(ports: Pick<SubgraphPorts, 'governanceLog' | 'instances'>) {
  return <C extends SubgraphContext>(base: C): C & GovernanceContext => ({
    ...base,
    governance: { log: ports.governanceLog(base.em), instances: ports.instances(base.em) },
  });
}

/** Checks that the instance is connected and its connector was granted what the action needs; throws BAD_USER_INPUT. */
export async function checkInstance(instances: InstanceDirectory, type: GovernanceActionType, instanceId: string): Promise<void> {
  const instance = await instances.governanceView(instanceId);
  const { capability } = GOVERNANCE_ACTIONS[type];
  if (!instance) throw badInput('input.targetId', `the target's app instance ${instanceId} no longer exists`);
  if (instance.status === ConnectionStatus.DISCONNECTED)
    throw badInput('input.targetId', `app instance "${instance.name}" is disconnected; reconnect it to act on it`);
  if (instance.status === ConnectionStatus.DELETED) throw badInput('input.targetId', `app instance "${instance.name}" was deleted`);
  if (!instance.capabilities.includes(capability)) {
    throw badInput(
      'input.targetId',
      `app instance "${instance.name}" (${instance.provider}) does not allow ${type}: its connector lacks the ${capability} capability or was not granted it`,
    );
  }
}

/**
 * Checks a new request against its target and instance: not deleted, not already in the state the
 * action leads to, the instance connected and granted the capability. Throws BAD_USER_INPUT.
 */
export async function validateRequest(instances: InstanceDirectory, type: GovernanceActionType, target: GovernanceTarget): Promise<void> {
  const kind = GOVERNANCE_ACTIONS[type].target;
  if (target.deleted) throw badInput('input.targetId', `${TARGET_NOUN[kind]} ${target.label} was deleted at the provider`);
  const refusal = refusalOf(type, target.state);
  if (refusal) throw badInput('input.targetId', `${TARGET_NOUN[kind]} ${target.label} ${refusal}`);
  await checkInstance(instances, type, target.instanceId);
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

/**
 * A governance mutation in the subgraph that owns the target: parses the input, finds the target,
 * answers the existing action for a retried key or a live duplicate, otherwise checks the instance
 * and the target's state and records a PENDING action (requestedBy: the token's subject) through the
 * governance log. Answers the action's reference; the gateway resolves the rest from the activities subgraph.
 */
export async function requestGovernance(ctx: GovernanceContext, mutation: GovernanceMutation): Promise<GovernanceActionRef> {
  const { type } = mutation;
  const input = readInput(mutation.input);
  const kind = GOVERNANCE_ACTIONS[type].target;
  const loaded = await mutation.load(input.targetId);
  // A target out of the caller's instances is unknown to it (the loaders keep to the scope too).
  const target = loaded && inScope(scopeOf(ctx), loaded.instanceId) ? loaded : null;
  if (!target) throw badInput('input.targetId', `no ${TARGET_NOUN[kind]} has id ${input.targetId}`);
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
  const { governance } = ctx;
  const outcome = await governance.log.request(request, () => validateRequest(governance.instances, type, target));
  return governanceActionRef(outcome.action);
}
