import { badInput } from './errors.js';

/**
 * Checks a subscription's `after`: an event cursor is a decimal integer (the event log's position), as
 * the `cursor` field of every event gives it. The activities subgraph reads it; the gateway checks it
 * before opening anything, so a bad cursor ends the subscription at once with one BAD_USER_INPUT.
 */
export function parseEventCursor(after: string | null | undefined): bigint | undefined {
  if (after === null || after === undefined) return undefined;
  if (!/^\d{1,19}$/.test(after) || BigInt(after) > 9_223_372_036_854_775_807n)
    throw badInput('after', `"${after.slice(0, 64)}" is not an event cursor (send the "cursor" of an event received before)`);
  return BigInt(after);
}
