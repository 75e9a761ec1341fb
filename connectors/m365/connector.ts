import { randomUUID, timingSafeEqual } from 'node:crypto';
import type * as Graph from '@microsoft/microsoft-graph-types';
import { AccountStatus } from '../../platform/vocabulary/account-status.js';
import { ActivityCategory } from '../../platform/vocabulary/activity-category.js';
import { SharingLevel } from '../../platform/vocabulary/sharing.js';
import {
  CredentialError,
  PermanentError,
  WebhookRejectedError,
  type Capability,
  type ChangePage,
  type ChangeSubscriptions,
  type Connector,
  type ConnectorConfig,
  type ConnectorCredentials,
  type ConnectorFactory,
  type FileChange,
  type FileContent,
  type Page,
  type PageToken,
  type PermissionReport,
  type ProviderEvent,
  type ProviderFile,
  type ProviderGrant,
  type ProviderGroup,
  type ProviderHttp,
  type ProviderLimits,
  type ProviderResponseHead,
  type ProviderUser,
  type SubscriptionSync,
  type SubscriptionTarget,
  type ThrottleSignal,
  type TimeWindow,
  type TokenHttp,
  type UserChangePage,
  type VerifiedWebhook,
  type WebhookDelivery,
} from '../contract.js';
import { hostsOf, validateM365Config, type M365Config } from './config.js';
import { accessTokenClaims, m365Credentials } from './credentials.js';

/** The application permissions an access token carries (its `roles` claim). */
function rolesOf(authorization: string | undefined): string[] {
  const roles = accessTokenClaims(authorization).roles;
  return Array.isArray(roles) ? roles.filter((r): r is string => typeof r === 'string') : [];
}
import { GraphHttp } from './graph-http.js';
import { capabilitiesOf, REQUIRED_PERMISSIONS } from './permissions.js';

export const M365_PROVIDER = 'm365';
export const M365_CAPABILITIES: readonly Capability[] = [
  'ACCOUNT_INFO',
  'AUDIT_TRAIL',
  'ACCOUNT_GOVERNANCE',
  'APP_PERMISSIONS',
  'APP_PERMISSION_GOVERNANCE',
  'DATA_SCAN',
  'DATA_GOVERNANCE',
];

const USER_FIELDS = 'id,displayName,userPrincipalName,mail,userType,accountEnabled,passwordProfile,signInSessionsValidFromDateTime';
/** Where a quarantined item's original folder is kept: its description (an updatable driveItem property). */
const QUARANTINE_MARK = 'tenantwatch-quarantine:';
/** How long a notification's delivery id is kept (it is never seen again: Graph's notifications carry no id). */
const NOTIFICATION_MEMORY_MS = 60_000;
/**
 * A drive subscription's lifetime when made or renewed: Graph allows 42,300 minutes for driveItem
 * (https://learn.microsoft.com/en-us/graph/api/resources/subscription#subscription-lifetime); an
 * hour less leaves room for a clock that runs ahead of Graph's.
 */
const SUBSCRIPTION_LIFETIME_MS = (42_300 - 60) * 60_000;
/** A subscription is renewed when it would expire within this margin (three days: a failing renewal has time to be retried and noticed). */
const SUBSCRIPTION_RENEWAL_MARGIN_MS = 3 * 24 * 3_600_000;
/** Lifecycle events after which the subscriptions are renewed or made again (https://learn.microsoft.com/en-us/graph/change-notifications-lifecycle-events). */
const STALE_EVENTS = new Set(['reauthorizationRequired', 'subscriptionRemoved']);

interface GraphList<T> {
  value: T[];
  '@odata.nextLink'?: string;
  '@odata.deltaLink'?: string;
}

/** A page token of a listing that spans several drives or streams: which one, and the Graph link to resume it. */
interface MultiToken {
  readonly part: number;
  readonly link: string | null;
  /** A change feed's new deltaLinks per drive, gathered over its pages. */
  readonly links?: Record<string, string>;
  /** File activity: where the next listing of content blobs starts (epoch ms), and the blobs listed but not read yet. */
  readonly at?: number;
  readonly blobs?: readonly string[];
}

/** A record of the Office 365 Management Activity API's common and SharePoint schemas (the fields read). */
interface ActivityRecord {
  readonly Id: string;
  readonly CreationTime: string;
  readonly Operation: string;
  readonly UserId?: string;
  readonly ClientIP?: string;
  readonly UserAgent?: string;
  readonly ResultStatus?: string;
  readonly ObjectId?: string;
}

/** Tenantwatch's names of SharePoint and OneDrive file operations (https://learn.microsoft.com/en-us/purview/audit-log-activities#file-and-page-activities). */
const FILE_ACTIONS: Readonly<Record<string, string>> = {
  FileAccessed: 'file.access',
  FileDownloaded: 'file.download',
  FileSyncDownloadedFull: 'file.download',
  FileModified: 'file.modify',
  FileUploaded: 'file.upload',
  FileDeleted: 'file.delete',
  FileRecycled: 'file.delete',
  FileMoved: 'file.move',
  FileRenamed: 'file.rename',
  FileCopied: 'file.copy',
  SharingSet: 'file.share',
  AnonymousLinkCreated: 'file.share.anonymous',
  SharingInvitationCreated: 'file.share.invite',
  CompanyLinkCreated: 'file.share.organization',
  SharingRevoked: 'file.unshare',
};

const DAY_MS = 24 * 3_600_000;
/** Content older than 7 days cannot be listed (AF20030); a little margin for clocks. */
const FEED_HISTORY_MS = 7 * DAY_MS - 10 * 60_000;

const encodeToken = (token: MultiToken): string => Buffer.from(JSON.stringify(token)).toString('base64url');
function decodeToken(token: PageToken | null): MultiToken {
  if (!token) return { part: 0, link: null };
  try {
    const parsed = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as MultiToken;
    if (typeof parsed.part === 'number' && (parsed.link === null || typeof parsed.link === 'string')) return parsed;
  } catch {
    // fall through
  }
  throw new PermanentError('The page token is not one this connector made');
}

/** A file's provider id: its drive and item ids (item ids are unique within a drive). */
const fileId = (driveId: string, itemId: string) => `${driveId}/${itemId}`;
function splitFileId(externalId: string): { driveId: string; itemId: string } {
  const slash = externalId.lastIndexOf('/');
  if (slash <= 0) throw new PermanentError(`"${externalId}" is not a Microsoft 365 file id (drive/item)`);
  return { driveId: externalId.slice(0, slash), itemId: externalId.slice(slash + 1) };
}

const isNotFound = (error: unknown) => (error as { status?: number }).status === 404;

/** Microsoft Graph's application id, the same in every tenant. */
const GRAPH_APP_ID = '00000003-0000-0000-c000-000000000000';
/** An application permission's grant id: `approle:<client service principal>/<assignment id>` (delegated grants keep Graph's id). */
const APP_ROLE_PREFIX = 'approle:';
function parseAppRoleGrant(externalId: string): { principalId: string; assignmentId: string } | null {
  if (!externalId.startsWith(APP_ROLE_PREFIX)) return null;
  const [principalId, assignmentId] = externalId.slice(APP_ROLE_PREFIX.length).split('/');
  if (!principalId || !assignmentId) throw new PermanentError(`"${externalId}" is not a Microsoft 365 application permission id`);
  return { principalId, assignmentId };
}

export class M365Connector implements Connector {
  readonly provider = M365_PROVIDER;
  readonly capabilities = M365_CAPABILITIES;
  readonly limits: ProviderLimits;
  /**
   * Audit records can take up to 24 hours to appear (sign-ins and directory audits:
   * https://learn.microsoft.com/en-us/entra/identity/monitoring-health/reference-reports-latencies;
   * the Management Activity API's content: https://learn.microsoft.com/en-us/office/office-365-management-api/office-365-management-activity-api-reference#working-with-the-office-365-management-activity-api).
   */
  readonly maxAuditLagMs = 24 * 3_600_000;
  private readonly graph: GraphHttp;
  private readonly graphEndpoint: string;
  private readonly managementEndpoint: string | null;
  private fileActivity?: Promise<boolean>;
  /** Graph user ids by user principal name (lower case), for the actors of file activity; null: not a user. */
  private readonly userIds = new Map<string, Promise<string | null>>();
  private admins?: Promise<Set<string>>;
  private apps?: Promise<Map<string, Graph.ServicePrincipal>>;
  private graphPrincipal?: Promise<Graph.ServicePrincipal>;
  private drives?: Promise<Graph.Drive[]>;
  private domains?: Promise<string[]>;
  private readonly quarantineFolders = new Map<string, Promise<string | null>>();

  constructor(
    private readonly config: M365Config,
    private readonly http: ProviderHttp,
    private readonly credentials?: ConnectorCredentials,
  ) {
    const hosts = hostsOf(config);
    this.graphEndpoint = hosts.graphEndpoint;
    this.managementEndpoint = hosts.managementEndpoint;
    this.graph = new GraphHttp(http, this.graphEndpoint);
    // Graph throttles its services separately: each gets the configured rate as a budget of its own. The
    // Management Activity API allows a tenant 2,000 requests a minute to begin with (its reference, "API throttling").
    const perService = { requestsPerMinute: config.rateLimitPerMinute };
    this.limits = {
      requestsPerMinute: config.rateLimitPerMinute,
      maxPageSize: 999,
      services: {
        directory: perService,
        audit: perService,
        files: perService,
        activity: { requestsPerMinute: Math.min(2000, config.rateLimitPerMinute) },
      },
    };
  }

  /**
   * A Graph link as the client takes it: `@odata.nextLink` and `@odata.deltaLink` are absolute URLs,
   * which must be on the instance's Graph endpoint (a link elsewhere is refused, never followed).
   */
  private relative(link: string): string {
    if (!/^https?:\/\//i.test(link)) return link;
    const url = new URL(link);
    const endpoint = new URL(this.graphEndpoint);
    if (url.origin !== endpoint.origin) throw new PermanentError(`Graph answered a link off its endpoint (${url.origin})`);
    return url.pathname.replace(/^\/v1\.0(?=\/)/, '') + url.search;
  }

  private get<T>(path: string): Promise<T> {
    return this.graph.call((graph) => graph.api(this.relative(path)).get() as Promise<T>);
  }

  /** Every item of a Graph collection, following `@odata.nextLink` (small collections only). */
  private async all<T>(path: string): Promise<T[]> {
    const out: T[] = [];
    let link: string | undefined = path;
    while (link) {
      const page: GraphList<T> = await this.get<GraphList<T>>(link);
      out.push(...page.value);
      link = page['@odata.nextLink'];
    }
    return out;
  }

  async verify(): Promise<PermissionReport> {
    if (!this.credentials)
      throw new CredentialError('The Microsoft 365 connector needs its credentials to read the granted permissions', 401);
    const graphRoles = rolesOf((await this.credentials.headers()).authorization);
    // The Management Activity API's permission is in a token of its own (another resource).
    const activityRoles = await this.activityRoles();
    const granted = [...graphRoles, ...activityRoles];
    const { capabilities, missing } = capabilitiesOf(granted);
    if (this.managementEndpoint && !activityRoles.includes('ActivityFeed.Read')) missing.push('ActivityFeed.Read');
    const organization = await this.get<GraphList<Graph.Organization>>('/organization');
    const org = organization.value[0];
    return {
      grantedPermissions: granted,
      capabilities,
      missingPermissions: missing,
      tenantId: org?.id ?? this.config.tenantId,
      tenantName: org?.displayName ?? undefined,
    };
  }

  /** The roles of the Management APIs' token; none where file activity cannot be read or the token is refused. */
  private async activityRoles(): Promise<string[]> {
    if (!this.managementEndpoint || !this.credentials) return [];
    try {
      return rolesOf((await this.credentials.headers('activity')).authorization);
    } catch (error) {
      if (error instanceof CredentialError) return [];
      throw error;
    }
  }

  // ---------------------------------------------------------------- directory

  private adminIds(): Promise<Set<string>> {
    this.admins ??= (async () => {
      const roles = await this.all<Graph.DirectoryRole>('/directoryRoles');
      const ids = new Set<string>();
      for (const role of roles) {
        for (const member of await this.all<Graph.DirectoryObject>(`/directoryRoles/${role.id}/members?$select=id`))
          if (member.id) ids.add(member.id);
      }
      return ids;
    })();
    return this.admins;
  }

  private toUser(user: Graph.User, admins: Set<string>): ProviderUser {
    const admin = admins.has(user.id!);
    return {
      externalId: user.id!,
      email: user.mail ?? user.userPrincipalName ?? null,
      displayName: user.displayName ?? user.userPrincipalName ?? user.id!,
      status: user.accountEnabled === false ? AccountStatus.SUSPENDED : AccountStatus.ACTIVE,
      isAdmin: admin,
      privileges: [...(admin ? ['Global Administrator'] : []), ...(user.userType === 'Guest' ? ['guest'] : [])],
      passwordResetRequired: user.passwordProfile?.forceChangePasswordNextSignIn ?? undefined,
      sessionsRevokedAt: user.signInSessionsValidFromDateTime ?? null,
    };
  }

  async listUsers(page: PageToken | null): Promise<Page<ProviderUser>> {
    const admins = await this.adminIds();
    const result = await this.get<GraphList<Graph.User>>(page ?? `/users?$select=${USER_FIELDS}&$top=999`);
    return { items: result.value.map((u) => this.toUser(u, admins)), next: result['@odata.nextLink'] ?? null };
  }

  /**
   * Users delta (https://learn.microsoft.com/en-us/graph/api/user-delta): a feed started at "now" with
   * `$deltatoken=latest`, then the users changed since each deltaLink (every selected property of
   * each, without `Prefer: return=minimal`), deletions as `@removed`. Directory role changes do not
   * touch the user, which is why the user scan also lists everyone once a day.
   */
  async readUserChanges(cursor: string | null, page: PageToken | null): Promise<UserChangePage> {
    if (!cursor) {
      const latest = await this.get<GraphList<unknown>>(`/users/delta?$select=${USER_FIELDS}&$deltatoken=latest`);
      return { changes: [], next: null, deltaCursor: latest['@odata.deltaLink'] ?? null };
    }
    const admins = await this.adminIds();
    const result = await this.get<GraphList<Graph.User & { '@removed'?: unknown }>>(page ?? cursor);
    return {
      changes: result.value.map((u) =>
        u['@removed'] ? { kind: 'deleted' as const, externalId: u.id! } : { kind: 'upsert' as const, user: this.toUser(u, admins) },
      ),
      next: result['@odata.nextLink'] ?? null,
      deltaCursor: result['@odata.deltaLink'] ?? null,
    };
  }

  async getUser(externalId: string): Promise<ProviderUser | null> {
    try {
      const user = await this.get<Graph.User>(`/users/${encodeURIComponent(externalId)}?$select=${USER_FIELDS}`);
      return this.toUser(user, await this.adminIds());
    } catch (error) {
      if (isNotFound(error)) return null;
      throw error;
    }
  }

  async listGroups(page: PageToken | null): Promise<Page<ProviderGroup>> {
    const result = await this.get<GraphList<Graph.Group>>(page ?? '/groups?$select=id,displayName&$top=999');
    return {
      items: result.value.map((g) => ({ externalId: g.id!, name: g.displayName ?? g.id! })),
      next: result['@odata.nextLink'] ?? null,
    };
  }

  async listGroupMembers(groupExternalId: string, page: PageToken | null): Promise<Page<string>> {
    const result = await this.get<GraphList<Graph.DirectoryObject & { '@odata.type'?: string }>>(
      page ?? `/groups/${encodeURIComponent(groupExternalId)}/members?$select=id&$top=999`,
    );
    // Groups also hold devices, service principals and other groups: only users are accounts.
    const users = result.value.filter((m) => (m['@odata.type'] ?? '#microsoft.graph.user') === '#microsoft.graph.user').map((m) => m.id!);
    return { items: users, next: result['@odata.nextLink'] ?? null };
  }

  // ---------------------------------------------------------------- app permissions

  private servicePrincipals(): Promise<Map<string, Graph.ServicePrincipal>> {
    this.apps ??= this.all<Graph.ServicePrincipal>(
      '/servicePrincipals?$select=id,appId,appDisplayName,displayName,verifiedPublisher&$top=999',
    ).then((list) => new Map(list.map((sp) => [sp.id!, sp])));
    return this.apps;
  }

  private toGrant(grant: Graph.OAuth2PermissionGrant, apps: Map<string, Graph.ServicePrincipal>): ProviderGrant {
    const app = apps.get(grant.clientId ?? '');
    return {
      externalId: grant.id!,
      appName: app?.appDisplayName ?? app?.displayName ?? grant.clientId ?? 'unknown app',
      clientId: app?.appId ?? grant.clientId ?? '',
      publisher: app?.verifiedPublisher?.displayName ?? null,
      scopes: (grant.scope ?? '').split(' ').filter(Boolean),
      // A grant for all users (consentType AllPrincipals) names no user.
      userExternalId: grant.principalId ?? null,
      grantedAt: null,
      lastUsedAt: null,
      revoked: false,
    };
  }

  /**
   * Delegated grants (`/oauth2PermissionGrants`: an app acting for users), then application
   * permissions of Microsoft Graph granted to apps (`appRoleAssignedTo` on Graph's service principal:
   * an app acting on its own, for the whole tenant), one grant per app role, with no user.
   */
  async listGrants(page: PageToken | null): Promise<Page<ProviderGrant>> {
    // A cursor saved before app role assignments were read is a bare Graph link to the delegated grants.
    const token = page && !page.startsWith('/') && !/^https?:/i.test(page) ? decodeToken(page) : { part: 0, link: page };
    const apps = await this.servicePrincipals();
    if (token.part === 0) {
      const result = await this.get<GraphList<Graph.OAuth2PermissionGrant>>(token.link ?? '/oauth2PermissionGrants?$top=999');
      const next = result['@odata.nextLink'];
      return {
        items: result.value.map((g) => this.toGrant(g, apps)),
        next: encodeToken(next ? { part: 0, link: next } : { part: 1, link: null }),
      };
    }
    const graph = await this.graphServicePrincipal();
    const result = await this.get<GraphList<Graph.AppRoleAssignment>>(
      token.link ?? `/servicePrincipals/${graph.id}/appRoleAssignedTo?$top=999`,
    );
    const next = result['@odata.nextLink'];
    return {
      items: result.value.filter((a) => a.principalType === 'ServicePrincipal').map((a) => this.toAppRoleGrant(a, apps, graph)),
      next: next ? encodeToken({ part: 1, link: next }) : null,
    };
  }

  /** Microsoft Graph's service principal in the tenant, with its app roles (the application permissions' names), once per connector. */
  private graphServicePrincipal(): Promise<Graph.ServicePrincipal> {
    this.graphPrincipal ??= this.get<Graph.ServicePrincipal>(`/servicePrincipals(appId='${GRAPH_APP_ID}')?$select=id,appId,appRoles`);
    this.graphPrincipal.catch(() => (this.graphPrincipal = undefined));
    return this.graphPrincipal;
  }

  private toAppRoleGrant(
    assignment: Graph.AppRoleAssignment,
    apps: Map<string, Graph.ServicePrincipal>,
    resource: Graph.ServicePrincipal,
  ): ProviderGrant {
    const app = apps.get(assignment.principalId ?? '');
    const role = resource.appRoles?.find((r) => r.id === assignment.appRoleId);
    return {
      externalId: `${APP_ROLE_PREFIX}${assignment.principalId}/${assignment.id}`,
      appName: app?.appDisplayName ?? assignment.principalDisplayName ?? assignment.principalId ?? 'unknown app',
      clientId: app?.appId ?? assignment.principalId ?? '',
      publisher: app?.verifiedPublisher?.displayName ?? null,
      scopes: [role?.value ?? assignment.appRoleId ?? 'unknown role'],
      userExternalId: null,
      grantedAt: assignment.createdDateTime ?? null,
      lastUsedAt: null,
      revoked: false,
    };
  }

  async getGrant(externalId: string): Promise<ProviderGrant | null> {
    try {
      const appRole = parseAppRoleGrant(externalId);
      if (appRole) {
        const assignments = await this.all<Graph.AppRoleAssignment>(
          `/servicePrincipals/${encodeURIComponent(appRole.principalId)}/appRoleAssignments`,
        );
        const found = assignments.find((a) => a.id === appRole.assignmentId);
        return found ? this.toAppRoleGrant(found, await this.servicePrincipals(), await this.graphServicePrincipal()) : null;
      }
      return this.toGrant(
        await this.get<Graph.OAuth2PermissionGrant>(`/oauth2PermissionGrants/${encodeURIComponent(externalId)}`),
        await this.servicePrincipals(),
      );
    } catch (error) {
      if (isNotFound(error)) return null;
      throw error;
    }
  }

  // ---------------------------------------------------------------- audit

  async readAuditEvents(window: TimeWindow, page: PageToken | null): Promise<Page<ProviderEvent>> {
    const token = decodeToken(page);
    const from = window.from.toISOString();
    const to = new Date(window.to.getTime() - 1).toISOString();
    if (token.part === 0) {
      const filter = encodeURIComponent(`createdDateTime ge ${from} and createdDateTime le ${to}`);
      const result = await this.get<GraphList<Graph.SignIn>>(token.link ?? `/auditLogs/signIns?$filter=${filter}&$top=1000`);
      const next = result['@odata.nextLink'];
      return { items: result.value.map(signInEvent), next: encodeToken(next ? { part: 0, link: next } : { part: 1, link: null }) };
    }
    if (token.part === 2) return this.fileActivityPage(window, token);
    const filter = encodeURIComponent(`activityDateTime ge ${from} and activityDateTime le ${to}`);
    const result = await this.get<GraphList<Graph.DirectoryAudit>>(token.link ?? `/auditLogs/directoryAudits?$filter=${filter}&$top=1000`);
    const next = result['@odata.nextLink'];
    if (next) return { items: result.value.map(auditEvent), next: encodeToken({ part: 1, link: next }) };
    this.fileActivity ??= this.activityRoles().then((roles) => roles.includes('ActivityFeed.Read'));
    return { items: result.value.map(auditEvent), next: (await this.fileActivity) ? encodeToken({ part: 2, link: null }) : null };
  }

  /** A request to the Office 365 Management Activity API (its own host, token and budget). */
  private async feed<T>(method: 'GET' | 'POST', path: string, query: Record<string, string> = {}): Promise<{ body: T; headers: Headers }> {
    const publisher = this.config.publisherIdentifier;
    const response = await this.http.request({
      service: 'activity',
      method,
      path,
      query: { ...query, ...(publisher ? { PublisherIdentifier: publisher } : {}) },
    });
    return { body: response.body as T, headers: response.headers };
  }

  /** A content URI or NextPageUri as a path under the Management Activity API's endpoint (a link elsewhere is refused). */
  private feedRelative(link: string): string {
    const url = new URL(link);
    const endpoint = new URL(this.managementEndpoint!);
    const base = endpoint.pathname.replace(/\/$/, '');
    if (url.origin !== endpoint.origin || !url.pathname.startsWith(`${base}/`))
      throw new PermanentError(`The Management Activity API answered a link off its endpoint (${url.origin})`);
    return url.pathname.slice(base.length) + url.search;
  }

  /**
   * File and sharing activity from the Office 365 Management Activity API
   * (https://learn.microsoft.com/en-us/office/office-365-management-api/office-365-management-activity-api-reference).
   * Content blobs are listed by when they became available, up to hours after their records happened
   * and never before: every blob made available since the window began may hold its records, so those
   * are listed (in slices of at most 24 hours, at most 7 days back), each read, and its records of the
   * window kept. The Audit.SharePoint subscription is started when the listing begins, if it is not.
   * One request per page: a listing page, or one blob.
   */
  private async fileActivityPage(window: TimeWindow, token: MultiToken): Promise<Page<ProviderEvent>> {
    const root = `/api/v1.0/${encodeURIComponent(this.config.tenantId)}/activity/feed`;
    const [blob, ...rest] = token.blobs ?? [];
    if (blob) {
      const { body } = await this.feed<ActivityRecord[]>('GET', this.feedRelative(blob));
      const items = await this.fileEvents(Array.isArray(body) ? body : [], window);
      return { items, next: encodeToken({ part: 2, link: token.link, at: token.at, ...(rest.length ? { blobs: rest } : {}) }) };
    }
    const now = Date.now();
    let at = token.at;
    let link = token.link;
    if (at === undefined) {
      const { body: subscriptions } = await this.feed<{ contentType?: string; status?: string }[]>('GET', `${root}/subscriptions/list`);
      const started =
        Array.isArray(subscriptions) && subscriptions.some((s) => s.contentType === 'Audit.SharePoint' && s.status === 'enabled');
      if (!started) await this.feed('POST', `${root}/subscriptions/start`, { contentType: 'Audit.SharePoint' });
      at = Math.floor(Math.max(window.from.getTime(), now - FEED_HISTORY_MS) / 1000) * 1000;
    }
    if (!link) {
      if (at > now) return { items: [], next: null };
      const end = Math.min(at + DAY_MS, Math.ceil(now / 1000) * 1000 + 1000);
      link = `${root}/subscriptions/content?${new URLSearchParams({
        contentType: 'Audit.SharePoint',
        startTime: new Date(at).toISOString().slice(0, 19),
        endTime: new Date(end).toISOString().slice(0, 19),
      }).toString()}`;
      at = end;
    }
    const { body, headers } = await this.feed<{ contentUri?: string }[]>('GET', link.startsWith('/') ? link : this.feedRelative(link));
    const blobs = (Array.isArray(body) ? body : []).map((b) => b.contentUri).filter((uri): uri is string => typeof uri === 'string');
    const nextPage = headers.get('nextpageuri');
    return { items: [], next: encodeToken({ part: 2, link: nextPage, at, ...(blobs.length ? { blobs } : {}) }) };
  }

  /** The records of `window`, as events; actors by their Graph id (records name them by user principal name). */
  private async fileEvents(records: readonly ActivityRecord[], window: TimeWindow): Promise<ProviderEvent[]> {
    const events: ProviderEvent[] = [];
    for (const r of records) {
      // UTC without a zone designator, as the schema shows it.
      const at = Date.parse(/Z|[+-]\d\d:\d\d$/.test(r.CreationTime) ? r.CreationTime : `${r.CreationTime}Z`);
      if (!(at >= window.from.getTime() && at < window.to.getTime())) continue;
      events.push({
        externalId: r.Id,
        category: ActivityCategory.USER,
        action:
          FILE_ACTIONS[r.Operation] ??
          `file.${r.Operation.replace(/([a-z])([A-Z])/g, '$1_$2')
            .toLowerCase()
            .replace(/^file_?/, '')}`,
        actorExternalId: r.UserId ? await this.userIdOf(r.UserId) : null,
        occurredAt: new Date(at).toISOString(),
        ipAddress: r.ClientIP ?? null,
        country: null,
        userAgent: r.UserAgent ?? null,
        succeeded: !/^fail/i.test(r.ResultStatus ?? ''),
        targetType: 'file',
        targetId: r.ObjectId ?? null,
        fileExternalId: null,
        raw: r,
      });
    }
    return events;
  }

  /** A user principal name's Graph id (https://learn.microsoft.com/en-us/graph/api/user-get: a user by id or userPrincipalName), once per connector. */
  private userIdOf(principal: string): Promise<string | null> {
    const key = principal.toLowerCase();
    let found = this.userIds.get(key);
    if (!found) {
      // System accounts ("SHAREPOINT\\system", "app@sharepoint") are not directory users.
      found = !/^[^@\s\\]+@[^@\s]+\.[^@\s]+$/.test(principal)
        ? Promise.resolve(null)
        : this.get<Graph.User>(`/users/${encodeURIComponent(principal)}?$select=id`).then(
            (user) => user.id ?? null,
            (error: unknown) => {
              if (isNotFound(error)) return null;
              this.userIds.delete(key);
              throw error;
            },
          );
      this.userIds.set(key, found);
    }
    return found;
  }

  // ---------------------------------------------------------------- files

  private driveList(): Promise<Graph.Drive[]> {
    this.drives ??= this.all<Graph.Drive>('/sites/root/drives?$select=id,name');
    return this.drives;
  }

  /** The quarantine folder of a drive (null when it does not exist and `create` is false), looked up once per connector. */
  private async quarantineFolderId(driveId: string, create: boolean): Promise<string | null> {
    let found = this.quarantineFolders.get(driveId);
    if (!found) {
      found = this.get<Graph.DriveItem>(`/drives/${driveId}/root:/${encodeURIComponent(this.config.quarantineFolder)}`).then(
        (folder) => folder.id ?? null,
        (error: unknown) => {
          if (isNotFound(error)) return null;
          throw error;
        },
      );
      found.catch(() => this.quarantineFolders.delete(driveId));
      this.quarantineFolders.set(driveId, found);
    }
    const id = await found;
    if (id || !create) return id;
    const parent = await this.rootId(driveId);
    const folder = await this.graph.call(
      (graph) =>
        graph.api(`/drives/${driveId}/items/${parent}/children`).post({
          name: this.config.quarantineFolder,
          folder: {},
          '@microsoft.graph.conflictBehavior': 'fail',
        }) as Promise<Graph.DriveItem>,
    );
    if (!folder.id) throw new PermanentError('Graph created the quarantine folder without an id');
    this.quarantineFolders.set(driveId, Promise.resolve(folder.id));
    return folder.id;
  }

  /** The id of a drive's root folder (https://learn.microsoft.com/en-us/graph/api/driveitem-get). */
  private async rootId(driveId: string): Promise<string> {
    const root = await this.get<Graph.DriveItem>(`/drives/${driveId}/root?$select=id`);
    if (!root.id) throw new PermanentError(`drive ${driveId} answered no root folder`);
    return root.id;
  }

  private async domainsOf(): Promise<string[]> {
    this.domains ??= this.get<GraphList<Graph.Organization>>('/organization').then((o) =>
      (o.value[0]?.verifiedDomains ?? []).map((d) => (d.name ?? '').toLowerCase()).filter(Boolean),
    );
    return this.domains;
  }

  private async toFile(item: Graph.DriveItem, driveId: string): Promise<ProviderFile> {
    const quarantine = await this.quarantineFolderId(driveId, false);
    const scope = item.shared?.scope;
    let sharing: SharingLevel =
      scope === 'anonymous' ? SharingLevel.PUBLIC : scope === 'organization' ? SharingLevel.INTERNAL : SharingLevel.PRIVATE;
    let collaborators: string[] = [];
    if (scope === 'users') {
      // Specific people: only the item's permissions tell whether any is outside the organization.
      const { external, people } = await this.peopleOf(driveId, item.id!);
      sharing = external.length ? SharingLevel.EXTERNAL : SharingLevel.PRIVATE;
      collaborators = people;
    }
    const parentPath = item.parentReference?.path ?? '/drive/root:';
    return {
      externalId: fileId(driveId, item.id!),
      name: item.name ?? item.id!,
      path: `${parentPath.replace(/^\/drive\/root:/, '') || ''}/${item.name ?? ''}`,
      mimeType: item.file?.mimeType ?? null,
      sizeBytes: item.size ?? 0,
      ownerExternalId: item.createdBy?.user?.id ?? null,
      sharing,
      collaborators,
      trashed: false,
      quarantined: quarantine !== null && item.parentReference?.id === quarantine,
      modifiedAt: item.lastModifiedDateTime ?? new Date(0).toISOString(),
      contentVersion: item.cTag ?? item.eTag ?? item.lastModifiedDateTime ?? '',
    };
  }

  private async peopleOf(driveId: string, itemId: string): Promise<{ external: Graph.Permission[]; people: string[] }> {
    const permissions = await this.all<Graph.Permission>(`/drives/${driveId}/items/${itemId}/permissions`);
    const domains = await this.domainsOf();
    const people: string[] = [];
    const external: Graph.Permission[] = [];
    for (const permission of permissions) {
      if (permission.roles?.includes('owner')) continue;
      const email = (permission.grantedToV2?.user as { email?: string } | undefined)?.email?.toLowerCase();
      if (email) people.push(email);
      const domain = email?.split('@')[1];
      if (permission.link?.scope === 'anonymous' || (email && domain && !domains.includes(domain))) external.push(permission);
    }
    return { external, people };
  }

  /** One page of one drive's delta: files only (folders and the root are not files). */
  private async deltaPage(driveId: string, link: string): Promise<{ changes: FileChange[]; next: string | null; delta: string | null }> {
    const result = await this.get<GraphList<Graph.DriveItem & { deleted?: unknown }>>(link);
    const changes: FileChange[] = [];
    for (const item of result.value) {
      if (item.deleted) changes.push({ kind: 'deleted', externalId: fileId(driveId, item.id!) });
      else if (item.file) changes.push({ kind: 'upsert', file: await this.toFile(item, driveId) });
    }
    return { changes, next: result['@odata.nextLink'] ?? null, delta: result['@odata.deltaLink'] ?? null };
  }

  async listFiles(page: PageToken | null): Promise<Page<ProviderFile>> {
    const drives = await this.driveList();
    const token = decodeToken(page);
    const drive = drives[token.part];
    if (!drive) return { items: [], next: null };
    const result = await this.deltaPage(drive.id!, token.link ?? `/drives/${drive.id}/root/delta?$top=200`);
    const files = result.changes.flatMap((c) => (c.kind === 'upsert' ? [c.file] : []));
    const next = result.next
      ? { part: token.part, link: result.next }
      : token.part + 1 < drives.length
        ? { part: token.part + 1, link: null }
        : null;
    return { items: files, next: next ? encodeToken(next) : null };
  }

  async readFileChanges(cursor: string | null, page: PageToken | null): Promise<ChangePage> {
    const drives = await this.driveList();
    // The cursor is every drive's deltaLink.
    let links: Record<string, string>;
    try {
      links = cursor ? (JSON.parse(cursor) as Record<string, string>) : {};
    } catch {
      throw new PermanentError('The change cursor is not one this connector made');
    }
    if (!cursor) {
      for (const drive of drives) {
        const latest = await this.get<GraphList<unknown>>(`/drives/${drive.id}/root/delta?token=latest`);
        links[drive.id!] = latest['@odata.deltaLink']!;
      }
      return { changes: [], next: null, deltaCursor: JSON.stringify(links) };
    }
    const token = decodeToken(page);
    const drive = drives[token.part];
    if (!drive) return { changes: [], next: null, deltaCursor: cursor };
    const start = token.link ?? links[drive.id!] ?? `/drives/${drive.id}/root/delta?token=latest`;
    const result = await this.deltaPage(drive.id!, start);
    // The page token carries the new deltaLinks gathered so far, so that the last page can answer them all.
    const gathered = { ...links, ...token.links, ...(result.delta ? { [drive.id!]: result.delta } : {}) };
    if (result.next)
      return { changes: result.changes, next: encodeToken({ part: token.part, link: result.next, links: gathered }), deltaCursor: null };
    if (token.part + 1 < drives.length) {
      return { changes: result.changes, next: encodeToken({ part: token.part + 1, link: null, links: gathered }), deltaCursor: null };
    }
    return { changes: result.changes, next: null, deltaCursor: JSON.stringify(gathered) };
  }

  async downloadFile(externalId: string): Promise<FileContent> {
    const { driveId, itemId } = splitFileId(externalId);
    const item = await this.get<Graph.DriveItem>(`/drives/${driveId}/items/${itemId}?$select=id,file`);
    const bytes = await this.graph.call(
      (graph) =>
        graph
          .api(`/drives/${driveId}/items/${itemId}/content`)
          .responseType('arraybuffer' as never)
          .get() as Promise<ArrayBuffer>,
    );
    return { bytes: Buffer.from(bytes), mimeType: item.file?.mimeType ?? null };
  }

  async getFile(externalId: string): Promise<ProviderFile | null> {
    const { driveId, itemId } = splitFileId(externalId);
    try {
      return await this.toFile(await this.get<Graph.DriveItem>(`/drives/${driveId}/items/${itemId}`), driveId);
    } catch (error) {
      if (isNotFound(error)) return null;
      throw error;
    }
  }

  // ---------------------------------------------------------------- governance

  private patch(path: string, body: unknown): Promise<unknown> {
    return this.graph.call((graph) => graph.api(path).patch(body) as Promise<unknown>);
  }

  private post(path: string, body: unknown): Promise<unknown> {
    return this.graph.call((graph) => graph.api(path).post(body) as Promise<unknown>);
  }

  private remove(path: string): Promise<unknown> {
    return this.graph.call((graph) => graph.api(path).delete() as Promise<unknown>);
  }

  private putContent(path: string, bytes: Buffer, contentType: string): Promise<Graph.DriveItem> {
    return this.graph.call((graph) => graph.api(path).header('content-type', contentType).put(bytes) as Promise<Graph.DriveItem>);
  }

  async suspendUser(externalId: string): Promise<ProviderUser | null> {
    const id = encodeURIComponent(externalId);
    await this.patch(`/users/${id}`, { accountEnabled: false });
    await this.post(`/users/${id}/revokeSignInSessions`, {});
    return null;
  }

  async unsuspendUser(externalId: string): Promise<ProviderUser | null> {
    await this.patch(`/users/${encodeURIComponent(externalId)}`, { accountEnabled: true });
    return null;
  }

  async requirePasswordReset(externalId: string): Promise<ProviderUser | null> {
    const id = encodeURIComponent(externalId);
    await this.patch(`/users/${id}`, { passwordProfile: { forceChangePasswordNextSignIn: true } });
    await this.post(`/users/${id}/revokeSignInSessions`, {});
    return null;
  }

  async revokeGrant(externalId: string): Promise<ProviderGrant | null> {
    const appRole = parseAppRoleGrant(externalId);
    // An application permission is removed from the client's service principal (https://learn.microsoft.com/en-us/graph/api/serviceprincipal-delete-approleassignments).
    await this.remove(
      appRole
        ? `/servicePrincipals/${encodeURIComponent(appRole.principalId)}/appRoleAssignments/${encodeURIComponent(appRole.assignmentId)}`
        : `/oauth2PermissionGrants/${encodeURIComponent(externalId)}`,
    );
    return null;
  }

  async quarantineFile(externalId: string): Promise<ProviderFile | null> {
    const { driveId, itemId } = splitFileId(externalId);
    const item = await this.get<Graph.DriveItem>(`/drives/${driveId}/items/${itemId}`);
    const folder = await this.quarantineFolderId(driveId, true);
    if (item.parentReference?.id === folder) return this.toFile(item, driveId);
    const parent = item.parentReference?.id;
    await this.patch(`/drives/${driveId}/items/${itemId}`, { parentReference: { id: folder }, description: `${QUARANTINE_MARK}${parent}` });
    if (parent) {
      const notice = `"${item.name}" was quarantined by your security team. Ask them to restore it if you need it.\n`;
      await this.putContent(
        `/drives/${driveId}/items/${parent}:/${encodeURIComponent(`${item.name}.quarantined.txt`)}:/content`,
        Buffer.from(notice),
        'text/plain',
      );
    }
    return this.getFile(externalId);
  }

  async restoreFile(externalId: string): Promise<ProviderFile | null> {
    const { driveId, itemId } = splitFileId(externalId);
    const item = await this.get<Graph.DriveItem>(`/drives/${driveId}/items/${itemId}`);
    const folder = await this.quarantineFolderId(driveId, false);
    if (!folder || item.parentReference?.id !== folder) return this.toFile(item, driveId);
    const original = item.description?.startsWith(QUARANTINE_MARK) ? item.description.slice(QUARANTINE_MARK.length) : null;
    const parent = original || (await this.rootId(driveId));
    await this.patch(`/drives/${driveId}/items/${itemId}`, { parentReference: { id: parent }, description: null });
    return this.getFile(externalId);
  }

  async trashFile(externalId: string): Promise<ProviderFile | null> {
    const { driveId, itemId } = splitFileId(externalId);
    // Deleted items go to the site's recycle bin (https://learn.microsoft.com/en-us/graph/api/driveitem-delete).
    await this.remove(`/drives/${driveId}/items/${itemId}`);
    return null;
  }

  async removeExternalSharing(externalId: string): Promise<ProviderFile | null> {
    const { driveId, itemId } = splitFileId(externalId);
    const { external } = await this.peopleOf(driveId, itemId);
    for (const permission of external) {
      try {
        await this.remove(`/drives/${driveId}/items/${itemId}/permissions/${permission.id}`);
      } catch (error) {
        if (!isNotFound(error)) throw error;
      }
    }
    return this.getFile(externalId);
  }

  async overwriteFile(externalId: string, notice: string): Promise<ProviderFile | null> {
    const { driveId, itemId } = splitFileId(externalId);
    const item = await this.get<Graph.DriveItem>(`/drives/${driveId}/items/${itemId}`);
    const original = await this.downloadFile(externalId);
    const folder = await this.quarantineFolderId(driveId, true);
    // The original is kept in quarantine before its content is replaced.
    await this.putContent(
      `/drives/${driveId}/items/${folder}:/${encodeURIComponent(`${itemId}-${item.name}`)}:/content`,
      original.bytes,
      original.mimeType ?? 'application/octet-stream',
    );
    await this.putContent(`/drives/${driveId}/items/${itemId}/content`, Buffer.from(notice), 'text/plain');
    return this.getFile(externalId);
  }

  // ---------------------------------------------------------------- change subscriptions

  readonly subscriptions: ChangeSubscriptions = { sync: (target, now) => this.syncSubscriptions(target, now) };

  /**
   * One subscription per document library's root (`changeType: updated`, the only one driveItem
   * takes), to the instance's notification address, with lifecycle notifications to the same address
   * (https://learn.microsoft.com/en-us/graph/api/subscription-post-subscriptions). Graph's list of the
   * app's subscriptions is the state: what this instance owns and no longer needs (another address,
   * a library gone, a duplicate) is deleted, what expires within three days is renewed with a PATCH
   * of its expiry — which also reauthorizes it, so `reauthorizationRequired` is answered the same way
   * (https://learn.microsoft.com/en-us/graph/change-notifications-lifecycle-events) — and what is
   * missing is created (Graph validates the address with a handshake first).
   */
  private async syncSubscriptions(target: SubscriptionTarget, now: Date = new Date()): Promise<SubscriptionSync> {
    const listed = await this.all<Graph.Subscription>('/subscriptions');
    const resourceOf = (sub: Graph.Subscription) => `/${(sub.resource ?? '').replace(/^\//, '')}`;
    const expiryOf = (sub: Graph.Subscription) => Date.parse(sub.expirationDateTime ?? '') || 0;
    // Latest expiry first: of two subscriptions on one library, the one that lives longer is kept.
    const mine = listed.filter((sub) => sub.notificationUrl && target.owns(sub.notificationUrl)).sort((a, b) => expiryOf(b) - expiryOf(a));
    const wanted =
      target.url && target.capabilities.includes('DATA_SCAN')
        ? new Set((await this.driveList()).map((drive) => `/drives/${drive.id}/root`))
        : new Set<string>();
    if (wanted.size > 0 && !this.config.clientState)
      throw new PermanentError(
        'Change notifications need a clientState (16 to 128 characters) in the instance’s config to verify them; the change feed is polled until one is set',
      );
    const expiry = () => new Date(now.getTime() + SUBSCRIPTION_LIFETIME_MS).toISOString();
    const kept = new Map<string, number>();
    let renewed = 0;
    let deleted = 0;
    for (const sub of mine) {
      const resource = resourceOf(sub);
      const expires = expiryOf(sub);
      if (sub.notificationUrl !== target.url || !wanted.has(resource) || kept.has(resource) || expires <= now.getTime()) {
        try {
          await this.remove(`/subscriptions/${encodeURIComponent(sub.id!)}`);
        } catch (error) {
          if (!isNotFound(error)) throw error;
        }
        deleted++;
        continue;
      }
      const asked = target.renew === 'all' || (target.renew?.has(sub.id!) ?? false);
      if (asked || expires - now.getTime() < SUBSCRIPTION_RENEWAL_MARGIN_MS) {
        try {
          const renewal = expiry();
          await this.patch(`/subscriptions/${encodeURIComponent(sub.id!)}`, { expirationDateTime: renewal });
          kept.set(resource, Date.parse(renewal));
          renewed++;
        } catch (error) {
          // Gone between the list and the renewal: it is made again below.
          if (!isNotFound(error)) throw error;
        }
        continue;
      }
      kept.set(resource, expires);
    }
    let created = 0;
    for (const resource of wanted) {
      if (kept.has(resource)) continue;
      const made = (await this.post('/subscriptions', {
        changeType: 'updated',
        resource,
        notificationUrl: target.url,
        lifecycleNotificationUrl: target.url,
        clientState: this.config.clientState,
        expirationDateTime: expiry(),
      })) as Graph.Subscription;
      kept.set(resource, expiryOf(made) || Date.parse(expiry()));
      created++;
    }
    const earliest = Math.min(...kept.values());
    return {
      active: kept.size,
      created,
      renewed,
      deleted,
      renewAt: kept.size > 0 ? new Date(Math.max(now.getTime(), earliest - SUBSCRIPTION_RENEWAL_MARGIN_MS)) : null,
    };
  }

  // ---------------------------------------------------------------- throttling and notifications

  parseThrottle(response: ProviderResponseHead): ThrottleSignal {
    const retryAfter = Number(response.headers.get('retry-after'));
    const remaining = response.headers.get('ratelimit-remaining');
    const reset = Number(response.headers.get('ratelimit-reset'));
    const limit = response.headers.get('ratelimit-limit');
    const throttled = response.status === 429 || (response.status === 503 && response.headers.has('retry-after'));
    return {
      throttled,
      ...(Number.isFinite(retryAfter) && retryAfter > 0 ? { retryAfterMs: retryAfter * 1000 } : throttled ? { retryAfterMs: 1000 } : {}),
      ...(remaining !== null && Number.isFinite(Number(remaining)) ? { remaining: Number(remaining) } : {}),
      ...(limit !== null && Number.isFinite(Number(limit)) ? { limit: Number(limit) } : {}),
      ...(Number.isFinite(reset) && reset > 0 ? { resetAt: Date.now() + reset * 1000 } : {}),
      // OneDrive and SharePoint's RateLimit headers describe a window: what remains lasts until it resets.
      ...(remaining !== null ? { window: true } : {}),
    };
  }

  /**
   * A change notification (https://learn.microsoft.com/en-us/graph/change-notifications-delivery-webhooks):
   * each entry must carry the instance's clientState (compared in constant time); a notification on a
   * drive root says that something in the drive changed: its delta is read at once.
   */
  verifyWebhook(delivery: WebhookDelivery, now: Date = new Date()): VerifiedWebhook {
    const expected = this.config.clientState;
    if (!expected) throw new WebhookRejectedError('the instance has no clientState configured: notifications cannot be verified');
    let body: { value?: { clientState?: unknown; resource?: unknown; lifecycleEvent?: unknown; subscriptionId?: unknown }[] };
    try {
      body = JSON.parse(delivery.rawBody.toString('utf8')) as typeof body;
    } catch {
      throw new WebhookRejectedError('the body is not a JSON change notification');
    }
    if (!Array.isArray(body.value) || body.value.length === 0) throw new WebhookRejectedError('the body holds no notification');
    const want = Buffer.from(expected);
    const drives = new Set<string>();
    const stale = new Set<string>();
    for (const entry of body.value) {
      const given = Buffer.from(typeof entry.clientState === 'string' ? entry.clientState : '');
      if (given.length !== want.length || !timingSafeEqual(given, want))
        throw new WebhookRejectedError('a notification carries a wrong clientState');
      // A `missed` lifecycle notification names no drive: some notifications were lost, so every
      // drive's change feed is read (https://learn.microsoft.com/en-us/graph/change-notifications-lifecycle-events).
      if (entry.lifecycleEvent === 'missed') drives.add('*');
      // The subscription must be reauthorized (or was removed): the subscriptions are synchronised at once.
      if (typeof entry.lifecycleEvent === 'string' && STALE_EVENTS.has(entry.lifecycleEvent))
        stale.add(typeof entry.subscriptionId === 'string' ? entry.subscriptionId.slice(0, 200) : '*');
      const drive = typeof entry.resource === 'string' ? /^\/?drives\/([^/]+)\/root$/.exec(entry.resource)?.[1] : undefined;
      if (drive && entry.lifecycleEvent === undefined) drives.add(drive);
    }
    return {
      // Graph's notifications carry no id, and two changes in one drive send the same bytes: a digest
      // would refuse the second change as a replay. Each delivery gets its own id, remembered briefly;
      // a replayed notification only makes the drive's delta be read again (idempotent, within the
      // receiver's rate limit), which is why the clientState alone authenticates it.
      deliveryId: `graph:${randomUUID()}`,
      expiresAt: new Date(now.getTime() + NOTIFICATION_MEMORY_MS),
      notices: [
        ...[...drives].map((drive) => ({ kind: 'files.changed' as const, externalId: drive })),
        ...[...stale].map((subscription) => ({ kind: 'subscriptions.stale' as const, externalId: subscription })),
      ],
    };
  }
}

function signInEvent(s: Graph.SignIn): ProviderEvent {
  const succeeded = (s.status?.errorCode ?? 0) === 0;
  return {
    externalId: s.id!,
    category: ActivityCategory.SIGN_IN,
    action: succeeded ? 'user.login' : 'user.login.failed',
    actorExternalId: s.userId ?? null,
    occurredAt: s.createdDateTime!,
    ipAddress: s.ipAddress ?? null,
    country: s.location?.countryOrRegion ?? null,
    userAgent: s.clientAppUsed ?? null,
    succeeded,
    targetType: 'app',
    targetId: s.appDisplayName ?? null,
    fileExternalId: null,
    raw: s,
  };
}

function auditEvent(a: Graph.DirectoryAudit): ProviderEvent {
  const target = a.targetResources?.[0];
  return {
    externalId: a.id!,
    category: ActivityCategory.ADMIN,
    action: `admin.${(a.activityDisplayName ?? 'activity')
      .toLowerCase()
      .replace(/[^a-z0-9]+/g, '_')
      .replace(/^_|_$/g, '')}`,
    actorExternalId: a.initiatedBy?.user?.id ?? null,
    occurredAt: a.activityDateTime!,
    ipAddress: a.initiatedBy?.user?.ipAddress ?? null,
    country: null,
    userAgent: null,
    succeeded: a.result === 'success',
    targetType: target?.type?.toLowerCase() ?? null,
    targetId: target?.id ?? null,
    fileExternalId: null,
    raw: a,
  };
}

/** Microsoft 365 through Microsoft Graph v1.0: config `{ tenantId, clientId, clientSecret or certificate, cloud?, quarantineFolder?, clientState? }`. */
export const m365ConnectorFactory: ConnectorFactory = {
  provider: M365_PROVIDER,
  capabilities: M365_CAPABILITIES,
  name: 'Microsoft 365',
  documentationUrl: 'connectors/m365/README.md',
  configFields: [
    {
      name: 'tenantId',
      label: 'Directory (tenant) ID',
      secret: false,
      required: true,
      description: 'From the app registration’s overview in Microsoft Entra ID',
    },
    {
      name: 'clientId',
      label: 'Application (client) ID',
      secret: false,
      required: true,
      description: 'From the app registration’s overview',
    },
    {
      name: 'clientSecret',
      label: 'Client secret',
      secret: true,
      required: false,
      description: 'A client secret’s value (or give a certificate)',
    },
    {
      name: 'certificate',
      label: 'Certificate',
      secret: true,
      required: false,
      description: '{ certificatePem, privateKeyPem } of a certificate uploaded to the app registration',
    },
    { name: 'cloud', label: 'Cloud', secret: false, required: false, description: 'global (default), usgov or china' },
    {
      name: 'managementEndpoint',
      label: 'Management Activity API endpoint',
      secret: false,
      required: false,
      description: 'For file activity outside the cloud’s default, e.g. https://manage-gcc.office.com (GCC)',
    },
    {
      name: 'publisherIdentifier',
      label: 'Publisher identifier',
      secret: false,
      required: false,
      description: 'Your organisation’s tenant id: a Management Activity API quota of its own',
    },
    {
      name: 'quarantineFolder',
      label: 'Quarantine folder',
      secret: false,
      required: false,
      description: 'Folder at the root of each library that quarantined files move to (admin-only)',
    },
    {
      name: 'clientState',
      label: 'Notification secret (clientState)',
      secret: true,
      required: false,
      description: '16-128 characters every change notification must carry',
    },
    {
      name: 'rateLimitPerMinute',
      valueType: 'NUMBER',
      label: 'Requests per minute',
      secret: false,
      required: false,
      description: 'The rate Tenantwatch keeps to (default 1,200)',
    },
  ],
  requiredPermissions: REQUIRED_PERMISSIONS,
  validateConfig: validateM365Config,
  endpointOf: (config: ConnectorConfig) => hostsOf(validateM365Config(config)).graphEndpoint,
  serviceEndpointsOf: (config: ConnectorConfig): Readonly<Record<string, string>> => {
    const { managementEndpoint } = hostsOf(validateM365Config(config));
    return managementEndpoint ? { activity: managementEndpoint } : {};
  },
  credentials: (config: ConnectorConfig, tokens: TokenHttp) => m365Credentials(validateM365Config(config), tokens),
  create: (config: ConnectorConfig, http: ProviderHttp, credentials?: ConnectorCredentials) =>
    new M365Connector(validateM365Config(config), http, credentials),
};
