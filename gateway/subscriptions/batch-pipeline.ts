/** The two steps an upstream's events go through, and how often they may be fanned out. */
export interface BatchPipelineSteps<E, R> {
  /** Shortest time between the starts of two fan-outs (ms): events that come faster go out together. */
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
 * Events completed in batches and fanned out in order, one loop at a time. A batch is completed
 * while the one before it is still being fanned out (completing waits on the network, fanning out
 * on the CPU), and fanned out once that one is done. Events arriving faster than one per flushMs
 * wait for the rest of the interval and go out with those that join them; an event after a quiet
 * spell goes out at once. The loop ends only in the same step as a check that found nothing
 * waiting, so an event pushed at any moment is delivered without waiting for a later one.
 */
export class BatchPipeline<E, R> {
  private waiting: E[] = [];
  private running?: Promise<void>;
  /** When the last fan-out began (monotonic ms; -Infinity before the first). */
  private lastFanOut = Number.NEGATIVE_INFINITY;
  private failure?: { readonly error: unknown };
  private stopped = false;
  /** Ends the current hold early (on stop). */
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
          const hold = this.lastFanOut + this.steps.flushMs - performance.now();
          if (hold > 0) await this.hold(hold);
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
          this.lastFanOut = performance.now();
          fanning = this.steps.fanOut(results).catch((error: unknown) => this.fail(error));
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
