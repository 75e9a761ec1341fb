import type { GovernanceRecord } from './org.js';
import { OrgState } from './org.js';
import type { Delivery, OutboundMessages } from './outbound.js';
import type { Org, OrgStats } from './runtime.js';
import type { Row } from './store.js';

/** One org's ground truth, for tests: what a connector should see, and every provider-side action applied. */
export interface SalesforceTruth {
  readonly organizationId: string;
  readonly name: string;
  readonly instanceUrl: string;
  readonly users: readonly {
    readonly Id: string;
    readonly Username: string;
    readonly Name: string;
    readonly UserType: string;
    readonly ProfileId: string;
    readonly IsActive: boolean;
    readonly IsFrozen: boolean;
    readonly status: 'active' | 'inactive' | 'frozen';
    /** Modify All Data or View All Data, through the profile or a permission set. */
    readonly admin: boolean;
  }[];
  /** Public groups (Type Regular) with their members (users and groups). */
  readonly groups: readonly { readonly Id: string; readonly Name: string; readonly members: readonly string[] }[];
  readonly files: readonly {
    readonly Id: string;
    readonly Title: string;
    readonly OwnerId: string;
    readonly deleted: boolean;
    readonly LatestPublishedVersionId: string;
    readonly versions: number;
    readonly links: readonly {
      readonly Id: string;
      readonly LinkedEntityId: string;
      readonly ShareType: string;
      readonly Visibility: string;
    }[];
    readonly distributions: readonly { readonly Id: string; readonly DistributionPublicUrl: string }[];
  }[];
  readonly oauthTokens: readonly {
    readonly Id: string;
    readonly AppName: string;
    readonly UserId: string;
    readonly UseCount: number;
    readonly deleted: boolean;
  }[];
  readonly loginHistory: readonly { readonly Id: string; readonly UserId: string; readonly LoginTime: string; readonly visible: boolean }[];
  readonly setupAuditTrail: readonly {
    readonly Id: string;
    readonly Action: string;
    readonly CreatedDate: string;
    readonly visible: boolean;
  }[];
  readonly eventLogFiles: readonly {
    readonly Id: string;
    readonly EventType: string;
    readonly Interval: string;
    readonly LogDate: string;
    readonly Sequence: number;
    readonly visible: boolean;
  }[];
  /** Every Event Monitoring event, `id` being `elf:<EventType>:<REQUEST_ID>`; visible once a file carrying it is. */
  readonly eventLogEvents: readonly {
    readonly id: string;
    readonly eventType: string;
    readonly requestId: string;
    readonly at: string;
    readonly visible: boolean;
  }[];
  readonly quota: { readonly used: number; readonly max: number };
  readonly governance: readonly GovernanceRecord[];
  readonly outboundMessages: readonly Delivery[];
}

/** What an emulated org's control API can change: throttling, quota, sessions, the page size. */
export interface OrgUpdate {
  readonly throttleRate?: number;
  readonly dailyApiLimit?: number;
  /** Requests used in the last 24 hours, set to exactly this. */
  readonly apiUsage?: number;
  readonly pageSize?: number;
  readonly sessionSeconds?: number;
  /** Long-running requests other integrations have in flight: at the limit, every request is refused. */
  readonly longRunningRequests?: number;
  readonly concurrentLongRunningLimit?: number;
  readonly outboundMessageUrl?: string | null;
}

/** In-process control of one emulated org (the conformance suite's knobs). */
export interface SalesforceOrgControl {
  readonly organizationId: string;
  /** The org's My Domain URL: its login URL and instance URL. */
  readonly instanceUrl: string;
  truth(): SalesforceTruth;
  stats(): OrgStats;
  update(change: OrgUpdate): void;
  /** Share of REST requests refused 403 REQUEST_LIMIT_EXCEEDED (ConcurrentPerOrgLongTxn). */
  setThrottleRate(rate: number): void;
  /** Requests refused as throttled so far. */
  throttled(): number;
  setDailyLimit(max: number): void;
  /** Other integrations spend `n` of the org's daily requests now. */
  spendQuota(n: number): void;
  /** Ends every session: their tokens answer 401 INVALID_SESSION_ID. Answers how many. */
  expireTokens(): number;
  /** Refuses new tokens (the certificate or secret rotated: invalid_grant / invalid_client), or accepts them again. */
  refuseTokens(refuse: boolean): void;
  /** LoginHistory and SetupAuditTrail records happening now, each visible up to `lateMs` later; their Login events in a late log file. Answers their ids. */
  lateRecords(count: number, lateMs: number): string[];
  /** The same as {@link lateRecords}. */
  lateEvents(count: number, lateMs: number): string[];
  /** Records that happened `agoMs` ago and become visible only now (with a new log file for that hour). Answers their ids. */
  pastRecords(count: number, agoMs: number): string[];
  /**
   * Outside any governance: `user` deactivates (Salesforce users cannot be deleted), `file` sends the
   * document to the recycle bin, `oauthToken` revokes it, `group` deletes the group and its members.
   */
  remove(kind: 'user' | 'file' | 'oauthToken' | 'group', id: string): void;
  /** A new version of a document by its owner (SystemModstamp advances, an outbound message goes). Answers the version id. */
  changeFile(id: string): string;
  setOutboundMessageUrl(url: string | null): void;
}

export function orgControl(org: Org, outbound: OutboundMessages, clock: () => number): SalesforceOrgControl {
  const state = org.state;
  const visible = (row: Row) => row._visibleAt === undefined || row._visibleAt <= clock();
  const iso = (ms: unknown) => new Date(Number(ms)).toISOString();
  const byId = (kind: string, table: ReturnType<OrgState['table']>, id: string) => {
    const row = table.get(id);
    if (!row) throw new Error(`no ${kind} ${id} in org ${org.organizationId}`);
    return row;
  };

  const logLate = (at: number, visibleAt: number, ids: string[]) => {
    const events = state.logEvents.filter((e) => e.eventType === 'Login' && e.files.length === 0 && e.at === at);
    if (events.length && org.spec.eventLogFiles) state.addLogFile('Login', 'Hourly', OrgState.hourOf(at), events, visibleAt, clock());
    return ids;
  };

  const control: SalesforceOrgControl = {
    organizationId: org.organizationId,
    instanceUrl: org.instanceUrl,
    truth() {
      const now = clock();
      const permissionSets = state.table('PermissionSet');
      const privileged = new Set(
        [...permissionSets.rows.values()].filter((p) => p.PermissionsModifyAllData || p.PermissionsViewAllData).map((p) => p.Id),
      );
      const assignments = state.table('PermissionSetAssignment');
      const frozen = new Set([...state.table('UserLogin').rows.values()].filter((l) => l.IsFrozen).map((l) => String(l.UserId)));
      const documents = [...state.table('ContentDocument').rows.values()];
      const tokens = state.table('OauthToken');
      const files = state.table('EventLogFile');
      return structuredClone({
        organizationId: org.organizationId,
        name: org.spec.name,
        instanceUrl: org.instanceUrl,
        users: [...state.table('User').rows.values()].map((u) => ({
          Id: u.Id,
          Username: String(u.Username),
          Name: String(u.Name),
          UserType: String(u.UserType),
          ProfileId: String(u.ProfileId),
          IsActive: u.IsActive === true,
          IsFrozen: frozen.has(u.Id),
          status: (u.IsActive !== true ? 'inactive' : frozen.has(u.Id) ? 'frozen' : 'active') as 'active' | 'inactive' | 'frozen',
          admin: assignments.byRef('AssigneeId', u.Id).some((a) => privileged.has(String(a.PermissionSetId))),
        })),
        groups: [...state.table('Group').rows.values()]
          .filter((g) => g.Type === 'Regular')
          .map((g) => ({
            Id: g.Id,
            Name: String(g.Name),
            members: state
              .table('GroupMember')
              .byRef('GroupId', g.Id)
              .map((m) => String(m.UserOrGroupId)),
          })),
        files: documents.map((d) => ({
          Id: d.Id,
          Title: String(d.Title),
          OwnerId: String(d.OwnerId),
          deleted: d.IsDeleted === true,
          LatestPublishedVersionId: String(d.LatestPublishedVersionId),
          versions: state.table('ContentVersion').byRef('ContentDocumentId', d.Id).length,
          links: state
            .table('ContentDocumentLink')
            .byRef('ContentDocumentId', d.Id)
            .filter((l) => l.IsDeleted !== true)
            .map((l) => ({
              Id: l.Id,
              LinkedEntityId: String(l.LinkedEntityId),
              ShareType: String(l.ShareType),
              Visibility: String(l.Visibility),
            })),
          distributions: state
            .table('ContentDistribution')
            .byRef('ContentDocumentId', d.Id)
            .filter((x) => x.IsDeleted !== true)
            .map((x) => ({ Id: x.Id, DistributionPublicUrl: String(x.DistributionPublicUrl) })),
        })),
        oauthTokens: [...tokens.rows.values(), ...tokens.removed.values()]
          .sort((a, b) => (a.Id < b.Id ? -1 : 1))
          .map((t) => ({
            Id: t.Id,
            AppName: String(t.AppName),
            UserId: String(t.UserId),
            UseCount: Number(t.UseCount),
            deleted: !tokens.rows.has(t.Id),
          })),
        loginHistory: [...state.table('LoginHistory').rows.values()].map((l) => ({
          Id: l.Id,
          UserId: String(l.UserId),
          LoginTime: iso(l.LoginTime),
          visible: visible(l),
        })),
        setupAuditTrail: [...state.table('SetupAuditTrail').rows.values()].map((s) => ({
          Id: s.Id,
          Action: String(s.Action),
          CreatedDate: iso(s.CreatedDate),
          visible: visible(s),
        })),
        eventLogFiles: [...files.rows.values()].map((f) => ({
          Id: f.Id,
          EventType: String(f.EventType),
          Interval: String(f.Interval),
          LogDate: iso(f.LogDate),
          Sequence: Number(f.Sequence),
          visible: visible(f),
        })),
        eventLogEvents: state.logEvents
          .filter((e) => e.files.length > 0)
          .map((e) => ({
            id: `elf:${e.eventType}:${e.requestId}`,
            eventType: e.eventType,
            requestId: e.requestId,
            at: iso(e.at),
            visible: e.files.some((id) => visible(files.get(id)!)),
          })),
        quota: { used: org.quota.used(now), max: org.quota.max },
        governance: state.governance,
        outboundMessages: outbound.deliveries,
      });
    },
    stats: () => structuredClone(org.stats),
    update(change) {
      const s = org.settings;
      if (change.throttleRate !== undefined) s.throttleRate = Math.min(1, Math.max(0, change.throttleRate));
      if (change.pageSize !== undefined) s.pageSize = Math.min(2000, Math.max(1, Math.floor(change.pageSize)));
      if (change.sessionSeconds !== undefined) s.sessionSeconds = change.sessionSeconds;
      if (change.longRunningRequests !== undefined) s.longRunningRequests = change.longRunningRequests;
      if (change.concurrentLongRunningLimit !== undefined) s.concurrentLongRunningLimit = change.concurrentLongRunningLimit;
      if (change.outboundMessageUrl !== undefined) s.outboundMessageUrl = change.outboundMessageUrl;
      if (change.dailyApiLimit !== undefined) org.quota.max = change.dailyApiLimit;
      if (change.apiUsage !== undefined) org.quota.reset(change.apiUsage, clock());
    },
    setThrottleRate: (rate) => control.update({ throttleRate: rate }),
    throttled: () => org.stats.throttled,
    setDailyLimit: (max) => control.update({ dailyApiLimit: max }),
    spendQuota: (n) => org.quota.spend(n, clock()),
    expireTokens() {
      const n = org.sessions.size;
      org.sessions.clear();
      return n;
    },
    refuseTokens(refuse) {
      org.settings.refuseTokens = refuse;
    },
    lateRecords(count, lateMs) {
      const now = clock();
      const ids: string[] = [];
      let latest = now;
      for (let k = 0; k < count; k++) {
        const visibleAt = now + state.rng.next() * lateMs;
        latest = Math.max(latest, visibleAt);
        ids.push((k % 3 === 2 ? org.activity.setupChange(now, now, visibleAt) : org.activity.login(now, now, visibleAt)).Id);
      }
      return logLate(now, latest, ids);
    },
    lateEvents: (count, lateMs) => control.lateRecords(count, lateMs),
    pastRecords(count, agoMs) {
      const now = clock();
      const at = now - agoMs;
      const ids: string[] = [];
      for (let k = 0; k < count; k++)
        ids.push((k % 3 === 2 ? org.activity.setupChange(at, now, now) : org.activity.login(at, now, now)).Id);
      return logLate(at, now, ids);
    },
    remove(kind, id) {
      const now = clock();
      switch (kind) {
        case 'user':
          state.update(byId('user', state.table('User'), id), { IsActive: false }, now);
          return;
        case 'file': {
          const document = byId('file', state.table('ContentDocument'), id);
          for (const version of state.table('ContentVersion').byRef('ContentDocumentId', id))
            state.update(version, { IsDeleted: true }, now);
          for (const link of state.table('ContentDocumentLink').byRef('ContentDocumentId', id))
            state.update(link, { IsDeleted: true }, now);
          for (const x of state.table('ContentDistribution').byRef('ContentDocumentId', id))
            if (x.IsDeleted !== true) state.update(x, { IsDeleted: true }, now);
          state.update(document, { IsDeleted: true }, now);
          return;
        }
        case 'oauthToken':
          state.table('OauthToken').remove(byId('oauthToken', state.table('OauthToken'), id));
          return;
        case 'group': {
          const group = byId('group', state.table('Group'), id);
          for (const member of state.table('GroupMember').byRef('GroupId', id)) state.table('GroupMember').remove(member);
          state.table('Group').remove(group);
          return;
        }
      }
    },
    changeFile(id) {
      const now = clock();
      const document = byId('file', state.table('ContentDocument'), id);
      const content = Buffer.from(`${String(document.Title)}, changed at ${new Date(now).toISOString()}\n`);
      const version = state.addVersion(document, content, { ReasonForChange: 'Edited' }, now, String(document.OwnerId));
      if (org.settings.outboundMessageUrl) outbound.send(org.settings.outboundMessageUrl, version);
      return version.Id;
    },
    setOutboundMessageUrl(url) {
      org.settings.outboundMessageUrl = url;
    },
  };
  return control;
}
