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
  description: 'A kind of scan: what Tenantwatch reads from the provider, each run on its own schedule.',
  valuesConfig: {
    USERS: { description: 'The accounts (users), with their status and administrator roles.' },
    GROUPS: { description: 'The groups and their members.' },
    ACTIVITIES: { description: 'The audit trail: the events since the last run.' },
    FILES: { description: "The files' metadata and sharing (not their content)." },
    APP_PERMISSIONS: { description: 'The OAuth grants of third-party apps.' },
    DATA: { description: 'The content of new or changed files, for sensitive data (see SensitiveMatch).' },
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
registerEnumType(ScanRunState, {
  name: 'ScanRunState',
  description: 'Where one kind of scan of an instance stands.',
  valuesConfig: {
    IDLE: { description: 'Not running: it never ran, or its last run finished.' },
    QUEUED: { description: 'Waiting for the scheduler (requested, or resuming after a restart).' },
    RUNNING: { description: 'Running now.' },
    THROTTLED: { description: "Its last run stopped at the provider's rate limit or quota; it is retried later." },
    FAILED: { description: 'Its last run failed (lastError says why); it is retried later unless the instance went to ERROR.' },
  },
});

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
    | 'limitPerMinuteOverride'
    | 'headroomPercent'
    | 'deletedAt'
    | 'purgeClaimedAt'
    | 'purgedAt'
    | 'notificationMode'
    | 'notificationSubscriptions'
    | 'notificationsRenewAt'
    | 'notificationsSyncedAt'
    | 'notificationsError'
    | 'notificationsClaimedAt';

  @Field(() => ID, { description: "The app instance's Tenantwatch id (a UUID)." })
  @PrimaryKey({ type: 'uuid' })
  id: string = newId();

  @Field({ description: `The connector that reaches it: connectApp's \`provider\` and \`ConnectorType.id\`, e.g. "m365" or "simulated".` })
  @Property({ type: 'text' })
  provider!: string;

  @Field({ description: 'The name an administrator gave it at connectApp, e.g. "Contoso Microsoft 365".' })
  @Property({ type: 'text' })
  name!: string;

  @Field(() => ConnectionStatus, { description: 'Where it stands: connecting, connected, in error or disconnected.' })
  @Property({ type: 'text' })
  status: ConnectionStatus = ConnectionStatus.CONNECTING;

  @Field(() => String, {
    nullable: true,
    description: 'What the status means right now, e.g. the scans still running or why it is in ERROR; null when there is nothing to add.',
  })
  @Property({ type: 'text', nullable: true })
  statusMessage: string | null = null;

  @Field(() => [String], { description: 'The permissions the credentials hold at the provider, by its names, as last checked.' })
  @Property({ type: 'text[]' })
  grantedPermissions: string[] = [];

  @Field(() => [AppCapability], {
    description: 'What Tenantwatch can do with the granted permissions (see missingPermissions for the rest).',
  })
  @Property({ type: 'text[]' })
  capabilities: AppCapability[] = [];

  /** The connect config (endpoint and credentials), AES-256-GCM sealed; never returned to clients. */
  @Property({ type: 'text', lazy: true })
  sealedConfig!: string;

  @Field({ description: 'When connectApp stored it.' })
  @Property({ type: 'timestamptz' })
  connectedAt: Date = new Date();

  @Property({ type: 'timestamptz', nullable: true })
  disconnectedAt: Date | null = null;

  /** The provider's documented request limit, when it has one per minute (written by every connect step). */
  @Property({ type: 'integer', nullable: true })
  limitPerMinute: number | null = null;

  /** The administrator's own request limit per minute (updateAppInstance), over the provider's; null: the provider's. */
  @Property({ type: 'integer', nullable: true })
  limitPerMinuteOverride: number | null = null;

  /** When deleteAppInstance deleted it: the row stays as a tombstone the governance log still points at. */
  @Property({ type: 'timestamptz', nullable: true })
  deletedAt: Date | null = null;

  /** Set while a scheduler purges a deleted instance's data (a claim older than a few minutes is taken again). */
  @Property({ type: 'timestamptz', nullable: true })
  purgeClaimedAt: Date | null = null;

  /** When the purge of a deleted instance's data finished. */
  @Property({ type: 'timestamptz', nullable: true })
  purgedAt: Date | null = null;

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
  @Field(() => ChangeNotificationMode, { description: 'How changes reach Tenantwatch now (POLLING until the first sync).' })
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
@ObjectType({ description: 'The state of one kind of scan of one instance.' })
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
    | 'dispatchedAt'
    | 'itemsSkipped'
    | 'lastSkipReason'
    | 'refusedSince';

  @PrimaryKey({ type: 'uuid' })
  instanceId!: string;

  @Field(() => ScanKind, { description: 'Which scan.' })
  @PrimaryKey({ type: 'text' })
  kind!: ScanKind;

  @Field(() => ScanRunState, { description: 'Whether it is idle, waiting, running, or stopped by a limit or a failure.' })
  @Property({ type: 'text' })
  state: ScanRunState = ScanRunState.IDLE;

  @Field(() => Date, { nullable: true, description: 'When its last run started; null when it never ran.' })
  @Property({ type: 'timestamptz', nullable: true })
  lastStartedAt: Date | null = null;

  @Field(() => Date, { nullable: true, description: 'When its last run finished successfully; null when none has yet.' })
  @Property({ type: 'timestamptz', nullable: true })
  lastCompletedAt: Date | null = null;

  @Field(() => Date, {
    nullable: true,
    description: 'When its next periodic run is due (requestScan runs it sooner); null while the instance has no periodic runs.',
  })
  @Property({ type: 'timestamptz', nullable: true })
  nextRunAt: Date | null = null;

  @Field(() => Int, { description: 'Items (accounts, events, files...) read by the current run, or by the last one once it finished.' })
  @Property({ type: 'integer' })
  itemsScanned: number = 0;

  @Field(() => Int, {
    nullable: true,
    description:
      "How many items the run is expected to read: the files waiting for a data scan, otherwise the last finished run's count; null before any run finished. itemsScanned / totalEstimate is the run's progress.",
  })
  @Property({ type: 'integer', nullable: true })
  totalEstimate: number | null = null;

  @Field(() => String, {
    nullable: true,
    description: "Why its last run failed or was throttled, in Tenantwatch's words; null when it did not.",
  })
  @Property({ type: 'text', nullable: true })
  lastError: string | null = null;

  @Field(() => Int, {
    description:
      'Items the current run (or the last one, once it finished) skipped because the provider refused them (HTTP 403, 404, 410, too large, an unsupported type) or their content could not be read; the rest of the run went on.',
  })
  @Property({ type: 'integer' })
  itemsSkipped: number = 0;

  @Field(() => String, {
    nullable: true,
    description: "Why the last skipped item was skipped, in Tenantwatch's words; null when none was.",
  })
  @Property({ type: 'text', nullable: true })
  lastSkipReason: string | null = null;

  /**
   * Since when every request of this kind is refused (its permission withdrawn at the provider): the
   * instance is DEGRADED while any kind is; null when the kind's last run worked.
   */
  @Property({ type: 'timestamptz', nullable: true })
  refusedSince: Date | null = null;

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
  @Field(() => Int, { description: 'Requests the provider allows per rolling 24 hours.' })
  limit!: number;

  @Field(() => Int, { description: "Requests the org made in the last 24 hours, Tenantwatch's and every other integration's." })
  used!: number;

  @Field(() => Int, {
    description:
      'What Tenantwatch may still spend: the limit less the headroom it leaves free, less what is used; 0 means its requests wait for the quota to refill.',
  })
  available!: number;

  @Field({ description: 'When the provider last reported these figures.' })
  reportedAt!: Date;
}

@ObjectType({ description: "Tenantwatch's requests to the provider for one instance, and the limits it keeps to." })
export class ApiUsage {
  @Field(() => Int, { description: 'Requests made to the provider in the last 60 minutes.' })
  requestsLastHour!: number;

  @Field(() => Int, { description: 'Of those, the ones the provider refused for its rate limit (e.g. HTTP 429).' })
  throttledLastHour!: number;

  @Field(() => Int, {
    nullable: true,
    description: "The provider's documented request limit per minute; null when it has none per minute.",
  })
  limitPerMinute!: number | null;

  @Field(() => Float, {
    description: "Share of the provider's limit left unused: the instance's own, or the deployment's HEADROOM_PERCENT.",
  })
  headroomPercent!: number;

  @Field(() => DailyQuota, { nullable: true, description: 'Null where the provider has no daily quota or has not reported it yet.' })
  dailyQuota!: DailyQuota | null;
}
