import { Directive, Field, ID, Int, ObjectType } from 'type-graphql';
import { GovernanceActionType, GovernanceStatus } from './governance/actions.js';
import type { GovernanceRecord } from './governance/log.js';

/** `AppInstance.id`, described alike by the subgraph that owns instances and by those that refer to them. */
export const INSTANCE_ID = "The app instance's Tenantwatch id (a UUID).";
/** `GovernanceAction.id`, described alike by the activities subgraph and by those that answer governance mutations. */
export const GOVERNANCE_ACTION_ID = "The action's Tenantwatch id (a UUID).";

/**
 * Entity stubs: how a subgraph names an entity another subgraph owns. A stub that only appears as a
 * field's type is `resolvable: false`; a subgraph that adds fields to the entity (Account.files)
 * declares its own resolvable stub with those fields instead.
 */
@ObjectType('AppInstance')
@Directive('@key(fields: "id", resolvable: false)')
export class AppInstanceRef {
  @Field(() => ID, { description: INSTANCE_ID })
  id!: string;
}

/** Builds the `{ id }` representation the gateway resolves in the owning subgraph. */
export function ref(id: string): { id: string };
export function ref(id: string | null | undefined): { id: string } | null;
export function ref(id: string | null | undefined): { id: string } | null {
  return id ? { id } : null;
}

/** `GovernanceAction`'s fields, described alike by the activities subgraph and by those that provide them. */
export const GOVERNANCE_ACTION_FIELDS = {
  type: 'What it does.',
  status: 'Where it stands: PENDING, RUNNING, then SUCCEEDED or FAILED.',
  requestedBy: 'Subject of the caller\'s token, or "policy:<id>".',
  reason: 'Why, as the requester gave it (automatic governance: the policy and detection); null when none was given.',
  dryRun: 'Whether it is a dry run: recorded to show what would run, never carried out (it stays PENDING).',
  attempts: 'How many times the scheduler has tried it at the provider so far (0 before the first).',
  error: "Why it FAILED, or why a RUNNING action waits to be retried, in Tenantwatch's words; null otherwise.",
  requestedAt: 'When it was requested.',
  completedAt: 'When it ended (SUCCEEDED or FAILED); null before.',
} as const;

/**
 * On a field that answers governance actions: the subgraph answers these fields of each as it recorded
 * it, so that a mutation asking only for them costs the gateway no fetch from the activities subgraph.
 */
export const PROVIDES_GOVERNANCE_ACTION = `@provides(fields: "${Object.keys(GOVERNANCE_ACTION_FIELDS).join(' ')}")`;

/**
 * The governance log's entry, owned by the activities subgraph: governance mutations answer it, with
 * its fields as recorded (`@external`, given by {@link PROVIDES_GOVERNANCE_ACTION} on those mutations;
 * the relations come from the activities subgraph).
 */
@ObjectType('GovernanceAction')
@Directive('@key(fields: "id", resolvable: false)')
export class GovernanceActionRef {
  @Field(() => ID, { description: GOVERNANCE_ACTION_ID })
  id!: string;

  @Field(() => GovernanceActionType, { description: GOVERNANCE_ACTION_FIELDS.type })
  @Directive('@external')
  type!: GovernanceActionType;

  @Field(() => GovernanceStatus, { description: GOVERNANCE_ACTION_FIELDS.status })
  @Directive('@external')
  status!: GovernanceStatus;

  @Field({ description: GOVERNANCE_ACTION_FIELDS.requestedBy })
  @Directive('@external')
  requestedBy!: string;

  @Field(() => String, { nullable: true, description: GOVERNANCE_ACTION_FIELDS.reason })
  @Directive('@external')
  reason!: string | null;

  @Field({ description: GOVERNANCE_ACTION_FIELDS.dryRun })
  @Directive('@external')
  dryRun!: boolean;

  @Field(() => Int, { description: GOVERNANCE_ACTION_FIELDS.attempts })
  @Directive('@external')
  attempts!: number;

  @Field(() => String, { nullable: true, description: GOVERNANCE_ACTION_FIELDS.error })
  @Directive('@external')
  error!: string | null;

  @Field({ description: GOVERNANCE_ACTION_FIELDS.requestedAt })
  @Directive('@external')
  requestedAt!: Date;

  @Field(() => Date, { nullable: true, description: GOVERNANCE_ACTION_FIELDS.completedAt })
  @Directive('@external')
  completedAt!: Date | null;
}

/** The action as a governance mutation answers it: its provided fields as recorded. */
export function governanceActionRef(action: GovernanceRecord): GovernanceActionRef {
  const { id, type, status, requestedBy, reason, dryRun, attempts, error, requestedAt, completedAt } = action;
  return { id, type, status, requestedBy, reason, dryRun, attempts, error, requestedAt, completedAt };
}
