import { Counter, Gauge, type Registry } from 'prom-client';
import type { Priority } from '../connectors/contract.js';
import { METRIC_PREFIX, serviceRegistry } from '../platform/metrics.js';
import { ConnectionStatus } from '../platform/vocabulary/instance.js';
import type { ScanState } from '../subgraphs/accounts/public.js';
import type { JobCounts } from './agenda.js';
import type { BudgetEvents, BudgetLevel } from './budget.js';
import type { ProviderMetrics } from './provider-http.js';

/** What the scrape-time series are read from: the database and the job store, a few aggregate queries per scrape. */
export interface SchedulerMetricSources {
  /** Every instance's scan states (instances not deleted). */
  readonly scans: () => Promise<readonly ScanState[]>;
  readonly budgets: () => Promise<readonly BudgetLevel[]>;
  readonly jobs: () => Promise<readonly JobCounts[]>;
  /** When the newest event in the event log was committed (null: the log is empty). */
  readonly newestEvent: () => Promise<Date | null>;
}

/** Statuses whose instances' scans are shown. */
export const SHOWN_STATUSES: readonly ConnectionStatus[] = Object.values(ConnectionStatus).filter((s) => s !== ConnectionStatus.DELETED);

/** How long one read of the sources serves every series of a scrape (and scrapes that come together). */
const SNAPSHOT_MS = 2_000;

/** `load`, called at most once per `ms`: concurrent and close callers share its answer. */
function shared<T>(load: () => Promise<T>, ms = SNAPSHOT_MS): () => Promise<T> {
  let last: { at: number; value: Promise<T> } | undefined;
  return () => {
    const now = Date.now();
    if (!last || now - last.at > ms) {
      const entry = { at: now, value: load() };
      last = entry;
      // A failed read is not kept: the next scrape tries again.
      entry.value.catch(() => {
        if (last === entry) last = undefined;
      });
    }
    return last.value;
  };
}

/** Prometheus labels have no empty value: the instance's own bucket is `default`. */
const serviceLabel = (service: string) => service || 'default';
const seconds = (date: Date | null) => (date ? date.getTime() / 1000 : undefined);

/**
 * The scheduler's series (prefix `tenantwatch_`, service="scheduler"): counters of what this process
 * did (provider requests by status, throttled requests, budget waits and pauses, scan items read,
 * failed jobs, webhook deliveries), and gauges read from the database and the job store at scrape
 * time (scan items, progress, state and times; budget levels; jobs queued, running and failed; the
 * event log's lag). Per-instance series are labelled `instance_id` (Prometheus keeps `instance` for
 * the scraped target).
 */
export class SchedulerMetrics implements ProviderMetrics, BudgetEvents {
  readonly registry: Registry = serviceRegistry('scheduler');

  private readonly providerRequests = new Counter({
    name: `${METRIC_PREFIX}provider_requests_total`,
    help: 'Requests to providers, by instance and HTTP status ("none": no answer)',
    labelNames: ['instance_id', 'status'] as const,
    registers: [this.registry],
  });
  private readonly throttled = new Counter({
    name: `${METRIC_PREFIX}provider_throttled_total`,
    help: 'Provider answers that throttled the request (429, or the provider’s own signal), by instance',
    labelNames: ['instance_id'] as const,
    registers: [this.registry],
  });
  private readonly budgetWaits = new Counter({
    name: `${METRIC_PREFIX}budget_waits_total`,
    help: 'Provider requests that waited for the instance’s rate budget, by instance and priority',
    labelNames: ['instance_id', 'priority'] as const,
    registers: [this.registry],
  });
  private readonly budgetPauses = new Counter({
    name: `${METRIC_PREFIX}budget_pauses_total`,
    help: 'Pauses of an instance’s budget on the provider’s word (Retry-After, a spent window), by instance and service',
    labelNames: ['instance_id', 'service'] as const,
    registers: [this.registry],
  });
  private readonly budgetPausedSeconds = new Counter({
    name: `${METRIC_PREFIX}budget_paused_seconds_total`,
    help: 'Seconds of the pauses of budget_pauses_total, by instance and service',
    labelNames: ['instance_id', 'service'] as const,
    registers: [this.registry],
  });
  private readonly scanItemsRead = new Counter({
    name: `${METRIC_PREFIX}scan_items_read_total`,
    help: 'Items scans of this process read and saved, by instance and kind',
    labelNames: ['instance_id', 'kind'] as const,
    registers: [this.registry],
  });
  private readonly jobsFailed = new Counter({
    name: `${METRIC_PREFIX}jobs_failed_total`,
    help: 'Job runs of this process that failed, by job name',
    labelNames: ['job'] as const,
    registers: [this.registry],
  });
  private readonly webhookDeliveries = new Counter({
    name: `${METRIC_PREFIX}webhook_deliveries_total`,
    help: 'Webhook deliveries answered, by result (accepted, refused) and refusal code',
    labelNames: ['result', 'reason'] as const,
    registers: [this.registry],
  });

  response(instanceId: string, status: number | 'none', throttled: boolean): void {
    this.providerRequests.inc({ instance_id: instanceId, status: String(status) });
    if (throttled) this.throttled.inc({ instance_id: instanceId });
  }

  waited(instanceId: string, priority: Priority): void {
    this.budgetWaits.inc({ instance_id: instanceId, priority });
  }

  paused(instanceId: string, service: string, ms: number): void {
    const labels = { instance_id: instanceId, service: serviceLabel(service) };
    this.budgetPauses.inc(labels);
    this.budgetPausedSeconds.inc(labels, ms / 1000);
  }

  scanned(instanceId: string, kind: string, items: number): void {
    if (items > 0) this.scanItemsRead.inc({ instance_id: instanceId, kind }, items);
  }

  jobFailed(name: string): void {
    this.jobsFailed.inc({ job: name });
  }

  /** A webhook answer: accepted (2xx) or refused with its code (see webhook-errors.ts). */
  webhook(accepted: boolean, reason: string): void {
    this.webhookDeliveries.inc({ result: accepted ? 'accepted' : 'refused', reason });
  }

  /** Registers the gauges read at scrape time from `sources`. */
  watch(sources: SchedulerMetricSources): void {
    const scans = shared(sources.scans);
    const budgets = shared(sources.budgets);
    const jobs = shared(sources.jobs);
    const registers = [this.registry];
    const perScan = (name: string, help: string, value: (scan: ScanState) => number | undefined) =>
      new Gauge({
        name: `${METRIC_PREFIX}${name}`,
        help,
        labelNames: ['instance_id', 'kind'] as const,
        registers,
        async collect() {
          this.reset();
          for (const scan of await scans()) {
            const v = value(scan);
            if (v !== undefined) this.set({ instance_id: scan.instanceId, kind: scan.kind }, v);
          }
        },
      });
    perScan(
      'scan_items',
      'Items the current scan run read so far (the last run’s, once it finished), by instance and kind',
      (s) => s.itemsScanned,
    );
    perScan(
      'scan_total_estimate',
      'Items the scan run is expected to read, by instance and kind (absent before a first run)',
      (s) => s.totalEstimate ?? undefined,
    );
    perScan('scan_progress_ratio', 'scan_items over scan_total_estimate (at most 1), by instance and kind', (s) =>
      s.totalEstimate ? Math.min(1, s.itemsScanned / s.totalEstimate) : undefined,
    );
    perScan('scan_last_started_timestamp_seconds', 'When the last scan run started, by instance and kind', (s) => seconds(s.lastStartedAt));
    perScan('scan_last_completed_timestamp_seconds', 'When the last scan run finished, by instance and kind', (s) =>
      seconds(s.lastCompletedAt),
    );
    new Gauge({
      name: `${METRIC_PREFIX}scan_state`,
      help: 'The scan’s state (1 for the current one: IDLE, QUEUED, RUNNING, THROTTLED, FAILED), by instance and kind',
      labelNames: ['instance_id', 'kind', 'state'] as const,
      registers,
      async collect() {
        this.reset();
        for (const scan of await scans()) this.set({ instance_id: scan.instanceId, kind: scan.kind, state: scan.state }, 1);
      },
    });
    const perBudget = (name: string, help: string, value: (level: BudgetLevel) => number | null) =>
      new Gauge({
        name: `${METRIC_PREFIX}${name}`,
        help,
        labelNames: ['instance_id', 'service'] as const,
        registers,
        async collect() {
          this.reset();
          for (const level of await budgets()) {
            const v = value(level);
            if (v !== null) this.set({ instance_id: level.instanceId, service: serviceLabel(level.service) }, v);
          }
        },
      });
    perBudget(
      'budget_level_ratio',
      'Tokens left in the instance’s rate budget over its capacity (1 full, 0 or below spent), by instance and service',
      (l) => l.level,
    );
    perBudget('budget_day_level_ratio', 'The same for the provider’s daily quota, where it has one', (l) => l.dayLevel);
    perBudget(
      'budget_blocked_seconds',
      'How long the budget stays paused on the provider’s word (0: not paused), by instance and service',
      (l) => l.blockedSeconds,
    );
    new Gauge({
      name: `${METRIC_PREFIX}jobs`,
      help: 'Jobs in the job store by name and state: queued (due, waiting for a worker), running (locked), failed (last run failed)',
      labelNames: ['job', 'state'] as const,
      registers,
      async collect() {
        this.reset();
        for (const { name, queued, running, failed } of await jobs()) {
          this.set({ job: name, state: 'queued' }, queued);
          this.set({ job: name, state: 'running' }, running);
          this.set({ job: name, state: 'failed' }, failed);
        }
      },
    });
    new Gauge({
      name: `${METRIC_PREFIX}event_log_lag_seconds`,
      help: 'Now minus the commit time of the newest event in the event log (absent while the log is empty)',
      registers,
      async collect() {
        this.reset();
        const newest = await sources.newestEvent();
        if (newest) this.set(Math.max(0, (Date.now() - newest.getTime()) / 1000));
      },
    });
  }
}
