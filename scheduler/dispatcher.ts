import pg from 'pg';
import { logger } from '../platform/logger.js';
import type { SchedulerServices } from './services.js';
import { GOVERNANCE_JOB, type GovernanceJobData } from './jobs/governance.js';
import { CONNECT_JOB, SCAN_JOB, supportedKinds, type ScanJobData } from './scans.js';
import { ScanKind } from '../subgraphs/accounts/public.js';
import { ConnectionStatus } from '../platform/vocabulary/instance.js';
import { SUBSCRIPTIONS_JOB, type SubscriptionsJobData } from './jobs/subscriptions.js';
import { PURGE_JOB, type PurgeJobData } from './jobs/purge.js';
import type { Agenda } from 'agenda';

/**
 * Turns what the graph recorded into jobs: instances `connectApp` left CONNECTING, scans
 * `requestScan` left QUEUED, governance actions the mutations left PENDING, disconnected
 * instances whose change subscriptions are still at the provider and deleted instances whose data
 * is still to be purged. Subgraphs never talk to the job store; they write their own tables
 * and NOTIFY `tenantwatch_scheduler`. Each request is claimed by exactly one scheduler (row locks,
 * SKIP LOCKED). A poll every `pollMs` covers a missed notification.
 */
export class Dispatcher {
  private listener?: pg.Client;
  private timer?: NodeJS.Timeout;
  private running: Promise<void> = Promise.resolve();
  private closed = false;

  constructor(
    private readonly services: Pick<SchedulerServices, 'instances' | 'governance' | 'stopping' | 'files' | 'evaluator'>,
    private readonly agenda: Agenda,
    private readonly databaseUrl: string,
    private readonly pollMs = 2_000,
    /** A live governance action not touched by its job for this long is dispatched again. */
    private readonly reclaimAfterMs = 10 * 60_000,
  ) {}

  private lastReclaim = 0;
  /** A FILE policy changed (its content rules may have): the files read under other rules are data-scanned now. */
  private contentRulesChanged = false;

  async start(): Promise<void> {
    this.listener = new pg.Client({ connectionString: this.databaseUrl });
    this.listener.on('error', (error) => logger.warn({ err: error }, 'scheduler notification connection failed; polling continues'));
    await this.listener.connect();
    this.listener.on('notification', (message) => {
      if (message.payload?.includes('"contentRules"')) this.contentRulesChanged = true;
      // A governance request wakes only the governance claim: the instance claims are for connects, scans and deletes.
      this.wake(message.payload?.startsWith('{"governanceActionId"') ? 'governance' : 'all');
    });
    await this.listener.query('listen tenantwatch_scheduler');
    this.timer = setInterval(() => this.wake(), this.pollMs);
    this.timer.unref();
    this.wake();
  }

  /** A dispatch is queued and has not begun: later wake-ups join it instead of queuing one each. */
  private queued = false;
  /** Whether the queued dispatch claims everything, or only governance actions. */
  private everything = true;

  /**
   * Claims and dispatches whatever is waiting (`governance`: only governance actions); runs never
   * overlap, and the wake-ups that come while one is queued are served by it (a burst of mutations
   * costs one claim per dispatch, not one per NOTIFY).
   */
  wake(what: 'all' | 'governance' = 'all'): void {
    if (this.closed) return;
    if (what === 'all') this.everything = true;
    if (this.queued) return;
    this.queued = true;
    this.running = this.running
      .then(() => {
        this.queued = false;
        const everything = this.everything;
        this.everything = false;
        return this.dispatch(everything);
      })
      .catch((error: unknown) => logger.error({ err: error }, 'dispatching failed'));
  }

  private async dispatch(everything: boolean): Promise<void> {
    if (this.closed || this.services.stopping.aborted) return;
    if (everything) await this.dispatchInstances();
    await this.dispatchGovernance();
  }

  private async dispatchInstances(): Promise<void> {
    const instances = this.services.instances();
    for (const instanceId of await instances.claimConnecting()) {
      await this.agenda.now(CONNECT_JOB, { instanceId });
    }
    for (const { instanceId, kind } of await instances.claimQueuedScans()) {
      await this.agenda.now(SCAN_JOB[kind], { instanceId, priority: 'periodic' } satisfies ScanJobData);
    }
    // A deleted instance's data is purged (again, when the scheduler purging it died: its claim went stale).
    for (const instanceId of await instances.claimPurges()) {
      await this.agenda.now(PURGE_JOB, { instanceId } satisfies PurgeJobData);
    }
    if (this.contentRulesChanged) {
      this.contentRulesChanged = false;
      await this.rescanForContentRules();
    }
    // A disconnected instance's change subscriptions are deleted at the provider.
    for (const instanceId of await instances.claimDisconnectedSubscriptions()) {
      await this.agenda.now(SUBSCRIPTIONS_JOB, { instanceId } satisfies SubscriptionsJobData);
    }
  }

  private async dispatchGovernance(): Promise<void> {
    if (this.closed || this.services.stopping.aborted) return;
    const governance = this.services.governance();
    for (;;) {
      const claimed = await governance.claimUndispatched();
      await Promise.all(
        claimed.map(({ id, origin }) =>
          this.agenda.now(GOVERNANCE_JOB, { actionId: id, ...(origin ? { origin } : {}) } satisfies GovernanceJobData),
        ),
      );
      if (claimed.length === 0 || this.closed || this.services.stopping.aborted) break;
    }
    // A live action whose job went missing (its scheduler died between the claim and the job
    // store) is dispatched again; a running job refreshes the mark at every attempt, and a
    // duplicate job finds the action locked or ended and does nothing.
    if (Date.now() - this.lastReclaim >= this.reclaimAfterMs / 4) {
      this.lastReclaim = Date.now();
      for (const { id, origin } of await governance.reclaimStale(this.reclaimAfterMs)) {
        await this.agenda.now(GOVERNANCE_JOB, { actionId: id, ...(origin ? { origin } : {}) } satisfies GovernanceJobData);
      }
    }
  }

  /**
   * Data scans, at change priority, of the live instances whose files were read under other content
   * rules than their FILE policies' now (a policy created, changed, enabled, disabled or rescoped).
   */
  private async rescanForContentRules(): Promise<void> {
    const live = await this.services.instances().withStatus([ConnectionStatus.CONNECTED, ConnectionStatus.DEGRADED]);
    for (const instance of live) {
      if (!supportedKinds(instance.capabilities).includes(ScanKind.DATA)) continue;
      const { hash } = await this.services.evaluator().contentRules(instance.id);
      if ((await this.services.files().countToScan(instance.id, hash)) === 0) continue;
      await this.agenda.now(SCAN_JOB[ScanKind.DATA], { instanceId: instance.id, priority: 'change' } satisfies ScanJobData);
    }
  }

  async stop(): Promise<void> {
    this.closed = true;
    clearInterval(this.timer);
    await this.running;
    await this.listener?.end().catch(() => undefined);
  }
}
