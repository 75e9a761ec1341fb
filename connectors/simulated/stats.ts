/** Request counts per route and status, per tenant: `GET /admin/tenants/:id/stats`. */

export interface RouteStats {
  total: number;
  /** Count per status code; `dropped` for connections destroyed without an answer. */
  statuses: Record<string, number>;
}

export interface StatsSnapshot {
  /** Answered (or dropped) requests. */
  total: number;
  /** Requests being handled right now (e.g. held by a slow-answer fault). */
  inFlight: number;
  /** Answers 429. */
  throttled: number;
  /** Per route, as `METHOD /pattern` (e.g. `POST /api/v1/users/:id/suspend`). */
  routes: Record<string, RouteStats>;
  /** Successful calls per governance endpoint. */
  governance: Record<string, number>;
}

export class RequestStats {
  private snapshotValue: StatsSnapshot = { total: 0, inFlight: 0, throttled: 0, routes: {}, governance: {} };

  /** Notes a request that started; {@link record} ends it. */
  start(): void {
    this.snapshotValue.inFlight++;
  }

  /** Counts one started request to `route` answered with `status`; `governance` marks a state-changing endpoint. */
  record(route: string, status: number | 'dropped', governance = false): void {
    const s = this.snapshotValue;
    s.inFlight = Math.max(0, s.inFlight - 1);
    s.total++;
    if (status === 429) s.throttled++;
    const entry = (s.routes[route] ??= { total: 0, statuses: {} });
    entry.total++;
    entry.statuses[String(status)] = (entry.statuses[String(status)] ?? 0) + 1;
    if (governance && typeof status === 'number' && status >= 200 && status < 300) s.governance[route] = (s.governance[route] ?? 0) + 1;
  }

  /** A copy of the counts so far. */
  snapshot(): StatsSnapshot {
    return structuredClone(this.snapshotValue);
  }
}
