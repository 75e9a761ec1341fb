import type { JobOrigin } from '../../platform/tracing.js';
import { Entity, Index, OptionalProps, PrimaryKey, Property, Unique } from '@mikro-orm/postgresql';
import { Directive, Field, ID, Int, ObjectType } from 'type-graphql';
import { GovernanceActionType, GovernanceStatus } from '../../platform/governance/actions.js';
import { newId } from '../../platform/ids.js';
import { GOVERNANCE_ACTION_FIELDS as DESCRIBED, GOVERNANCE_ACTION_ID } from '../../platform/references.js';

/**
 * One entry of the governance log: an action on an account, a file or an app permission. Its scalar
 * fields are `@shareable`: the governance mutations' subgraphs answer them as they recorded the action
 * (`PROVIDES_GOVERNANCE_ACTION`), and the gateway then needs no fetch from this subgraph.
 */
@ObjectType({ description: 'One entry of the governance log.' })
@Directive('@key(fields: "id")')
@Entity({ tableName: 'governance_action' })
@Index({ properties: ['requestedAt', 'id'] })
@Unique({ properties: ['requestedBy', 'idempotencyKey'] })
// One live (PENDING or RUNNING) action per type and target: a repeated request joins it.
@Unique({
  name: 'governance_action_live_target_unique',
  expression:
    'create unique index "governance_action_live_target_unique" on "activities"."governance_action" ("type", "target_id") where "status" in (\'PENDING\', \'RUNNING\') and not "dry_run"',
})
// What the dispatcher claims: PENDING, not a dry run, not yet handed to the job store.
@Index({
  name: 'governance_action_undispatched_index',
  expression:
    'create index "governance_action_undispatched_index" on "activities"."governance_action" ("requested_at") where "status" = \'PENDING\' and "dispatched_at" is null and not "dry_run"',
})
export class GovernanceAction {
  [OptionalProps]?:
    | 'id'
    | 'status'
    | 'accountId'
    | 'fileId'
    | 'appPermissionId'
    | 'reason'
    | 'dryRun'
    | 'attempts'
    | 'error'
    | 'requestedAt'
    | 'completedAt'
    | 'detectionId'
    | 'idempotencyKey'
    | 'inputHash'
    | 'dispatchedAt'
    | 'startedAt';

  @Field(() => ID, { description: GOVERNANCE_ACTION_ID })
  @PrimaryKey({ type: 'uuid' })
  id: string = newId();

  @Directive('@shareable')
  @Field(() => GovernanceActionType, { description: DESCRIBED.type })
  @Property({ type: 'text' })
  type!: GovernanceActionType;

  @Directive('@shareable')
  @Field(() => GovernanceStatus, { description: DESCRIBED.status })
  @Property({ type: 'text' })
  status: GovernanceStatus = GovernanceStatus.PENDING;

  @Property({ type: 'uuid' })
  instanceId!: string;

  /** The account, file or app permission acted on (whichever of the three is set). */
  @Property({ type: 'uuid' })
  targetId!: string;

  @Property({ type: 'uuid', nullable: true })
  accountId: string | null = null;

  @Property({ type: 'uuid', nullable: true })
  fileId: string | null = null;

  @Property({ type: 'uuid', nullable: true })
  appPermissionId: string | null = null;

  @Directive('@shareable')
  @Field({ description: DESCRIBED.requestedBy })
  @Property({ type: 'text' })
  requestedBy!: string;

  @Directive('@shareable')
  @Field(() => String, {
    nullable: true,
    description: DESCRIBED.reason,
  })
  @Property({ type: 'text', nullable: true })
  reason: string | null = null;

  @Directive('@shareable')
  @Field({ description: DESCRIBED.dryRun })
  @Property({ type: 'boolean' })
  dryRun: boolean = false;

  @Directive('@shareable')
  @Field(() => Int, { description: DESCRIBED.attempts })
  @Property({ type: 'integer' })
  attempts: number = 0;

  @Directive('@shareable')
  @Field(() => String, {
    nullable: true,
    description: DESCRIBED.error,
  })
  @Property({ type: 'text', nullable: true })
  error: string | null = null;

  @Directive('@shareable')
  @Field({ description: DESCRIBED.requestedAt })
  @Property({ type: 'timestamptz' })
  requestedAt: Date = new Date();

  @Directive('@shareable')
  @Field(() => Date, { nullable: true, description: DESCRIBED.completedAt })
  @Property({ type: 'timestamptz', nullable: true })
  completedAt: Date | null = null;

  @Property({ type: 'uuid', nullable: true })
  detectionId: string | null = null;

  /** The caller's idempotency key: the same key answers the same action. */
  @Property({ type: 'text', nullable: true })
  idempotencyKey: string | null = null;

  /** When the dispatcher handed the action to the job store (null: not yet). */
  @Property({ type: 'timestamptz', nullable: true })
  dispatchedAt: Date | null = null;

  /** When the first attempt began: provider state changed after it may be this action's doing. */
  @Property({ type: 'timestamptz', nullable: true })
  startedAt: Date | null = null;

  /** A hash of the request, to tell a retry (same input) from a conflicting reuse of a key. */
  @Property({ type: 'text', nullable: true })
  inputHash: string | null = null;

  /** The request id and W3C trace of the mutation that asked for it: the scheduler's job runs in that trace. */
  @Property({ type: 'json', nullable: true })
  origin: JobOrigin | null = null;
}
