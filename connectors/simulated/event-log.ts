import { ApiError } from './api-error.js';
import type { SimEvent } from './model.js';
import { decodeToken, encodeToken, tokenNumber, tokenString, type ListPage } from './paging.js';

/**
 * The audit trail, kept in occurrence order. The API reads it newest first and only returns what
 * is visible by now, like Google's Reports API: a window read again later can hold events that were
 * not there before, older than ones already seen (see PROVIDERS.md, "Late, unordered").
 */
export class EventLog {
  private readonly events: SimEvent[] = [];
  private readonly occurred: number[] = [];
  private readonly visible: number[] = [];

  get size(): number {
    return this.events.length;
  }

  /** Adds an event in occurrence order (ties by id). */
  append(event: SimEvent): void {
    const t = Date.parse(event.occurredAt);
    const at = this.lowerBound(t, event.id);
    this.events.splice(at, 0, event);
    this.occurred.splice(at, 0, t);
    this.visible.splice(at, 0, Date.parse(event.visibleAt));
  }

  /** Every event, visible or not, oldest first (the array itself: do not change it). */
  all(): readonly SimEvent[] {
    return this.events;
  }

  /** First index whose (occurredAt, id) is not before (t, id). */
  private lowerBound(t: number, id: string): number {
    let lo = 0;
    let hi = this.events.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const before = this.occurred[mid]! < t || (this.occurred[mid] === t && this.events[mid]!.id < id);
      if (before) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /**
   * Events with occurredAt in [from, to) and visibleAt <= now, newest first. The page token holds
   * the last event returned, so a later page continues below it whatever became visible meanwhile.
   */
  page(from: number, to: number, now: number, pageToken: string | undefined, limit: number): ListPage<SimEvent> {
    let start = this.lowerBound(to, '');
    if (pageToken) {
      const token = decodeToken(pageToken, 'audit');
      if (tokenNumber(token, 'from') !== from || tokenNumber(token, 'to') !== to) {
        throw new ApiError(400, 'invalid_page_token', 'pageToken: belongs to another from/to window');
      }
      start = Math.min(start, this.lowerBound(tokenNumber(token, 't'), tokenString(token, 'id')));
    }
    const items: SimEvent[] = [];
    let i = start - 1;
    for (; i >= 0 && this.occurred[i]! >= from; i--) {
      if (this.visible[i]! > now) continue;
      if (items.length === limit) break;
      items.push(this.events[i]!);
    }
    const more = i >= 0 && this.occurred[i]! >= from;
    const last = items[items.length - 1];
    return {
      items,
      nextPageToken: more && last ? encodeToken('audit', { from, to, t: Date.parse(last.occurredAt), id: last.id }) : null,
    };
  }
}
