import { ApiError } from './api-error.js';

/**
 * Opaque page tokens: base64url JSON tagged with what they page, so a token from one list is refused
 * by another with a 400 instead of answering the wrong page.
 */

export function encodeToken(kind: string, value: Record<string, string | number>): string {
  return Buffer.from(JSON.stringify({ k: kind, ...value })).toString('base64url');
}

/** Decodes a token made by {@link encodeToken} for `kind`; throws a 400 {@link ApiError} otherwise. */
export function decodeToken(token: string, kind: string, param = 'pageToken'): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(token, 'base64url').toString('utf8'));
  } catch {
    value = null;
  }
  if (typeof value !== 'object' || value === null || (value as { k?: unknown }).k !== kind) {
    throw new ApiError(400, `invalid_${param === 'cursor' ? 'cursor' : 'page_token'}`, `${param}: not a token this list issued`);
  }
  return value as Record<string, unknown>;
}

/** A string field of a decoded token, or a 400. */
export function tokenString(token: Record<string, unknown>, field: string, param = 'pageToken'): string {
  const value = token[field];
  if (typeof value !== 'string') throw new ApiError(400, 'invalid_page_token', `${param}: malformed`);
  return value;
}

/** A number field of a decoded token, or a 400. */
export function tokenNumber(token: Record<string, unknown>, field: string, param = 'pageToken'): number {
  const value = token[field];
  if (typeof value !== 'number' || !Number.isFinite(value)) throw new ApiError(400, 'invalid_page_token', `${param}: malformed`);
  return value;
}

export interface ListPage<T> {
  readonly items: T[];
  readonly nextPageToken: string | null;
}

/**
 * Keyset paging over items with string ids, in id order: stable while items come and go between
 * pages (a deleted item is skipped, never shifts the others).
 */
export function pageById<T extends { id: string }>(
  items: readonly T[],
  kind: string,
  pageToken: string | undefined,
  limit: number,
): ListPage<T> {
  const after = pageToken ? tokenString(decodeToken(pageToken, kind), 'after') : '';
  // Keep only the `limit + 1` smallest ids after the cursor (one pass, a small sorted buffer):
  // sorting every remaining item per request made a 100,000-file listing cost ~230 ms a page.
  const best: T[] = [];
  for (const item of items) {
    if (item.id <= after) continue;
    if (best.length > limit && item.id >= best[best.length - 1]!.id) continue;
    let at = best.length;
    while (at > 0 && best[at - 1]!.id > item.id) at--;
    best.splice(at, 0, item);
    if (best.length > limit + 1) best.pop();
  }
  const page = best.slice(0, limit);
  const last = page[page.length - 1];
  return { items: page, nextPageToken: best.length > limit && last ? encodeToken(kind, { after: last.id }) : null };
}
