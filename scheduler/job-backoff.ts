import { exponential, type BackoffStrategy, type ExponentialBackoffOptions } from 'agenda';
import { ThrottledError } from '../connectors/contract.js';

/**
 * When a failed job runs again: exponential backoff (`options`, capped at `maxDelay`), except that a
 * throttled job waits at least its ThrottledError's `retryAfterMs` and does not run out of retries.
 * Throttling is the provider's or the rate budget's word on when a request may go (a spent daily
 * quota may say hours), not a failure of the job: retrying sooner only throttles again, and giving
 * up would drop work the quota will allow later. Other failures stop after `maxRetries`.
 */
export function jobBackoff(options: ExponentialBackoffOptions & { readonly maxDelay: number }): BackoffStrategy {
  const base = exponential(options);
  return (context) => {
    const delay = base(context);
    if (!(context.error instanceof ThrottledError)) return delay;
    return Math.max(delay ?? options.maxDelay, context.error.retryAfterMs);
  };
}
