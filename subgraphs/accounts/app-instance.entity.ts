import { Entity, OptionalProps, PrimaryKey, Property } from '@mikro-orm/postgresql';
import { Directive, Field, Float, ID, Int, ObjectType, registerEnumType } from 'type-graphql';
import { newId } from '../../platform/ids.js';
import { AppCapability, ConnectionStatus } from '../../platform/vocabulary/instance.js';

export enum ScanKind {
  USERS = 'USERS',
  GROUPS = 'GROUPS',
  ACTIVITIES = 'ACTIVITIES',
  FILES = 'FILES',
  APP_PERMISSIONS = 'APP_PERMISSIONS',
  DATA = 'DATA',
  /** The audit trail re-read daily as far back as the provider's documented maximum lag: events later than the activity scan's window. */
  LATE_ACTIVITIES = 'LATE_ACTIVITIES',
}
registerEnumType(ScanKind, {
  name: 'ScanKind',
  valuesConfig: {
    LATE_ACTIVITIES: {
      description:
        "The audit trail re-read daily, at the lowest priority, as far back as the provider's documented maximum lag: events later than the activity scan's window.",
    },
  },
});

export enum ScanRunState {
  IDLE = 'IDLE',
  QUEUED = 'QUEUED',
  RUNNING = 'RUNNING',
  THROTTLED = 'THROTTLED',
  FAILED = 'FAILED',
}
registerEnumType(ScanRunState, { name: 'ScanRunState' });

/** One connected instance of a SaaS app (two Salesforce orgs are two instances). */
@ObjectType({ description: 'One connected instance of a SaaS app.' })
@Directive('@key(fields: "id")')
@Entity({ tableName: 'app_instance' })
export class AppInstance {
  [OptionalProps]?:
    | 'id'
    | 'status'
    | 'statusMessage'
    | 'grantedPermissions'
    | 'capabilities'
    | 'connectedAt'
    | 'updatedAt'
    | 'disconnectedAt'
    | 'limitPerMinute'
    | 'headroomPercent'
    | 'notificationMode'
    | 'notificationSubscriptions'
    | 'notificationsRenewAt'
    | 'notificationsSyncedAt'
    | 'notificationsError'
    | 'notificationsClaimedAt';

  @Field(() => ID)
  @PrimaryKey({ type: 'uuid' })
  id: string = newId();

  @Field({ description: '"simulated", later "microsoft365", "github", ...' })
  @Property({ type: 'text' })
  provider!: string;

  @Field()
  @Property({ type: 'text' })
  name!: string;

  @Field(() => ConnectionStatus)
  @Property({ type: 'text' })
  status: ConnectionStatus = ConnectionStatus.CONNECTING;

  @Field(() => String, { nullable: true })
  @Property({ type: 'text', nullable: true })
  statusMessage: string | null = null;

  @Field(() => [String])
  @Property({ type: 'text[]' })
  grantedPermissions: string[] = [];

  @Field(() => [AppCapability])
  @Property({ type: 'text[]' })
  capabilities: AppCapability[] = [];

  /** The connect config (endpoint and credentials), AES-256-GCM sealed; never returned to clients. */
  @Property({ type: 'text', lazy: true })
  sealedConfig!: string;

  @Field()
  @Property({ type: 'timestamptz' })
  connectedAt: Date = new Date();

  @Property({ type: 'timestamptz', nullable: true })
  disconnectedAt: Date | null = null;

  /** The provider's documented request limit, when it has one per minute. */
  @Property({ type: 'integer', nullable: true })
  limitPerMinute: number | null = null;

  /** Share of the provider's limit left unused, when set for this instance; null: the deployment's HEADROOM_PERCENT. */
  @Property({ type: 'double precision', nullable: true })
  headroomPercent: number | null = null;

  /** The provider's daily request quota as its answers last reported it (Salesforce): the limit, what the org used of it, and when. */
  @Property({ type: 'integer', nullable: true })
  dailyQuotaLimit: number | null = null;

  @Property({ type: 'integer', nullable: true })
  dailyQuotaUsed: number | null = null;

  @Property({ type: 'timestamptz', nullable: true })
  dailyQuotaReportedAt: Date | null = null;

  /** How changes reach Tenantwatch, as the scheduler last found (null: not yet synchronised). */
  @Property({ type: 'text', nullable: true })
  notificationMode: ChangeNotificationMode | null = null;

  /** Change subscriptions alive at the provider after the last sync. */
  @Property({ type: 'integer' })
  notificationSubscriptions: number = 0;

  @Property({ type: 'timestamptz', nullable: true })
  notificationsRenewAt: Date | null = null;

  @Property({ type: 'timestamptz', nullable: true })
  notificationsSyncedAt: Date | null = null;

  @Property({ type: 'text', nullable: true })
  notificationsError: string | null = null;

  /** Set while a scheduler removes a disconnected instance's subscriptions. */
  @Property({ type: 'timestamptz', nullable: true })
  notificationsClaimedAt: Date | null = null;

  @Property({ type: 'timestamptz', onUpdate: () => new Date() })
  updatedAt: Date = new Date();
}

export enum ChangeNotificationMode {
  PUSH = 'PUSH',
  POLLING = 'POLLING',
}
registerEnumType(ChangeNotificationMode, {
  name: 'ChangeNotificationMode',
  description: 'How changes at the provider reach Tenantwatch.',
  valuesConfig: {
    PUSH: { description: 'The provider notifies Tenantwatch (subscriptions kept at the provider); the periodic scans reconcile.' },
    POLLING: {
      description:
        'The change feeds are read by the periodic scans only (no PUBLIC_WEBHOOK_URL, a connector without subscriptions, or none could be made).',
    },
  },
});

@ObjectType({ description: 'How changes at the provider reach Tenantwatch for an instance, as the scheduler last kept them.' })
export class ChangeNotifications {
  @Field(() => ChangeNotificationMode)
  mode!: ChangeNotificationMode;

  @Field(() => Int, { description: 'Change subscriptions alive at the provider after the last sync.' })
  subscriptions!: number;

  @Field(() => Date, { nullable: true, description: 'When the subscriptions are next renewed.' })
  renewAt!: Date | null;

  @Field(() => Date, { nullable: true, description: 'When the subscriptions were last synchronised with the provider.' })
  syncedAt!: Date | null;

  @Field(() => String, { nullable: true, description: 'Why the last sync failed, in Tenantwatch’s words (null when it succeeded).' })
  lastError!: string | null;
}

/** The state of one kind of scan of one instance. */
@ObjectType()
@Entity({ tableName: 'scan_state' })
export class ScanState {
  [OptionalProps]?:
    | 'state'
    | 'lastStartedAt'
    | 'lastCompletedAt'
    | 'nextRunAt'
    | 'itemsScanned'
    | 'totalEstimate'
    | 'lastError'
    | 'cursor'
    | 'dispatchedAt';

  @PrimaryKey({ type: 'uuid' })
  instanceId!: string;

  @Field(() => ScanKind)
  @PrimaryKey({ type: 'text' })
  kind!: ScanKind;

  @Field(() => ScanRunState)
  @Property({ type: 'text' })
  state: ScanRunState = ScanRunState.IDLE;

  @Field(() => Date, { nullable: true })
  @Property({ type: 'timestamptz', nullable: true })
  lastStartedAt: Date | null = null;

  @Field(() => Date, { nullable: true })
  @Property({ type: 'timestamptz', nullable: true })
  lastCompletedAt: Date | null = null;

  @Field(() => Date, { nullable: true })
  @Property({ type: 'timestamptz', nullable: true })
  nextRunAt: Date | null = null;

  @Field(() => Int)
  @Property({ type: 'integer' })
  itemsScanned: number = 0;

  @Field(() => Int, { nullable: true })
  @Property({ type: 'integer', nullable: true })
  totalEstimate: number | null = null;

  @Field(() => String, { nullable: true })
  @Property({ type: 'text', nullable: true })
  lastError: string | null = null;

  /** Where the scan resumes: provider page token, delta link or event-time watermark. */
  @Property({ type: 'jsonb', nullable: true })
  cursor: unknown = null;

  /** When a scheduler took the QUEUED request and made it a job (null: not yet taken). */
  @Property({ type: 'timestamptz', nullable: true })
  dispatchedAt: Date | null = null;
}

/** Provider requests made for one instance in one minute (written by the scheduler's rate budget). */
@Entity({ tableName: 'api_usage_minute' })
export class ApiUsageMinute {
  @PrimaryKey({ type: 'uuid' })
  instanceId!: string;

  @PrimaryKey({ type: 'timestamptz' })
  minute!: Date;

  @Property({ type: 'integer' })
  requests: number = 0;

  @Property({ type: 'integer' })
  throttled: number = 0;
}

@ObjectType({
  description:
    "A provider's daily request quota (Salesforce: API requests per rolling 24 hours, shared by every integration of the org), as the provider last reported it.",
})
export class DailyQuota {
  @Field(() => Int)
  limit!: number;

  @Field(() => Int, { description: "Requests the org made in the last 24 hours, Tenantwatch's and every other integration's." })
  used!: number;

  @Field(() => Int, {
    description:
      'What Tenantwatch may still spend: the limit less the headroom it leaves free, less what is used; 0 means its requests wait for the quota to refill.',
  })
  available!: number;

  @Field()
  reportedAt!: Date;
}

@ObjectType()
export class ApiUsage {
  @Field(() => Int)
  requestsLastHour!: number;

  @Field(() => Int)
  throttledLastHour!: number;

  @Field(() => Int, { nullable: true })
  limitPerMinute!: number | null;

  @Field(() => Float, {
    description: "Share of the provider's limit left unused: the instance's own, or the deployment's HEADROOM_PERCENT.",
  })
  headroomPercent!: number;

  @Field(() => DailyQuota, { nullable: true, description: 'Null where the provider has no daily quota or has not reported it yet.' })
  dailyQuota!: DailyQuota | null;
}
