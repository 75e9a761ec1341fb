import { AlertDelivery } from './alert-delivery.js';
import os from 'node:os';
import type { Agenda, Job } from 'agenda';
import pg from 'pg';
import { accountsModule, AppInstanceService, ScanKind } from '../subgraphs/accounts/public.js';
import { activitiesModule, EventLogService } from '../subgraphs/activities/public.js';
import { appPermissionsModule } from '../subgraphs/app-permissions/public.js';
import type { Config } from '../platform/config.js';
import { credentialsKey } from '../platform/crypto.js';
import { openDatabase, type Database, type DatabaseOptions } from '../platform/database.js';
import { logger } from '../platform/logger.js';
import { runJob, type JobOrigin } from '../platform/tracing.js';
import { filesModule } from '../subgraphs/files/public.js';
import { countJobs, createAgenda, keptAlive } from './agenda.js';
import { RateBudget } from './budget.js';
import { Dispatcher } from './dispatcher.js';
import { jobBackoff } from './job-backoff.js';
import { SchedulerMetrics, SHOWN_STATUSES } from './metrics.js';
import { rescanChangedFile } from './jobs/file-changed.js';
import { executeGovernance, GOVERNANCE_JOB, type GovernanceJobData } from './jobs/governance.js';
import { schedulerModule } from './module.js';
import { installBuiltInPolicies } from './policies/built-in.js';
import { SchedulerRuntime } from './runtime.js';
import { CONNECT_JOB, SCAN_JOB, ScanJobs, type ScanJobData } from './scans.js';
import { SUBSCRIPTIONS_JOB, type SubscriptionsJobData } from './jobs/subscriptions.js';
import { PURGE_JOB, purgeDeletedInstance, type PurgeJobData } from './jobs/purge.js';
import { withAdvisoryLock } from './scan-lock.js';
import { UsageRecorder } from './usage.js';
import { startWebhookServer, type WebhookServer } from './webhooks.js';

export const FILE_CHANGED_JOB = 'scan.data.file';

/** How often every connected instance's periodic jobs are ensured in the job store besides at start. */
const ENSURE_PERIODIC_EVERY_MS = 3_600_000;

export interface SchedulerOptions {
  readonly config: Config;
  readonly databaseUrl: string;
  /** Distinguishes scheduler processes in Agenda's locks (default: host and pid). */
  readonly name?: string;
  /** How long a job stays locked without progress before another scheduler takes it over (default 60 s). */
  readonly lockLifetimeMs?: number;
}

/**
 * A job's processor run as a request of its own (see runJob): its logs carry a request id and a
 * trace id — a governance action's those of the mutation that asked for it — and, with tracing on,
 * it is a span of that trace.
 */
function traced<D>(run: (job: Job<D>) => Promise<void>): (job: Job<D>) => Promise<void> {
  return (job) => {
    const data = (job.attrs.data ?? {}) as { instanceId?: unknown; actionId?: unknown; origin?: Partial<JobOrigin> };
    const attributes: Record<string, string> = {};
    if (typeof data.instanceId === 'string') attributes['tenantwatch.instance_id'] = data.instanceId;
    if (typeof data.actionId === 'string') attributes['tenantwatch.governance_action_id'] = data.actionId;
    const origin = data.origin && typeof data.origin === 'object' ? data.origin : undefined;
    return runJob(job.attrs.name, job.attrs._id === undefined ? undefined : String(job.attrs._id), origin, attributes, () => run(job));
  };
}

/** A running scheduler: its jobs, its webhook receiver, and a graceful stop. */
export interface Scheduler {
  readonly agenda: Agenda;
  readonly runtime: SchedulerRuntime;
  readonly jobs: ScanJobs;
  readonly webhookUrl: string;
  /** Its Prometheus series, served at `/metrics` on the webhook receiver's port. */
  readonly metrics: SchedulerMetrics;
  /** Lets running jobs finish their page and save their cursor, then closes everything. */
  stop(): Promise<void>;
}

/**
 * Starts a scheduler process's work: Agenda on MongoDB (MONGODB_URL) or PostgreSQL, the scan and
 * connect jobs, the dispatcher that turns `connectApp`/`requestScan` into jobs, and the webhook
 * receiver. Several schedulers may run against the same database: Agenda locks jobs and an
 * advisory lock keeps each instance and kind to one runner.
 */
export async function startScheduler(options: SchedulerOptions): Promise<Scheduler> {
  const { config, databaseUrl } = options;
  const opened: Database[] = [];
  const open = async (module: Omit<DatabaseOptions, 'url'>): Promise<Database> => {
    const db = await openDatabase({ ...module, url: databaseUrl, poolMax: 5 });
    opened.push(db);
    return db;
  };
  const stopping = new AbortController();
  try {
    const dbs = {
      accounts: await open(accountsModule),
      activities: await open(activitiesModule),
      files: await open(filesModule),
      appPermissions: await open(appPermissionsModule),
      scheduler: await open(schedulerModule),
    };
    const key = credentialsKey(config);
    const usage: UsageRecorder = new UsageRecorder((instanceId, requests, throttled, at, daily) =>
      new AppInstanceService(dbs.accounts.fork(), key).recordApiUsage(instanceId, requests, throttled, at, daily),
    );
    const metrics = new SchedulerMetrics();
    const budget = new RateBudget(dbs.scheduler.knex(), undefined, metrics);
    const runtime = new SchedulerRuntime(config, dbs, budget, usage, key, stopping.signal, metrics);
    await installBuiltInPolicies(runtime.policies());
    const lockPool = new pg.Pool({ connectionString: databaseUrl, max: config.SCHEDULER_CONCURRENCY + config.GOVERNANCE_CONCURRENCY + 2 });
    lockPool.on('error', (error) => logger.warn({ err: error }, 'scan-lock connection lost'));
    const lockLifetimeMs = options.lockLifetimeMs ?? 60_000;
    const agenda = await createAgenda({
      mongodbUrl: config.MONGODB_URL,
      databaseUrl,
      name: options.name ?? `scheduler-${os.hostname()}-${process.pid}`,
      concurrency: config.SCHEDULER_CONCURRENCY,
      // Governance gets slots of its own, and its jobs' 'highest' priority takes the next free one.
      maxConcurrency: config.SCHEDULER_CONCURRENCY + config.GOVERNANCE_CONCURRENCY,
      lockLifetimeMs,
    });
    // Every job runs traced, and keeps its lock while this process lives.
    const handler = <D>(run: (job: Job<D>) => Promise<void>) => traced(keptAlive(lockLifetimeMs, run));
    const jobs = new ScanJobs(runtime, agenda, lockPool, metrics);
    const retry = jobBackoff({ delay: config.JOB_RETRY_DELAY_MS, maxDelay: 60_000, maxRetries: 6, jitter: 0.2 });
    // Scans outlast a provider outage: past their retries they try again every PROVIDER_OUTAGE_RETRY_SECONDS.
    const scanRetry = jobBackoff({
      delay: config.JOB_RETRY_DELAY_MS,
      maxDelay: 60_000,
      maxRetries: 6,
      jitter: 0.2,
      outageRetryMs: config.PROVIDER_OUTAGE_RETRY_SECONDS * 1000,
    });
    agenda.define<{ instanceId: string }>(
      CONNECT_JOB,
      handler((job) => jobs.connect(job)),
      { backoff: retry },
    );
    for (const kind of Object.values(ScanKind)) {
      agenda.define<ScanJobData>(
        SCAN_JOB[kind],
        handler((job) => jobs.scan(kind, job)),
        {
          backoff: scanRetry,
          priority: kind === ScanKind.DATA ? 'low' : 'normal',
        },
      );
    }
    agenda.define<{ instanceId: string; fileExternalId: string }>(
      FILE_CHANGED_JOB,
      handler((job) => rescanChangedFile(runtime, job.attrs.data.instanceId, job.attrs.data.fileExternalId)),
      { backoff: retry, priority: 'highest' },
    );
    agenda.define<GovernanceJobData>(
      GOVERNANCE_JOB,
      handler((job) =>
        executeGovernance(
          runtime,
          lockPool,
          { rescanFile: async (instanceId, fileExternalId) => void (await agenda.now(FILE_CHANGED_JOB, { instanceId, fileExternalId })) },
          job.attrs.data.actionId,
        ),
      ),
      { backoff: retry, priority: 'highest', concurrency: config.GOVERNANCE_CONCURRENCY },
    );
    agenda.define<SubscriptionsJobData>(
      SUBSCRIPTIONS_JOB,
      handler((job) => jobs.subscriptions(job)),
      { backoff: retry, priority: 'high' },
    );
    // The instance's jobs, as a deleted instance's purge removes them (the purge job itself is not one of them).
    const instanceJobs = [...Object.values(SCAN_JOB), CONNECT_JOB, FILE_CHANGED_JOB, SUBSCRIPTIONS_JOB];
    agenda.define<PurgeJobData>(
      PURGE_JOB,
      handler((job) =>
        purgeDeletedInstance(
          runtime,
          {
            cancelJobs: async (instanceId) => void (await agenda.cancel({ names: instanceJobs, data: { instanceId } })),
            scansIdle: async (instanceId) => {
              for (const kind of Object.values(ScanKind))
                if (!(await withAdvisoryLock(lockPool, `scan:${instanceId}:${kind}`, async () => undefined)).ran) return false;
              return true;
            },
            touch: () => job.touch(),
          },
          job.attrs.data.instanceId,
        ),
      ),
      { backoff: retry, priority: 'low', concurrency: 1 },
    );
    agenda.on('fail', (error, job, remote) => {
      // Another scheduler's failure relayed by LISTEN/NOTIFY: a notice without `attrs`, logged where it ran.
      if (remote) return;
      metrics.jobFailed(job.attrs.name);
      logger.warn({ job: job.attrs.name, data: job.attrs.data, err: error }, 'job failed');
    });
    await agenda.start();
    const eventLog = new EventLogService(dbs.activities.knex());
    metrics.watch({
      scans: async () => {
        const instances = runtime.instances();
        const ids = (await instances.withStatus(SHOWN_STATUSES)).map((instance) => instance.id);
        return [...(await instances.scansOf(ids)).values()].flat();
      },
      budgets: () => budget.levels(),
      jobs: () => countJobs(agenda),
      newestEvent: async () => {
        const latest = BigInt(await eventLog.latest());
        if (latest === 0n) return null;
        return (await eventLog.after(String(latest - 1n), 1))[0]?.createdAt ?? null;
      },
    });

    // At every start: a job store that was lost or switched (PostgreSQL to MongoDB) holds no repeating
    // jobs, so every connected instance's periodic scans are ensured (and again hourly); change
    // subscriptions are checked, as PUBLIC_WEBHOOK_URL may have changed too.
    await jobs.resumeAtStart();
    const ensuring = setInterval(
      () => void jobs.ensurePeriodic().catch((error: unknown) => logger.warn({ err: error }, 'periodic jobs not ensured')),
      ENSURE_PERIODIC_EVERY_MS,
    );
    ensuring.unref();

    const dispatcher = new Dispatcher(runtime, agenda, databaseUrl);
    await dispatcher.start();
    // Alert export: detection events to the alert sinks, through the same outbound policy as provider calls.
    const alerts = new AlertDelivery({
      config,
      databaseUrl,
      activities: dbs.activities,
      credentialsKey: key,
      dispatcher: runtime.outbound,
    });
    await alerts.start();
    const webhooks: WebhookServer = await startWebhookServer({
      services: runtime,
      databaseUrl,
      ready: () => runtime.ping(),
      metrics,
      onFileChanged: async (instanceId, fileExternalId) => {
        await agenda.now(FILE_CHANGED_JOB, { instanceId, fileExternalId });
      },
      // The file scan follows the change feed (a full listing only the first time): the data scan of what changed follows it.
      // The containers named, so that a connector with a feed per container reads only theirs (`*`: every one).
      onFilesChanged: (instanceId, containers) =>
        jobs.enqueue(instanceId, ScanKind.FILES, 'change', containers.includes('*') ? undefined : containers),
      // A lifecycle notification: the subscriptions are renewed (which reauthorizes them) or made again.
      onSubscriptionsStale: (instanceId, subscriptions) => jobs.syncSubscriptionsSoon(instanceId, subscriptions),
    });
    logger.info({ webhooks: webhooks.url, store: config.MONGODB_URL ? 'mongodb' : 'postgresql' }, 'scheduler started');

    let stopped: Promise<void> | undefined;
    return {
      agenda,
      runtime,
      jobs,
      webhookUrl: webhooks.url,
      metrics,
      stop: () =>
        (stopped ??= (async () => {
          stopping.abort();
          clearInterval(ensuring);
          await webhooks.stop();
          await dispatcher.stop();
          await alerts.stop();
          // Running jobs finish their page and save their cursor; 8 s at most (PostgreSQL may be stopping
          // on the same Ctrl-C, and nothing could be saved then).
          await agenda
            .drain({ timeout: 8_000, closeConnection: true })
            .catch((error: unknown) => logger.warn({ err: error }, 'jobs did not drain'));
          await usage.close();
          await runtime.close();
          await lockPool.end();
          for (const db of opened) await db.close();
        })()),
    };
  } catch (error) {
    stopping.abort();
    for (const db of opened) await db.close().catch(() => undefined);
    throw error;
  }
}
