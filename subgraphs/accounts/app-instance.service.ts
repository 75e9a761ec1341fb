import type { EntityManager, Knex } from '@mikro-orm/postgresql';
import { EVERY_INSTANCE, inScope, type InstanceScope } from '../../platform/scope.js';
import { decryptSecret, encryptSecret } from '../../platform/crypto.js';
import { ApiUsage, AppInstance, ChangeNotificationMode, ScanKind, ScanRunState, ScanState } from './app-instance.entity.js';
import type { InstanceDirectory, InstanceGovernance } from '../../platform/governance/instances.js';
import { AppCapability, ConnectionStatus } from '../../platform/vocabulary/instance.js';

/** What `connectApp` stores: the provider, a display name and the (secret-bearing) config. */
export interface ConnectRequest {
  readonly provider: string;
  readonly name: string;
  readonly config: Readonly<Record<string, unknown>>;
}

/** What `updateAppInstance` changes; an absent field is left as it is, null puts a limit back to its default. */
export interface InstanceUpdate {
  readonly name?: string;
  /** The whole config as the connector validated it (the stored one with the new fields over it). */
  readonly config?: Readonly<Record<string, unknown>>;
  readonly limitPerMinute?: number | null;
  readonly headroomPercent?: number | null;
}

/** Statuses in which the scheduler works on an instance: a new config sends it through the connect steps again. */
const LIVE: readonly ConnectionStatus[] = [
  ConnectionStatus.CONNECTING,
  ConnectionStatus.SCANNING_PERMISSIONS,
  ConnectionStatus.INITIAL_SCAN,
  ConnectionStatus.CONNECTED,
  ConnectionStatus.DEGRADED,
];

/** Statuses reconnectApp takes an instance from. */
export const RECONNECTABLE: readonly ConnectionStatus[] = [
  ConnectionStatus.ERROR,
  ConnectionStatus.DISCONNECTED,
  ConnectionStatus.DEGRADED,
];

const INSTANCE = 'accounts.app_instance';
const SCAN = 'accounts.scan_state';
const USAGE = 'accounts.api_usage_minute';

/** The only writer of app instances, their scan states and API usage; also their reads. */
export class AppInstanceService {
  /** `scope`: the instances a caller may read (null: every one); {@link list} and {@link byIds} keep to it. */
  constructor(
    private readonly em: EntityManager,
    private readonly credentialsKey: Buffer,
    private readonly scope: InstanceScope = EVERY_INSTANCE,
  ) {}

  private get knex(): Knex {
    return this.em.getKnex();
  }

  /** Stores a new instance, its config sealed with AES-256-GCM, in status CONNECTING. */
  async connect(request: ConnectRequest): Promise<AppInstance> {
    const instance = this.em.create(AppInstance, {
      provider: request.provider,
      name: request.name,
      sealedConfig: encryptSecret(this.credentialsKey, JSON.stringify(request.config)),
    });
    await this.em.persistAndFlush(instance);
    await this.knex.raw(`select pg_notify('tenantwatch_scheduler', ?)`, [JSON.stringify({ instanceId: instance.id, connect: true })]);
    return instance;
  }

  private async notifyScheduler(payload: Record<string, unknown>): Promise<void> {
    await this.knex.raw(`select pg_notify('tenantwatch_scheduler', ?)`, [JSON.stringify(payload)]);
  }

  /**
   * Applies an update. A new config on a live instance (connecting, connected or degraded) sends it
   * back to CONNECTING: the scheduler checks the credentials and the granted permissions again, and
   * its scans go on from their cursors. An instance in ERROR or DISCONNECTED keeps its status until
   * reconnectApp. Answers null for an unknown or deleted id.
   */
  async update(id: string, update: InstanceUpdate): Promise<AppInstance | null> {
    const columns: Record<string, unknown> = {};
    if (update.name !== undefined) columns.name = update.name;
    if (update.config !== undefined) columns.sealed_config = encryptSecret(this.credentialsKey, JSON.stringify(update.config));
    if (update.limitPerMinute !== undefined) columns.limit_per_minute_override = update.limitPerMinute;
    if (update.headroomPercent !== undefined) columns.headroom_percent = update.headroomPercent;
    const reconnect = update.config !== undefined;
    const updated: { id: string; status: ConnectionStatus }[] = await this.knex.transaction(async (trx) => {
      const rows: { id: string; status: ConnectionStatus }[] = await trx(INSTANCE)
        .where('id', id)
        .whereNot('status', ConnectionStatus.DELETED)
        .update({ ...columns, updated_at: new Date() })
        .returning(['id', 'status']);
      if (reconnect && rows[0] && LIVE.includes(rows[0].status))
        await trx(INSTANCE).where('id', id).update({
          status: ConnectionStatus.CONNECTING,
          status_message: 'The config changed: checking the credentials and granted permissions again',
        });
      return rows;
    });
    if (updated.length === 0) return null;
    // Read before the scheduler is woken: the answer shows what this update did.
    const instance = await this.fresh(id);
    if (reconnect && LIVE.includes(updated[0]!.status)) await this.notifyScheduler({ instanceId: id, connect: true });
    return instance;
  }

  /**
   * Sends an instance in ERROR, DISCONNECTED or DEGRADED back through the connect steps: its
   * credentials and granted permissions are checked again, its scans go on from their cursors and its
   * periodic jobs are ensured. Answers null when the instance is in none of those statuses.
   */
  async reconnect(id: string): Promise<AppInstance | null> {
    const rows: unknown[] = await this.knex(INSTANCE)
      .where('id', id)
      .whereIn('status', [...RECONNECTABLE])
      .update({
        status: ConnectionStatus.CONNECTING,
        status_message: 'Reconnecting: checking the credentials and granted permissions',
        disconnected_at: null,
        updated_at: new Date(),
      })
      .returning('id');
    if (rows.length === 0) return null;
    const instance = await this.fresh(id);
    await this.notifyScheduler({ instanceId: id, connect: true });
    return instance;
  }

  /**
   * Marks the instance DELETED (a tombstone its governance log still points at, left out of
   * {@link list}); a scheduler then stops its jobs, removes its change subscriptions at the provider,
   * forgets its credentials and purges its data. Deleting a deleted instance answers it again. Answers
   * null for an unknown id.
   */
  async delete(id: string): Promise<AppInstance | null> {
    await this.knex(INSTANCE).where('id', id).whereNot('status', ConnectionStatus.DELETED).update({
      status: ConnectionStatus.DELETED,
      status_message: 'Deleted by an administrator: its data is being purged; its governance log is kept',
      deleted_at: new Date(),
      updated_at: new Date(),
    });
    const instance = await this.fresh(id);
    if (instance) await this.notifyScheduler({ instanceId: id, purge: true });
    return instance;
  }

  /** The instance as stored now (not from the identity map). */
  private async fresh(id: string): Promise<AppInstance | null> {
    return this.em.findOne(AppInstance, { id }, { refresh: true });
  }

  /**
   * Takes up to `limit` deleted instances whose purge has not finished and that no scheduler is
   * purging (a claim older than `staleAfterMs`, of a scheduler that died mid-purge, is taken again).
   */
  async claimPurges(limit = 5, staleAfterMs = 5 * 60_000): Promise<string[]> {
    const rows: { id: string }[] = await this.knex(INSTANCE)
      .whereIn(
        'id',
        this.knex(INSTANCE)
          .select('id')
          .where('status', ConnectionStatus.DELETED)
          .whereNull('purged_at')
          .where((q) => q.whereNull('purge_claimed_at').orWhere('purge_claimed_at', '<', new Date(Date.now() - staleAfterMs)))
          .limit(limit)
          .forUpdate()
          .skipLocked(),
      )
      .update({ purge_claimed_at: new Date() })
      .returning('id');
    return rows.map((r) => r.id);
  }

  /** Keeps a purge's claim fresh (after each batch), so that no other scheduler takes it over. */
  async touchPurge(id: string): Promise<void> {
    await this.knex(INSTANCE).where('id', id).update({ purge_claimed_at: new Date() });
  }

  /** Forgets a deleted instance's config (endpoint and credentials): an empty object is sealed in its place. */
  async forgetConfig(id: string): Promise<void> {
    await this.knex(INSTANCE)
      .where('id', id)
      .where('status', ConnectionStatus.DELETED)
      .update({ sealed_config: encryptSecret(this.credentialsKey, '{}') });
  }

  /** Records that a deleted instance's data is purged. */
  async finishPurge(id: string): Promise<void> {
    await this.knex(INSTANCE).where('id', id).update({
      purged_at: new Date(),
      purge_claimed_at: null,
      status_message: 'Deleted by an administrator: its data is purged; its governance log is kept',
    });
  }

  /**
   * Sets a connected instance CONNECTED or DEGRADED (with `message`), as its scans' refusals say;
   * an instance in any other status is left alone.
   */
  async setDegraded(id: string, message: string | null): Promise<void> {
    await this.knex(INSTANCE)
      .where('id', id)
      .whereIn('status', [ConnectionStatus.CONNECTED, ConnectionStatus.DEGRADED])
      .update({
        status: message === null ? ConnectionStatus.CONNECTED : ConnectionStatus.DEGRADED,
        status_message: message,
        updated_at: new Date(),
      });
  }

  /** Forgets which kinds the provider refused (the connect step has just checked the granted permissions). */
  async clearRefusals(instanceId: string): Promise<void> {
    await this.knex(SCAN).where('instance_id', instanceId).whereNotNull('refused_since').update({ refused_since: null });
  }

  /** Counts an item a scan run skipped, and why. */
  async recordSkip(instanceId: string, kind: ScanKind, reason: string): Promise<void> {
    await this.knex(SCAN)
      .where({ instance_id: instanceId, kind })
      .update({ items_skipped: this.knex.raw('items_skipped + 1'), last_skip_reason: reason });
  }

  /** Marks the instance DISCONNECTED; its data stays. Answers null for an unknown id, a deleted one unchanged. */
  async disconnect(id: string): Promise<AppInstance | null> {
    const instance = await this.em.findOne(AppInstance, { id });
    if (!instance || instance.status === ConnectionStatus.DELETED) return instance;
    instance.status = ConnectionStatus.DISCONNECTED;
    instance.statusMessage = 'Disconnected by an administrator; data is kept';
    instance.disconnectedAt = new Date();
    await this.em.flush();
    return instance;
  }

  /** Records what the last sync of the instance's change subscriptions found (and releases a disconnect claim). */
  async recordNotifications(
    id: string,
    state: { mode: ChangeNotificationMode; subscriptions: number; renewAt: Date | null; error: string | null },
  ): Promise<void> {
    await this.knex(INSTANCE).where('id', id).update({
      notification_mode: state.mode,
      notification_subscriptions: state.subscriptions,
      notifications_renew_at: state.renewAt,
      notifications_error: state.error,
      notifications_synced_at: new Date(),
      notifications_claimed_at: null,
    });
  }

  /** Records a failed sync: the subscriptions last known are kept as they were (and a disconnect claim until it goes stale). */
  async recordNotificationsError(id: string, error: string): Promise<void> {
    await this.knex(INSTANCE).where('id', id).update({ notifications_error: error });
  }

  /**
   * Takes up to `limit` disconnected instances that still have change subscriptions at the provider
   * and that no scheduler is removing (a claim older than `staleAfterMs` is taken again).
   */
  async claimDisconnectedSubscriptions(limit = 20, staleAfterMs = 10 * 60_000): Promise<string[]> {
    const rows: { id: string }[] = await this.knex(INSTANCE)
      .whereIn(
        'id',
        this.knex(INSTANCE)
          .select('id')
          .where('status', ConnectionStatus.DISCONNECTED)
          .where('notification_subscriptions', '>', 0)
          .where((q) =>
            q.whereNull('notifications_claimed_at').orWhere('notifications_claimed_at', '<', new Date(Date.now() - staleAfterMs)),
          )
          .limit(limit)
          .forUpdate()
          .skipLocked(),
      )
      .update({ notifications_claimed_at: new Date() })
      .returning('id');
    return rows.map((r) => r.id);
  }

  /** Moves an instance to `status` with an optional message (the connect flow's steps). */
  async setStatus(id: string, status: ConnectionStatus, message: string | null = null): Promise<void> {
    // A job that ends after deleteAppInstance leaves the tombstone as it is.
    await this.knex(INSTANCE)
      .where('id', id)
      .whereNot('status', ConnectionStatus.DELETED)
      .update({ status, status_message: message, updated_at: new Date() });
  }

  /** Records what the provider granted and what the connector can do. */
  async setPermissions(id: string, grantedPermissions: readonly string[], capabilities: readonly AppCapability[]): Promise<void> {
    await this.knex(INSTANCE)
      .where('id', id)
      .update({ granted_permissions: [...grantedPermissions], capabilities: [...capabilities], updated_at: new Date() });
  }

  /** Every instance but the deleted ones, oldest first. */
  async list(): Promise<AppInstance[]> {
    return this.em.find(
      AppInstance,
      { status: { $ne: ConnectionStatus.DELETED }, ...(this.scope ? { id: { $in: [...this.scope] } } : {}) },
      { orderBy: { connectedAt: 'asc', id: 'asc' } },
    );
  }

  async byIds(ids: readonly string[]): Promise<AppInstance[]> {
    return this.em.find(AppInstance, { id: { $in: ids.filter((id) => inScope(this.scope, id)) } });
  }

  /** Every scan kind's state per instance (kinds never run show as IDLE). */
  async scansOf(instanceIds: readonly string[]): Promise<Map<string, ScanState[]>> {
    const found = await this.em.find(ScanState, { instanceId: { $in: [...instanceIds] } });
    const out = new Map<string, ScanState[]>();
    for (const instanceId of instanceIds) {
      out.set(
        instanceId,
        Object.values(ScanKind).map(
          (kind) =>
            found.find((s) => s.instanceId === instanceId && s.kind === kind) ??
            this.em.create(ScanState, { instanceId, kind }, { persist: false }),
        ),
      );
    }
    return out;
  }

  /**
   * Marks a scan QUEUED and wakes the schedulers (NOTIFY); one of them takes it with
   * {@link claimQueuedScans}. A scan already running stays RUNNING and is queued again after it.
   */
  async requestScan(instanceId: string, kind: ScanKind): Promise<ScanState> {
    const [row] = await this.knex(SCAN)
      .insert({ instance_id: instanceId, kind, state: ScanRunState.QUEUED, items_scanned: 0 })
      .onConflict(['instance_id', 'kind'])
      .merge({
        state: this.knex.raw(`case when scan_state.state = 'RUNNING' then scan_state.state else 'QUEUED' end`),
        dispatched_at: null,
      })
      .returning('*');
    await this.knex.raw(`select pg_notify('tenantwatch_scheduler', ?)`, [JSON.stringify({ instanceId, kind })]);
    return this.em.map(ScanState, row);
  }

  /** Takes up to `limit` QUEUED scans no scheduler has taken yet (each is taken once). */
  async claimQueuedScans(limit = 100): Promise<{ instanceId: string; kind: ScanKind }[]> {
    const rows: { instance_id: string; kind: ScanKind }[] = await this.knex
      .raw(
        `update ${SCAN} s set dispatched_at = now()
        where (s.instance_id, s.kind) in (
          select instance_id, kind from ${SCAN}
           where state = 'QUEUED' and dispatched_at is null
           order by instance_id, kind limit ? for update skip locked)
        returning s.instance_id, s.kind`,
        [limit],
      )
      .then((r: { rows: { instance_id: string; kind: ScanKind }[] }) => r.rows);
    return rows.map((r) => ({ instanceId: r.instance_id, kind: r.kind }));
  }

  /** Takes up to `limit` instances in CONNECTING that no scheduler has started yet. */
  async claimConnecting(limit = 20): Promise<string[]> {
    const rows: { id: string }[] = await this.knex(INSTANCE)
      .whereIn('id', this.knex(INSTANCE).select('id').where('status', ConnectionStatus.CONNECTING).limit(limit).forUpdate().skipLocked())
      .update({ status: ConnectionStatus.SCANNING_PERMISSIONS, status_message: 'Checking the granted permissions', updated_at: new Date() })
      .returning('id');
    return rows.map((r) => r.id);
  }

  /** Puts a scan back for any scheduler to take (a stopping scheduler's unfinished run). */
  async requeue(instanceId: string, kind: ScanKind): Promise<void> {
    await this.knex(SCAN).where({ instance_id: instanceId, kind }).update({ state: ScanRunState.QUEUED, dispatched_at: null });
    await this.knex.raw(`select pg_notify('tenantwatch_scheduler', ?)`, [JSON.stringify({ instanceId, kind })]);
  }

  /** Updates one scan's state (created IDLE when missing). */
  async updateScan(
    instanceId: string,
    kind: ScanKind,
    patch: Partial<
      Pick<
        ScanState,
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
        | 'refusedSince'
      >
    >,
  ): Promise<void> {
    const columns: Record<string, unknown> = {};
    if (patch.itemsSkipped !== undefined) columns.items_skipped = patch.itemsSkipped;
    if (patch.lastSkipReason !== undefined) columns.last_skip_reason = patch.lastSkipReason;
    if (patch.refusedSince !== undefined) columns.refused_since = patch.refusedSince;
    if (patch.dispatchedAt !== undefined) columns.dispatched_at = patch.dispatchedAt;
    if (patch.state !== undefined) columns.state = patch.state;
    if (patch.lastStartedAt !== undefined) columns.last_started_at = patch.lastStartedAt;
    if (patch.lastCompletedAt !== undefined) columns.last_completed_at = patch.lastCompletedAt;
    if (patch.nextRunAt !== undefined) columns.next_run_at = patch.nextRunAt;
    if (patch.itemsScanned !== undefined) columns.items_scanned = patch.itemsScanned;
    if (patch.totalEstimate !== undefined) columns.total_estimate = patch.totalEstimate;
    if (patch.lastError !== undefined) columns.last_error = patch.lastError;
    if (patch.cursor !== undefined) columns.cursor = patch.cursor === null ? null : JSON.stringify(patch.cursor);
    await this.knex(SCAN)
      .insert({ instance_id: instanceId, kind, state: ScanRunState.IDLE, items_scanned: 0, ...columns })
      .onConflict(['instance_id', 'kind'])
      .merge(columns);
  }

  async scanState(instanceId: string, kind: ScanKind): Promise<ScanState | null> {
    const row = await this.knex(SCAN).where({ instance_id: instanceId, kind }).first();
    return row ? this.em.map(ScanState, row) : null;
  }

  /** Replaces the instance's connect config (sealed again). */
  async updateConfig(id: string, config: Readonly<Record<string, unknown>>): Promise<void> {
    await this.knex(INSTANCE)
      .where('id', id)
      .update({ sealed_config: encryptSecret(this.credentialsKey, JSON.stringify(config)), updated_at: new Date() });
  }

  /** The instance's decrypted connect config (endpoint and credentials). */
  /** The instance with its decrypted connect config, in one read (the scheduler's connectors need both). */
  async withConfig(id: string): Promise<{ readonly instance: AppInstance; readonly config: Record<string, unknown> } | null> {
    if (!inScope(this.scope, id)) return null;
    const instance = await this.em.findOne(AppInstance, { id }, { populate: ['sealedConfig'] });
    return instance ? { instance, config: this.unseal(instance.sealedConfig) } : null;
  }

  async readConfig(id: string): Promise<Record<string, unknown> | null> {
    const row: { sealed_config: string } | undefined = await this.knex(INSTANCE).select('sealed_config').where('id', id).first();
    return row ? this.unseal(row.sealed_config) : null;
  }

  private unseal(sealed: string): Record<string, unknown> {
    return JSON.parse(decryptSecret(this.credentialsKey, sealed)) as Record<string, unknown>;
  }

  /** Records the provider's documented request limit. */
  async setLimit(id: string, limitPerMinute: number | null): Promise<void> {
    await this.knex(INSTANCE).where('id', id).update({ limit_per_minute: limitPerMinute });
  }

  /** Instances in one of `statuses`. */
  async withStatus(statuses: readonly ConnectionStatus[]): Promise<AppInstance[]> {
    return this.em.find(AppInstance, { status: { $in: [...statuses] } }, { orderBy: { connectedAt: 'asc' } });
  }

  /** Adds provider requests (and throttled ones) to the instance's current minute, with the daily quota the provider last reported. */
  async recordApiUsage(
    instanceId: string,
    requests: number,
    throttled: number,
    at = new Date(),
    daily?: { readonly used: number; readonly limit: number },
  ): Promise<void> {
    if (daily)
      await this.knex(INSTANCE)
        .where('id', instanceId)
        .update({ daily_quota_limit: Math.round(daily.limit), daily_quota_used: Math.round(daily.used), daily_quota_reported_at: at });
    const minute = new Date(Math.floor(at.getTime() / 60_000) * 60_000);
    await this.knex(USAGE)
      .insert({ instance_id: instanceId, minute, requests, throttled })
      .onConflict(['instance_id', 'minute'])
      .merge({
        requests: this.knex.raw('api_usage_minute.requests + excluded.requests'),
        throttled: this.knex.raw('api_usage_minute.throttled + excluded.throttled'),
      });
  }

  /** Requests and throttled requests of the last hour, with the limit and headroom, per instance. */
  async usageOf(instances: readonly AppInstance[], defaultHeadroomPercent: number): Promise<Map<string, ApiUsage>> {
    const since = new Date(Date.now() - 3_600_000);
    const rows: { instance_id: string; requests: string | null; throttled: string | null }[] = await this.knex(USAGE)
      .select('instance_id')
      .sum({ requests: 'requests', throttled: 'throttled' })
      .whereIn(
        'instance_id',
        instances.map((i) => i.id),
      )
      .where('minute', '>=', since)
      .groupBy('instance_id');
    return new Map(
      instances.map((i) => {
        const row = rows.find((r) => r.instance_id === i.id);
        return [
          i.id,
          {
            requestsLastHour: Number(row?.requests ?? 0),
            throttledLastHour: Number(row?.throttled ?? 0),
            limitPerMinute: i.limitPerMinuteOverride ?? i.limitPerMinute,
            headroomPercent: i.headroomPercent ?? defaultHeadroomPercent,
            dailyQuota:
              i.dailyQuotaLimit === null || i.dailyQuotaUsed === null || i.dailyQuotaReportedAt === null
                ? null
                : {
                    limit: i.dailyQuotaLimit,
                    used: i.dailyQuotaUsed,
                    available: Math.max(
                      0,
                      Math.floor(i.dailyQuotaLimit * (1 - (i.headroomPercent ?? defaultHeadroomPercent) / 100)) - i.dailyQuotaUsed,
                    ),
                    reportedAt: i.dailyQuotaReportedAt,
                  },
          },
        ];
      }),
    );
  }
}

/**
 * Reads an instance's name, status and granted capabilities over any connection to the database:
 * the files and app-permissions subgraphs check a governance request with it without the accounts ORM.
 */
async function instanceGovernance(knex: Knex, instanceId: string): Promise<InstanceGovernance | null> {
  const row: { name: string; provider: string; status: ConnectionStatus; capabilities: AppCapability[] } | undefined = await knex(INSTANCE)
    .select('name', 'provider', 'status', 'capabilities')
    .where('id', instanceId)
    .first();
  return row ? { name: row.name, provider: row.provider, status: row.status, capabilities: row.capabilities ?? [] } : null;
}

/** The accounts module's side of the platform's {@link InstanceDirectory} port, on any EntityManager. */
export function instanceDirectory(em: EntityManager): InstanceDirectory {
  return { governanceView: (instanceId) => instanceGovernance(em.getKnex(), instanceId) };
}
