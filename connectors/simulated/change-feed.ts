import { ApiError } from './api-error.js';
import { decodeToken, encodeToken, tokenNumber } from './paging.js';

/**
 * The file change feed, like Graph delta or Drive changes: a cursor is a position in the feed and
 * the time it was handed out; cursors older than the retention answer 410 (the caller resyncs from
 * a full listing, PROVIDERS.md "Pagination and cursors"). Entries only name the file: the API
 * answers each file as it is when read, and a file changed twice between reads appears once.
 */

interface ChangeRecord {
  readonly seq: number;
  readonly at: number;
  readonly fileId: string;
}

export interface FeedPage {
  /** File ids, in feed order. */
  readonly fileIds: string[];
  readonly nextPageToken: string | null;
  /** Set on the last page: where the next read starts. */
  readonly deltaCursor: string | null;
}

export class ChangeFeed {
  private readonly records: ChangeRecord[] = [];
  private seq = 0;

  constructor(private retentionMs: number) {}

  setRetention(ms: number): void {
    this.retentionMs = ms;
  }

  /** Notes that `fileId` changed (content, sharing, state or deletion) at `at`. */
  record(fileId: string, at: number): void {
    this.records.push({ seq: ++this.seq, at, fileId });
    this.prune(at);
  }

  /** A cursor at the head of the feed, issued `now`. */
  cursorAt(now: number): string {
    return encodeToken('delta', { s: this.seq, t: now });
  }

  /**
   * The files changed after `cursor` (or, with `pageToken`, the next page of that read), at most
   * `limit` per page. Throws 410 `cursor_expired` when the cursor is older than the retention.
   */
  read(cursor: string | undefined, pageToken: string | undefined, limit: number, now: number): FeedPage {
    let after: number;
    let head: number;
    let issued: number;
    if (pageToken) {
      const token = decodeToken(pageToken, 'delta-page');
      [after, head, issued] = [tokenNumber(token, 'a'), tokenNumber(token, 'h'), tokenNumber(token, 't')];
    } else if (cursor) {
      const token = decodeToken(cursor, 'delta', 'cursor');
      [after, head, issued] = [tokenNumber(token, 's', 'cursor'), this.seq, tokenNumber(token, 't', 'cursor')];
    } else {
      return { fileIds: [], nextPageToken: null, deltaCursor: this.cursorAt(now) };
    }
    if (now - issued > this.retentionMs) {
      throw new ApiError(
        410,
        'cursor_expired',
        `cursor issued ${Math.round((now - issued) / 1000)} s ago is older than the feed's retention (${Math.round(this.retentionMs / 1000)} s): list all files again and start a new feed`,
      );
    }
    this.prune(now);
    // The last record per file in (after, head]: earlier pages returned files whose last record is <= after.
    const last = new Map<string, number>();
    for (const r of this.records) if (r.seq > after && r.seq <= head) last.set(r.fileId, r.seq);
    const ordered = [...last.entries()].sort((a, b) => a[1] - b[1]);
    const page = ordered.slice(0, limit);
    if (ordered.length > limit) {
      return {
        fileIds: page.map(([id]) => id),
        nextPageToken: encodeToken('delta-page', { a: page[page.length - 1]![1], h: head, t: issued }),
        deltaCursor: null,
      };
    }
    return { fileIds: page.map(([id]) => id), nextPageToken: null, deltaCursor: encodeToken('delta', { s: head, t: now }) };
  }

  private prune(now: number): void {
    let drop = 0;
    while (drop < this.records.length && now - this.records[drop]!.at > this.retentionMs) drop++;
    if (drop) this.records.splice(0, drop);
  }
}
