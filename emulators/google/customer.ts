import type { TokenIssuer } from './auth.js';
import { ChannelRegistry, type ChannelInfo, type Deliver } from './channels.js';
import { inScope } from './drive-access.js';
import { isGoogleDoc, MIME, type EmuFile } from './drive-store.js';
import { GoogleError } from './errors.js';
import { Quotas } from './limits.js';
import { resolveCustomerSpec, type CustomerSpec, type ResolvedCustomerSpec } from './spec.js';
import { visibility } from './activity.js';
import { CustomerState } from './tenant.js';

/** What the customer holds, for tests: directory, apps, files, audit activity (all, and visible now) and governance records. */
export type GoogleTruth = ReturnType<Customer['truth']>;

/** In-process control of one emulated customer (the admin API offers the same over HTTP). */
export interface GoogleCustomerControl {
  readonly customerId: string;
  readonly domain: string;
  readonly state: CustomerState;
  truth(): GoogleTruth;
  /** Requests per API, method and status; token requests per status; rate-limited answers sent. */
  stats(): {
    readonly requests: Record<string, Record<string, number>>;
    readonly tokens: Record<string, number>;
    readonly throttled: number;
  };
  /** Answers a share of API requests rate-limited although under quota (0 stops it). */
  setThrottleRate(rate: number): void;
  /** Rate-limited answers (403 userRateLimitExceeded/rateLimitExceeded, 429 rateLimitExceeded) sent so far. */
  throttled(): number;
  /** Every access token issued so far stops working (401); answers the new generation. */
  expireTokens(): number;
  /** Delegation revoked (true): token requests for this customer are refused `unauthorized_client`; false restores it. */
  refuseTokens(refuse: boolean): void;
  /** Audit activities that happen now and become visible up to `lateMs` later; answers their uniqueQualifiers. */
  lateEvents(count: number, lateMs: number): string[];
  /** Audit activities that occurred `agoMs` ago and become visible only now; answers their uniqueQualifiers. */
  pastEvents(count: number, agoMs: number): string[];
  /** Deletes a user, group, file or token outside any governance (token id: `<userId>/<clientId>`). */
  remove(kind: 'user' | 'group' | 'file' | 'token', id: string): void;
  /** A new version of a file's content: a change in the feed and `change` notifications to the channels that see it. */
  changeFile(fileId: string): void;
  /** Live changes channels. */
  channels(): ChannelInfo[];
  /** Ends every channel without notice (as lost ones); answers how many. */
  dropChannels(): number;
  /** Makes every channel expire now; answers how many. */
  expireChannels(): number;
  /** Changes run-time settings: throttling, latencies, limits, service accounts (delegated scopes). */
  update(patch: Partial<Pick<CustomerSpec, 'throttleRate' | 'latencyMs' | 'limits' | 'serviceAccounts' | 'tokenLifetimeSeconds'>>): void;
}

export class Customer implements TokenIssuer, GoogleCustomerControl {
  readonly state: CustomerState;
  readonly quotas: Quotas;
  readonly channelRegistry: ChannelRegistry;
  generation = 0;
  refusing = false;
  private readonly requests: Record<string, Record<string, number>> = {};
  private readonly tokenRequests: Record<string, number> = {};
  private throttledCount = 0;

  constructor(
    readonly spec: ResolvedCustomerSpec,
    private readonly clock: () => number,
    deliver: Deliver,
  ) {
    this.state = new CustomerState(spec, clock());
    this.quotas = new Quotas(spec);
    this.channelRegistry = new ChannelRegistry(deliver, clock);
  }

  get customerId(): string {
    return this.spec.customerId;
  }
  get domain(): string {
    return this.spec.domain;
  }

  count(key: string, status: number, rateLimited: boolean): void {
    const entry = (this.requests[key] ??= {});
    entry[String(status)] = (entry[String(status)] ?? 0) + 1;
    if (rateLimited) this.throttledCount++;
  }
  countToken(status: number): void {
    this.tokenRequests[String(status)] = (this.tokenRequests[String(status)] ?? 0) + 1;
  }

  /** Records a change of `file` in the change log and notifies the channels that see it. */
  fileChanged(file: EmuFile, audienceBefore: readonly string[]): void {
    const store = this.state.drive;
    store.reindex(file);
    const audience = [...new Set([...audienceBefore, ...store.audience(file)])];
    store.recordChange(file, this.clock(), file.deleted, audience);
    const change = store.changes[store.changes.length - 1]!;
    this.channelRegistry.notify(change, (channel, c) => inScope(this.state, channel, c));
  }

  // ------------------------------------------------------------------ control

  truth() {
    const state = this.state;
    const now = this.clock();
    const files = [...state.drive.files.values()].filter((f) => !f.root);
    const activities = state.audit.all().map((a) => ({
      id: a.uniqueQualifier,
      applicationName: a.applicationName,
      time: new Date(a.time).toISOString(),
      actorEmail: a.actorEmail,
      eventNames: a.events.map((e) => e.name),
      visibleAt: new Date(a.visibleAt).toISOString(),
      visible: a.visibleAt <= now,
    }));
    return structuredClone({
      customerId: this.spec.customerId,
      domain: this.spec.domain,
      users: state.users,
      groups: state.groups.map((g) => ({ ...g, memberIds: g.members.map((m) => m.userId) })),
      roles: state.roles,
      roleAssignments: state.roleAssignments,
      apps: state.apps,
      tokens: state.tokens,
      drives: [...state.drive.drives.values()],
      files: files.map((f) => ({
        id: f.id,
        name: f.name,
        mimeType: f.mimeType,
        ownerId: f.ownerId,
        driveId: f.driveId,
        parentId: f.parentId,
        folder: f.mimeType === MIME.folder,
        googleDoc: isGoogleDoc(f.mimeType),
        trashed: f.trashed,
        deleted: f.deleted,
        size: state.drive.size(f),
        md5Checksum: state.drive.md5(f),
        version: f.version,
        description: f.description,
        planted: f.planted,
        visibility: visibility(f, this.spec.domain),
        permissions: f.permissions,
      })),
      activities,
      governance: state.governance,
      changes: state.drive.changes.length,
      channels: this.channels(),
    });
  }

  stats() {
    return structuredClone({ requests: this.requests, tokens: this.tokenRequests, throttled: this.throttledCount });
  }

  setThrottleRate(rate: number): void {
    this.update({ throttleRate: rate });
  }

  throttled(): number {
    return this.throttledCount;
  }

  expireTokens(): number {
    return ++this.generation;
  }

  refuseTokens(refuse: boolean): void {
    this.refusing = refuse;
  }

  lateEvents(count: number, lateMs: number): string[] {
    return this.state.activity.lateActivities(count, lateMs, this.clock()).map((a) => a.uniqueQualifier);
  }

  pastEvents(count: number, agoMs: number): string[] {
    return this.state.activity.pastActivities(count, agoMs, this.clock()).map((a) => a.uniqueQualifier);
  }

  remove(kind: 'user' | 'group' | 'file' | 'token', id: string): void {
    const state = this.state;
    const missing = () => new GoogleError(404, 'notFound', `${kind} ${id} does not exist`);
    switch (kind) {
      case 'user': {
        const user = state.user(id);
        if (!user) throw missing();
        user.deleted = true;
        for (const t of state.tokens) if (t.userId === user.id) t.deleted = true;
        return;
      }
      case 'group': {
        const group = state.group(id);
        if (!group) throw missing();
        group.deleted = true;
        return;
      }
      case 'token': {
        const [userId, clientId] = id.split('/');
        const token = state.tokensOf(userId ?? '').find((t) => t.clientId === clientId);
        if (!token) throw missing();
        token.deleted = true;
        return;
      }
      case 'file': {
        const file = state.drive.files.get(id);
        if (!file || file.deleted || file.root) throw missing();
        const before = new Map<EmuFile, string[]>();
        const all = [file, ...this.descendants(file)];
        for (const f of all) before.set(f, state.drive.audience(f));
        for (const f of state.drive.remove(file)) this.fileChanged(f, before.get(f) ?? []);
        return;
      }
      default:
        throw new GoogleError(400, 'badRequest', `kind: one of user, group, file, token (got ${String(kind)})`);
    }
  }

  private descendants(file: EmuFile): EmuFile[] {
    return this.state.drive.childrenOf(file.id).flatMap((id) => {
      const child = this.state.drive.files.get(id);
      return child && !child.deleted ? [child, ...this.descendants(child)] : [];
    });
  }

  changeFile(fileId: string): void {
    const file = this.state.drive.files.get(fileId);
    if (!file || file.deleted || file.mimeType === MIME.folder || file.root)
      throw new GoogleError(404, 'notFound', `file ${fileId} does not exist`);
    const now = this.clock();
    file.content = Buffer.concat([file.content, Buffer.from(`\nEdited at ${new Date(now).toISOString()}\n`)]);
    file.version++;
    file.modifiedTime = new Date(now).toISOString();
    this.fileChanged(file, this.state.drive.audience(file));
  }

  channels(): ChannelInfo[] {
    return this.channelRegistry.list();
  }

  dropChannels(): number {
    return this.channelRegistry.drop();
  }

  expireChannels(): number {
    return this.channelRegistry.expire();
  }

  update(patch: Parameters<GoogleCustomerControl['update']>[0]): void {
    const next = resolveCustomerSpec({
      ...this.spec,
      ...patch,
      latencyMs: { ...this.spec.latencyMs, ...patch.latencyMs },
      limits: { ...this.spec.limits, ...patch.limits },
    });
    Object.assign(this.spec, {
      throttleRate: next.throttleRate,
      latencyMs: next.latencyMs,
      limits: next.limits,
      serviceAccounts: next.serviceAccounts,
      tokenLifetimeSeconds: next.tokenLifetimeSeconds,
    });
  }
}
