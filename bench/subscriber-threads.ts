import { percentile } from './load.js';
import type { FromSubscribers, RunReceipts, SubscribeSettings, ToSubscribers } from './subscriptions.protocol.js';
import { WorkerThread } from './worker-thread.js';

/** What a run's subscribers saw, over every thread: RunReceipts with each thread's event-loop utilization. */
export interface PooledReceipts extends RunReceipts {
  readonly threadLoops: readonly number[];
  /** Over every thread's warm-up receipts (NaN without a warm-up). */
  readonly warmUp: { readonly count: number; readonly p50: number; readonly p99: number; readonly max: number };
}

const MAX_ERROR_SAMPLES = 5;

/**
 * The benchmark's subscribers spread over `count` worker threads (bench/subscribers.worker.ts), so
 * that the clients' own work (framing, JSON) uses whatever CPU the server leaves instead of one
 * core. Each thread holds a share of the subscribers; the receipts are merged, the latency
 * percentiles computed over every receipt.
 */
export class SubscriberThreads {
  private readonly threads: WorkerThread<ToSubscribers, FromSubscribers>[];
  private shares: number[] = [];
  /** Threads that have reported every subscriber of theirs live. */
  private readonly live = new Set<number>();

  constructor(readonly count: number) {
    this.threads = Array.from(
      { length: count },
      (_, i) =>
        new WorkerThread<ToSubscribers, FromSubscribers>(`subscribers ${i + 1}`, new URL('./subscribers.worker.ts', import.meta.url), {
          type: 'close',
        }),
    );
  }

  /** Opens `settings.subscribers` subscribers over the threads; resolves with the longest time a thread took. */
  async subscribe(settings: SubscribeSettings, timeoutMs: number): Promise<number> {
    const base = Math.floor(settings.subscribers / this.count);
    this.shares = this.threads.map((_, i) => base + (i < settings.subscribers % this.count ? 1 : 0));
    this.active().forEach(({ thread, share }) => thread.send({ type: 'subscribe', ...settings, subscribers: share }));
    const replies = await Promise.all(this.active().map(({ thread }) => thread.expect('subscribed', timeoutMs)));
    return Math.max(...replies.map((r) => r.ms));
  }

  /** True once every thread has reported all its subscribers live; waits at most `timeoutMs` for the ones still pending. */
  async allLive(timeoutMs: number): Promise<boolean> {
    await Promise.all(
      this.active().map(async ({ thread, index }) => {
        if (!this.live.has(index) && (await thread.next('live', timeoutMs))) this.live.add(index);
      }),
    );
    return this.live.size === this.active().length;
  }

  /** Every thread's receipts for the committed detections, merged; `drained` is awaited once every thread has answered, before merging. */
  async results(
    commitTimes: Float64Array,
    drainMs: number,
    measuredFrom: number,
    timeoutMs: number,
    drained?: () => Promise<void>,
  ): Promise<PooledReceipts> {
    this.active().forEach(({ thread }) => thread.send({ type: 'results', commitTimes, drainMs, measuredFrom }));
    const all = (await Promise.all(this.active().map(({ thread }) => thread.expect('results', timeoutMs)))).map((r) => r.receipts);
    // Every thread has received all it will: what follows is the benchmark's own arithmetic.
    await drained?.();
    const merged = new Float64Array(all.reduce((n, r) => n + r.latencies.length, 0));
    all.reduce((at, r) => (merged.set(r.latencies, at), at + r.latencies.length), 0);
    const latencies = Array.from(merged.sort());
    const warmUp = Array.from(Float64Array.from(all.flatMap((r) => Array.from(r.warmUpLatencies))).sort());
    const sum = (pick: (r: RunReceipts) => number) => all.reduce((total, r) => total + pick(r), 0);
    const max = (pick: (r: RunReceipts) => number) => Math.max(...all.map(pick).filter((v) => !Number.isNaN(v)));
    return {
      expected: sum((r) => r.expected),
      delivered: sum((r) => r.delivered),
      missing: sum((r) => r.missing),
      duplicates: sum((r) => r.duplicates),
      incomplete: sum((r) => r.incomplete),
      early: sum((r) => r.early),
      p50: percentile(latencies, 50),
      p95: percentile(latencies, 95),
      p99: percentile(latencies, 99),
      max: latencies.at(-1) ?? Number.NaN,
      lastReceipt: all.some((r) => !Number.isNaN(r.lastReceipt)) ? max((r) => r.lastReceipt) : Number.NaN,
      unexpectedCloses: sum((r) => r.unexpectedCloses),
      errorSamples: all.flatMap((r) => r.errorSamples).slice(0, MAX_ERROR_SAMPLES),
      eventLoopUtilization: max((r) => r.eventLoopUtilization),
      heapUsedBytes: sum((r) => r.heapUsedBytes),
      latencies: new Float64Array(0),
      warmUpLatencies: new Float64Array(0),
      warmUp: { count: warmUp.length, p50: percentile(warmUp, 50), p99: percentile(warmUp, 99), max: warmUp.at(-1) ?? Number.NaN },
      threadLoops: all.map((r) => r.eventLoopUtilization),
    };
  }

  async unsubscribe(timeoutMs: number): Promise<void> {
    this.active().forEach(({ thread }) => thread.send({ type: 'unsubscribe' }));
    await Promise.all(this.active().map(({ thread }) => thread.expect('unsubscribed', timeoutMs)));
    this.live.clear();
  }

  async close(): Promise<void> {
    await Promise.all(this.threads.map((thread) => thread.close()));
  }

  /** The threads holding subscribers in this run (fewer subscribers than threads leaves some idle). */
  private active(): { thread: WorkerThread<ToSubscribers, FromSubscribers>; share: number; index: number }[] {
    return this.threads.map((thread, index) => ({ thread, share: this.shares[index] ?? 0, index })).filter(({ share }) => share > 0);
  }
}
