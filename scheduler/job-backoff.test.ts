import { describe, expect, it } from 'vitest';
import { PermanentError, ThrottledError, TransientError } from '../connectors/contract.js';
import { jobBackoff } from './job-backoff.js';

/** The job system's retry delays, asked as Agenda asks them after a failure. */

describe('jobBackoff', () => {
  const backoff = jobBackoff({ delay: 2_000, maxDelay: 60_000, maxRetries: 6 });
  const after = (error: Error, attempt: number) => backoff({ attempt, error, jobName: 'scan.users', jobData: {} });

  it('backs other failures off exponentially, up to maxDelay, and stops after maxRetries', () => {
    const failure = new TransientError('The provider answered HTTP 503', 503);
    expect([1, 2, 3, 6].map((attempt) => after(failure, attempt))).toEqual([2_000, 4_000, 8_000, 60_000]);
    expect(after(failure, 7)).toBeNull();
  });

  it('retries a throttled job no sooner than its retryAfterMs, however many times it was throttled', () => {
    const spentDay = new ThrottledError('The rate budget of the instance lets the next request go in 3600 s', 3_600_000);
    expect(after(spentDay, 1)).toBe(3_600_000);
    expect(after(spentDay, 40)).toBe(3_600_000);
    // A short Retry-After does not make the retry sooner than the backoff; past maxRetries, it waits maxDelay.
    const briefly = new ThrottledError('The provider throttled the request (HTTP 429)', 500);
    expect(after(briefly, 3)).toBe(8_000);
    expect(after(briefly, 9)).toBe(60_000);
  });
});

describe('jobBackoff with outageRetryMs', () => {
  const backoff = jobBackoff({ delay: 2_000, maxDelay: 60_000, maxRetries: 6, outageRetryMs: 300_000 });
  const after = (error: Error, attempt: number) => backoff({ attempt, error, jobName: 'scan.users', jobData: {} });

  it('keeps retrying a provider outage (unreachable, 5xx) every outageRetryMs past maxRetries', () => {
    const down = new TransientError('The provider could not be reached (ECONNREFUSED)');
    expect(after(down, 3)).toBe(8_000);
    expect(after(down, 7)).toBe(300_000);
    expect(after(down, 500)).toBe(300_000);
  });

  it('still gives up on what is not an outage: a refusal, our own error', () => {
    expect(after(new PermanentError('The provider refused the request as invalid (HTTP 400)', 400), 7)).toBeNull();
    expect(after(new Error('bug'), 7)).toBeNull();
  });
});
