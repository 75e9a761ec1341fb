// The committing side of `npm run bench:subscriptions`, in a worker thread of its own: detections are
// raised through the DetectionService (detection and event-log entry in one transaction, as policy
// evaluation raises them) at a fixed rate, on a connection pool of its own, and each one's commit is
// timed when its COMMIT is answered, on an event loop that the gateway's work does not delay.
import 'reflect-metadata';
import { setTimeout as delay } from 'node:timers/promises';
import { parentPort, type MessagePort, workerData } from 'node:worker_threads';
import { activitiesModule, DetectionService, Severity } from '../subgraphs/activities/public.js';
import { openDatabase } from '../platform/database.js';
import {
  measuredTitle,
  monotonicMs,
  type CommitRun,
  type CommitterData,
  type FromCommitter,
  type ToCommitter,
} from './subscriptions.protocol.js';
import { serveParent } from './worker-thread.js';

/** Transactions in flight at once; more would only queue on the event log's append lock. */
const MAX_IN_FLIGHT = 16;
const SEVERITIES = [Severity.LOW, Severity.MEDIUM, Severity.HIGH];

if (!parentPort) throw new Error('bench/detections.worker.ts runs as a worker thread of bench/subscriptions.bench.ts');
const port: MessagePort = parentPort;
const { databaseUrl, policyId, subjects } = workerData as CommitterData;
const reply = (message: FromCommitter) => port.postMessage(message);
const db = await openDatabase({ ...activitiesModule, url: databaseUrl, poolMax: MAX_IN_FLIGHT });

const raise = (title: string, n: number) =>
  new DetectionService(db.fork()).raise({
    policyId,
    severity: SEVERITIES[n % SEVERITIES.length]!,
    title,
    description: 'raised by bench:subscriptions',
    ...subjects[n % subjects.length]!,
  });

/** Starts detection `seq` at `start + seq / rate` (open loop: a slow commit does not delay the next start). */
async function commitAtRate(run: string, count: number, rate: number): Promise<CommitRun> {
  const commitTimes = new Float64Array(count).fill(Number.NaN);
  const inFlight = new Set<Promise<void>>();
  const errorSamples = new Set<string>();
  let failures = 0;
  let maxLagMs = 0;
  const start = monotonicMs();
  for (let seq = 0; seq < count; seq++) {
    const due = start + (seq * 1000) / rate;
    const wait = due - monotonicMs();
    if (wait > 0) await delay(wait);
    while (inFlight.size >= MAX_IN_FLIGHT) await Promise.race(inFlight);
    maxLagMs = Math.max(maxLagMs, monotonicMs() - due);
    const committing: Promise<void> = raise(measuredTitle(run, seq), seq)
      .then(
        () => void (commitTimes[seq] = monotonicMs()),
        (error: unknown) => {
          failures += 1;
          if (errorSamples.size < 5) errorSamples.add(String(error));
        },
      )
      .finally(() => inFlight.delete(committing));
    inFlight.add(committing);
  }
  await Promise.all(inFlight);
  return { commitTimes, failures, errorSamples: [...errorSamples], maxLagMs, seconds: (monotonicMs() - start) / 1000 };
}

let warmUps = 0;
async function handle(message: ToCommitter): Promise<void> {
  switch (message.type) {
    case 'raise':
      await raise(message.title, warmUps++);
      reply({ type: 'raised' });
      return;
    case 'commit': {
      const result = await commitAtRate(message.run, message.count, message.rate);
      reply({ type: 'committed', result });
      return;
    }
    case 'close':
      await db.close();
      reply({ type: 'closed' });
      port.close();
      return;
    default: {
      const unknown: never = message;
      throw new Error(`unknown message ${JSON.stringify(unknown)}`);
    }
  }
}

serveParent(port, handle);
reply({ type: 'ready' });
