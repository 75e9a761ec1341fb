/**
 * A closed-loop load generator: `concurrency` clients each send one request, wait for its answer and
 * send the next, until the duration is over. Requests started before the deadline are awaited, so a
 * run ends only when every client has stopped; nothing is left in flight between runs.
 */

/** One request by client `client` (0-based). Resolves when the answer is complete and correct; throws to count an error. */
export type LoadRequest = (client: number) => Promise<void>;

export interface LoadOptions {
  /** Clients sending at the same time, each one request after another. */
  readonly concurrency: number;
  /** How long clients start new requests, in milliseconds. */
  readonly durationMs: number;
  readonly request: LoadRequest;
}

/** What one run measured. Latencies are of requests that succeeded; errors are counted apart. */
export interface LoadResult {
  /** Requests answered without error. */
  readonly requests: number;
  readonly errors: number;
  /** Up to {@link MAX_ERROR_SAMPLES} distinct error messages, with how often each occurred. */
  readonly errorSamples: ReadonlyMap<string, number>;
  /** From the first request to the last answer, in seconds. */
  readonly seconds: number;
  readonly requestsPerSecond: number;
  readonly p50: number;
  readonly p95: number;
  readonly p99: number;
}

/** Distinct error messages a run keeps; later ones are only counted. */
export const MAX_ERROR_SAMPLES = 5;

/** Runs the load and answers its throughput and latency percentiles (ms). Never throws: failed requests are counted. */
export async function runLoad({ concurrency, durationMs, request }: LoadOptions): Promise<LoadResult> {
  const latencies: number[] = [];
  const errorSamples = new Map<string, number>();
  let errors = 0;
  const started = performance.now();
  const deadline = started + durationMs;

  const client = async (id: number) => {
    while (performance.now() < deadline) {
      const sent = performance.now();
      try {
        await request(id);
        latencies.push(performance.now() - sent);
      } catch (error) {
        errors += 1;
        const message = error instanceof Error ? error.message : String(error);
        if (errorSamples.has(message) || errorSamples.size < MAX_ERROR_SAMPLES)
          errorSamples.set(message, (errorSamples.get(message) ?? 0) + 1);
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, (_, id) => client(id)));

  const seconds = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  return {
    requests: latencies.length,
    errors,
    errorSamples,
    seconds,
    requestsPerSecond: latencies.length / seconds,
    p50: percentile(latencies, 50),
    p95: percentile(latencies, 95),
    p99: percentile(latencies, 99),
  };
}

/** Nearest-rank percentile of ascending `sorted`; NaN when it is empty. */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1]!;
}
