import type { ExecutionResult } from 'graphql';
import { ErrorCode } from '../../subgraphs/shared/errors.js';

/** Error code of a subscription closed because its client read too slowly (it can resume with its last cursor). */
export const SUBSCRIBER_TOO_SLOW = 'SUBSCRIBER_TOO_SLOW';

/**
 * One client subscription's bounded queue, as the async iterator graphql-ws reads. Written by hand
 * (not an `async function*`) so that `return()` ends it at once instead of waiting for the next
 * event. When more than `limit` events wait, the subscription ends with SUBSCRIBER_TOO_SLOW.
 */
export class SubscriberQueue implements AsyncIterableIterator<ExecutionResult> {
  private readonly items: ExecutionResult[] = [];
  private waiting?: (result: IteratorResult<ExecutionResult>) => void;
  private done = false;
  private overflowed = false;

  constructor(
    private readonly limit: number,
    private readonly onClose: () => void,
  ) {}

  /** Adds an event; answers false once the subscriber is gone or too slow. */
  push(result: ExecutionResult): boolean {
    if (this.done) return false;
    if (this.waiting) {
      const resolve = this.waiting;
      this.waiting = undefined;
      resolve({ value: result, done: false });
      return true;
    }
    if (this.items.length >= this.limit) {
      this.overflowed = true;
      this.items.length = 0;
      this.close();
      return false;
    }
    this.items.push(result);
    return true;
  }

  /** Ends the subscription with a final error (the upstream failed for good). */
  fail(message: string, code: string): void {
    if (this.done) return;
    this.push({ errors: [{ message, extensions: { code } } as never] });
    this.close();
  }

  next(): Promise<IteratorResult<ExecutionResult>> {
    const item = this.items.shift();
    if (item) return Promise.resolve({ value: item, done: false });
    if (this.overflowed) {
      this.overflowed = false;
      return Promise.resolve({
        value: { errors: [{ message: `The subscriber read too slowly (more than ${this.limit} events waiting); subscribe again with "after" set to the last cursor it received`, extensions: { code: SUBSCRIBER_TOO_SLOW } } as never] },
        done: false,
      });
    }
    if (this.done) return Promise.resolve({ value: undefined, done: true });
    return new Promise((resolve) => (this.waiting = resolve));
  }

  return(): Promise<IteratorResult<ExecutionResult>> {
    this.items.length = 0;
    this.overflowed = false;
    this.close();
    return Promise.resolve({ value: undefined, done: true });
  }

  throw(error?: unknown): Promise<IteratorResult<ExecutionResult>> {
    this.close();
    return Promise.reject(error instanceof Error ? error : new Error(String(error)));
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  get closed(): boolean {
    return this.done;
  }

  private close(): void {
    if (this.done) return;
    this.done = true;
    if (this.waiting && !this.overflowed && this.items.length === 0) {
      const resolve = this.waiting;
      this.waiting = undefined;
      resolve({ value: undefined, done: true });
    } else if (this.waiting) {
      const resolve = this.waiting;
      this.waiting = undefined;
      void this.next().then(resolve);
    }
    this.onClose();
  }
}

export { ErrorCode };
