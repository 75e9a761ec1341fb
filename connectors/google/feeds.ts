import { PermanentError } from '../contract.js';

/**
 * The change feed's cursor over many Drive change feeds (one per user's My Drive and one per shared
 * drive; https://developers.google.com/drive/api/guides/manage-changes): each feed's page token,
 * stored as the most common token (`b`) and the feeds whose token differs (`x`). Feeds whose
 * positions coincide (one sequence for all, as right after they were started together) cost nothing;
 * each other feed costs its key and token. Past {@link MAX_DISTINCT_FEEDS} distinct positions the
 * cursor is not kept (the files scan then lists every file each time): a cursor is saved with every
 * page of the scan, and its size must stay bounded.
 */
export interface FeedPositions {
  readonly v: 1;
  readonly b: string | null;
  readonly x: Readonly<Record<string, string>>;
}

/** The most feeds a cursor keeps positions of besides the common one (about 50 bytes each). */
export const MAX_DISTINCT_FEEDS = 5000;

export function compact(tokens: ReadonlyMap<string, string>): FeedPositions | null {
  const counts = new Map<string, number>();
  for (const token of tokens.values()) counts.set(token, (counts.get(token) ?? 0) + 1);
  let base: string | null = null;
  let best = 0;
  for (const [token, count] of counts)
    if (count > best) {
      base = token;
      best = count;
    }
  const x: Record<string, string> = {};
  let distinct = 0;
  for (const [feed, token] of tokens) {
    if (token === base) continue;
    if (++distinct > MAX_DISTINCT_FEEDS) return null;
    x[feed] = token;
  }
  return { v: 1, b: base, x };
}

/** A feed's token in `positions` (the common one when it has none of its own). */
export const positionOf = (positions: FeedPositions, feed: string): string | null => positions.x[feed] ?? positions.b;

export function parsePositions(cursor: string): FeedPositions {
  try {
    const parsed = JSON.parse(cursor) as FeedPositions;
    if (parsed.v === 1 && (parsed.b === null || typeof parsed.b === 'string') && typeof parsed.x === 'object' && parsed.x !== null)
      return parsed;
  } catch {
    // answered below
  }
  throw new PermanentError('The change cursor is not one this connector made');
}

/** A feed's key: a user's My Drive (`u:<user id>`) or a shared drive (`d:<drive id>`). */
export type FeedKey = `u:${string}` | `d:${string}`;

/** Ids of files removed from a feed and not seen alive elsewhere in the same read, and ids seen alive: at most this many of each are carried. */
export const MAX_PENDING = 5000;
