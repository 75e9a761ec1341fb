import type { EntityManager, Knex } from '@mikro-orm/postgresql';
import { encryptSecret } from '../shared/crypto.js';
import { ApiUsage, AppCapability, AppInstance, ConnectionStatus, ScanKind, ScanRunState, ScanState } from './app-instance.entity.js';

/** What `connectApp` stores: the provider, a display name and the (secret-bearing) config. */
export interface ConnectRequest {
  readonly provider: string;
  readonly name: string;
  readonly config: Readonly<Record<string, unknown>>;
}

const INSTANCE = 'accounts.app_instance';
const SCAN = 'accounts.scan_state';
const USAGE = 'accounts.api_usage_minute';

/** The only writer of app instances, their scan states and API usage; also their reads. */
export class AppInstanceService {
  constructor(
    private readonly em: EntityManager,
    private readonly credentialsKey: Buffer,
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
    return instance;
  }

  /** Marks the instance DISCONNECTED; its data stays. Answers null for an unknown id. */
  async disconnect(id: string): Promise<AppInstance | null> {
    const instance = await this.em.findOne(AppInstance, { id });
    if (!instance) return null;
    instance.status = ConnectionStatus.DISCONNECTED;
    instance.statusMessage = 'Disconnected by an administrator; data is kept';
    instance.disconnectedAt = new Date();
    await this.em.flush();
    return instance;
  }

  /** Moves an instance to `status` with an optional message (the connect flow's steps). */
  async setStatus(id: string, status: ConnectionStatus, message: string | null = null): Promise<void> {
    await this.knex(INSTANCE).where('id', id).update({ status, status_message: message, updated_at: new Date() });
  }

  /** Records what the provider granted and what the connector can do. */
  async setPermissions(id: string, grantedPermissions: readonly string[], capabilities: readonly AppCapability[]): Promise<void> {
    await this.knex(INSTANCE)
      .where('id', id)
      .update({ granted_permissions: [...grantedPermissions], capabilities: [...capabilities], updated_at: new Date() });
  }

  async list(): Promise<AppInstance[]> {
    return this.em.find(AppInstance, {}, { orderBy: { connectedAt: 'asc', id: 'asc' } });
  }

  async byIds(ids: readonly string[]): Promise<AppInstance[]> {
    return this.em.find(AppInstance, { id: { $in: [...ids] } });
  }

  /** Every scan kind's state per instance (kinds never run show as IDLE). */
  async scansOf(instanceIds: readonly string[]): Promise<Map<string, ScanState[]>> {
    const found = await this.em.find(ScanState, { instanceId: { $in: [...instanceIds] } });
    const out = new Map<string, ScanState[]>();
    for (const instanceId of instanceIds) {
      out.set(
        instanceId,
        Object.values(ScanKind).map(
          (kind) => found.find((s) => s.instanceId === instanceId && s.kind === kind) ?? this.em.create(ScanState, { instanceId, kind }, { persist: false }),
        ),
      );
    }
    return out;
  }

  /** Marks a scan QUEUED (the scheduler picks it up) and answers its state. */
  async requestScan(instanceId: string, kind: ScanKind): Promise<ScanState> {
    const [row] = await this.knex(SCAN)
      .insert({ instance_id: instanceId, kind, state: ScanRunState.QUEUED, items_scanned: 0 })
      .onConflict(['instance_id', 'kind'])
      .merge({ state: ScanRunState.QUEUED })
      .returning('*');
    return this.em.map(ScanState, row);
  }

  /** Adds provider requests (and throttled ones) to the instance's current minute. */
  async recordApiUsage(instanceId: string, requests: number, throttled: number, at = new Date()): Promise<void> {
    const minute = new Date(Math.floor(at.getTime() / 60_000) * 60_000);
    await this.knex(USAGE)
      .insert({ instance_id: instanceId, minute, requests, throttled })
      .onConflict(['instance_id', 'minute'])
      .merge({ requests: this.knex.raw('api_usage_minute.requests + excluded.requests'), throttled: this.knex.raw('api_usage_minute.throttled + excluded.throttled') });
  }

  /** Requests and throttled requests of the last hour, with the limit and headroom, per instance. */
  async usageOf(instances: readonly AppInstance[]): Promise<Map<string, ApiUsage>> {
    const since = new Date(Date.now() - 3_600_000);
    const rows: { instance_id: string; requests: string | null; throttled: string | null }[] = await this.knex(USAGE)
      .select('instance_id')
      .sum({ requests: 'requests', throttled: 'throttled' })
      .whereIn('instance_id', instances.map((i) => i.id))
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
            limitPerMinute: i.limitPerMinute,
            headroomPercent: i.headroomPercent,
          },
        ];
      }),
    );
  }
}

