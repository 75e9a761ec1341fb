// `npm run bench:subscriptions -- --idle N`: what N connected subscribers that receive nothing cost
// the gateway in memory, at the start and the end of BENCH_IDLE_SECONDS (it should stay flat).
import type { SubscriberThreads } from './subscriber-threads.js';
import { kb } from './subscriptions.report.js';
import type { ThreadMemory } from './thread-memory.js';

export interface IdleRun {
  readonly subscribers: SubscriberThreads;
  readonly count: number;
  readonly seconds: number;
  /** Opens `count` subscribers (each on a connection of its own) for the run named `run`. */
  subscribe(run: string, count: number): Promise<number>;
  /** Raises warm-up detections until every subscriber has received one. */
  live(run: string): Promise<void>;
  /** What the servers hold, printed. */
  holding(): Promise<string>;
  /** Resolves once the gateway holds no subscription (throws after its deadline). */
  released(): Promise<void>;
  /** The gateway thread's memory after a full GC. */
  gatewayMemory(): Promise<ThreadMemory>;
}

/** Subscribers of the priming round. */
const PRIMING_SUBSCRIBERS = 10;

/** How often the memory is read while the subscribers sit idle (ms). */
const SAMPLE_MS = 60_000;

/** Connects the subscribers, reads the gateway's memory with them live and idle over the run, and again once they left. Answers the exit status (0). */
export async function measureIdle(idle: IdleRun): Promise<number> {
  // A first round that comes and goes, so that what the gateway keeps once for every subscriber to
  // come (the operation's parsed and planned forms, compiled code, pools) is in the baseline.
  const priming = `idle-priming-${Date.now()}`;
  await idle.subscribe(priming, Math.min(idle.count, PRIMING_SUBSCRIBERS));
  await idle.live(priming);
  await idle.subscribers.unsubscribe(120_000);
  await idle.released();
  const before = await idle.gatewayMemory();
  const run = `idle-${Date.now()}`;
  const subscribeMs = await idle.subscribe(run, idle.count);
  await idle.live(run);
  const started = performance.now();
  const samples: { at: number; memory: ThreadMemory }[] = [{ at: 0, memory: await idle.gatewayMemory() }];
  const holding = await idle.holding();
  for (;;) {
    const left = idle.seconds * 1000 - (performance.now() - started);
    if (left <= 0) break;
    await new Promise((resolve) => setTimeout(resolve, Math.min(SAMPLE_MS, left)));
    samples.push({ at: (performance.now() - started) / 1000, memory: await idle.gatewayMemory() });
  }
  await idle.subscribers.unsubscribe(120_000);
  await idle.released();
  const after = await idle.gatewayMemory();
  const per = (m: ThreadMemory, pick: (m: ThreadMemory) => number) => (pick(m) - pick(before)) / idle.count;
  const line = (label: string, m: ThreadMemory) =>
    `  ${label.padEnd(26)} heap ${kb(per(m, (x) => x.heapUsed)).padStart(9)}, external ${kb(per(m, (x) => x.external)).padStart(9)} per subscriber`;
  const first = samples[0]!.memory;
  const last = samples.at(-1)!;
  console.log(
    [
      '',
      `${holding}; ${idle.count} subscribers connected and subscribed in ${(subscribeMs / 1000).toFixed(1)} s, then idle for ${idle.seconds} s (one warm-up event each, then nothing).`,
      `The gateway thread's memory after a full GC, with nobody subscribed (after a priming round of ${Math.min(idle.count, PRIMING_SUBSCRIBERS)} that came and went): heap ${(before.heapUsed / 1024 / 1024).toFixed(1)} MB, external ${(before.external / 1024 / 1024).toFixed(1)} MB. Growth over that, per subscriber:`,
      ...samples.map(({ at, memory }) => line(`at ${at.toFixed(0)} s idle:`, memory)),
      line('after they all left:', after),
      `Over the idle ${last.at.toFixed(0)} s the gateway thread's heap changed by ${kb(last.memory.heapUsed - first.heapUsed)} in all (${kb((last.memory.heapUsed - first.heapUsed) / idle.count)} per subscriber).`,
      "heap and external are the gateway thread's own. The process's RSS is not shown: it holds the subscribers' ends of the sockets, PostgreSQL's client pools and whatever the allocator keeps, and moves by more than the gateway's share.",
    ].join('\n'),
  );
  return 0;
}
