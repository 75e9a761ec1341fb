import { OrgActivity } from './activity.js';
import { newAccessToken, type Session, type TokenIssuer } from './auth.js';
import { invalidSession } from './errors.js';
import { populate } from './generate.js';
import { canonicalId } from './ids.js';
import { DailyQuota } from './limits.js';
import { OrgState } from './org.js';
import { defaultDailyLimit, type ConnectedAppSpec, type ResolvedOrgSpec } from './spec.js';
import type { Row } from './store.js';

/** An open query locator: the rows a query matched, read page by page (https://developer.salesforce.com/docs/atlas.en-us.api_rest.meta/api_rest/resources_query_more_results.htm). */
export interface Cursor {
  readonly id: string;
  readonly userId: string;
  readonly rows: readonly Row[];
  readonly project: (row: Row, version: string) => object;
  readonly batch: number;
  lastUsed: number;
}

/** Requests answered, by outcome. */
export interface OrgStats {
  requests: number;
  /** Refused as over the concurrent long-running request limit (`throttleRate`, `longRunningRequests`). */
  throttled: number;
  /** Refused as over the daily API request allocation. */
  limitExceeded: number;
  tokensIssued: number;
  tokensRefused: number;
  byStatus: Record<string, number>;
}

/** Mutable run-time settings of an org (the control API changes them). */
export interface OrgSettings {
  throttleRate: number;
  pageSize: number;
  sessionSeconds: number;
  concurrentLongRunningLimit: number;
  /** Long-running requests (20 s or more) other integrations have in flight now. */
  longRunningRequests: number;
  refuseTokens: boolean;
  outboundMessageUrl: string | null;
}

/** Query locators a user may hold open; opening one more releases the oldest (the SOQL reference's query limits). */
const MAX_OPEN_CURSORS = 10;
/** A query locator unused for 15 minutes is released. */
const CURSOR_IDLE_MS = 15 * 60_000;

/** One org as the server serves it: records, sessions, quota, open cursors and counters. */
export class Org {
  readonly state: OrgState;
  readonly activity: OrgActivity;
  readonly quota: DailyQuota;
  readonly settings: OrgSettings;
  readonly sessions = new Map<string, Session>();
  readonly cursors = new Map<string, Cursor>();
  readonly stats: OrgStats = { requests: 0, throttled: 0, limitExceeded: 0, tokensIssued: 0, tokensRefused: 0, byStatus: {} };
  readonly organizationId: string;

  constructor(
    readonly spec: ResolvedOrgSpec,
    /** The org's My Domain URL: its login URL and instance URL alike. */
    readonly instanceUrl: string,
    now: number,
  ) {
    this.organizationId = canonicalId(spec.organizationId)!;
    this.state = new OrgState(spec, this.organizationId);
    this.activity = populate(this.state, instanceUrl, now);
    this.quota = new DailyQuota(defaultDailyLimit(spec));
    this.quota.reset(spec.apiUsage, now);
    this.settings = {
      throttleRate: spec.throttleRate,
      pageSize: spec.pageSize,
      sessionSeconds: spec.sessionSeconds,
      concurrentLongRunningLimit: spec.concurrentLongRunningLimit,
      longRunningRequests: 0,
      refuseTokens: false,
      outboundMessageUrl: spec.outboundMessageUrl,
    };
  }

  /** The token endpoint's view of this org. */
  issuer(): TokenIssuer {
    const users = this.state.table('User');
    const logins = this.state.table('UserLogin');
    const describe = (user: Row | undefined) =>
      user && {
        id: user.Id,
        active: user.IsActive === true,
        frozen: logins.byRef('UserId', user.Id).some((l) => l.IsFrozen === true),
      };
    return {
      organizationId: this.organizationId,
      instanceUrl: this.instanceUrl,
      refusing: this.settings.refuseTokens,
      app: (consumerKey) => this.spec.connectedApps.find((a) => a.consumerKey === consumerKey),
      user: (username) => describe([...users.rows.values()].find((u) => String(u.Username).toLowerCase() === username.toLowerCase())),
      runAs: (app: ConnectedAppSpec) => describe(users.get(this.state.appUsers.get(app.consumerKey) ?? '')),
      open: (userId, consumerKey, now) => {
        const session: Session = {
          token: newAccessToken(this.organizationId),
          organizationId: this.organizationId,
          userId,
          consumerKey,
          lastActivity: now,
        };
        this.sessions.set(session.token, session);
        return session;
      },
    };
  }

  /**
   * The session of a Bearer token, refreshed by this use; an unknown token, one of another org or one
   * idle past the session timeout answers 401 INVALID_SESSION_ID.
   */
  authenticate(authorization: string | undefined, now: number): Session {
    const match = /^(?:Bearer|OAuth)\s+(\S+)$/i.exec(authorization ?? '');
    const session = match ? this.sessions.get(match[1]!) : undefined;
    if (!session) throw invalidSession();
    if (now - session.lastActivity > this.settings.sessionSeconds * 1000) {
      this.sessions.delete(session.token);
      throw invalidSession();
    }
    session.lastActivity = now;
    return session;
  }

  openCursor(cursor: Cursor, now: number): void {
    for (const [id, open] of this.cursors) if (now - open.lastUsed > CURSOR_IDLE_MS) this.cursors.delete(id);
    const mine = [...this.cursors.values()].filter((c) => c.userId === cursor.userId);
    if (mine.length >= MAX_OPEN_CURSORS) this.cursors.delete(mine.sort((a, b) => a.lastUsed - b.lastUsed)[0]!.id);
    this.cursors.set(cursor.id, cursor);
  }

  count(status: number): void {
    this.stats.byStatus[status] = (this.stats.byStatus[status] ?? 0) + 1;
  }
}
