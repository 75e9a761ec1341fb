import { exponential, type BackoffStrategy, type ExponentialBackoffOptions } from 'agenda';
import { ProviderError, ThrottledError } from '../connectors/contract.js';

/**
 * When a failed job runs again: exponential backoff (`options`, capped at `maxDelay`), except that a
 * throttled job waits at least its ThrottledError's `retryAfterMs` and does not run out of retries.
 * Throttling is the provider's or the rate budget's word on when a request may go (a spent daily
 * quota may say hours), not a failure of the job: retrying sooner only throttles again, and giving
 * up would drop work the quota will allow later. Other failures stop after `maxRetries`.
 */
export function jobBackoff(
  options: ExponentialBackoffOptions & {
    readonly maxDelay: number;
    /**
     * Past maxRetries, a job that keeps failing because the provider cannot be reached or answers 5xx
     * (a transient ProviderError) runs again every `outageRetryMs` until the provider is back, instead
     * of giving up (scans: they resume from their cursors, so nothing is missed). Absent: it gives up.
     */
    readonly outageRetryMs?: number;
  },
): BackoffStrategy {
  const base = exponential(options);
  return (context) => {
    const delay = base(context);
    if (context.error instanceof ThrottledError) return Math.max(delay ?? options.maxDelay, context.error.retryAfterMs);
    if (delay === null && options.outageRetryMs !== undefined && isOutage(context.error)) return options.outageRetryMs;
    return delay;
  };
}

/** The provider unreachable or failing on its side (not a refusal, not our own error). */
export const isOutage = (error: unknown): boolean =>
  error instanceof ProviderError && error.transient && !(error instanceof ThrottledError);
