import { randomUUID } from 'node:crypto';
import type { EventEmitter } from 'node:events';
import { constant, exponential, type Agenda, type Job, type JobWithId, type RetryDetails } from 'agenda';
import { MongoClient } from 'mongodb';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { freshDatabase, waitFor } from '../test/harness.js';
import { countJobs, createAgenda, keptAlive, type AgendaOptions } from './agenda.js';

/**
 * One contract, run against every job store the scheduler can use: PostgreSQL always (the
 * embedded default), MongoDB when MONGODB_URL points at a server (production). Each Agenda
 * stands for one scheduler process; two of them on one store are two processes.
 */

/** A job store for one run of the contract: how to reach it, and how to throw it away. */
interface Store {
  readonly connection: Pick<AgendaOptions, 'mongodbUrl' | 'databaseUrl'>;
  drop(): Promise<void>;
}

/** Data of the test jobs, shaped like the scheduler's scan jobs. */
interface ScanData {
  readonly instanceId: string;
  readonly periodic?: boolean;
  readonly n?: number;
}

interface Deferred<T> {
  readonly promise: Promise<T>;
  resolve(value: T): void;
}

function deferred<T = void>(): Deferred<T> {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

/** Resolves with the arguments of the next `event` that `accept` takes, or rejects after `timeoutMs`. */
function nextEvent<A extends unknown[]>(
  emitter: EventEmitter,
  event: string,
  accept: (...args: A) => boolean = () => true,
  timeoutMs = 15_000,
): Promise<A> {
  return new Promise((resolve, reject) => {
    const listener = (...args: unknown[]) => {
      if (!accept(...(args as A))) return;
      clearTimeout(timer);
      emitter.off(event, listener);
      resolve(args as A);
    };
    const timer = setTimeout(() => {
      emitter.off(event, listener);
      reject(new Error(`timed out after ${timeoutMs} ms waiting for ${event}`));
    }, timeoutMs);
    emitter.on(event, listener);
  });
}

/** Resolves as `promise` does, or rejects naming `what` after `timeoutMs`. */
async function within<T>(what: string, promise: Promise<T>, timeoutMs = 15_000): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)), timeoutMs);
  });
  try {
    return await Promise.race([promise, deadline]);
  } finally {
    clearTimeout(timer);
  }
}

function agendaContract(openStore: () => Promise<Store>): void {
  let store: Store;
  const running: Agenda[] = [];
  /** Resolved after each test so that handlers left hanging (a "dead" runner) can finish. */
  let released = deferred();
  let seq = 0;
  const jobName = (what: string) => `contract.${what}.${++seq}`;

  /** One scheduler process: an Agenda on the store with `define` applied, started. */
  async function startScheduler(
    name: string,
    define: (agenda: Agenda) => void = () => undefined,
    options: Partial<Pick<AgendaOptions, 'concurrency' | 'lockLifetimeMs'>> = {},
  ): Promise<Agenda> {
    const agenda = await createAgenda({
      ...store.connection,
      name,
      concurrency: options.concurrency ?? 5,
      lockLifetimeMs: options.lockLifetimeMs ?? 10_000,
      processEveryMs: 100,
    });
    running.push(agenda);
    define(agenda);
    await agenda.start();
    return agenda;
  }

  beforeAll(async () => {
    store = await openStore();
  });

  afterEach(async () => {
    released.resolve();
    released = deferred();
    // stop() after drain() or a stop() in the test is a no-op; every instance here was started.
    for (const agenda of running.splice(0)) await agenda.stop();
  });

  afterAll(async () => {
    await store?.drop();
  });

  it('runs a job scheduled now exactly once, with its typed data', async () => {
    const name = jobName('now');
    const seen: ScanData[] = [];
    const agenda = await startScheduler('scheduler-a', (a) =>
      a.define<ScanData>(name, async (job: Job<ScanData>) => {
        seen.push(job.attrs.data);
      }),
    );
    const completed = nextEvent<[JobWithId]>(agenda, `complete:${name}`);
    await agenda.now<ScanData>(name, { instanceId: 'instance-1', periodic: false, n: 7 });
    await completed;

    const { jobs, total } = await agenda.queryJobs({ name });
    expect(total).toBe(1);
    expect(jobs[0]).toMatchObject({ data: { instanceId: 'instance-1', periodic: false, n: 7 }, nextRunAt: null });
    expect(jobs[0]?.lastFinishedAt).toBeInstanceOf(Date);
    await agenda.drain();
    expect(seen).toEqual([{ instanceId: 'instance-1', periodic: false, n: 7 }]);
  });

  it('keeps one periodic job per instance however often and from wherever it is saved (insert-only unique)', async () => {
    const name = jobName('periodic');
    const [a, b] = await Promise.all([startScheduler('scheduler-a'), startScheduler('scheduler-b')]);
    const save = (agenda: Agenda, instanceId: string) =>
      agenda
        .create<ScanData>(name, { instanceId, periodic: true })
        .unique({ 'data.instanceId': instanceId, 'data.periodic': true }, { insertOnly: true })
        .repeatEvery('1 hour', { skipImmediate: true })
        .save();

    const first = await save(a, 'instance-1');
    await save(a, 'instance-1');
    await save(b, 'instance-1');
    await save(a, 'instance-2');

    const { jobs, total } = await a.queryJobs({ name, sort: { data: 'asc' } });
    expect(total).toBe(2);
    const one = jobs.filter((job) => (job.data as ScanData).instanceId === 'instance-1');
    expect(one).toHaveLength(1);
    expect(one[0]).toMatchObject({ data: { instanceId: 'instance-1', periodic: true }, repeatInterval: '1 hour' });
    // Insert-only: the later saves did not move the first one's schedule.
    expect(one[0]?.nextRunAt?.getTime()).toBe(first.attrs.nextRunAt?.getTime());
  });

  it('runs each of N jobs exactly once across two schedulers, never the same job twice at a time', async () => {
    const name = jobName('shared');
    const count = 30;
    const runs: { id: string; by: string }[] = [];
    const active = new Set<string>();
    const overlaps: string[] = [];
    const allDone = deferred();
    const define = (by: string) => (agenda: Agenda) =>
      agenda.define<ScanData>(name, async (job: Job<ScanData>) => {
        const id = job.attrs._id!.toString();
        if (active.has(id)) overlaps.push(id);
        active.add(id);
        runs.push({ id, by });
        // Stands for real work, so that a second runner of the same job would overlap this one.
        await new Promise((resolve) => setTimeout(resolve, 5));
        active.delete(id);
      });
    const [a, b] = await Promise.all([
      startScheduler('scheduler-a', define('a'), { concurrency: 3 }),
      startScheduler('scheduler-b', define('b'), { concurrency: 3 }),
    ]);
    let completed = 0;
    const onComplete = (_job: unknown, remote?: boolean) => {
      // Each scheduler also hears the other's completions (remote); count each job once, where it ran.
      if (!remote && ++completed === count) allDone.resolve();
    };
    a.on(`complete:${name}`, onComplete);
    b.on(`complete:${name}`, onComplete);

    const scheduled = await Promise.all(
      Array.from({ length: count }, (_, n) => (n % 2 === 0 ? a : b).now<ScanData>(name, { instanceId: 'instance-1', n })),
    );
    await within(`${count} jobs to complete`, allDone.promise);
    await Promise.all([a.drain(), b.drain()]);

    expect(overlaps).toEqual([]);
    expect(runs).toHaveLength(count);
    expect(new Set(runs.map((run) => run.id))).toEqual(new Set(scheduled.map((job) => job.attrs._id!.toString())));
  });

  it('counts jobs by name: queued (due, unlocked), running (locked) and failed (last run failed)', async () => {
    const queued = jobName('count-queued');
    const busy = jobName('count-running');
    const failing = jobName('count-failed');
    const started = deferred();
    const agenda = await startScheduler('scheduler-a', (a) => {
      a.define(busy, async () => {
        started.resolve();
        await released.promise;
      });
      a.define(failing, async () => {
        throw new Error('provider unavailable');
      });
    });
    const failed = nextEvent<[Error, JobWithId]>(agenda, `fail:${failing}`);
    await agenda.now<ScanData>(busy, { instanceId: 'instance-1' });
    await agenda.now<ScanData>(failing, { instanceId: 'instance-1' });
    await started.promise;
    await failed;
    // Defined nowhere: due, and waiting for a worker that knows it.
    await agenda
      .create<ScanData>(queued, { instanceId: 'instance-1' })
      .schedule(new Date(Date.now() - 1000))
      .save();
    await agenda
      .create<ScanData>(queued, { instanceId: 'instance-2' })
      .schedule(new Date(Date.now() - 1000))
      .save();
    await agenda
      .create<ScanData>(queued, { instanceId: 'instance-3' })
      .schedule(new Date(Date.now() + 3_600_000))
      .save();

    // Agenda emits `fail:` before it saves the failed run: the count is read once the job store has it.
    const counts = await waitFor(
      'the failed run saved',
      async () => {
        const read = new Map((await countJobs(agenda)).map((c) => [c.name, c]));
        return read.get(failing)?.failed === 1 ? read : undefined;
      },
      10_000,
      20,
    );
    expect(counts.get(queued)).toEqual({ name: queued, queued: 2, running: 0, failed: 0 });
    expect(counts.get(busy)).toEqual({ name: busy, queued: 0, running: 1, failed: 0 });
    expect(counts.get(failing)).toMatchObject({ name: failing, running: 0, failed: 1 });
  });

  it('retries a failing job per its backoff and succeeds on a later attempt', async () => {
    const name = jobName('retry');
    const exhaustedName = jobName('retry-exhausted');
    const starts: number[] = [];
    let exhaustedAttempts = 0;
    const agenda = await startScheduler('scheduler-a', (a) => {
      a.define<ScanData>(
        name,
        async () => {
          starts.push(Date.now());
          if (starts.length < 3) throw new Error(`provider unavailable (attempt ${starts.length})`);
        },
        { backoff: exponential({ delay: 40, factor: 2, maxRetries: 3 }) },
      );
      a.define<ScanData>(
        exhaustedName,
        async () => {
          exhaustedAttempts += 1;
          throw new Error('still failing');
        },
        { backoff: constant({ delay: 20, maxRetries: 1 }) },
      );
    });
    const retries: RetryDetails[] = [];
    agenda.on(`retry:${name}`, (_job: JobWithId, details: RetryDetails) => void retries.push(details));
    const succeeded = nextEvent<[JobWithId]>(agenda, `success:${name}`);
    const exhausted = nextEvent<[Error, JobWithId]>(agenda, `retry exhausted:${exhaustedName}`);

    await agenda.now<ScanData>(name, { instanceId: 'instance-1' });
    await agenda.now<ScanData>(exhaustedName, { instanceId: 'instance-1' });
    const [job] = await succeeded;
    const [error] = await exhausted;

    expect(starts).toHaveLength(3);
    expect(retries.map((r) => [r.attempt, r.delay])).toEqual([
      [1, 40],
      [2, 80],
    ]);
    // Each retry ran no earlier than the backoff allowed.
    expect(starts[1]!).toBeGreaterThanOrEqual(retries[0]!.nextRunAt.getTime());
    expect(starts[2]!).toBeGreaterThanOrEqual(retries[1]!.nextRunAt.getTime());
    expect(job.attrs.failCount ?? 0).toBe(0);
    expect(error.message).toBe('still failing');
    expect(exhaustedAttempts).toBe(2);
  });

  it('lets another scheduler take over a job whose runner died, once the lock lifetime has passed', async () => {
    const name = jobName('takeover');
    const lockLifetimeMs = 600;
    const firstStarted = deferred<{ lockedAt: number }>();
    const a = await startScheduler(
      'scheduler-a',
      (agenda) =>
        agenda.define<ScanData>(name, async (job: Job<ScanData>) => {
          firstStarted.resolve({ lockedAt: job.attrs.lockedAt!.getTime() });
          await released.promise; // never finishes while the test runs: the runner "dies" holding the lock
        }),
      { lockLifetimeMs },
    );
    await a.now<ScanData>(name, { instanceId: 'instance-1', n: 1 });
    const { lockedAt } = await within('the first scheduler to start the job', firstStarted.promise);
    // The process dies: it polls no more and its connection is gone, the job's lock stays behind.
    await a.stop();

    const takenOver = deferred<{ at: number; data: ScanData }>();
    await startScheduler(
      'scheduler-b',
      (agenda) =>
        agenda.define<ScanData>(name, async (job: Job<ScanData>) => {
          takenOver.resolve({ at: Date.now(), data: job.attrs.data });
        }),
      { lockLifetimeMs },
    );
    const { at, data } = await within('the second scheduler to take the job over', takenOver.promise);
    expect(data).toEqual({ instanceId: 'instance-1', n: 1 });
    expect(at).toBeGreaterThanOrEqual(lockedAt + lockLifetimeMs);
  });

  it('keeps the lock of a job that waits past its lock lifetime while its runner lives (keptAlive), and leaves it unlocked when done', async () => {
    const name = jobName('kept-alive');
    const lockLifetimeMs = 600;
    const started = deferred<number>();
    const finish = deferred();
    const runs: Job<ScanData>[] = [];
    // Settles when the run's lock has been renewed past three lifetimes, or fails when the run is cancelled or run again.
    let renewedPast!: (lockedAt: number) => void;
    let interrupt!: (error: Error) => void;
    const renewed = new Promise<number>((resolve, reject) => ((renewedPast = resolve), (interrupt = reject)));
    const agenda = await startScheduler(
      'scheduler-a',
      (a) =>
        a.define<ScanData>(
          name,
          keptAlive(lockLifetimeMs, async (job: Job<ScanData>) => {
            runs.push(job);
            if (runs.length > 1) interrupt(new Error(`run again: ${String(runs[0]?.getCanceledMessage())}`));
            const firstLockedAt = job.attrs.lockedAt!.getTime();
            const touch = job.touch.bind(job);
            job.touch = async (progress) => {
              await touch(progress);
              if (job.attrs.lockedAt!.getTime() >= firstLockedAt + 3 * lockLifetimeMs) renewedPast(job.attrs.lockedAt!.getTime());
            };
            started.resolve(firstLockedAt);
            await finish.promise; // touches nothing itself, as a scan waiting out a provider's Retry-After
          }),
        ),
      { lockLifetimeMs },
    );
    agenda.on('error', (error: Error) => interrupt(error));
    const completed = nextEvent<[JobWithId]>(agenda, `complete:${name}`, () => true, 30_000);
    await agenda.now<ScanData>(name, { instanceId: 'instance-1' });
    await within('the job to start', started.promise);
    // Without the renewal Agenda cancels the run once its lock is a lifetime old, and runs the job again.
    const renewedAt = await within('the lock to be renewed past three lifetimes', renewed, 15_000);
    const interrupted = () => runs.length > 1 || runs.some((run) => run.getCanceledMessage() !== undefined);
    // The renewal is the job store's, not only this process's copy.
    const storedLockedAt = (await agenda.queryJobs({ name })).jobs[0]?.lockedAt;
    expect(new Date(storedLockedAt!).getTime()).toBeGreaterThanOrEqual(renewedAt);
    expect(interrupted()).toBe(false);
    finish.resolve();
    const [done] = await completed;
    expect(runs).toHaveLength(1);
    expect(done.attrs.failCount ?? 0).toBe(0);
    const [stored] = (await agenda.queryJobs({ name })).jobs;
    expect(stored?.lockedAt ?? null).toBeNull();
  });

  it('drain() waits for the running job to finish', async () => {
    const name = jobName('drain');
    const finish = deferred();
    const order: string[] = [];
    const agenda = await startScheduler('scheduler-a', (a) =>
      a.define<ScanData>(name, async () => {
        await finish.promise;
        order.push('job finished');
      }),
    );
    const started = nextEvent<[JobWithId]>(agenda, `start:${name}`);
    await agenda.now<ScanData>(name, { instanceId: 'instance-1' });
    await started;

    const drained = agenda.drain().then((result) => {
      order.push('drained');
      return result;
    });
    // Give drain() every chance to return early: a few turns of the event loop.
    for (let i = 0; i < 5; i++) await new Promise((resolve) => setImmediate(resolve));
    expect(order).toEqual([]);
    finish.resolve();
    const result = await drained;
    expect(order).toEqual(['job finished', 'drained']);
    expect(result).toMatchObject({ completed: 1, running: 0, timedOut: false });
  });
}

describe('Agenda contract: PostgreSQL', () => {
  agendaContract(async () => {
    const database = await freshDatabase();
    return { connection: { databaseUrl: database.url }, drop: database.drop };
  });
});

describe.runIf(process.env.MONGODB_URL)('Agenda contract: MongoDB', () => {
  agendaContract(async () => {
    // A database of its own per run, so that concurrent runs on one server never meet.
    const url = new URL(process.env.MONGODB_URL!);
    url.pathname = `/tw_agenda_${randomUUID().replace(/-/g, '').slice(0, 12)}`;
    return {
      connection: { mongodbUrl: url.toString(), databaseUrl: '' },
      drop: async () => {
        const client = new MongoClient(url.toString());
        try {
          await client.connect();
          await client.db().dropDatabase();
        } finally {
          await client.close();
        }
      },
    };
  });
});
