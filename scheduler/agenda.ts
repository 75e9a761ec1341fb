import { MongoBackend } from '@agendajs/mongo-backend';
import { PostgresBackend } from '@agendajs/postgres-backend';
import { Agenda, type AgendaBackend, type Job } from 'agenda';
import type { EventEmitter } from 'node:events';
import pg from 'pg';
import { logger } from '../platform/logger.js';

export interface AgendaOptions {
  /** MongoDB when set (production); otherwise PostgreSQL. */
  readonly mongodbUrl?: string;
  readonly databaseUrl: string;
  readonly name: string;
  readonly concurrency: number;
  /** Jobs running at once across all job names (default: `concurrency`). */
  readonly maxConcurrency?: number;
  /** How long a job stays locked without a touch before another scheduler may take it over. */
  readonly lockLifetimeMs: number;
  /** How often the job store is polled (notifications wake it sooner). */
  readonly processEveryMs?: number;
}

const JOB_TABLE = 'agenda_jobs';

/** The job store: MongoDB (production) or PostgreSQL (embedded default). Connected before use. */
export async function createBackend(options: Pick<AgendaOptions, 'mongodbUrl' | 'databaseUrl'>): Promise<AgendaBackend> {
  let backend: AgendaBackend;
  if (options.mongodbUrl) backend = new MongoBackend({ address: options.mongodbUrl, collection: 'agendaJobs' });
  else {
    await ensureJobTable(options.databaseUrl);
    backend = new PostgresBackend({
      connectionString: options.databaseUrl,
      tableName: JOB_TABLE,
      ensureSchema: false,
      poolConfig: { max: 5 },
    });
  }
  // Agenda's constructor connects without handling errors: connect first so that failures throw here.
  await backend.connect();
  if (backend instanceof PostgresBackend) {
    // The backend's pool has no error listener: an idle client losing its server (PostgreSQL
    // stopping first at shutdown) would crash the process with an unhandled 'error' event.
    (backend.repository as unknown as { getPool(): pg.Pool })
      .getPool()
      .on('error', (error) => logger.warn({ err: error }, 'job store connection lost'));
    // Its LISTEN channel re-emits connection errors (it reconnects by itself): without a listener
    // PostgreSQL stopping on the same Ctrl-C would crash the process before it shuts down in order.
    (backend.notificationChannel as unknown as EventEmitter | undefined)?.on('error', (error: Error) =>
      logger.warn({ err: error }, 'job notification channel lost its connection'),
    );
  }
  return backend;
}

/**
 * Creates Agenda's job table, one scheduler at a time. The backend's own setup (CREATE OR REPLACE
 * FUNCTION, DROP/CREATE TRIGGER) fails with "tuple concurrently updated" when two schedulers start
 * together, and Agenda's constructor repeats it unawaited: an unhandled rejection, and a `ready`
 * (so a `start()`) that never comes. So it runs here under an advisory lock, and never again.
 */
async function ensureJobTable(databaseUrl: string): Promise<void> {
  const lock = new pg.Client({ connectionString: databaseUrl });
  await lock.connect();
  try {
    await lock.query('select pg_advisory_lock(hashtext($1))', [`tenantwatch:agenda:${JOB_TABLE}`]);
    const setup = new PostgresBackend({
      connectionString: databaseUrl,
      tableName: JOB_TABLE,
      disableNotifications: true,
      poolConfig: { max: 1 },
    });
    try {
      await setup.connect();
    } finally {
      await setup.disconnect();
    }
  } finally {
    await lock.end(); // ends the session, and with it the lock
  }
}

/** An Agenda on the chosen backend with an error listener attached; not started. */
export async function createAgenda(options: AgendaOptions): Promise<Agenda> {
  const backend = await createBackend(options);
  const agenda = new Agenda({
    backend,
    name: options.name,
    defaultConcurrency: options.concurrency,
    maxConcurrency: options.maxConcurrency ?? options.concurrency,
    defaultLockLifetime: options.lockLifetimeMs,
    processEvery: options.processEveryMs ?? 1000,
  });
  agenda.on('error', (error) => logger.error({ err: error }, 'job store error'));
  return agenda;
}

/**
 * Keeps a running job's lock while its process lives: touches it every third of the lock lifetime,
 * so a job that waits longer than that between its own touches (a provider's Retry-After, a rate
 * budget, a slow download) is neither cancelled by its own Agenda nor taken over by another
 * scheduler. A process that dies stops touching, and its jobs' locks expire as before. The last
 * touch is awaited before the job's end is recorded, so no touch re-locks a finished job.
 */
export function keptAlive<D>(lockLifetimeMs: number, run: (job: Job<D>) => Promise<void>): (job: Job<D>) => Promise<void> {
  return async (job) => {
    let touching: Promise<void> = Promise.resolve();
    const timer = setInterval(
      () => {
        touching = touching.then(() =>
          job.touch().catch((error: unknown) => {
            // Cancelled already (the run is ending): nothing to keep.
            if (job.getCanceledMessage() === undefined)
              logger.warn({ err: error, job: job.attrs.name }, 'could not renew a running job’s lock');
          }),
        );
      },
      Math.max(10, Math.floor(lockLifetimeMs / 3)),
    );
    try {
      await run(job);
    } finally {
      clearInterval(timer);
      await touching;
    }
  };
}

/** Jobs of one name in the job store: due and waiting for a worker, locked by one, and whose last run failed. */
export interface JobCounts {
  readonly name: string;
  readonly queued: number;
  readonly running: number;
  readonly failed: number;
}

/**
 * Counts the job store's jobs by name in one aggregate query (Agenda's own overview reads every job
 * into memory): queued = due (nextRunAt passed), not locked, not disabled, repeating and retried jobs
 * included; running = locked; failed = the last run failed (failedAt at or after lastFinishedAt).
 */
export async function countJobs(agenda: Agenda): Promise<JobCounts[]> {
  const store = agenda.db as unknown as { getPool?(): pg.Pool; collection?: import('mongodb').Collection };
  if (store.getPool) {
    const { rows } = await store.getPool().query<{ name: string; queued: string; running: string; failed: string }>(
      `select name,
              count(*) filter (where locked_at is null and not coalesce(disabled, false) and next_run_at <= now()) as queued,
              count(*) filter (where locked_at is not null) as running,
              count(*) filter (where failed_at is not null and (last_finished_at is null or failed_at >= last_finished_at)) as failed
         from "${JOB_TABLE}" group by name`,
    );
    return rows.map((r) => ({ name: r.name, queued: Number(r.queued), running: Number(r.running), failed: Number(r.failed) }));
  }
  if (store.collection) {
    const now = new Date();
    const rows = await store.collection
      .aggregate<JobCounts & { _id: string }>([
        {
          $group: {
            _id: '$name',
            queued: {
              $sum: {
                $cond: [
                  {
                    $and: [
                      { $eq: [{ $ifNull: ['$lockedAt', null] }, null] },
                      { $ne: ['$disabled', true] },
                      { $lte: ['$nextRunAt', now] },
                      { $ne: [{ $ifNull: ['$nextRunAt', null] }, null] },
                    ],
                  },
                  1,
                  0,
                ],
              },
            },
            running: { $sum: { $cond: [{ $ne: [{ $ifNull: ['$lockedAt', null] }, null] }, 1, 0] } },
            failed: {
              $sum: {
                $cond: [
                  {
                    $and: [
                      { $ne: [{ $ifNull: ['$failedAt', null] }, null] },
                      { $or: [{ $eq: [{ $ifNull: ['$lastFinishedAt', null] }, null] }, { $gte: ['$failedAt', '$lastFinishedAt'] }] },
                    ],
                  },
                  1,
                  0,
                ],
              },
            },
          },
        },
      ])
      .toArray();
    return rows.map((r) => ({ name: r._id, queued: r.queued, running: r.running, failed: r.failed }));
  }
  throw new Error('The job store is neither PostgreSQL nor MongoDB: its jobs cannot be counted');
}
