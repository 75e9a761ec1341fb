import { badInput } from './errors.js';

/**
 * The largest event cursor: cursors are the event log's sequence numbers, a PostgreSQL `bigint`.
 * A larger one would not be refused until the log is read, as a database error.
 */
export const MAX_EVENT_CURSOR = 2n ** 63n - 1n;

/** How much of a refused `after` the error message quotes. */
const QUOTED = 64;

/**
 * Reads a subscription's `after`: the `cursor` of an event received before, a decimal integer from
 * 0 to {@link MAX_EVENT_CURSOR} as the `cursor` field gives it. The one cursor format of the live
 * streams, checked by the gateway before it opens an upstream and by the subgraph that serves them.
 * Answers undefined for null or undefined (live events from now on); throws BAD_USER_INPUT naming
 * `after` for anything else, quoting at most its first 64 characters.
 */
export function parseEventCursor(after: unknown): bigint | undefined {
  if (after === null || after === undefined) return undefined;
  if (typeof after !== 'string') throw badInput('after', 'an event cursor is a string (the "cursor" of an event received before)');
  const cursor = /^\d{1,19}$/.test(after) ? BigInt(after) : undefined;
  if (cursor === undefined || cursor > MAX_EVENT_CURSOR) {
    const quoted = after.length > QUOTED ? `${after.slice(0, QUOTED)}...` : after;
    throw badInput(
      'after',
      `"${quoted}" is not an event cursor: send the "cursor" of an event received before (a whole number from 0 to ${MAX_EVENT_CURSOR}), or leave "after" out for live events from now on`,
    );
  }
  return cursor;
}
