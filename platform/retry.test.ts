import { describe, expect, it } from 'vitest';
import { backoffDelay, sleep } from './retry.js';

describe('backoffDelay', () => {
  it('doubles from the first wait and stops at the longest', () => {
    const policy = { initialMs: 100, maxMs: 5_000 };
    expect([1, 2, 3, 4, 5, 6, 7, 8].map((retry) => backoffDelay(policy, retry))).toEqual([100, 200, 400, 800, 1600, 3200, 5000, 5000]);
    expect(backoffDelay(policy, 0)).toBe(100);
    expect(backoffDelay(policy, 1_000)).toBe(5_000);
  });

  it('draws the jitter share of each wait at random and keeps the rest', () => {
    const policy = { initialMs: 1_000, maxMs: 30_000, jitter: 0.5 };
    expect(backoffDelay(policy, 1, () => 0)).toBe(500);
    expect(backoffDelay(policy, 1, () => 0.999_999)).toBeCloseTo(1_000, 2);
    expect(backoffDelay({ ...policy, jitter: 1 }, 2, () => 0.25)).toBe(500);
    expect(backoffDelay({ ...policy, jitter: 7 }, 1, () => 0)).toBe(0);
  });
});

describe('sleep', () => {
  it('resolves after the wait', async () => {
    const started = performance.now();
    await sleep(20);
    expect(performance.now() - started).toBeGreaterThanOrEqual(19);
  });

  it('rejects with the reason as soon as the signal aborts, and at once when it already has', async () => {
    const controller = new AbortController();
    const waiting = sleep(60_000, controller.signal);
    controller.abort(new Error('stopping'));
    await expect(waiting).rejects.toThrow('stopping');
    await expect(sleep(60_000, AbortSignal.abort(new Error('already')))).rejects.toThrow('already');
  });
});
