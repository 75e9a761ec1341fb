import { Field, ID, Int, ObjectType, registerEnumType } from 'type-graphql';
import { DetectionChange } from './detection.entity.js';
import { Severity } from './policy.entity.js';

export enum AlertFormat {
  JSON = 'JSON',
  CEF = 'CEF',
}
registerEnumType(AlertFormat, {
  name: 'AlertFormat',
  description: 'How an alert sink receives detections.',
  valuesConfig: {
    JSON: { description: 'One JSON document per event (application/json).' },
    CEF: { description: 'One ArcSight Common Event Format line per event (text/plain), as SIEMs ingest it.' },
  },
});

export enum AlertDeliveryStatus {
  DELIVERED = 'DELIVERED',
  RETRYING = 'RETRYING',
  EXPIRED = 'EXPIRED',
}
registerEnumType(AlertDeliveryStatus, {
  name: 'AlertDeliveryStatus',
  description: 'Where one event stands with one sink.',
  valuesConfig: {
    DELIVERED: { description: 'The sink answered 2xx.' },
    RETRYING: { description: 'The sink refused or did not answer; tried again with backoff, nothing after it goes first.' },
    EXPIRED: { description: 'Refused until ALERT_DELIVERY_EXPIRY_HOURS passed: given up, the next event went.' },
  },
});

@ObjectType({ description: 'Which detection events a sink receives; every field set must hold.' })
export class AlertSinkFilter {
  @Field(() => Severity, { nullable: true, description: 'This severity or a higher one.' })
  severityAtLeast!: Severity | null;

  @Field(() => ID, { nullable: true, description: 'Detections of this instance only.' })
  instanceId!: string | null;

  @Field(() => ID, { nullable: true, description: 'Detections of this policy only.' })
  policyId!: string | null;

  @Field(() => [DetectionChange], { description: 'These changes only; empty: every change.' })
  changes!: DetectionChange[];
}

@ObjectType({ description: 'An HTTPS endpoint that receives matching detection events, signed, in order, at least once.' })
export class AlertSink {
  @Field(() => ID, { description: 'The sink’s Tenantwatch id (a UUID).' })
  id!: string;

  @Field({ description: 'A name for people.' })
  name!: string;

  @Field({ description: 'Where events are POSTed.' })
  url!: string;

  @Field(() => AlertFormat, { description: 'JSON or CEF.' })
  format!: AlertFormat;

  @Field(() => AlertSinkFilter, { description: 'Which events it receives.' })
  filter!: AlertSinkFilter;

  @Field({ description: 'Disabled sinks receive nothing and keep their place; enabled again, they go on from it.' })
  enabled!: boolean;

  @Field({ description: 'The event-log cursor it has been delivered up to (events after it are still to go).' })
  cursor!: string;

  @Field(() => Date, { nullable: true, description: 'Its last successful delivery.' })
  lastDeliveredAt!: Date | null;

  @Field(() => String, { nullable: true, description: 'Why the last attempt failed, while deliveries fail.' })
  lastError!: string | null;

  @Field(() => Date, { nullable: true, description: 'Since when deliveries fail (null: they do not).' })
  failingSince!: Date | null;

  @Field({ description: 'When it was created.' })
  createdAt!: Date;
}

@ObjectType({ description: 'A new sink (or a rotated secret), with its signing secret: shown once, keep it.' })
export class AlertSinkWithSecret {
  @Field(() => AlertSink, { description: 'The sink.' })
  sink!: AlertSink;

  @Field({
    description:
      'The HMAC-SHA256 key of the `Tenantwatch-Signature` header: `v1=` hex of HMAC(secret, `<Tenantwatch-Timestamp>.<Tenantwatch-Delivery>.<body>`).',
  })
  secret!: string;
}

@ObjectType({ description: 'One event sent (or being sent) to a sink.' })
export class AlertDelivery {
  @Field({ description: 'The `Tenantwatch-Delivery` header: the same on every attempt, for idempotency at the receiver.' })
  deliveryId!: string;

  @Field({ description: 'The event-log cursor of the event.' })
  cursor!: string;

  @Field(() => ID, { description: 'The detection the event is about.' })
  detectionId!: string;

  @Field(() => DetectionChange, { description: 'What happened to the detection.' })
  change!: DetectionChange;

  @Field(() => AlertDeliveryStatus, { description: 'Where the delivery stands.' })
  status!: AlertDeliveryStatus;

  @Field(() => Int, { description: 'Attempts made.' })
  attempts!: number;

  @Field(() => Int, { nullable: true, description: 'The HTTP status of the last attempt (null: no answer).' })
  lastStatusCode!: number | null;

  @Field(() => String, { nullable: true, description: 'Why the last attempt failed.' })
  lastError!: string | null;

  @Field({ description: 'The first attempt.' })
  firstAttemptAt!: Date;

  @Field(() => Date, { nullable: true, description: 'When it was delivered or given up on.' })
  endedAt!: Date | null;
}
