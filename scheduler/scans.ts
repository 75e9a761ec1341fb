import type { Agenda, Job } from 'agenda';
import {
  CredentialError,
  EndpointRefusedError,
  ProviderError,
  ThrottledError,
  type Capability,
  type Connector,
  type Priority,
} from '../connectors/contract.js';
import { ScanKind, ScanRunState } from '../subgraphs/accounts/public.js';
import { logger } from '../platform/logger.js';
import { scanActivities, scanLateActivities } from './jobs/activities.js';
import { scanData } from './jobs/data.js';
import { scanGrants, scanGroups, scanUsers } from './jobs/directory.js';
import { scanFiles } from './jobs/files.js';
import { SUBSCRIPTIONS_JOB, syncSubscriptions, type SubscriptionsJobData } from './jobs/subscriptions.js';
import type { ScanOutcome, ScanRun, Scanner } from './jobs/scan-run.js';
import type { SchedulerServices } from './services.js';
import { withAdvisoryLock } from './scan-lock.js';
import { isPermissionRefusal, reviewStatus } from './instance-health.js';
import { refusedReason } from './jobs/refusals.js';
import { isOutage } from './job-backoff.js';
import type pg from 'pg';
import { ConnectionStatus } from '../platform/vocabulary/instance.js';
import type { SchedulerMetrics } from './metrics.js';

/** Agenda job names, namespaced by kind. */
export const SCAN_JOB: Readonly<Record<ScanKind, string>> = {
  USERS: 'scan.users',
  GROUPS: 'scan.groups',
  ACTIVITIES: 'scan.activities',
  FILES: 'scan.files',
  APP_PERMISSIONS: 'scan.app-permissions',
  DATA: 'scan.data',
  LATE_ACTIVITIES: 'scan.late-activities',
};
export const CONNECT_JOB = 'instance.connect';

/** Data of a scan job: which instance, and why it runs. */
export interface ScanJobData {
  readonly instanceId: string;
  /** A repeating job (one per instance and kind). */
  readonly periodic?: boolean;
  readonly priority?: Priority;
  /** The containers a change notification named (a files scan reads only their changes). */
  readonly containers?: readonly string[];
}

const SCANNERS: Readonly<Record<ScanKind, Scanner<never>>> = {
  USERS: scanUsers as Scanner<never>,
  GROUPS: scanGroups as Scanner<never>,
  ACTIVITIES: scanActivities as Scanner<never>,
  FILES: scanFiles as Scanner<never>,
  APP_PERMISSIONS: scanGrants as Scanner<never>,
  DATA: scanData as Scanner<never>,
  LATE_ACTIVITIES: scanLateActivities as Scanner<never>,
};

/** The capability a kind of scan needs. */
const NEEDS: Readonly<Record<ScanKind, Capability>> = {
  USERS: 'ACCOUNT_INFO',
  GROUPS: 'ACCOUNT_INFO',
  ACTIVITIES: 'AUDIT_TRAIL',
  FILES: 'DATA_SCAN',
  APP_PERMISSIONS: 'APP_PERMISSIONS',
  DATA: 'DATA_SCAN',
  LATE_ACTIVITIES: 'AUDIT_TRAIL',
};

/** Kinds that run only periodically after the connect flow (the connect flow does not wait for them). */
const AFTER_CONNECT: readonly ScanKind[] = [ScanKind.DATA, ScanKind.LATE_ACTIVITIES];

/** Kinds the connect flow runs after the user scan, before the instance is CONNECTED. */
const INITIAL_AFTER_USERS: readonly ScanKind[] = [ScanKind.GROUPS, ScanKind.ACTIVITIES, ScanKind.FILES, ScanKind.APP_PERMISSIONS];

export function supportedKinds(capabilities: readonly string[]): ScanKind[] {
  return Object.values(ScanKind).filter((kind) => capabilities.includes(NEEDS[kind]));
}

/**
 * A failure only a change of the instance's credentials or endpoint fixes: the instance goes to ERROR.
 * A 403 is not one: it refuses one capability, and the instance is DEGRADED (scheduler/instance-health.ts).
 */
const needsNewConfig = (error: unknown): error is CredentialError | EndpointRefusedError =>
  (error instanceof CredentialError && !isPermissionRefusal(error)) || error instanceof EndpointRefusedError;

/** Statuses whose scans do not run (a periodic job of one is removed; reconnectApp makes them again). */
const ENDED: readonly ConnectionStatus[] = [ConnectionStatus.DISCONNECTED, ConnectionStatus.ERROR, ConnectionStatus.DELETED];

/** Statuses of a connected instance: its periodic jobs are ensured, its scans keep it CONNECTED or DEGRADED. */
const RUNNING: readonly ConnectionStatus[] = [ConnectionStatus.CONNECTED, ConnectionStatus.DEGRADED];

/** The attempt of a scan at which a provider that keeps failing makes the instance DEGRADED. */
const OUTAGE_AFTER_ATTEMPTS = 3;

/**
 * What a status message or a scan's lastError says of a failure (viewers read them): a provider's
 * answer in Tenantwatch's words with its HTTP status (ProviderError messages are written so), never
 * our own internals, which go to the log.
 */
const shownMessage = (error: unknown): string =>
  error instanceof ProviderError ? error.message : 'an internal error of Tenantwatch (logged with the instance id)';

/** Runs the connect flow and the scans as Agenda jobs. */
export class ScanJobs {
  constructor(
    private readonly services: SchedulerServices,
    private readonly agenda: Agenda,
    private readonly lockPool: pg.Pool,
    private readonly metrics?: Pick<SchedulerMetrics, 'scanned'>,
  ) {}

  /** Queues a scan now (a requested or follow-up run, not the periodic one). */
  async enqueue(instanceId: string, kind: ScanKind, priority: Priority = 'periodic', containers?: readonly string[]): Promise<void> {
    await this.services.instances().updateScan(instanceId, kind, { state: ScanRunState.QUEUED, dispatchedAt: new Date() });
    await this.agenda.now(SCAN_JOB[kind], { instanceId, priority, ...(containers ? { containers } : {}) } satisfies ScanJobData);
  }

  /** `instance.connect`: check the credentials and granted permissions, then start the initial scans. */
  async connect(job: Job<{ instanceId: string }>): Promise<void> {
    const { instanceId } = job.attrs.data;
    const instances = this.services.instances();
    const [current] = await instances.byIds([instanceId]);
    if (!current || current.status === ConnectionStatus.DELETED) return;
    await instances.setStatus(instanceId, ConnectionStatus.SCANNING_PERMISSIONS, 'Checking the granted permissions');
    try {
      const connector = await this.services.connector(instanceId, 'periodic');
      const report = await connector.verify();
      await instances.setPermissions(instanceId, report.grantedPermissions, report.capabilities as never);
      await instances.setLimit(instanceId, connector.limits.requestsPerMinute);
      if (!report.capabilities.includes('ACCOUNT_INFO')) {
        await instances.setStatus(
          instanceId,
          ConnectionStatus.ERROR,
          `The credentials cannot read users; missing: ${report.missingPermissions.join(', ') || 'unknown'}`,
        );
        return;
      }
      // Checked just now: what was refused before is tried again by the next scans.
      await instances.clearRefusals(instanceId);
      if (await this.resume(instanceId, report.capabilities)) return;
      await instances.setStatus(instanceId, ConnectionStatus.INITIAL_SCAN, 'Initial scan: users');
      await this.enqueue(instanceId, ScanKind.USERS);
    } catch (error) {
      if (needsNewConfig(error)) {
        await instances.setStatus(instanceId, ConnectionStatus.ERROR, error.message);
        return;
      }
      await instances.setStatus(
        instanceId,
        ConnectionStatus.SCANNING_PERMISSIONS,
        `Could not reach the provider yet (will retry): ${shownMessage(error)}`,
      );
      throw error;
    }
  }

  /**
   * An instance whose initial scans all finished once (reconnected, or its credentials changed) is
   * CONNECTED again at once: each kind it may scan runs now from its saved cursor, its periodic jobs
   * are ensured and its change subscriptions synced. Answers false for an instance never fully
   * scanned, which goes through the initial scan (its kinds also resume from their cursors).
   */
  private async resume(instanceId: string, capabilities: readonly string[]): Promise<boolean> {
    const instances = this.services.instances();
    const kinds = supportedKinds(capabilities);
    const scans = (await instances.scansOf([instanceId])).get(instanceId) ?? [];
    if (!kinds.every((k) => AFTER_CONNECT.includes(k) || scans.find((s) => s.kind === k)?.lastCompletedAt)) return false;
    await instances.setStatus(instanceId, ConnectionStatus.CONNECTED, null);
    await reviewStatus(instances, instanceId, kinds);
    await this.schedulePeriodic(instanceId, kinds);
    // Files the provider refused while a permission was missing are read again.
    await this.services.files().requeueSkipped(instanceId, refusedReason('file'));
    for (const kind of kinds) await this.enqueue(instanceId, kind);
    await this.syncSubscriptionsSoon(instanceId);
    return true;
  }

  /** `scan.<kind>`: one run of one kind for one instance, resumed from its saved cursor. */
  async scan(kind: ScanKind, job: Job<ScanJobData>): Promise<void> {
    const { instanceId } = job.attrs.data;
    const result = await withAdvisoryLock(this.lockPool, `scan:${instanceId}:${kind}`, async () => {
      // Looked at under the lock: a purge holds each kind's lock once after the delete, so no run it missed writes later.
      const [instance] = await this.services.instances().byIds([instanceId]);
      if (!instance || ENDED.includes(instance.status) || !supportedKinds(instance.capabilities).includes(kind)) {
        if (job.attrs.data.periodic) await job.remove();
        return;
      }
      await this.run(kind, job);
    });
    if (!result.ran && !job.attrs.data.periodic) {
      // Another scheduler runs this instance and kind right now: try again once it is likely done.
      await this.agenda.schedule(new Date(Date.now() + 5_000), job.attrs.name, job.attrs.data);
    }
  }

  private async run(kind: ScanKind, job: Job<ScanJobData>): Promise<void> {
    const { instanceId } = job.attrs.data;
    const instances = this.services.instances();
    const state = await instances.scanState(instanceId, kind);
    const cursor = (state?.cursor ?? null) as { watermark?: string | null } | null;
    // Bulk work spends the budget at the lowest priority, beside each other: the first audit backfill
    // and every data scan (one download per file). A data scan at periodic priority would take every
    // token the backfill may use (it waits while the bucket is below half) and hold CONNECTED back.
    const bulk = (kind === ScanKind.ACTIVITIES && !cursor?.watermark) || kind === ScanKind.DATA || kind === ScanKind.LATE_ACTIVITIES;
    const priority: Priority = bulk ? 'backfill' : (job.attrs.data.priority ?? 'periodic');
    await instances.updateScan(instanceId, kind, {
      state: ScanRunState.RUNNING,
      lastStartedAt: new Date(),
      lastError: null,
      // A fresh run counts its skips afresh; a resumed one goes on counting. The data scan knows what it will read.
      ...(cursor === null ? { itemsSkipped: 0, lastSkipReason: null } : {}),
      ...(kind === ScanKind.DATA
        ? {
            totalEstimate: await this.services
              .files()
              .countToScan(instanceId, (await this.services.evaluator().contentRules(instanceId)).hash),
          }
        : {}),
    });
    let outcome: ScanOutcome;
    let connector: Connector | undefined;
    // Disconnected, in error or deleted while running: the run stops at its next page (the cursor kept for a reconnect).
    let ended = null as ConnectionStatus | null;
    const refused = { forbidden: 0 };
    // Items counted so far: a resumed run's count goes on from its saved one.
    let counted = cursor === null ? 0 : (state?.itemsScanned ?? 0);
    const count = (items: number) => {
      this.metrics?.scanned(instanceId, kind, items - counted);
      counted = Math.max(counted, items);
    };
    try {
      connector = await this.services.connector(instanceId, priority);
      const run: ScanRun<never> = {
        instanceId,
        kind,
        connector,
        cursor: cursor as never,
        save: async (next, items) => {
          await instances.updateScan(instanceId, kind, { cursor: next, itemsScanned: items });
          count(items);
          await job.touch();
          const status = (await instances.byIds([instanceId]))[0]?.status ?? ConnectionStatus.DELETED;
          ended = ENDED.includes(status) ? status : null;
        },
        stopping: () => this.services.stopping.aborted || ended !== null,
        skipped: async (reason, refusedStatus) => {
          if (refusedStatus === 403) refused.forbidden += 1;
          await instances.recordSkip(instanceId, kind, reason);
        },
        ...(job.attrs.data.containers ? { containers: job.attrs.data.containers } : {}),
      };
      outcome = await SCANNERS[kind](run, this.services);
      // Every item of the run refused with 403: one item's protection, or the permission withdrawn? The provider says.
      if (outcome.status === 'done' && refused.forbidden > 0 && refused.forbidden >= outcome.items) {
        const report = await connector.verify();
        if (!report.capabilities.includes(NEEDS[kind]))
          throw new CredentialError(
            `The credentials no longer hold the permissions this needs (missing: ${report.missingPermissions.join(', ') || 'unknown'}; HTTP 403)`,
            403,
          );
      }
    } catch (error) {
      const message = shownMessage(error);
      logger.warn({ err: error, instanceId, kind, attempt: (job.attrs.failCount ?? 0) + 1 }, 'scan failed');
      if (isPermissionRefusal(error)) {
        // One capability refused as a whole: DEGRADED, the other kinds go on; no retry before the next periodic run.
        await instances.updateScan(instanceId, kind, {
          state: ScanRunState.FAILED,
          lastError: message,
          refusedSince: state?.refusedSince ?? new Date(),
          nextRunAt: await this.nextPeriodicRun(instanceId, kind),
        });
        if (kind === ScanKind.DATA) await this.services.files().requeueSkipped(instanceId, refusedReason('file'));
        await this.afterScan(instanceId, kind, job.attrs.data.priority);
        return;
      }
      if (needsNewConfig(error)) {
        await instances.updateScan(instanceId, kind, { state: ScanRunState.FAILED, lastError: message });
        await instances.setStatus(instanceId, ConnectionStatus.ERROR, message);
        return;
      }
      await instances.updateScan(instanceId, kind, {
        state: error instanceof ThrottledError ? ScanRunState.THROTTLED : ScanRunState.FAILED,
        lastError: message,
      });
      // The provider down (not answering, or 5xx) through a third attempt: DEGRADED, saying so. The
      // scan keeps retrying (scheduler.ts: scanRetry) and the first one that succeeds makes it CONNECTED.
      if (isOutage(error) && (job.attrs.failCount ?? 0) + 1 >= OUTAGE_AFTER_ATTEMPTS) {
        await instances.setDegraded(
          instanceId,
          `The provider is not answering (${message}): scans wait and try again, at least every ${Math.round(this.services.config.PROVIDER_OUTAGE_RETRY_SECONDS / 60) || 1} min, and resume where they stopped; nothing is missed`,
        );
      }
      throw error;
    }
    count(outcome.items);
    if (outcome.status === 'paused') {
      if (ended === ConnectionStatus.DELETED) return;
      if (ended !== null) {
        // Not resumed until the instance is connected again (reconnecting enqueues every kind, which resume from the cursor).
        await instances.updateScan(instanceId, kind, { state: ScanRunState.IDLE, itemsScanned: outcome.items });
        return;
      }
      // Stopping: the cursor is saved; QUEUED and undispatched, the next scheduler resumes it.
      await instances.updateScan(instanceId, kind, { state: ScanRunState.QUEUED, itemsScanned: outcome.items });
      await instances.requeue(instanceId, kind);
      return;
    }
    await instances.updateScan(instanceId, kind, {
      state: ScanRunState.IDLE,
      lastCompletedAt: new Date(),
      itemsScanned: outcome.items,
      // The next run's estimate, where the provider tells no count.
      totalEstimate: outcome.items,
      refusedSince: null,
      nextRunAt: await this.nextPeriodicRun(instanceId, kind),
    });
    await this.afterScan(instanceId, kind, job.attrs.data.priority);
  }

  /** When the instance's periodic job of `kind` runs next (null: it has none). */
  private async nextPeriodicRun(instanceId: string, kind: ScanKind): Promise<Date | null> {
    const { jobs } = await this.agenda.queryJobs({ name: SCAN_JOB[kind], data: { instanceId, periodic: true }, limit: 1 });
    const next = jobs[0]?.nextRunAt;
    return next ? new Date(next) : null;
  }

  /** Moves the connect flow on: users first, then the other kinds, then CONNECTED and periodic runs. */
  private async afterScan(instanceId: string, kind: ScanKind, priority?: Priority): Promise<void> {
    const instances = this.services.instances();
    const [instance] = await instances.byIds([instanceId]);
    if (!instance) return;
    const kinds = supportedKinds(instance.capabilities);
    // A kind refused as a whole (DEGRADED), or working again (CONNECTED).
    if (RUNNING.includes(instance.status)) await reviewStatus(instances, instanceId, kinds);
    // A file scan (a change notification's, or the periodic read of the change feed) that left files
    // with new content: those are data-scanned now, at change priority, not at the next periodic data scan.
    if (RUNNING.includes(instance.status) && kind === ScanKind.FILES && kinds.includes(ScanKind.DATA)) {
      if (priority === 'change' || (await this.services.files().filesToScan(instanceId, 1)).length > 0)
        await this.enqueue(instanceId, ScanKind.DATA, 'change');
      return;
    }
    if (instance.status !== ConnectionStatus.INITIAL_SCAN) return;
    if (kind === ScanKind.USERS) {
      const next = INITIAL_AFTER_USERS.filter((k) => kinds.includes(k));
      await instances.setStatus(instanceId, ConnectionStatus.INITIAL_SCAN, `Initial scan: ${next.map((k) => k.toLowerCase()).join(', ')}`);
      for (const k of next) await this.enqueue(instanceId, k);
      return;
    }
    if (kind === ScanKind.FILES && kinds.includes(ScanKind.DATA)) await this.enqueue(instanceId, ScanKind.DATA);
    const scans = (await instances.scansOf([instanceId])).get(instanceId) ?? [];
    // A kind the provider refuses as a whole does not hold the others back: the instance ends DEGRADED.
    const waiting = kinds.filter(
      (k) => !AFTER_CONNECT.includes(k) && !scans.find((s) => s.kind === k && (s.lastCompletedAt || s.refusedSince)),
    );
    if (waiting.length > 0) {
      await instances.setStatus(
        instanceId,
        ConnectionStatus.INITIAL_SCAN,
        `Initial scan: ${waiting.map((k) => k.toLowerCase()).join(', ')}`,
      );
      return;
    }
    // The periodic jobs first: a CONNECTED instance shows when each kind runs next.
    await this.schedulePeriodic(instanceId, kinds);
    await instances.setStatus(instanceId, ConnectionStatus.CONNECTED, null);
    // Connected: the provider may now push changes (once the change feed's cursor is saved, nothing before it is missed).
    await this.syncSubscriptionsSoon(instanceId);
  }

  /** Queues a sync of the instance's change subscriptions now (`renew`: the ones the provider asked to reauthorize, or all). */
  async syncSubscriptionsSoon(instanceId: string, renew: readonly string[] | 'all' = []): Promise<void> {
    await this.agenda.now(SUBSCRIPTIONS_JOB, {
      instanceId,
      ...(renew === 'all' || renew.length > 0 ? { renew } : {}),
    } satisfies SubscriptionsJobData);
  }

  /**
   * `instance.subscriptions`: one sync at a time per instance (another scheduler's run makes a
   * triggered one wait 5 s and try again), then the instance's one repeating check is moved to when
   * the next renewal is due (six hours at the latest).
   */
  async subscriptions(job: Job<SubscriptionsJobData>): Promise<void> {
    const { instanceId, renew, periodic } = job.attrs.data;
    const result = await withAdvisoryLock(this.lockPool, `subscriptions:${instanceId}`, () =>
      syncSubscriptions(this.services, instanceId, renew),
    );
    if (!result.ran) {
      if (!periodic) await this.agenda.schedule(new Date(Date.now() + 5_000), SUBSCRIPTIONS_JOB, job.attrs.data);
      return;
    }
    const next = result.value;
    if (periodic) {
      // Saved with the job when it finishes; null leaves it dormant until a triggered run wakes it.
      if (next) job.schedule(next);
      return;
    }
    if (next)
      await this.agenda
        .create<SubscriptionsJobData>(SUBSCRIPTIONS_JOB, { instanceId, periodic: true })
        .unique({ 'data.instanceId': instanceId, 'data.periodic': true })
        .schedule(next)
        .save();
  }

  /**
   * At a scheduler start, in one pass over the instances: each connected one's repeating jobs ensured,
   * and its change subscriptions synced where PUBLIC_WEBHOOK_URL asks for them or any are left (of an
   * instance since disconnected or in ERROR too).
   */
  async resumeAtStart(): Promise<void> {
    const { CONNECTED, DEGRADED, DISCONNECTED, ERROR } = ConnectionStatus;
    for (const instance of await this.services.instances().withStatus([CONNECTED, DEGRADED, DISCONNECTED, ERROR])) {
      const connected = RUNNING.includes(instance.status);
      if (connected) await this.schedulePeriodic(instance.id, supportedKinds(instance.capabilities));
      if ((connected && this.services.config.PUBLIC_WEBHOOK_URL !== undefined) || instance.notificationSubscriptions > 0)
        await this.syncSubscriptionsSoon(instance.id);
    }
  }

  /**
   * Every CONNECTED instance's repeating jobs, made again where the job store lost them (insert-only:
   * those present are left as they are). Answers how many instances were ensured.
   */
  async ensurePeriodic(): Promise<number> {
    const connected = await this.services.instances().withStatus(RUNNING);
    for (const instance of connected) await this.schedulePeriodic(instance.id, supportedKinds(instance.capabilities));
    return connected.length;
  }

  /** One repeating job per instance and kind (insert-only: a second scheduler does not duplicate it). */
  async schedulePeriodic(instanceId: string, kinds: readonly ScanKind[]): Promise<void> {
    const { config } = this.services;
    for (const kind of kinds) {
      const interval =
        kind === ScanKind.DATA
          ? config.DATA_SCAN_INTERVAL
          : kind === ScanKind.ACTIVITIES
            ? config.ACTIVITY_SCAN_INTERVAL
            : kind === ScanKind.LATE_ACTIVITIES
              ? config.LATE_ACTIVITY_SCAN_INTERVAL
              : config.SCAN_INTERVAL;
      await this.agenda
        .create<ScanJobData>(SCAN_JOB[kind], { instanceId, periodic: true })
        .unique({ 'data.instanceId': instanceId, 'data.periodic': true }, { insertOnly: true })
        .repeatEvery(interval, { skipImmediate: true })
        .save();
      await this.services.instances().updateScan(instanceId, kind, { nextRunAt: await this.nextPeriodicRun(instanceId, kind) });
    }
  }
}
