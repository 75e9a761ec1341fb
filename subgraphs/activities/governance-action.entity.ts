import { Entity, Index, OptionalProps, PrimaryKey, Property, Unique } from '@mikro-orm/postgresql';
import { Directive, Field, ID, Int, ObjectType, registerEnumType } from 'type-graphql';
import { newId } from '../shared/ids.js';

export enum GovernanceActionType {
  SUSPEND_ACCOUNT = 'SUSPEND_ACCOUNT',
  UNSUSPEND_ACCOUNT = 'UNSUSPEND_ACCOUNT',
  REQUIRE_PASSWORD_RESET = 'REQUIRE_PASSWORD_RESET',
  REVOKE_APP_PERMISSION = 'REVOKE_APP_PERMISSION',
  QUARANTINE_FILE = 'QUARANTINE_FILE',
  RESTORE_FILE = 'RESTORE_FILE',
  TRASH_FILE = 'TRASH_FILE',
  REMOVE_EXTERNAL_SHARING = 'REMOVE_EXTERNAL_SHARING',
  OVERWRITE_FILE = 'OVERWRITE_FILE',
}
registerEnumType(GovernanceActionType, { name: 'GovernanceActionType' });

export enum GovernanceStatus {
  PENDING = 'PENDING',
  RUNNING = 'RUNNING',
  SUCCEEDED = 'SUCCEEDED',
  FAILED = 'FAILED',
}
registerEnumType(GovernanceStatus, { name: 'GovernanceStatus' });

/** One entry of the governance log: an action on an account, a file or an app permission. */
@ObjectType({ description: 'One entry of the governance log.' })
@Directive('@key(fields: "id")')
@Entity({ tableName: 'governance_action' })
@Index({ properties: ['requestedAt', 'id'] })
@Unique({ properties: ['idempotencyKey'] })
export class GovernanceAction {
  [OptionalProps]?: 'id' | 'status' | 'accountId' | 'fileId' | 'appPermissionId' | 'reason' | 'dryRun' | 'attempts' | 'error' | 'requestedAt' | 'completedAt' | 'detectionId' | 'idempotencyKey' | 'inputHash';

  @Field(() => ID)
  @PrimaryKey({ type: 'uuid' })
  id: string = newId();

  @Field(() => GovernanceActionType)
  @Property({ type: 'text' })
  type!: GovernanceActionType;

  @Field(() => GovernanceStatus)
  @Property({ type: 'text' })
  status: GovernanceStatus = GovernanceStatus.PENDING;

  @Property({ type: 'uuid' })
  instanceId!: string;

  @Property({ type: 'uuid', nullable: true })
  accountId: string | null = null;

  @Property({ type: 'uuid', nullable: true })
  fileId: string | null = null;

  @Property({ type: 'uuid', nullable: true })
  appPermissionId: string | null = null;

  @Field({ description: 'Subject of the caller\'s token, or "policy:<id>".' })
  @Property({ type: 'text' })
  requestedBy!: string;

  @Field(() => String, { nullable: true })
  @Property({ type: 'text', nullable: true })
  reason: string | null = null;

  @Field()
  @Property({ type: 'boolean' })
  dryRun: boolean = false;

  @Field(() => Int)
  @Property({ type: 'integer' })
  attempts: number = 0;

  @Field(() => String, { nullable: true })
  @Property({ type: 'text', nullable: true })
  error: string | null = null;

  @Field()
  @Property({ type: 'timestamptz' })
  requestedAt: Date = new Date();

  @Field(() => Date, { nullable: true })
  @Property({ type: 'timestamptz', nullable: true })
  completedAt: Date | null = null;

  @Property({ type: 'uuid', nullable: true })
  detectionId: string | null = null;

  /** The caller's idempotency key: the same key answers the same action. */
  @Property({ type: 'text', nullable: true })
  idempotencyKey: string | null = null;

  /** A hash of the request, to tell a retry (same input) from a conflicting reuse of a key. */
  @Property({ type: 'text', nullable: true })
  inputHash: string | null = null;
}
