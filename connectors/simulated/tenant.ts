import { ActivityTimer, generateLiveEvent } from './live-activity.js';
import type { SimEvent, SimFile, SimGrant, Truth } from './model.js';
import { TokenBucket, type RateDecision } from './rate-limiter.js';
import { parseSpec, TenantPatchSchema, type Faults, type ResolvedTenantSpec, type TenantPatch } from './spec.js';
import { RequestStats, type StatsSnapshot } from './stats.js';
import { TenantState, type DeletableKind } from './tenant-state.js';
import { SubscriptionRegistry, type LifecycleEvent, type SubscriptionTruth } from './subscriptions.js';
import { Courier, WebhookSender } from './webhooks.js';

/** In-process control of one simulated tenant; the admin API offers the same over HTTP. */
export interface TenantControl {
  readonly id: string;
  readonly token: string;
  /** The spec as it is now, run-time changes included. */
  spec(): ResolvedTenantSpec;
  /** A deep copy of the ground truth, deleted things and not-yet-visible events included. */
  truth(): Truth;
  /** Request counts per route and status so far. */
  stats(): StatsSnapshot;
  /** Changes the run-time settings; throws a SpecError naming a bad field. */
  update(patch: TenantPatch): ResolvedTenantSpec;
  setRateLimit(perMinute: number): void;
  setFaults(faults: Partial<Faults>): void;
  setAuditLag(ms: number): void;
  setActivityRate(perMinute: number): void;
  /**
   * Generates `count` live events (with their file effects) and answers them: now, or `occurredAgoMs`
   * ago and visible in the audit API only from now (events hours late).
   */
  generateActivity(count: number, occurredAgoMs?: number): SimEvent[];
  /**
   * Edits the file (new content version), records the change in the feed and notifies the webhook and
   * the subscriptions, unless `notify` is false (a notification lost on the way). Throws a 404 ApiError for an unknown id.
   */
  touchFile(externalId: string, options?: { readonly notify?: boolean }): SimFile;
  /**
   * Restricts one file's content (`locked`: its download answers 403, as a file shared away from the
   * app or under a sensitivity label does) or lifts that; the file stays listed. Throws a 404 ApiError
   * for an unknown id.
   */
  lockFile(externalId: string, locked: boolean): { readonly externalId: string; readonly locked: boolean };
  /** The live change subscriptions, with their clientStates and delivery counts. */
  subscriptions(): SubscriptionTruth[];
  /** Sends a lifecycle notification of the subscription (see {@link SubscriptionRegistry.lifecycle}). Throws a 404 ApiError for an unknown id. */
  sendLifecycle(subscriptionId: string, event: LifecycleEvent): SubscriptionTruth;
  /** A user without a grant of the app authorizes it (see {@link TenantState.authorizeApp}); answers the new grant. */
  authorizeApp(clientId: string): SimGrant;
  /** Deletes a user, group, file or grant for good. Throws a 404 ApiError for an unknown id. */
  delete(kind: DeletableKind, externalId: string): void;
  /** Queues faults that the next governance calls meet, one each, in order (see {@link GovernanceFault}). */
  queueGovernanceFaults(faults: readonly GovernanceFault[]): number;
}

/**
 * A scripted fault for one governance call: `status` answers that error without applying the
 * action (a 503, a 404...); `holdMs` applies the action and then holds the answer that long (the
 * caller may die before it learns that the action was applied).
 */
export type GovernanceFault = { readonly status: number; readonly message?: string } | { readonly holdMs: number };

/** A running tenant: its state, rate limit, request stats, webhook and live activity. */
export class Tenant implements TenantControl {
  readonly state: TenantState;
  readonly requests = new RequestStats();
  private readonly bucket: TokenBucket;
  private readonly courier = new Courier();
  private readonly webhooks: WebhookSender;
  readonly changeSubscriptions: SubscriptionRegistry;
  /** Set while a change is made whose notification is lost. */
  private muted = false;
  private readonly activity: ActivityTimer;
  private readonly governanceFaults: GovernanceFault[] = [];
  /** Files whose content download answers 403 (see {@link lockFile}). */
  private readonly lockedFiles = new Set<string>();

  constructor(
    private readonly resolved: ResolvedTenantSpec,
    readonly clock: () => number,
  ) {
    this.webhooks = new WebhookSender(resolved.id, () => this.resolved.webhook, clock, this.courier);
    this.changeSubscriptions = new SubscriptionRegistry(
      resolved.id,
      () => this.resolved.maxSubscriptionLifetimeSeconds * 1000,
      clock,
      this.courier,
    );
    this.state = new TenantState(resolved, clock(), (notice) => {
      if (this.muted) return;
      this.webhooks.send([notice]);
      this.changeSubscriptions.notify(notice);
    });
    this.bucket = new TokenBucket(resolved.rateLimitPerMinute, resolved.burstSeconds, clock());
    this.activity = new ActivityTimer(this.state, () => this.resolved.activityPerMinute, clock);
    this.activity.start();
  }

  get id(): string {
    return this.resolved.id;
  }

  get token(): string {
    return this.resolved.token;
  }

  spec(): ResolvedTenantSpec {
    return structuredClone(this.resolved);
  }

  truth(): Truth {
    return this.state.truth();
  }

  stats(): StatsSnapshot {
    return this.requests.snapshot();
  }

  /** Spends one request of the rate limit. */
  takeToken(): RateDecision {
    return this.bucket.take(this.clock());
  }

  update(patch: TenantPatch): ResolvedTenantSpec {
    const p = parseSpec(TenantPatchSchema, patch, 'patch');
    const spec = this.resolved;
    if (p.rateLimitPerMinute !== undefined || p.burstSeconds !== undefined) {
      spec.rateLimitPerMinute = p.rateLimitPerMinute ?? spec.rateLimitPerMinute;
      spec.burstSeconds = p.burstSeconds ?? spec.burstSeconds;
      this.bucket.setLimit(spec.rateLimitPerMinute, spec.burstSeconds, this.clock());
    }
    if (p.faults) spec.faults = { ...spec.faults, ...Object.fromEntries(Object.entries(p.faults).filter(([, v]) => v !== undefined)) };
    if (p.auditLagMs !== undefined) spec.auditLagMs = p.auditLagMs;
    if (p.activityPerMinute !== undefined) spec.activityPerMinute = p.activityPerMinute;
    if (p.maxPageSize !== undefined) spec.maxPageSize = p.maxPageSize;
    if (p.permissions !== undefined) spec.permissions = p.permissions;
    if (p.changeRetentionMs !== undefined) {
      spec.changeRetentionMs = p.changeRetentionMs;
      this.state.changes.setRetention(p.changeRetentionMs);
    }
    if (p.maxSubscriptionLifetimeSeconds !== undefined) spec.maxSubscriptionLifetimeSeconds = p.maxSubscriptionLifetimeSeconds;
    if (p.webhook === null) delete spec.webhook;
    else if (p.webhook) spec.webhook = p.webhook;
    if (p.oauth === null) delete spec.oauth;
    else if (p.oauth) spec.oauth = p.oauth;
    return this.spec();
  }

  setRateLimit(perMinute: number): void {
    this.update({ rateLimitPerMinute: perMinute });
  }

  setFaults(faults: Partial<Faults>): void {
    this.update({ faults });
  }

  setAuditLag(ms: number): void {
    this.update({ auditLagMs: ms });
  }

  setActivityRate(perMinute: number): void {
    this.update({ activityPerMinute: perMinute });
  }

  generateActivity(count: number, occurredAgoMs = 0): SimEvent[] {
    const now = this.clock();
    const events: SimEvent[] = [];
    for (let i = 0; i < count; i++) {
      const event = occurredAgoMs > 0 ? generateLiveEvent(this.state, now - occurredAgoMs, now) : generateLiveEvent(this.state, now);
      if (event) events.push(structuredClone(event));
    }
    return events;
  }

  authorizeApp(clientId: string): SimGrant {
    return structuredClone(this.state.authorizeApp(clientId, this.clock()));
  }

  touchFile(externalId: string, options: { readonly notify?: boolean } = {}): SimFile {
    const file = this.state.file(externalId);
    this.muted = options.notify === false;
    try {
      this.state.editFile(file, this.clock(), false);
    } finally {
      this.muted = false;
    }
    return structuredClone(file);
  }

  lockFile(externalId: string, locked: boolean): { readonly externalId: string; readonly locked: boolean } {
    this.state.file(externalId);
    if (locked) this.lockedFiles.add(externalId);
    else this.lockedFiles.delete(externalId);
    return { externalId, locked };
  }

  /** Whether the file's content is restricted from the app (see {@link lockFile}). */
  isFileLocked(externalId: string): boolean {
    return this.lockedFiles.has(externalId);
  }

  subscriptions(): SubscriptionTruth[] {
    return this.changeSubscriptions.truth();
  }

  sendLifecycle(subscriptionId: string, event: LifecycleEvent): SubscriptionTruth {
    return this.changeSubscriptions.lifecycle(subscriptionId, { event });
  }

  delete(kind: DeletableKind, externalId: string): void {
    this.state.delete(kind, externalId, this.clock());
  }

  queueGovernanceFaults(faults: readonly GovernanceFault[]): number {
    this.governanceFaults.push(...faults);
    return this.governanceFaults.length;
  }

  /** The next scripted fault for a governance call, if one is queued. */
  takeGovernanceFault(): GovernanceFault | undefined {
    return this.governanceFaults.shift();
  }

  /** Stops the live activity and abandons webhook deliveries and handshakes in flight. */
  close(): void {
    this.activity.stop();
    this.changeSubscriptions.close();
    this.courier.close();
  }
}
