import { describe, expect, it } from 'vitest';
import { eachConcurrently } from './concurrency.js';

describe('eachConcurrently', () => {
  it('runs at most `limit` at once and every item once', async () => {
    let running = 0;
    let most = 0;
    const seen: number[] = [];
    await eachConcurrently([...Array(10).keys()], 3, async (n) => {
      running += 1;
      most = Math.max(most, running);
      await Promise.resolve();
      await Promise.resolve();
      seen.push(n);
      running -= 1;
    });
    expect(most).toBe(3);
    expect(seen.sort((a, b) => a - b)).toEqual([...Array(10).keys()]);
  });

  it('starts nothing after a failure, lets what runs finish, then throws the first failure', async () => {
    const started: number[] = [];
    const finished: number[] = [];
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    const done = eachConcurrently([0, 1, 2, 3, 4], 2, async (n) => {
      started.push(n);
      if (n === 0) throw new Error('first');
      await held;
      finished.push(n);
    });
    await Promise.resolve();
    release();
    await expect(done).rejects.toThrow('first');
    expect(started).toEqual([0, 1]);
    expect(finished).toEqual([1]);
  });

  it('does nothing for no items', async () => {
    await eachConcurrently([], 4, async () => {
      throw new Error('never');
    });
  });
});
