import { describe, expect, it } from 'vitest';
import { BatchPipeline, FAN_OUT_SHARE, type BatchPipelineSteps } from './batch-pipeline.js';

/** A promise and the functions that settle it. */
function deferred<T = void>() {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** Lets the event loop turn until `condition` holds; throws naming `what` after `timeoutMs`. */
async function until(what: string, condition: () => boolean, timeoutMs = 2_000): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!condition()) {
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setImmediate(resolve));
  }
}

/** Event-loop turns, for a step that must be reached by now if it is reached at all. */
async function turns(count: number): Promise<void> {
  for (let i = 0; i < count; i++) await new Promise((resolve) => setImmediate(resolve));
}

/** A pipeline whose steps record what they saw; completing doubles each event. */
function recorded(overrides: Partial<BatchPipelineSteps<number, number>> = {}) {
  const completed: number[][] = [];
  const fannedOut: number[][] = [];
  const failures: unknown[] = [];
  const pipeline = new BatchPipeline<number, number>({
    flushMs: 0,
    maxBatch: 100,
    ready: () => true,
    complete: async (batch) => {
      completed.push([...batch]);
      return batch.map((n) => n * 2);
    },
    fanOut: async (results) => {
      fannedOut.push(results);
    },
    failed: (error) => failures.push(error),
    ...overrides,
  });
  return { pipeline, completed, fannedOut, failures };
}

describe('BatchPipeline', () => {
  it('delivers an event pushed while the last fan-out is still running, with no later push to start it', async () => {
    const firstFanOut = deferred();
    let fanOuts = 0;
    const { pipeline, fannedOut } = recorded({
      fanOut: async (results) => {
        fanOuts += 1;
        fannedOut.push(results);
        if (fanOuts === 1) await firstFanOut.promise;
      },
    });
    pipeline.push(1);
    await until('the first fan-out', () => fanOuts === 1);
    // The loop has found nothing else waiting and waits for that fan-out to finish.
    await turns(5);
    pipeline.push(2);
    firstFanOut.resolve();
    await until('the second event to be fanned out', () => fannedOut.length === 2);
    expect(fannedOut).toEqual([[2], [4]]);
    await pipeline.settled();
  });

  it('completes the next batch while the previous one is fanned out, and fans out in push order', async () => {
    const releases: (() => void)[] = [];
    let fanningNow = 0;
    let completedDuringFanOut = 0;
    const { pipeline, fannedOut } = recorded({
      complete: async (batch) => {
        if (fanningNow > 0) completedDuringFanOut += 1;
        // Later batches complete sooner than earlier ones would: order must come from the pipeline.
        await turns(batch[0]! % 3);
        return batch.map((n) => n * 2);
      },
      fanOut: async (results) => {
        fanningNow += 1;
        fannedOut.push(results);
        await new Promise<void>((resolve) => releases.push(resolve));
        fanningNow -= 1;
      },
    });
    pipeline.push(0);
    await until('the first fan-out', () => fannedOut.length === 1);
    for (let n = 1; n <= 30; n++) {
      pipeline.push(n);
      await turns(1);
      releases.shift()?.();
    }
    while (fannedOut.flat().length < 31) {
      await until('a fan-out to release', () => releases.length > 0);
      releases.shift()!();
    }
    await pipeline.settled();
    expect(fannedOut.flat()).toEqual(Array.from({ length: 31 }, (_, n) => n * 2));
    expect(completedDuringFanOut).toBeGreaterThan(0);
  });

  it('holds the events that follow a costly fan-out for up to flushMs and sends them together', async () => {
    // A fan-out of 30 ms (say, to many subscribers): the next may start 30 ÷ FAN_OUT_SHARE ms after it began, capped at flushMs.
    const costly = 30;
    const { pipeline, fannedOut } = recorded({
      flushMs: 10_000,
      fanOut: async (results) => {
        const started = performance.now();
        while (performance.now() - started < costly);
        fannedOut.push(results);
      },
    });
    const started = performance.now();
    pipeline.push(1);
    await until('the first fan-out', () => fannedOut.length === 1);
    pipeline.push(2);
    pipeline.push(3);
    await turns(3);
    pipeline.push(4);
    await until('the second fan-out', () => fannedOut.length === 2);
    expect(fannedOut).toEqual([[2], [4, 6, 8]]);
    expect(performance.now() - started).toBeGreaterThanOrEqual(costly / FAN_OUT_SHARE);
  });

  it('sends each event at once while fan-outs cost nothing, however long flushMs is', async () => {
    const { pipeline, fannedOut } = recorded({ flushMs: 10_000 });
    pipeline.push(1);
    await until('the first fan-out', () => fannedOut.length === 1);
    pipeline.push(2);
    // Well before flushMs: a hold for it would time this out.
    await until('the second event, sent alone', () => fannedOut.length === 2, 2_000);
    pipeline.push(3);
    await until('the third event, sent alone', () => fannedOut.length === 3, 2_000);
    expect(fannedOut).toEqual([[2], [4], [6]]);
  });

  it('holds the next events for flushMs while a fan-out is still running, and looks again when it ends', async () => {
    const release = deferred();
    let fanOuts = 0;
    const { pipeline, fannedOut, completed } = recorded({
      flushMs: 10_000,
      fanOut: async (results) => {
        fanOuts += 1;
        if (fanOuts === 1) await release.promise;
        fannedOut.push(results);
      },
    });
    pipeline.push(1);
    await until('the first fan-out to start', () => fanOuts === 1);
    pipeline.push(2);
    pipeline.push(3);
    await turns(5);
    // Held before being taken into a batch (not only waiting for the fan-out to end).
    expect(completed).toEqual([[1]]);
    // The running fan-out ends having cost next to nothing: the held events go out at once.
    release.resolve();
    await until('the held events', () => fannedOut.length === 2, 2_000);
    expect(fannedOut).toEqual([[2], [4, 6]]);
  });

  it('takes at most maxBatch events per batch', async () => {
    const { pipeline, completed } = recorded({ maxBatch: 2 });
    for (let n = 1; n <= 5; n++) pipeline.push(n);
    await until('every event', () => completed.flat().length === 5);
    expect(completed).toEqual([[1, 2], [3, 4], [5]]);
  });

  it('drops what waits when completing fails, ignores pushes until recover(), then takes them again', async () => {
    const failure = new Error('entity fetch failed');
    let failNext = true;
    const { pipeline, fannedOut, failures } = recorded({
      complete: async (batch) => {
        if (failNext) {
          failNext = false;
          throw failure;
        }
        return batch.map((n) => n * 2);
      },
    });
    pipeline.push(1);
    await pipeline.settled();
    expect(failures).toEqual([failure]);
    expect(pipeline.failed).toBe(true);
    pipeline.push(2);
    await pipeline.settled();
    expect(fannedOut).toEqual([]);
    expect(pipeline.recover()).toBe(failure);
    expect(pipeline.failed).toBe(false);
    pipeline.push(3);
    await until('the event after recovery', () => fannedOut.length === 1);
    expect(fannedOut).toEqual([[6]]);
    expect(failures).toHaveLength(1);
  });

  it('reports a failed fan-out once and fans nothing out after it', async () => {
    const failure = new Error('socket gone');
    const seen: number[][] = [];
    const { pipeline, failures } = recorded({
      fanOut: async (results) => {
        seen.push(results);
        throw failure;
      },
    });
    pipeline.push(1);
    await until('the first fan-out', () => seen.length === 1);
    pipeline.push(2);
    await pipeline.settled();
    expect(failures).toEqual([failure]);
    expect(seen).toEqual([[2]]);
  });

  it('leaves events waiting while not ready and delivers them with the next push', async () => {
    let ready = false;
    const { pipeline, fannedOut } = recorded({ ready: () => ready });
    pipeline.push(1);
    await pipeline.settled();
    expect(fannedOut).toEqual([]);
    expect(pipeline.size).toBe(1);
    ready = true;
    pipeline.push(2);
    await until('both events', () => fannedOut.flat().length === 2);
    expect(fannedOut.flat()).toEqual([2, 4]);
  });

  it('drops what waits once stopped and takes nothing more', async () => {
    const release = deferred();
    let fanOuts = 0;
    const { pipeline, fannedOut, completed } = recorded({
      flushMs: 10_000,
      fanOut: async (results) => {
        fanOuts += 1;
        await release.promise;
        fannedOut.push(results);
      },
    });
    pipeline.push(1);
    await until('the first fan-out to start', () => fanOuts === 1);
    pipeline.push(2);
    // The loop now holds for flushMs before its next batch (the fan-out is still running): stopping ends the hold.
    pipeline.stop();
    pipeline.push(3);
    release.resolve();
    await pipeline.settled();
    expect(completed).toEqual([[1]]);
    expect(fannedOut).toEqual([[2]]);
    expect(pipeline.size).toBe(0);
  });
});
