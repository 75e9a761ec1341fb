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
registerEnumType(DetectionStatus, { name: 'DetectionStatus' });

/** A policy match about one subject (an account, a file or an app permission). */
@ObjectType({ description: 'A policy match about one subject.' })
@Directive('@key(fields: "id")')
@Entity({ tableName: 'detection' })
@Index({ properties: ['detectedAt', 'id'] })
@Index({ properties: ['policyId', 'subjectKey', 'status'] })
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
    | 'subjectKey'
    | 'observations'
    | 'firstSeenAt'
    | 'lastSeenAt';

  @Field(() => ID)
  @PrimaryKey({ type: 'uuid' })
  id: string = newId();

  @Property({ type: 'uuid' })
  policyId!: string;

  @Field(() => Severity)
  @Property({ type: 'text' })
  severity!: Severity;

  @Field()
  @Property({ type: 'text' })
  title!: string;

  @Field()
  @Property({ type: 'text' })
  description!: string;

  @Field(() => DetectionStatus)
  @Property({ type: 'text' })
  status: DetectionStatus = DetectionStatus.OPEN;

  @Property({ type: 'text', nullable: true })
  statusComment: string | null = null;

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

  @Field(() => GraphQLJSON)
  @Property({ type: 'jsonb' })
  evidence: Record<string, unknown> = {};

  @Field()
  @Property({ type: 'timestamptz' })
  detectedAt: Date = new Date();

  @Property({ type: 'timestamptz' })
  updatedAt: Date = new Date();
}
