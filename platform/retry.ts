/**
 * The one retry and backoff policy: how long to wait before trying again after a failure, and a
 * wait that a stopping process does not sit out. The provider client, governance execution, the
 * gateway's upstream subscriptions and the event stream's LISTEN connection all wait by it.
 */

/** Exponential backoff: `initialMs` before the first retry, doubling, never more than `maxMs`. */
export interface BackoffPolicy {
  readonly initialMs: number;
  readonly maxMs: number;
  /**
   * How much of each wait is random, from 0 (none: the default) to 1 (anywhere from 0 to the full
   * wait). Jitter keeps many clients that failed together from retrying together.
   */
  readonly jitter?: number;
}

/**
 * The wait before retry number `retry` (1 is the first): `initialMs × 2^(retry − 1)`, capped at
 * `maxMs`, of which the `jitter` share is drawn from `random` (Math.random by default).
 */
export function backoffDelay(policy: BackoffPolicy, retry: number, random: () => number = Math.random): number {
  const full = Math.min(policy.maxMs, policy.initialMs * 2 ** Math.max(0, retry - 1));
  const jitter = Math.min(1, Math.max(0, policy.jitter ?? 0));
  return full * (1 - jitter) + random() * full * jitter;
}

/**
 * Resolves after `ms`, or rejects with the signal's reason as soon as `signal` aborts (at once when
 * it already has): a stopping process does not wait out a backoff.
 */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal!.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
