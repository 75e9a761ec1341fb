import { Entity, Index, PrimaryKey, Property } from '@mikro-orm/postgresql';

/**
 * The tables of alert export and of the detection history, as MikroORM knows them (for schema
 * checks); their services read and write them with SQL (alert-sink.service.ts, detection.service.ts).
 */
@Entity({ tableName: 'alert_sink' })
export class AlertSinkRow {
  @PrimaryKey({ type: 'uuid' })
  id!: string;

  @Property({ type: 'text' })
  name!: string;

  @Property({ type: 'text' })
  url!: string;

  @Property({ type: 'text' })
  format!: string;

  @Property({ type: 'text', nullable: true })
  severityAtLeast!: string | null;

  @Property({ type: 'uuid', nullable: true })
  instanceId!: string | null;

  @Property({ type: 'uuid', nullable: true })
  policyId!: string | null;

  @Property({ type: 'text[]', default: '{}' })
  changes!: string[];

  @Property({ type: 'boolean', default: true })
  enabled!: boolean;

  /** The HMAC signing secret, sealed with the credentials key. */
  @Property({ type: 'text' })
  sealedSecret!: string;

  /** The event-log cursor delivered up to. */
  @Property({ type: 'bigint' })
  cursor!: string;

  @Property({ type: 'timestamptz' })
  createdAt!: Date;

  @Property({ type: 'timestamptz' })
  updatedAt!: Date;

  @Property({ type: 'timestamptz', nullable: true })
  lastDeliveredAt!: Date | null;

  @Property({ type: 'text', nullable: true })
  lastError!: string | null;

  @Property({ type: 'timestamptz', nullable: true })
  failingSince!: Date | null;
}

@Entity({ tableName: 'alert_delivery' })
export class AlertDeliveryRow {
  @PrimaryKey({ type: 'uuid' })
  sinkId!: string;

  @PrimaryKey({ type: 'bigint' })
  cursor!: string;

  @Property({ type: 'text' })
  deliveryId!: string;

  @Property({ type: 'uuid' })
  detectionId!: string;

  @Property({ type: 'text' })
  change!: string;

  @Property({ type: 'text' })
  status!: string;

  @Property({ type: 'int', default: 0 })
  attempts!: number;

  @Property({ type: 'int', nullable: true })
  lastStatusCode!: number | null;

  @Property({ type: 'text', nullable: true })
  lastError!: string | null;

  @Property({ type: 'timestamptz' })
  firstAttemptAt!: Date;

  @Property({ type: 'timestamptz', nullable: true })
  endedAt!: Date | null;
}

@Entity({ tableName: 'detection_history' })
@Index({ name: 'detection_history_detection_index', properties: ['detectionId', 'at', 'id'] })
export class DetectionHistoryRow {
  @PrimaryKey({ type: 'uuid' })
  id!: string;

  @Property({ type: 'uuid' })
  detectionId!: string;

  @Property({ type: 'timestamptz' })
  at!: Date;

  @Property({ type: 'text' })
  actor!: string;

  @Property({ type: 'text' })
  change!: string;

  @Property({ type: 'text', nullable: true })
  fromStatus!: string | null;

  @Property({ type: 'text', nullable: true })
  toStatus!: string | null;

  @Property({ type: 'text', nullable: true })
  fromAssignee!: string | null;

  @Property({ type: 'text', nullable: true })
  toAssignee!: string | null;

  @Property({ type: 'text', nullable: true })
  comment!: string | null;
}

/**
 * An activity stored by a scan and not yet run through the policies (a crash between the two is
 * caught up): written with the activity, deleted once it is evaluated.
 */
@Entity({ tableName: 'activity_evaluation_queue' })
@Index({ name: 'activity_evaluation_queue_instance_index', properties: ['instanceId', 'occurredAt', 'activityId'] })
export class ActivityEvaluationQueueRow {
  @PrimaryKey({ type: 'uuid' })
  activityId!: string;

  @Property({ type: 'uuid' })
  instanceId!: string;

  @Property({ type: 'timestamptz' })
  occurredAt!: Date;
}
