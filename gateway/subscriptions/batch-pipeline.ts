/** The two steps an upstream's events go through, and how often they may be fanned out. */
export interface BatchPipelineSteps<E, R> {
  /** Longest time between the starts of two fan-outs that events are held for (ms): see BatchPipeline. */
  readonly flushMs: number;
  /** Events completed together at most. */
  readonly maxBatch: number;
  /** Whether a batch may be taken now (false: the loop ends and the events wait for the next push). */
  ready(): boolean;
  /** Completes a batch (one result per event, in order). */
  complete(batch: readonly E[]): Promise<R[]>;
  /** Hands a completed batch on; the next batch's fan-out waits for it. */
  fanOut(results: R[]): Promise<void>;
  /** Called once when a step fails: what waits is dropped, and pushes are ignored until recover(). */
  failed(error: unknown): void;
}

/**
 * The share of the time fan-outs may take before events are held to go out together: the next
 * fan-out starts no sooner than the last one's duration ÷ this share after the last one began
 * (and never later than flushMs after it).
 */
export const FAN_OUT_SHARE = 0.1;

/**
 * Events completed in batches and fanned out in order, one loop at a time. A batch is completed
 * while the one before it is still being fanned out (completing waits on the network, fanning out
 * on the CPU), and fanned out once that one is done. Events are held to go out together only in
 * proportion to what a fan-out costs: the next fan-out starts once the last one's duration ÷
 * FAN_OUT_SHARE has passed since it began, at most flushMs (while a fan-out is still running its
 * cost is not known, so the hold is flushMs until it ends, then looked at again). A fan-out to a
 * few subscribers takes microseconds, so an idle gateway sends each event at once, however close
 * together they come; a fan-out to many subscribers holds the next events for up to flushMs, and
 * they go out together. The loop ends only in the same step as a check that found nothing
 * waiting, so an event pushed at any moment is delivered without waiting for a later one.
 */
export class BatchPipeline<E, R> {
  private waiting: E[] = [];
  private running?: Promise<void>;
  /** When the last fan-out began (monotonic ms; -Infinity before the first). */
  private lastFanOut = Number.NEGATIVE_INFINITY;
  /** How long the last finished fan-out took (ms), and whether one is running now. */
  private lastFanOutMs = 0;
  private fanOutRunning = false;
  private failure?: { readonly error: unknown };
  private stopped = false;
  /** Ends the current hold early (on stop, and when a fan-out ends, to look again). */
  private wake?: () => void;

  constructor(private readonly steps: BatchPipelineSteps<E, R>) {}

  /** Events pushed and not yet taken into a batch. */
  get size(): number {
    return this.waiting.length;
  }

  /** True once a batch has been handed to fanOut. */
  get delivered(): boolean {
    return this.lastFanOut > Number.NEGATIVE_INFINITY;
  }

  /** True after a step failed, until recover(). */
  get failed(): boolean {
    return this.failure !== undefined;
  }

  /** Queues `event` for the next batch, starting the loop if it is idle. */
  push(event: E): void {
    if (this.failure || this.stopped) return;
    this.waiting.push(event);
    this.running ??= this.run();
  }

  /** Resolves once the loop has ended: everything pushed was fanned out, or dropped after a failure or stop. Never rejects. */
  async settled(): Promise<void> {
    while (this.running) await this.running;
  }

  /** Takes no more batches; what waits is dropped (a hold before the next batch ends at once). */
  stop(): void {
    this.stopped = true;
    this.wake?.();
  }

  /** Answers the failure (if any) and takes events again. */
  recover(): unknown {
    const failure = this.failure;
    this.failure = undefined;
    return failure?.error;
  }

  private hold(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, ms);
      this.wake = () => {
        clearTimeout(timer);
        resolve();
      };
    }).finally(() => (this.wake = undefined));
  }

  /** How much longer the next fan-out waits (ms; none when at most 0). */
  private holdMs(): number {
    const spacing = this.fanOutRunning ? this.steps.flushMs : Math.min(this.steps.flushMs, this.lastFanOutMs / FAN_OUT_SHARE);
    return this.lastFanOut + spacing - performance.now();
  }

  /** Starts fanning `results` out; the answer settles once that is done (a failure is reported, not thrown). */
  private startFanOut(results: R[]): Promise<void> {
    const started = performance.now();
    this.lastFanOut = started;
    this.fanOutRunning = true;
    return this.steps
      .fanOut(results)
      .catch((error: unknown) => this.fail(error))
      .finally(() => {
        this.lastFanOutMs = performance.now() - started;
        this.fanOutRunning = false;
        this.wake?.();
      });
  }

  private fail(error: unknown): void {
    if (this.failure) return;
    this.failure = { error };
    this.steps.failed(error);
  }

  private async run(): Promise<void> {
    let fanning: Promise<void> = Promise.resolve();
    try {
      // One turn of the event loop, so that events that came in the same read form the first batch.
      await new Promise((resolve) => setImmediate(resolve));
      for (;;) {
        while (this.waiting.length > 0 && !this.failure && !this.stopped) {
          for (let hold = this.holdMs(); hold > 0 && !this.stopped && !this.failure; hold = this.holdMs()) await this.hold(hold);
          if (this.failure || this.stopped || !this.steps.ready()) break;
          const batch = this.waiting.splice(0, this.steps.maxBatch);
          let results: R[];
          try {
            results = await this.steps.complete(batch);
          } catch (error) {
            this.fail(error);
            break;
          }
          await fanning;
          if (this.failure || this.stopped) break;
          fanning = this.startFanOut(results);
        }
        await fanning;
        // Events pushed while the last fan-out ran are taken now: nothing else would start a loop for them.
        if (this.waiting.length === 0 || this.failure || this.stopped || !this.steps.ready()) break;
      }
      if (this.failure || this.stopped) this.waiting = [];
    } finally {
      // In the same step as the check that found nothing waiting: an event pushed after it starts a new loop.
      this.running = undefined;
    }
  }
}
