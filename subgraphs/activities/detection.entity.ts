import { Entity, Index, OptionalProps, PrimaryKey, Property } from '@mikro-orm/postgresql';
import { GraphQLJSON } from 'graphql-scalars';
import { Directive, Field, ID, ObjectType, registerEnumType } from 'type-graphql';
import { newId } from '../../platform/ids.js';
import { Severity } from './policy.entity.js';

export enum DetectionStatus {
  OPEN = 'OPEN',
  DISMISSED = 'DISMISSED',
  RESOLVED = 'RESOLVED',
}
registerEnumType(DetectionStatus, {
  name: 'DetectionStatus',
  description: 'Where the triage of a detection stands.',
  valuesConfig: {
    OPEN: { description: 'Raised and not triaged yet (or reopened); more matches about its subject extend it.' },
    DISMISSED: { description: 'An analyst judged it harmless or a false positive.' },
    RESOLVED: { description: 'An analyst dealt with it.' },
  },
});

/** What happened to a detection: what its live events and its history say. */
export enum DetectionChange {
  RAISED = 'RAISED',
  EXTENDED = 'EXTENDED',
  STATUS_CHANGED = 'STATUS_CHANGED',
  ASSIGNED = 'ASSIGNED',
}
registerEnumType(DetectionChange, {
  name: 'DetectionChange',
  description: 'What happened to a detection.',
  valuesConfig: {
    RAISED: { description: 'A policy matched and the detection was raised.' },
    EXTENDED: { description: 'More matches about the same subject were added to the open detection (its evidence grew).' },
    STATUS_CHANGED: { description: 'An analyst dismissed, resolved or reopened it.' },
    ASSIGNED: { description: 'An analyst assigned it to someone, or unassigned it.' },
  },
});

/** One change of a detection's status or assignee, by whom and why. */
@ObjectType({ description: 'One change of a detection: who, when, from what, to what, and why.' })
export class DetectionHistoryEntry {
  @Field(() => DetectionChange, { description: 'What happened.' })
  change!: DetectionChange;

  @Field({ description: 'When it happened.' })
  at!: Date;

  @Field({ description: 'Who did it: the token subject of the analyst, or "tenantwatch" for a detection raised by a policy.' })
  actor!: string;

  @Field(() => DetectionStatus, { nullable: true, description: 'The status before (STATUS_CHANGED).' })
  fromStatus!: DetectionStatus | null;

  @Field(() => DetectionStatus, { nullable: true, description: 'The status after (RAISED, STATUS_CHANGED).' })
  toStatus!: DetectionStatus | null;

  @Field(() => String, { nullable: true, description: 'The assignee before (ASSIGNED).' })
  fromAssignee!: string | null;

  @Field(() => String, { nullable: true, description: 'The assignee after (ASSIGNED); null: unassigned.' })
  toAssignee!: string | null;

  @Field(() => String, { nullable: true, description: 'The analyst’s comment.' })
  comment!: string | null;
}

/** A policy match about one subject (an account, a file or an app permission). */
@ObjectType({ description: 'A policy match about one subject.' })
@Directive('@key(fields: "id")')
@Entity({ tableName: 'detection' })
@Index({ properties: ['detectedAt', 'id'] })
@Index({ properties: ['instanceId', 'detectedAt', 'id'] })
@Index({ properties: ['policyId', 'subjectKey', 'status'] })
@Index({
  name: 'detection_account_id_index',
  expression:
    'create index "detection_account_id_index" on "activities"."detection" ("account_id", "detected_at", "id") where "account_id" is not null',
})
@Index({
  name: 'detection_file_id_index',
  expression:
    'create index "detection_file_id_index" on "activities"."detection" ("file_id", "detected_at", "id") where "file_id" is not null',
})
@Index({
  name: 'detection_app_permission_id_index',
  expression:
    'create index "detection_app_permission_id_index" on "activities"."detection" ("app_permission_id", "detected_at", "id") where "app_permission_id" is not null',
})
export class Detection {
  [OptionalProps]?:
    | 'id'
    | 'status'
    | 'accountId'
    | 'fileId'
    | 'appPermissionId'
    | 'activityIds'
    | 'evidence'
    | 'detectedAt'
    | 'updatedAt'
    | 'statusComment'
    | 'assignee'
    | 'subjectKey'
    | 'observations'
    | 'firstSeenAt'
    | 'lastSeenAt';

  @Field(() => ID, { description: "The detection's Tenantwatch id (a UUID)." })
  @PrimaryKey({ type: 'uuid' })
  id: string = newId();

  @Property({ type: 'uuid' })
  policyId!: string;

  @Field(() => Severity, { description: "The policy's severity when it was raised." })
  @Property({ type: 'text' })
  severity!: Severity;

  @Field({ description: "The policy's name when it was raised." })
  @Property({ type: 'text' })
  title!: string;

  @Field({ description: 'What matched, in one line, e.g. "file.download by alice@example.com from DE (at least 30 within 10 minutes)".' })
  @Property({ type: 'text' })
  description!: string;

  @Field(() => DetectionStatus, { description: 'OPEN until an analyst dismisses or resolves it (setDetectionStatus).' })
  @Property({ type: 'text' })
  status: DetectionStatus = DetectionStatus.OPEN;

  @Field(() => String, { nullable: true, description: 'The comment given with the last status change.' })
  @Property({ type: 'text', nullable: true })
  statusComment: string | null = null;

  @Field(() => String, { nullable: true, description: 'Who is handling it (as the analyst wrote it: a name, an email); null: nobody.' })
  @Property({ type: 'text', nullable: true })
  assignee: string | null = null;

  @Property({ type: 'uuid' })
  instanceId!: string;

  @Property({ type: 'uuid', nullable: true })
  accountId: string | null = null;

  @Property({ type: 'uuid', nullable: true })
  fileId: string | null = null;

  @Property({ type: 'uuid', nullable: true })
  appPermissionId: string | null = null;

  @Property({ type: 'uuid[]' })
  activityIds: string[] = [];

  /** What the detection is about, for grouping repeated matches: e.g. `account:<id>`. */
  @Property({ type: 'text', nullable: true })
  subjectKey: string | null = null;

  /** What the detection has recorded (activity ids, grant ids, file states): a re-read adds nothing twice. */
  @Property({ type: 'text[]', default: '{}' })
  observations: string[] = [];

  /** When its earliest and latest evidence happened (activities: event time; files and grants: when seen). */
  @Property({ type: 'timestamptz', nullable: true })
  firstSeenAt: Date | null = null;

  @Property({ type: 'timestamptz', nullable: true })
  lastSeenAt: Date | null = null;

  @Field(() => GraphQLJSON, {
    description:
      "What matched, as a JSON object whose shape depends on the policy's kind (e.g. actions, countries and IP addresses; a file's sharing and sensitive matches; an app's grants).",
  })
  @Property({ type: 'jsonb' })
  evidence: Record<string, unknown> = {};

  @Field({ description: 'When it was raised.' })
  @Property({ type: 'timestamptz' })
  detectedAt: Date = new Date();

  @Property({ type: 'timestamptz' })
  updatedAt: Date = new Date();
}
