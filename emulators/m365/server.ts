import { createHmac, createPublicKey, createVerify, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import https from 'node:https';
import { listen, localUrl } from '../../platform/http.js';
import { logger } from '../../platform/logger.js';
import {
  GRAPH_PERMISSIONS,
  MANAGEMENT_PERMISSIONS,
  M365SpecError,
  resolveM365Spec,
  type GraphPermission,
  type M365TenantSpec,
  type ResolvedM365Spec,
} from './spec.js';
import {
  GRAPH_APP_ROLES,
  TenantState,
  type EmuAppRoleAssignment,
  type EmuItem,
  type EmuUser,
  type M365Truth as M365StateTruth,
} from './tenant.js';

/** Microsoft Graph's application id, the same in every tenant. */
const GRAPH_APP_ID = '00000003-0000-0000-c000-000000000000';

/** An appRoleAssignment as Graph answers it (https://learn.microsoft.com/en-us/graph/api/resources/approleassignment). */
const wireAppRoleAssignment = (a: EmuAppRoleAssignment) => ({
  id: a.id,
  appRoleId: a.appRoleId,
  createdDateTime: a.createdDateTime,
  principalDisplayName: a.principalDisplayName,
  principalId: a.principalId,
  principalType: 'ServicePrincipal',
  resourceDisplayName: 'Microsoft Graph',
  resourceId: a.resourceId,
});
import { ActivityFeed, CONTENT_TYPES, parseFeedTime, type ContentType } from './activity.js';

/** What the tenant holds, for tests: the directory, files and audit logs, and the Management Activity API's feed. */
export type M365Truth = M365StateTruth & {
  readonly fileActivity: ReturnType<ActivityFeed['truth']>;
  readonly activitySubscriptions: readonly ContentType[];
};

/** The Office 365 Management APIs' resource (the `aud` of their tokens). */
const MANAGEMENT_RESOURCE = 'https://manage.office.com';
/** Where the emulator serves the Management Activity API (its own host in Microsoft 365). */
const MANAGEMENT_PREFIX = '/manage';
import { wireAudit, wireGrant, wireGroup, wireItem, wireMember, wirePermission, wireSignIn, wireUser } from './wire.js';

const log = logger.child({ component: 'm365-emulator' });

/** Services with a budget of their own (README: throttling). */
export type M365Service = 'directory' | 'audit' | 'files' | 'activity';

export interface M365EmulatorOptions {
  readonly port?: number;
  readonly host?: string;
  readonly tenants: readonly M365TenantSpec[];
  readonly clock?: () => number;
  /** Serve HTTPS with this key and certificate (Microsoft's endpoints are HTTPS only, and MSAL refuses an http authority). */
  readonly tls?: { readonly key: string; readonly cert: string };
}

/** In-process control of one emulated tenant (the admin API offers the same over HTTP). */
export interface M365TenantControl {
  readonly tenantId: string;
  readonly state: TenantState;
  truth(): M365Truth;
  /** Requests per service and status, and 429s sent. */
  stats(): { readonly requests: Record<string, Record<string, number>>; readonly throttled: number };
  /** Invalidates every access token issued so far (as a revoked session or rotated key does). */
  expireTokens(): number;
  /** Changes run-time settings: throttling, a client's secret or roles, audit latency, limits. */
  update(patch: {
    throttleRate?: number;
    auditLatencyMs?: number;
    clients?: M365TenantSpec['clients'];
    limits?: Partial<ResolvedM365Spec['limits']>;
  }): void;
  /** Sign-ins and directory audits that happen now and become visible up to `lateMs` later. */
  lateRecords(count: number, lateMs: number): string[];
  /** Deletes a user, group, grant or file outside any governance (as another admin would). */
  remove(kind: 'user' | 'group' | 'grant' | 'file', id: string): void;
  /** A new version of a file's content, with change notifications to the drive's subscribers. */
  changeFile(itemId: string): void;
  /** The tenant's change subscriptions, as Graph lists them to their app, with whether each awaits reauthorization. */
  subscriptions(): (ReturnType<typeof wireSubscription> & { readonly reauthorizationRequired: boolean })[];
  /**
   * Graph asks for reauthorization (an access token or the subscription about to expire, a permission
   * revoked): every live subscription pauses its change notifications and gets a
   * `reauthorizationRequired` lifecycle notification at its lifecycleNotificationUrl. Answers how many.
   */
  requireReauthorization(): number;
  /** Ends every subscription without a word to its app (as one that expired unrenewed); answers how many. */
  dropSubscriptions(): number;
  /** File operations that happen now in the Management Activity API's feed, each available up to `lateMs` later; answers their ids. */
  fileActivity(count: number, lateMs: number): string[];
  /**
   * Sign-ins and directory audits that occurred `agoMs` ago and become visible only now: Microsoft
   * documents latencies up to 24 hours. (Not file activity: the Management Activity API makes
   * available only what happened after its subscription started, minutes ago in a test.)
   */
  pastRecords(count: number, agoMs: number): string[];
}

export interface M365Emulator {
  /** Base URL; the identity platform (`authorityHost`), Graph (`graphEndpoint`) and the admin API share it. */
  readonly url: string;
  /** Replaces https://login.microsoftonline.com: the token endpoint is `${authorityHost}/<tenant>/oauth2/v2.0/token`. */
  readonly authorityHost: string;
  /** Replaces https://graph.microsoft.com: requests go to `${graphEndpoint}/v1.0/...`. */
  readonly graphEndpoint: string;
  /** Replaces https://manage.office.com: the Management Activity API is at `${managementEndpoint}/api/v1.0/<tenant>/activity/feed/...`. */
  readonly managementEndpoint: string;
  tenant(tenantId: string): M365TenantControl;
  stop(): Promise<void>;
}

interface Subscription {
  id: string;
  resource: string;
  driveId: string;
  changeType: string;
  notificationUrl: string;
  lifecycleNotificationUrl: string | null;
  clientState: string | null;
  expirationDateTime: string;
  appId: string;
  /** Graph asked for reauthorization: change notifications pause until a PATCH or `reauthorize` succeeds. */
  reauthorizationRequired: boolean;
}

/** A subscription as Graph answers it (https://learn.microsoft.com/en-us/graph/api/resources/subscription). */
const wireSubscription = (sub: Subscription) => ({
  id: sub.id,
  resource: sub.resource,
  changeType: sub.changeType,
  notificationUrl: sub.notificationUrl,
  lifecycleNotificationUrl: sub.lifecycleNotificationUrl,
  clientState: sub.clientState,
  expirationDateTime: sub.expirationDateTime,
  applicationId: sub.appId,
});

class GraphError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

const b64url = (value: Buffer | string) => Buffer.from(value).toString('base64url');
const MAX_BODY = 5_000_000;

/** How a service counts requests: a refilling bucket, or a fixed window. */
interface Limiter {
  readonly capacity: number;
  setLimit(perMinute: number): void;
  take(now: number): { allowed: boolean; retryAfterSeconds: number; remaining: number; resetSeconds: number };
}

/**
 * OneDrive and SharePoint count an app's requests per minute window and, from 80 % of it, say what is
 * left with IETF RateLimit headers (draft 03: the limit, what remains, seconds until the window resets):
 * https://devblogs.microsoft.com/microsoft365dev/prevent-throttling-in-your-application-by-using-ratelimit-headers-in-sharepoint-online/
 */
class MinuteWindow implements Limiter {
  private window = -1;
  private used = 0;
  constructor(private perMinute: number) {}
  get capacity(): number {
    return Math.max(1, Math.floor(this.perMinute));
  }
  setLimit(perMinute: number): void {
    this.perMinute = perMinute;
  }
  take(now: number): { allowed: boolean; retryAfterSeconds: number; remaining: number; resetSeconds: number } {
    const window = Math.floor(now / 60_000);
    if (window !== this.window) {
      this.window = window;
      this.used = 0;
    }
    const resetSeconds = Math.max(1, Math.ceil(((window + 1) * 60_000 - now) / 1000));
    if (this.used >= this.capacity) return { allowed: false, retryAfterSeconds: resetSeconds, remaining: 0, resetSeconds };
    this.used++;
    return { allowed: true, retryAfterSeconds: 0, remaining: this.capacity - this.used, resetSeconds };
  }
}

/** The bucket of one service: `perMinute` with ten seconds of burst. */
class Bucket implements Limiter {
  private tokens: number;
  private at: number;
  constructor(
    private perMinute: number,
    now: number,
  ) {
    this.tokens = this.capacity;
    this.at = now;
  }
  get capacity(): number {
    return Math.max(1, this.perMinute / 6);
  }
  setLimit(perMinute: number): void {
    this.perMinute = perMinute;
    this.tokens = Math.min(this.tokens, this.capacity);
  }
  take(now: number): { allowed: boolean; retryAfterSeconds: number; remaining: number; resetSeconds: number } {
    this.tokens = Math.min(this.capacity, this.tokens + ((now - this.at) * this.perMinute) / 60_000);
    this.at = now;
    const refillMs = 60_000 / this.perMinute;
    if (this.tokens < 1)
      return {
        allowed: false,
        retryAfterSeconds: Math.max(1, Math.ceil(((1 - this.tokens) * refillMs) / 1000)),
        remaining: 0,
        resetSeconds: Math.ceil(refillMs / 1000),
      };
    this.tokens -= 1;
    return {
      allowed: true,
      retryAfterSeconds: 0,
      remaining: Math.floor(this.tokens),
      resetSeconds: Math.ceil(((this.capacity - this.tokens) * refillMs) / 1000),
    };
  }
}

class Tenant implements M365TenantControl {
  readonly state: TenantState;
  readonly buckets: Record<M365Service, Limiter>;
  readonly requests: Record<string, Record<string, number>> = {};
  throttledCount = 0;
  /** Tokens carry the generation they were issued in; expiring tokens starts a new one. */
  generation = 0;
  readonly subscriptionsById = new Map<string, Subscription>();

  constructor(
    readonly spec: ResolvedM365Spec,
    private readonly clock: () => number,
    private readonly notify: (tenant: Tenant, driveId: string) => void,
    private readonly lifecycle: (tenant: Tenant, sub: Subscription, event: 'reauthorizationRequired') => void,
  ) {
    this.state = new TenantState(spec, clock());
    this.buckets = {
      directory: new Bucket(spec.limits.directory, clock()),
      audit: new Bucket(spec.limits.audit, clock()),
      files: new MinuteWindow(spec.limits.files),
      activity: new Bucket(spec.limits.activity, clock()),
    };
    this.feed = new ActivityFeed(this.state, spec.tenantId, {
      blobSeconds: spec.activityBlobSeconds,
      perMinute: spec.fileActivityPerMinute,
      massDownload: spec.massDownload,
      seed: spec.seed,
    });
  }
  readonly feed: ActivityFeed;
  fileActivity(count: number, lateMs: number): string[] {
    return this.feed.record(count, lateMs, this.clock());
  }
  pastRecords(count: number, agoMs: number): string[] {
    return this.state.pastRecords(count, agoMs, this.clock());
  }
  get tenantId(): string {
    return this.spec.tenantId;
  }
  truth(): M365Truth {
    return { ...this.state.truth(), fileActivity: this.feed.truth(), activitySubscriptions: [...this.feed.started.keys()] };
  }
  stats() {
    return structuredClone({ requests: this.requests, throttled: this.throttledCount });
  }
  count(key: string, status: number): void {
    const entry = (this.requests[key] ??= {});
    entry[String(status)] = (entry[String(status)] ?? 0) + 1;
    if (status === 429) this.throttledCount++;
  }
  expireTokens(): number {
    return ++this.generation;
  }
  update(patch: Parameters<M365TenantControl['update']>[0]): void {
    const next = resolveM365Spec({ ...this.spec, ...patch, limits: { ...this.spec.limits, ...patch.limits } });
    Object.assign(this.spec, {
      throttleRate: next.throttleRate,
      auditLatencyMs: next.auditLatencyMs,
      clients: next.clients,
      limits: next.limits,
    });
    for (const service of Object.keys(this.buckets) as M365Service[]) this.buckets[service].setLimit(next.limits[service]);
  }
  /** Sign-ins and directory audits, and (once Audit.SharePoint is subscribed) a quarter as many file operations. */
  lateRecords(count: number, lateMs: number): string[] {
    const ids = this.state.lateRecords(count, lateMs, this.clock());
    if (this.feed.started.has('Audit.SharePoint')) ids.push(...this.feed.record(Math.ceil(count / 4), lateMs, this.clock()));
    return ids;
  }
  remove(kind: 'user' | 'group' | 'grant' | 'file', id: string): void {
    const now = this.clock();
    const found =
      kind === 'user'
        ? this.state.user(id)
        : kind === 'group'
          ? this.state.groups.find((g) => g.id === id && !g.deleted)
          : kind === 'grant'
            ? this.state.grants.find((g) => g.id === id && !g.deleted)
            : this.state.item(id);
    if (!found) throw new GraphError(404, 'Request_ResourceNotFound', `${kind} ${id} does not exist`);
    found.deleted = true;
    if (kind === 'user') this.state.touchUser(found as EmuUser);
    if (kind === 'file') {
      this.state.touch(found as EmuItem, now, false);
      this.notify(this, (found as EmuItem).driveId);
    }
  }
  changeFile(itemId: string): void {
    const item = this.state.item(itemId);
    if (!item || item.folder) throw new GraphError(404, 'itemNotFound', `item ${itemId} does not exist`);
    item.content = Buffer.concat([item.content, Buffer.from(`\nEdited at ${new Date(this.clock()).toISOString()}\n`)]);
    this.state.touch(item, this.clock(), true);
    this.notify(this, item.driveId);
  }
  subscriptions() {
    return [...this.subscriptionsById.values()].map((sub) => ({
      ...wireSubscription(sub),
      reauthorizationRequired: sub.reauthorizationRequired,
    }));
  }
  dropSubscriptions(): number {
    const count = this.subscriptionsById.size;
    this.subscriptionsById.clear();
    return count;
  }
  requireReauthorization(): number {
    let count = 0;
    for (const sub of this.subscriptionsById.values()) {
      if (Date.parse(sub.expirationDateTime) <= this.clock()) continue;
      sub.reauthorizationRequired = true;
      this.lifecycle(this, sub, 'reauthorizationRequired');
      count++;
    }
    return count;
  }
}

interface Caller {
  readonly tenant: Tenant;
  readonly appId: string;
  readonly roles: readonly string[];
}

/** Starts the emulator. Throws an M365SpecError for a bad tenant spec. */
export async function startM365Emulator(options: M365EmulatorOptions): Promise<M365Emulator> {
  const clock = options.clock ?? Date.now;
  const host = options.host ?? '127.0.0.1';
  const signingKey = randomBytes(32);
  const tenants = new Map<string, Tenant>();
  const downloads = new Map<string, { itemId: string; tenant: Tenant; expires: number }>();
  const inFlight = new Set<AbortController>();
  let url = '';

  const post = (target: string, body: string, contentType = 'application/json', timeoutMs = 10_000) => {
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), timeoutMs);
    inFlight.add(controller);
    return fetch(target, { method: 'POST', headers: { 'content-type': contentType }, body, signal: controller.signal }).finally(() => {
      clearTimeout(timer);
      inFlight.delete(controller);
    });
  };

  /** Change notifications to every live subscription on the drive (https://learn.microsoft.com/en-us/graph/change-notifications-delivery-webhooks). */
  const notify = (tenant: Tenant, driveId: string) => {
    const now = clock();
    for (const sub of tenant.subscriptionsById.values()) {
      // Paused while reauthorization is required (https://learn.microsoft.com/en-us/graph/change-notifications-lifecycle-events).
      if (sub.driveId !== driveId || Date.parse(sub.expirationDateTime) <= now || sub.reauthorizationRequired) continue;
      const body = JSON.stringify({
        value: [
          {
            subscriptionId: sub.id,
            clientState: sub.clientState,
            changeType: 'updated',
            resource: sub.resource,
            subscriptionExpirationDateTime: sub.expirationDateTime,
            tenantId: tenant.tenantId,
            resourceData: null,
          },
        ],
      });
      post(sub.notificationUrl, body)
        .then((r) => r.body?.cancel())
        .catch(() => undefined);
    }
  };

  /** A lifecycle notification, to the subscription's lifecycleNotificationUrl only (none is sent without one). */
  const lifecycle = (tenant: Tenant, sub: Subscription, event: 'reauthorizationRequired') => {
    if (!sub.lifecycleNotificationUrl) return;
    const body = JSON.stringify({
      value: [
        {
          subscriptionId: sub.id,
          subscriptionExpirationDateTime: sub.expirationDateTime,
          tenantId: tenant.tenantId,
          clientState: sub.clientState,
          lifecycleEvent: event,
        },
      ],
    });
    post(sub.lifecycleNotificationUrl, body)
      .then((r) => r.body?.cancel())
      .catch(() => undefined);
  };

  for (const input of options.tenants) {
    const spec = resolveM365Spec(input);
    if (tenants.has(spec.tenantId)) throw new M365SpecError(`tenant.tenantId: ${spec.tenantId} is already hosted`);
    tenants.set(spec.tenantId, new Tenant(spec, clock, notify, lifecycle));
  }
  const tenantById = (id: string): Tenant => {
    const tenant = tenants.get(id);
    if (!tenant) throw new GraphError(404, 'Request_ResourceNotFound', `tenant ${id} is not hosted`);
    return tenant;
  };

  // ------------------------------------------------------------------ tokens

  const signJwt = (payload: Record<string, unknown>) => {
    const head = b64url(JSON.stringify({ typ: 'JWT', alg: 'HS256', kid: 'emulator' }));
    const body = b64url(JSON.stringify(payload));
    return `${head}.${body}.${b64url(createHmac('sha256', signingKey).update(`${head}.${body}`).digest())}`;
  };

  const readJwt = (token: string): Record<string, unknown> | null => {
    const [head, body, signature] = token.split('.');
    if (!head || !body || !signature) return null;
    const expected = createHmac('sha256', signingKey).update(`${head}.${body}`).digest();
    const given = Buffer.from(signature, 'base64url');
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) return null;
    try {
      return JSON.parse(Buffer.from(body, 'base64url').toString('utf8')) as Record<string, unknown>;
    } catch {
      return null;
    }
  };

  /** Entra's token error shape (https://learn.microsoft.com/en-us/entra/identity-platform/v2-oauth2-client-creds-grant-flow#error-response). */
  const tokenError = (status: number, error: string, code: number, description: string) =>
    new GraphError(status, error, `AADSTS${code}: ${description}`);

  /** Verifies a client assertion signed with the client's certificate (https://learn.microsoft.com/en-us/entra/identity-platform/certificate-credentials). */
  const assertionValid = (assertion: string, certificatePem: string, clientId: string, audience: string): boolean => {
    const [head, body, signature] = assertion.split('.');
    if (!head || !body || !signature) return false;
    try {
      const header = JSON.parse(Buffer.from(head, 'base64url').toString('utf8')) as { alg?: string };
      const claims = JSON.parse(Buffer.from(body, 'base64url').toString('utf8')) as Record<string, unknown>;
      const alg = header.alg === 'PS256' ? 'PS256' : header.alg === 'RS256' ? 'RS256' : null;
      if (!alg) return false;
      const key = createPublicKey(certificatePem);
      const verifier = createVerify('sha256').update(`${head}.${body}`);
      const ok =
        alg === 'RS256'
          ? verifier.verify(key, Buffer.from(signature, 'base64url'))
          : verifier.verify({ key, padding: 6 /* RSA_PKCS1_PSS_PADDING */, saltLength: 32 }, Buffer.from(signature, 'base64url'));
      const now = clock() / 1000;
      return (
        ok &&
        claims.iss === clientId &&
        claims.sub === clientId &&
        claims.aud === audience &&
        typeof claims.exp === 'number' &&
        claims.exp > now
      );
    } catch {
      return false;
    }
  };

  const issueToken = async (tenantId: string, req: IncomingMessage): Promise<Record<string, unknown>> => {
    const tenant = tenants.get(tenantId);
    if (!tenant) throw tokenError(400, 'invalid_request', 90002, `Tenant '${tenantId}' not found.`);
    if ((req.headers['content-type'] ?? '').split(';')[0]!.trim() !== 'application/x-www-form-urlencoded')
      throw tokenError(400, 'invalid_request', 900144, "The request body must contain the following parameter: 'grant_type'.");
    const form = new URLSearchParams((await readBody(req)).toString('utf8'));
    if (form.get('grant_type') !== 'client_credentials')
      throw tokenError(400, 'unsupported_grant_type', 70003, 'The app requested an unsupported grant type.');
    const scope = form.get('scope') ?? '';
    if (!/^https:\/\/graph\.microsoft\.com\/\.default$/.test(scope) && !/\/\.default$/.test(scope))
      throw tokenError(
        400,
        'invalid_scope',
        1002012,
        'The provided value for scope is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier.',
      );
    const clientId = form.get('client_id') ?? '';
    const client = tenant.spec.clients.find((c) => c.clientId === clientId);
    if (!client)
      throw tokenError(400, 'unauthorized_client', 700016, `Application with identifier '${clientId}' was not found in the directory.`);
    const secret = form.get('client_secret');
    const assertion = form.get('client_assertion');
    const audience = `${url}/${tenantId}/oauth2/v2.0/token`;
    const authenticated = secret
      ? client.clientSecret !== undefined &&
        secret.length === client.clientSecret.length &&
        timingSafeEqual(Buffer.from(secret), Buffer.from(client.clientSecret))
      : assertion && form.get('client_assertion_type') === 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer' && client.certificatePem
        ? assertionValid(assertion, client.certificatePem, clientId, audience)
        : false;
    if (!authenticated) throw tokenError(401, 'invalid_client', 7000215, 'Invalid client secret provided.');
    const now = Math.floor(clock() / 1000);
    const lifetime = tenant.spec.tokenLifetimeSeconds;
    // One token per resource: the Management APIs' carries their permissions, Graph's carries Graph's.
    const resource = scope.replace(/\/\.default$/, '');
    const management = resource === MANAGEMENT_RESOURCE || resource === `${url}${MANAGEMENT_PREFIX}`;
    const accessToken = signJwt({
      aud: management ? MANAGEMENT_RESOURCE : 'https://graph.microsoft.com',
      iss: `https://sts.windows.net/${tenantId}/`,
      iat: now,
      nbf: now,
      exp: now + lifetime,
      tid: tenantId,
      appid: clientId,
      idtyp: 'app',
      roles: client.roles.filter((role) => (MANAGEMENT_PERMISSIONS as readonly string[]).includes(role) === management),
      ver: '1.0',
      // Not an Entra claim: the emulator's own mark, so that the admin API can invalidate what it issued.
      emu_gen: tenant.generation,
    });
    return { token_type: 'Bearer', expires_in: lifetime, ext_expires_in: lifetime, access_token: accessToken };
  };

  const authenticate = (req: IncomingMessage): Caller => {
    const bearer = /^Bearer\s+(\S+)$/i.exec(req.headers.authorization ?? '')?.[1];
    if (!bearer) throw new GraphError(401, 'InvalidAuthenticationToken', 'Access token is empty.');
    const claims = readJwt(bearer);
    if (!claims) throw new GraphError(401, 'InvalidAuthenticationToken', 'Access token validation failure. Invalid audience.');
    const tenant = tenants.get(String(claims.tid));
    if (!tenant) throw new GraphError(401, 'InvalidAuthenticationToken', 'Access token validation failure.');
    const now = clock() / 1000;
    if (typeof claims.exp !== 'number' || claims.exp <= now || claims.emu_gen !== tenant.generation)
      throw new GraphError(401, 'InvalidAuthenticationToken', 'Lifetime validation failed, the token is expired.');
    if (claims.aud === MANAGEMENT_RESOURCE)
      throw new GraphError(401, 'InvalidAuthenticationToken', 'Access token validation failure. Invalid audience.');
    return { tenant, appId: String(claims.appid), roles: (claims.roles as string[]) ?? [] };
  };

  // ------------------------------------------------------------------ Graph routes

  type Handler = (ctx: {
    caller: Caller;
    params: string[];
    query: URLSearchParams;
    req: IncomingMessage;
    body: () => Promise<Buffer>;
  }) => Promise<Reply> | Reply;
  type Reply = { status: number; json?: unknown; bytes?: Buffer; contentType?: string; headers?: Record<string, string> };
  interface GraphRoute {
    method: string;
    pattern: RegExp;
    service: M365Service;
    /** Any one of these application permissions lets the call through (Graph permissions reference per API page). */
    needs: readonly GraphPermission[];
    handle: Handler;
  }

  const READ_USERS: GraphPermission[] = ['User.Read.All', 'User.ReadWrite.All', 'Directory.Read.All', 'Directory.ReadWrite.All'];
  const READ_FILES: GraphPermission[] = ['Files.Read.All', 'Files.ReadWrite.All', 'Sites.Read.All', 'Sites.ReadWrite.All'];
  const WRITE_FILES: GraphPermission[] = ['Files.ReadWrite.All', 'Sites.ReadWrite.All'];

  const graphBase = () => `${url}/v1.0`;

  /** One page of `items` by `$top` and `$skiptoken` (https://learn.microsoft.com/en-us/graph/paging). */
  const page = <T>(items: readonly T[], query: URLSearchParams, path: string, max: number, wire: (t: T) => unknown): Reply => {
    const top = Math.min(max, Math.max(1, Number(query.get('$top') ?? max) || max));
    const skip = query.get('$skiptoken') ? Number(Buffer.from(query.get('$skiptoken')!, 'base64url').toString('utf8')) : 0;
    if (!Number.isInteger(skip) || skip < 0) throw new GraphError(400, 'Request_BadRequest', 'Invalid $skiptoken.');
    const slice = items.slice(skip, skip + top);
    const next = new URLSearchParams(query);
    next.set('$skiptoken', b64url(String(skip + top)));
    return {
      status: 200,
      json: {
        '@odata.context': `${graphBase()}/$metadata#${path}`,
        value: slice.map(wire),
        ...(skip + top < items.length ? { '@odata.nextLink': `${graphBase()}/${path}?${next.toString()}` } : {}),
      },
    };
  };

  /** `createdDateTime ge X and createdDateTime le Y` (the filter the audit APIs document). */
  const timeFilter = (query: URLSearchParams, field: string): ((iso: string) => boolean) => {
    const filter = query.get('$filter');
    if (!filter) return () => true;
    const bounds: ((iso: string) => boolean)[] = [];
    for (const clause of filter.split(/\s+and\s+/i)) {
      const m = new RegExp(`^\\(?${field}\\s+(ge|le|gt|lt)\\s+([0-9T:.Z-]+)\\)?$`).exec(clause.trim());
      if (!m)
        throw new GraphError(
          400,
          'Request_UnsupportedQuery',
          `Unsupported or invalid query filter clause specified for property '${field}'.`,
        );
      const at = Date.parse(m[2]!);
      if (Number.isNaN(at)) throw new GraphError(400, 'Request_BadRequest', `Invalid DateTimeOffset '${m[2]}'.`);
      const op = m[1];
      bounds.push((iso) => {
        const t = Date.parse(iso);
        return op === 'ge' ? t >= at : op === 'le' ? t <= at : op === 'gt' ? t > at : t < at;
      });
    }
    return (iso) => bounds.every((b) => b(iso));
  };

  const userOr404 = (caller: Caller, id: string) => {
    const user = caller.tenant.state.user(decodeURIComponent(id));
    if (!user)
      throw new GraphError(
        404,
        'Request_ResourceNotFound',
        `Resource '${id}' does not exist or one of its queried reference-property objects are not present.`,
      );
    return user;
  };
  const itemOr404 = (caller: Caller, driveId: string, itemId: string) => {
    const item = caller.tenant.state.item(itemId);
    if (!item || item.driveId !== driveId) throw new GraphError(404, 'itemNotFound', 'The resource could not be found.');
    return item;
  };
  const json = (value: unknown, status = 200): Reply => ({ status, json: value });
  const readJson = async (body: () => Promise<Buffer>) => {
    try {
      return JSON.parse((await body()).toString('utf8') || '{}') as Record<string, unknown>;
    } catch {
      throw new GraphError(400, 'BadRequest', 'Unable to read JSON request payload.');
    }
  };
  const writeItem = (caller: Caller, item: EmuItem, operation: string, content: boolean, detail?: string) => {
    const now = clock();
    caller.tenant.state.touch(item, now, content);
    caller.tenant.state.record(operation, item.id, now, detail);
    notify(caller.tenant, item.driveId);
  };

  const routes: GraphRoute[] = [
    {
      method: 'GET',
      pattern: /^\/organization$/,
      service: 'directory',
      needs: [],
      handle: ({ caller }) =>
        json({
          value: [
            {
              id: caller.tenant.tenantId,
              displayName: caller.tenant.spec.displayName,
              verifiedDomains: [{ name: caller.tenant.spec.domain, isDefault: true }],
            },
          ],
        }),
    },
    {
      method: 'GET',
      pattern: /^\/users$/,
      service: 'directory',
      needs: READ_USERS,
      handle: ({ caller, query }) =>
        page(
          caller.tenant.state.users.filter((u) => !u.deleted),
          query,
          'users',
          Math.min(999, caller.tenant.spec.maxPageSize),
          wireUser,
        ),
    },
    {
      // Users delta (https://learn.microsoft.com/en-us/graph/api/user-delta, https://learn.microsoft.com/en-us/graph/delta-query-users):
      // the first round lists every user, later rounds from a deltaLink only users changed since (deleted ones as
      // `{ id, "@removed": { reason: "changed" } }`), pages by `@odata.nextLink`, and the last page carries the
      // `@odata.deltaLink`; `$deltatoken=latest` answers no user and a deltaLink for now; a token the emulator did
      // not make answers 410 Gone.
      method: 'GET',
      pattern: /^\/users\/(?:microsoft\.graph\.)?delta(?:\(\))?$/,
      service: 'directory',
      needs: READ_USERS,
      handle: ({ caller, query }) => {
        const state = caller.tenant.state;
        const deltaLink = (seq: number) => `${graphBase()}/users/delta?$deltatoken=${b64url(`u${seq}`)}`;
        const token = query.get('$deltatoken');
        if (token === 'latest') return json({ value: [], '@odata.deltaLink': deltaLink(state.userSeq) });
        const skip = query.get('$skiptoken');
        let round: { since: number | null; at: number; offset: number };
        try {
          round = skip
            ? (JSON.parse(Buffer.from(skip, 'base64url').toString('utf8')) as typeof round)
            : {
                since: token ? Number(/^u(\d+)$/.exec(Buffer.from(token, 'base64url').toString('utf8'))?.[1] ?? Number.NaN) : null,
                at: state.userSeq,
                offset: 0,
              };
        } catch {
          round = { since: Number.NaN, at: 0, offset: 0 };
        }
        if (round.since !== null && !Number.isInteger(round.since))
          throw new GraphError(410, 'syncStateNotFound', 'The delta token is not valid or has expired: start a full synchronization.');
        const changed = state.users.filter((u) =>
          round.since === null ? !u.deleted : (u.version ?? 0) > round.since && (u.version ?? 0) <= round.at,
        );
        const size = Math.min(999, caller.tenant.spec.maxPageSize);
        const slice = changed.slice(round.offset, round.offset + size);
        const more = round.offset + size < changed.length;
        return json({
          '@odata.context': `${graphBase()}/$metadata#users`,
          value: slice.map((u: EmuUser) => (u.deleted ? { id: u.id, '@removed': { reason: 'changed' } } : wireUser(u))),
          ...(more
            ? {
                '@odata.nextLink': `${graphBase()}/users/delta?$skiptoken=${b64url(JSON.stringify({ ...round, offset: round.offset + size }))}`,
              }
            : { '@odata.deltaLink': deltaLink(round.at) }),
        });
      },
    },
    {
      method: 'GET',
      pattern: /^\/users\/([^/]+)$/,
      service: 'directory',
      needs: READ_USERS,
      handle: ({ caller, params }) => json(wireUser(userOr404(caller, params[0]!))),
    },
    {
      method: 'PATCH',
      pattern: /^\/users\/([^/]+)$/,
      service: 'directory',
      needs: ['User.ReadWrite.All', 'Directory.ReadWrite.All', 'User.EnableDisableAccount.All', 'User-PasswordProfile.ReadWrite.All'],
      handle: async ({ caller, params, body }) => {
        const user = userOr404(caller, params[0]!);
        const patch = await readJson(body);
        const roles = caller.roles;
        const general = roles.includes('User.ReadWrite.All') || roles.includes('Directory.ReadWrite.All');
        if ('accountEnabled' in patch) {
          if (!general && !roles.includes('User.EnableDisableAccount.All'))
            throw new GraphError(403, 'Authorization_RequestDenied', 'Insufficient privileges to complete the operation.');
          if (typeof patch.accountEnabled !== 'boolean')
            throw new GraphError(400, 'Request_BadRequest', "Invalid value specified for property 'accountEnabled' of resource 'User'.");
          user.accountEnabled = patch.accountEnabled;
          caller.tenant.state.touchUser(user);
          caller.tenant.state.record(patch.accountEnabled ? 'user.enable' : 'user.disable', user.id, clock());
        }
        if ('passwordProfile' in patch) {
          if (!general && !roles.includes('User-PasswordProfile.ReadWrite.All'))
            throw new GraphError(403, 'Authorization_RequestDenied', 'Insufficient privileges to complete the operation.');
          const profile = patch.passwordProfile as { forceChangePasswordNextSignIn?: unknown } | null;
          if (typeof profile?.forceChangePasswordNextSignIn !== 'boolean')
            throw new GraphError(400, 'Request_BadRequest', "Invalid value specified for property 'passwordProfile' of resource 'User'.");
          user.forceChangePasswordNextSignIn = profile.forceChangePasswordNextSignIn;
          caller.tenant.state.touchUser(user);
          caller.tenant.state.record('user.forcePasswordChange', user.id, clock());
        }
        return { status: 204 };
      },
    },
    {
      method: 'POST',
      pattern: /^\/users\/([^/]+)\/revokeSignInSessions$/,
      service: 'directory',
      needs: ['User.RevokeSessions.All', 'User.ReadWrite.All', 'Directory.ReadWrite.All'],
      handle: ({ caller, params }) => {
        const user = userOr404(caller, params[0]!);
        user.signInSessionsValidFromDateTime = new Date(clock()).toISOString();
        caller.tenant.state.touchUser(user);
        caller.tenant.state.record('user.revokeSignInSessions', user.id, clock());
        return json({ '@odata.context': `${graphBase()}/$metadata#Edm.Boolean`, value: true });
      },
    },
    {
      method: 'GET',
      pattern: /^\/groups$/,
      service: 'directory',
      needs: ['Group.Read.All', 'GroupMember.Read.All', 'Directory.Read.All', 'Directory.ReadWrite.All'],
      handle: ({ caller, query }) =>
        page(
          caller.tenant.state.groups.filter((g) => !g.deleted),
          query,
          'groups',
          999,
          wireGroup,
        ),
    },
    {
      method: 'GET',
      pattern: /^\/groups\/([^/]+)\/members$/,
      service: 'directory',
      needs: ['GroupMember.Read.All', 'Group.Read.All', 'Directory.Read.All', 'Directory.ReadWrite.All'],
      handle: ({ caller, params, query }) => {
        const group = caller.tenant.state.groups.find((g) => g.id === params[0] && !g.deleted);
        if (!group) throw new GraphError(404, 'Request_ResourceNotFound', `Resource '${params[0]}' does not exist.`);
        const members = group.members.map((id) => caller.tenant.state.user(id)).filter((u) => u !== undefined);
        return page(members, query, `groups/${group.id}/members`, 999, wireMember);
      },
    },
    {
      method: 'GET',
      pattern: /^\/directoryRoles$/,
      service: 'directory',
      needs: ['RoleManagement.Read.Directory', 'Directory.Read.All', 'Directory.ReadWrite.All'],
      handle: ({ caller }) =>
        json({
          value: [
            {
              id: caller.tenant.state.adminRole.id,
              displayName: caller.tenant.state.adminRole.displayName,
              roleTemplateId: caller.tenant.state.adminRole.roleTemplateId,
            },
          ],
        }),
    },
    {
      method: 'GET',
      pattern: /^\/directoryRoles\/([^/]+)\/members$/,
      service: 'directory',
      needs: ['RoleManagement.Read.Directory', 'Directory.Read.All', 'Directory.ReadWrite.All'],
      handle: ({ caller, params, query }) => {
        const role = caller.tenant.state.adminRole;
        if (params[0] !== role.id && params[0] !== `roleTemplateId=${role.roleTemplateId}`)
          throw new GraphError(404, 'Request_ResourceNotFound', `Resource '${params[0]}' does not exist.`);
        const members = role.members.map((id) => caller.tenant.state.user(id)).filter((u) => u !== undefined);
        return page(members, query, `directoryRoles/${role.id}/members`, 999, wireMember);
      },
    },
    {
      method: 'GET',
      pattern: /^\/servicePrincipals$/,
      service: 'directory',
      needs: ['Application.Read.All', 'Directory.Read.All', 'Directory.ReadWrite.All'],
      handle: ({ caller, query }) =>
        page(caller.tenant.state.apps, query, 'servicePrincipals', 999, (a) => ({
          id: a.id,
          appId: a.appId,
          appDisplayName: a.displayName,
          displayName: a.displayName,
          publisherName: a.publisherName,
        })),
    },
    {
      // The alternate key (https://learn.microsoft.com/en-us/graph/api/serviceprincipal-get): Microsoft Graph's own service principal, with its app roles.
      method: 'GET',
      pattern: /^\/servicePrincipals\(appId=(?:'|%27)([^'%]+)(?:'|%27)\)$/,
      service: 'directory',
      needs: ['Application.Read.All', 'Directory.Read.All', 'Directory.ReadWrite.All'],
      handle: ({ caller, params }) => {
        if (params[0] !== GRAPH_APP_ID) {
          const app = caller.tenant.state.apps.find((a) => a.appId === params[0]);
          if (!app) throw new GraphError(404, 'Request_ResourceNotFound', `Resource '${params[0]}' does not exist.`);
          return json({ id: app.id, appId: app.appId, appDisplayName: app.displayName, displayName: app.displayName, appRoles: [] });
        }
        return json({
          id: caller.tenant.state.graphResourceId,
          appId: GRAPH_APP_ID,
          appDisplayName: 'Microsoft Graph',
          displayName: 'Microsoft Graph',
          appRoles: GRAPH_APP_ROLES.map((r) => ({
            id: r.id,
            value: r.value,
            allowedMemberTypes: ['Application'],
            displayName: r.value,
            isEnabled: true,
          })),
        });
      },
    },
    {
      // Who holds app roles of a resource (https://learn.microsoft.com/en-us/graph/api/serviceprincipal-list-approleassignedto).
      method: 'GET',
      pattern: /^\/servicePrincipals\/([^/]+)\/appRoleAssignedTo$/,
      service: 'directory',
      needs: ['Application.Read.All', 'Directory.Read.All', 'Directory.ReadWrite.All', 'AppRoleAssignment.ReadWrite.All'],
      handle: ({ caller, params, query }) =>
        page(
          caller.tenant.state.appRoleAssignments.filter((a) => a.resourceId === params[0] && !a.deleted),
          query,
          `servicePrincipals/${params[0]}/appRoleAssignedTo`,
          999,
          wireAppRoleAssignment,
        ),
    },
    {
      // The app roles granted to a client (https://learn.microsoft.com/en-us/graph/api/serviceprincipal-list-approleassignments).
      method: 'GET',
      pattern: /^\/servicePrincipals\/([^/]+)\/appRoleAssignments$/,
      service: 'directory',
      needs: ['Application.Read.All', 'Directory.Read.All', 'Directory.ReadWrite.All', 'AppRoleAssignment.ReadWrite.All'],
      handle: ({ caller, params, query }) => {
        if (!caller.tenant.state.apps.some((a) => a.id === params[0]) && params[0] !== caller.tenant.state.graphResourceId)
          throw new GraphError(404, 'Request_ResourceNotFound', `Resource '${params[0]}' does not exist.`);
        return page(
          caller.tenant.state.appRoleAssignments.filter((a) => a.principalId === params[0] && !a.deleted),
          query,
          `servicePrincipals/${params[0]}/appRoleAssignments`,
          999,
          wireAppRoleAssignment,
        );
      },
    },
    {
      // https://learn.microsoft.com/en-us/graph/api/serviceprincipal-delete-approleassignments
      method: 'DELETE',
      pattern: /^\/servicePrincipals\/([^/]+)\/appRoleAssignments\/([^/]+)$/,
      service: 'directory',
      needs: ['AppRoleAssignment.ReadWrite.All'],
      handle: ({ caller, params }) => {
        const assignment = caller.tenant.state.appRoleAssignments.find(
          (a) => a.principalId === params[0] && a.id === params[1] && !a.deleted,
        );
        if (!assignment) throw new GraphError(404, 'Request_ResourceNotFound', `Resource '${params[1]}' does not exist.`);
        assignment.deleted = true;
        caller.tenant.state.record('appRoleAssignment.delete', assignment.id, clock());
        return { status: 204 };
      },
    },
    {
      method: 'GET',
      pattern: /^\/oauth2PermissionGrants$/,
      service: 'directory',
      needs: ['DelegatedPermissionGrant.ReadWrite.All', 'Directory.Read.All', 'Directory.ReadWrite.All'],
      handle: ({ caller, query }) =>
        page(
          caller.tenant.state.grants.filter((g) => !g.deleted),
          query,
          'oauth2PermissionGrants',
          999,
          wireGrant,
        ),
    },
    {
      method: 'GET',
      pattern: /^\/oauth2PermissionGrants\/([^/]+)$/,
      service: 'directory',
      needs: ['DelegatedPermissionGrant.ReadWrite.All', 'Directory.Read.All', 'Directory.ReadWrite.All'],
      handle: ({ caller, params }) => {
        const grant = caller.tenant.state.grants.find((g) => g.id === params[0] && !g.deleted);
        if (!grant) throw new GraphError(404, 'Request_ResourceNotFound', `Resource '${params[0]}' does not exist.`);
        return json(wireGrant(grant));
      },
    },
    {
      method: 'DELETE',
      pattern: /^\/oauth2PermissionGrants\/([^/]+)$/,
      service: 'directory',
      needs: ['DelegatedPermissionGrant.ReadWrite.All', 'Directory.ReadWrite.All'],
      handle: ({ caller, params }) => {
        const grant = caller.tenant.state.grants.find((g) => g.id === params[0] && !g.deleted);
        if (!grant) throw new GraphError(404, 'Request_ResourceNotFound', `Resource '${params[0]}' does not exist.`);
        grant.deleted = true;
        caller.tenant.state.record('grant.delete', grant.id, clock());
        return { status: 204 };
      },
    },
    {
      method: 'GET',
      pattern: /^\/auditLogs\/signIns$/,
      service: 'audit',
      needs: ['AuditLog.Read.All'],
      handle: ({ caller, query }) => {
        const now = clock();
        const inWindow = timeFilter(query, 'createdDateTime');
        const visible = caller.tenant.state.signIns.filter((s) => s.visibleAt <= now && inWindow(s.createdDateTime));
        // Newest first, as the API documents.
        visible.sort((a, b) =>
          a.createdDateTime < b.createdDateTime ? 1 : a.createdDateTime > b.createdDateTime ? -1 : a.id < b.id ? -1 : 1,
        );
        return page(visible, query, 'auditLogs/signIns', Math.min(1000, caller.tenant.spec.maxPageSize), wireSignIn);
      },
    },
    {
      method: 'GET',
      pattern: /^\/auditLogs\/directoryAudits$/,
      service: 'audit',
      needs: ['AuditLog.Read.All'],
      handle: ({ caller, query }) => {
        const now = clock();
        const inWindow = timeFilter(query, 'activityDateTime');
        const visible = caller.tenant.state.audits.filter((a) => a.visibleAt <= now && inWindow(a.activityDateTime));
        visible.sort((a, b) =>
          a.activityDateTime < b.activityDateTime ? 1 : a.activityDateTime > b.activityDateTime ? -1 : a.id < b.id ? -1 : 1,
        );
        return page(visible, query, 'auditLogs/directoryAudits', Math.min(1000, caller.tenant.spec.maxPageSize), wireAudit);
      },
    },
    {
      method: 'GET',
      pattern: /^\/sites\/root\/drives$/,
      service: 'files',
      needs: READ_FILES,
      handle: ({ caller }) =>
        json({ value: caller.tenant.state.drives.map((d) => ({ id: d.id, name: d.name, driveType: 'documentLibrary' })) }),
    },
    {
      method: 'GET',
      pattern: /^\/drives\/([^/]+)\/root\/delta$/,
      service: 'files',
      needs: READ_FILES,
      handle: ({ caller, params, query }) => {
        const state = caller.tenant.state;
        const drive = state.drive(params[0]!);
        if (!drive) throw new GraphError(404, 'itemNotFound', 'The resource could not be found.');
        const base = `${graphBase()}/drives/${drive.id}/root/delta`;
        const token = query.get('token');
        if (token === 'latest') return json({ value: [], '@odata.deltaLink': `${base}?token=${b64url(String(state.changeMark))}` });
        // A page token carries the listing's start mark, the change mark it lists after, and the offset.
        const resume = query.get('$skiptoken');
        let mark: number;
        let since: number | null;
        let offset: number;
        try {
          const decoded = resume
            ? (JSON.parse(Buffer.from(resume, 'base64url').toString('utf8')) as [number, number | null, number])
            : null;
          mark = decoded ? decoded[0] : state.changeMark;
          since = decoded ? decoded[1] : token ? Number(Buffer.from(token, 'base64url').toString('utf8')) : null;
          offset = decoded ? decoded[2] : 0;
          if (!Number.isInteger(mark) || (since !== null && !Number.isInteger(since)) || !Number.isInteger(offset))
            throw new Error('bad token');
        } catch {
          throw new GraphError(410, 'resyncRequired', 'The delta token is no longer valid; restart the sync without a token.', {});
        }
        const items = [...state.items.values()]
          .filter((i) => i.driveId === drive.id && (since === null ? !i.deleted : i.changedAt > since))
          .sort((a, b) => (a.id < b.id ? -1 : 1));
        const top = Math.min(1000, Number(query.get('$top') ?? 200) || 200);
        const slice = items.slice(offset, offset + top);
        const done = offset + top >= items.length;
        return json({
          value: slice.map((i) => wireItem(state, i)),
          ...(done
            ? { '@odata.deltaLink': `${base}?token=${b64url(String(mark))}` }
            : { '@odata.nextLink': `${base}?$skiptoken=${b64url(JSON.stringify([mark, since, offset + top]))}` }),
        });
      },
    },
    {
      method: 'GET',
      pattern: /^\/drives\/([^/]+)\/root$/,
      service: 'files',
      needs: READ_FILES,
      handle: ({ caller, params }) => {
        const drive = caller.tenant.state.drive(params[0]!);
        if (!drive) throw new GraphError(404, 'itemNotFound', 'The resource could not be found.');
        return json(wireItem(caller.tenant.state, caller.tenant.state.items.get(drive.rootId)!));
      },
    },
    {
      method: 'GET',
      pattern: /^\/drives\/([^/]+)\/items\/([^/]+)$/,
      service: 'files',
      needs: READ_FILES,
      handle: ({ caller, params }) => json(wireItem(caller.tenant.state, itemOr404(caller, params[0]!, params[1]!))),
    },
    {
      method: 'GET',
      pattern: /^\/drives\/([^/]+)\/root:\/([^/:]+):?$/,
      service: 'files',
      needs: READ_FILES,
      handle: ({ caller, params }) => {
        const drive = caller.tenant.state.drive(params[0]!);
        const name = decodeURIComponent(params[1]!);
        const item =
          drive &&
          [...caller.tenant.state.items.values()].find(
            (i) => i.driveId === drive.id && i.parentId === drive.rootId && i.name === name && !i.deleted,
          );
        if (!item) throw new GraphError(404, 'itemNotFound', 'The resource could not be found.');
        return json(wireItem(caller.tenant.state, item));
      },
    },
    {
      method: 'POST',
      pattern: /^\/drives\/([^/]+)\/items\/([^/]+)\/children$/,
      service: 'files',
      needs: WRITE_FILES,
      handle: async ({ caller, params, body }) => {
        const parent = itemOr404(caller, params[0]!, params[1]!);
        const input = await readJson(body);
        if (typeof input.name !== 'string' || !input.folder)
          throw new GraphError(400, 'invalidRequest', 'A folder needs a name and the folder facet.');
        const drive = caller.tenant.state.drive(parent.driveId)!;
        const folder = caller.tenant.state.newItem(drive, parent.id, input.name, true, Buffer.alloc(0), '', '', clock());
        return json(wireItem(caller.tenant.state, folder), 201);
      },
    },
    {
      method: 'PATCH',
      pattern: /^\/drives\/([^/]+)\/items\/([^/]+)$/,
      service: 'files',
      needs: WRITE_FILES,
      handle: async ({ caller, params, body }) => {
        const item = itemOr404(caller, params[0]!, params[1]!);
        const patch = await readJson(body);
        const parent = (patch.parentReference as { id?: unknown } | undefined)?.id;
        if (parent !== undefined) {
          const target = typeof parent === 'string' ? caller.tenant.state.item(parent) : undefined;
          if (!target || !target.folder || target.driveId !== item.driveId)
            throw new GraphError(400, 'invalidRequest', 'Invalid parentReference.');
          item.parentId = target.id;
        }
        if (typeof patch.name === 'string') item.name = patch.name;
        if (patch.description === null || typeof patch.description === 'string') item.description = patch.description;
        writeItem(
          caller,
          item,
          parent !== undefined ? 'item.move' : 'item.update',
          false,
          parent !== undefined ? item.parentId : undefined,
        );
        return json(wireItem(caller.tenant.state, item));
      },
    },
    {
      method: 'DELETE',
      pattern: /^\/drives\/([^/]+)\/items\/([^/]+)$/,
      service: 'files',
      needs: WRITE_FILES,
      handle: ({ caller, params }) => {
        const item = itemOr404(caller, params[0]!, params[1]!);
        item.deleted = true;
        writeItem(caller, item, 'item.delete', false);
        return { status: 204 };
      },
    },
    {
      method: 'GET',
      pattern: /^\/drives\/([^/]+)\/items\/([^/]+)\/permissions$/,
      service: 'files',
      needs: READ_FILES,
      handle: ({ caller, params }) => json({ value: itemOr404(caller, params[0]!, params[1]!).permissions.map(wirePermission) }),
    },
    {
      method: 'DELETE',
      pattern: /^\/drives\/([^/]+)\/items\/([^/]+)\/permissions\/([^/]+)$/,
      service: 'files',
      needs: WRITE_FILES,
      handle: ({ caller, params }) => {
        const item = itemOr404(caller, params[0]!, params[1]!);
        const index = item.permissions.findIndex((p) => p.id === params[2]);
        if (index < 0) throw new GraphError(404, 'itemNotFound', 'The permission could not be found.');
        if (item.permissions[index]!.roles.includes('owner'))
          throw new GraphError(403, 'accessDenied', 'Inherited or owner permissions cannot be removed.');
        item.permissions.splice(index, 1);
        writeItem(caller, item, 'permission.delete', false);
        return { status: 204 };
      },
    },
    {
      method: 'GET',
      pattern: /^\/drives\/([^/]+)\/items\/([^/]+)\/content$/,
      service: 'files',
      needs: READ_FILES,
      handle: ({ caller, params }) => {
        const item = itemOr404(caller, params[0]!, params[1]!);
        const token = randomUUID();
        downloads.set(token, { itemId: item.id, tenant: caller.tenant, expires: clock() + 3_600_000 });
        // A pre-authenticated, short-lived download URL (https://learn.microsoft.com/en-us/graph/api/driveitem-get-content).
        return { status: 302, headers: { location: `${url}/download/${token}` } };
      },
    },
    {
      method: 'PUT',
      pattern: /^\/drives\/([^/]+)\/items\/([^/:]+)\/content$/,
      service: 'files',
      needs: WRITE_FILES,
      handle: async ({ caller, params, body, req }) => {
        const item = itemOr404(caller, params[0]!, params[1]!);
        item.content = await body();
        item.mimeType = (req.headers['content-type'] ?? item.mimeType).split(';')[0]!;
        writeItem(caller, item, 'item.content', true);
        return json(wireItem(caller.tenant.state, item));
      },
    },
    {
      method: 'PUT',
      pattern: /^\/drives\/([^/]+)\/items\/([^/:]+):\/([^/:]+):\/content$/,
      service: 'files',
      needs: WRITE_FILES,
      handle: async ({ caller, params, body, req }) => {
        const parent = itemOr404(caller, params[0]!, params[1]!);
        if (!parent.folder) throw new GraphError(400, 'invalidRequest', 'The parent is not a folder.');
        const name = decodeURIComponent(params[2]!);
        const state = caller.tenant.state;
        const existing = [...state.items.values()].find((i) => i.parentId === parent.id && i.name === name && !i.deleted);
        const bytes = await body();
        const mime = (req.headers['content-type'] ?? 'application/octet-stream').split(';')[0]!;
        if (existing) {
          existing.content = bytes;
          writeItem(caller, existing, 'item.content', true);
          return json(wireItem(state, existing));
        }
        const created = state.newItem(state.drive(parent.driveId)!, parent.id, name, false, bytes, mime, '', clock());
        state.record('item.create', created.id, clock());
        notify(caller.tenant, created.driveId);
        return json(wireItem(state, created), 201);
      },
    },
    {
      method: 'POST',
      pattern: /^\/subscriptions$/,
      service: 'directory',
      needs: [],
      handle: async ({ caller, body }) => {
        const input = await readJson(body);
        const resource = typeof input.resource === 'string' ? input.resource : '';
        const driveId = /^\/?drives\/([^/]+)\/root$/.exec(resource)?.[1];
        if (!driveId || !caller.tenant.state.drive(driveId))
          throw new GraphError(
            400,
            'ExtensionError',
            `Operation: Create; Exception: [Status Code: BadRequest; Reason: Invalid resource '${resource}']`,
          );
        if (!caller.roles.some((r) => READ_FILES.includes(r as GraphPermission)))
          throw new GraphError(
            403,
            'ExtensionError',
            'Operation: Create; Exception: [Status Code: Forbidden; Reason: Insufficient privileges]',
          );
        if (input.changeType !== 'updated')
          throw new GraphError(
            400,
            'ExtensionError',
            "Operation: Create; Exception: [Status Code: BadRequest; Reason: driveItem supports changeType 'updated' only]",
          );
        const expiration = Date.parse(String(input.expirationDateTime));
        const max = clock() + caller.tenant.spec.maxSubscriptionMinutes * 60_000;
        if (Number.isNaN(expiration) || expiration <= clock() || expiration > max)
          throw new GraphError(
            400,
            'ExtensionError',
            `Operation: Create; Exception: [Status Code: BadRequest; Reason: Subscription expiration can only be ${caller.tenant.spec.maxSubscriptionMinutes} minutes in the future.]`,
          );
        const notificationUrl = String(input.notificationUrl ?? '');
        if (!/^https?:\/\//.test(notificationUrl))
          throw new GraphError(
            400,
            'ExtensionError',
            'Operation: Create; Exception: [Status Code: BadRequest; Reason: Invalid notificationUrl]',
          );
        if (typeof input.clientState === 'string' && input.clientState.length > 128)
          throw new GraphError(400, 'ExtensionError', 'clientState must be at most 128 characters.');
        const lifecycleNotificationUrl = typeof input.lifecycleNotificationUrl === 'string' ? input.lifecycleNotificationUrl : null;
        if (lifecycleNotificationUrl !== null && !/^https?:\/\//.test(lifecycleNotificationUrl))
          throw new GraphError(
            400,
            'ExtensionError',
            'Operation: Create; Exception: [Status Code: BadRequest; Reason: Invalid lifecycleNotificationUrl]',
          );
        // The validation handshake, for each endpoint: it must echo the token as text/plain within 10 seconds.
        for (const endpoint of lifecycleNotificationUrl ? [notificationUrl, lifecycleNotificationUrl] : [notificationUrl]) {
          const validationToken = `Validation: Testing client application reachability for subscription Request-Id: ${randomUUID()}`;
          const echoed = await fetch(
            `${endpoint}${endpoint.includes('?') ? '&' : '?'}validationToken=${encodeURIComponent(validationToken)}`,
            {
              method: 'POST',
              headers: { 'content-type': 'text/plain; charset=utf-8' },
              signal: AbortSignal.timeout(10_000),
            },
          )
            .then(async (r) => (r.status === 200 ? await r.text() : null))
            .catch(() => null);
          if (echoed !== validationToken)
            throw new GraphError(
              400,
              'ValidationError',
              'Subscription validation request failed. Notification endpoint must respond with 200 OK to validation request.',
            );
        }
        const sub: Subscription = {
          id: randomUUID(),
          resource,
          driveId,
          changeType: 'updated',
          notificationUrl,
          lifecycleNotificationUrl,
          clientState: typeof input.clientState === 'string' ? input.clientState : null,
          expirationDateTime: new Date(expiration).toISOString(),
          appId: caller.appId,
          reauthorizationRequired: false,
        };
        caller.tenant.subscriptionsById.set(sub.id, sub);
        return json(wireSubscription(sub), 201);
      },
    },
    {
      method: 'GET',
      pattern: /^\/subscriptions$/,
      service: 'directory',
      needs: [],
      handle: ({ caller }) =>
        json({ value: [...caller.tenant.subscriptionsById.values()].filter((s) => s.appId === caller.appId).map(wireSubscription) }),
    },
    {
      method: 'PATCH',
      pattern: /^\/subscriptions\/([^/]+)$/,
      service: 'directory',
      needs: [],
      handle: async ({ caller, params, body }) => {
        const sub = caller.tenant.subscriptionsById.get(params[0]!);
        if (!sub || sub.appId !== caller.appId) throw new GraphError(404, 'ResourceNotFound', 'The object was not found.');
        const expiration = Date.parse(String((await readJson(body)).expirationDateTime));
        if (Number.isNaN(expiration) || expiration <= clock() || expiration > clock() + caller.tenant.spec.maxSubscriptionMinutes * 60_000)
          throw new GraphError(400, 'ExtensionError', 'Invalid expirationDateTime.');
        sub.expirationDateTime = new Date(expiration).toISOString();
        // A renewal also reauthorizes the subscription (https://learn.microsoft.com/en-us/graph/change-notifications-lifecycle-events).
        sub.reauthorizationRequired = false;
        return json(wireSubscription(sub));
      },
    },
    {
      method: 'POST',
      pattern: /^\/subscriptions\/([^/]+)\/reauthorize$/,
      service: 'directory',
      needs: [],
      handle: ({ caller, params }) => {
        const sub = caller.tenant.subscriptionsById.get(params[0]!);
        if (!sub || sub.appId !== caller.appId) throw new GraphError(404, 'ResourceNotFound', 'The object was not found.');
        sub.reauthorizationRequired = false;
        return { status: 204 };
      },
    },
    {
      method: 'DELETE',
      pattern: /^\/subscriptions\/([^/]+)$/,
      service: 'directory',
      needs: [],
      handle: ({ caller, params }) => {
        const sub = caller.tenant.subscriptionsById.get(params[0]!);
        if (!sub || sub.appId !== caller.appId) throw new GraphError(404, 'ResourceNotFound', 'The object was not found.');
        caller.tenant.subscriptionsById.delete(sub.id);
        return { status: 204 };
      },
    },
  ];

  const errorReply = (error: GraphError): Reply => ({
    status: error.status,
    headers: error.headers,
    json: {
      error: {
        code: error.code,
        message: error.message,
        innerError: { date: new Date(clock()).toISOString().slice(0, 19), 'request-id': randomUUID(), 'client-request-id': randomUUID() },
      },
    },
  });

  async function handleGraph(req: IncomingMessage, path: string, query: URLSearchParams): Promise<Reply> {
    const caller = authenticate(req);
    const method = req.method ?? 'GET';
    let params: string[] = [];
    const route = routes.find((r) => {
      if (r.method !== method) return false;
      const m = r.pattern.exec(path);
      if (m) params = m.slice(1);
      return m !== null;
    });
    const service: M365Service =
      route?.service ?? (path.startsWith('/drives') ? 'files' : path.startsWith('/auditLogs') ? 'audit' : 'directory');
    const key = `${service} ${method} ${route ? route.pattern.source : '(no route)'}`;
    const tenant = caller.tenant;
    const now = clock();
    const decision = tenant.buckets[service].take(now);
    // OneDrive and SharePoint tell the remaining budget before they throttle (RateLimit headers at 80% use).
    const rateHeaders: Record<string, string> =
      service === 'files' && decision.remaining < tenant.buckets.files.capacity * 0.2
        ? {
            'ratelimit-limit': String(Math.floor(tenant.buckets.files.capacity)),
            'ratelimit-remaining': String(decision.remaining),
            'ratelimit-reset': String(decision.resetSeconds),
          }
        : {};
    let reply: Reply;
    try {
      if (!decision.allowed)
        throw new GraphError(429, 'TooManyRequests', 'Too many requests. Please retry after the time in Retry-After.', {
          'retry-after': String(decision.retryAfterSeconds),
        });
      if (tenant.spec.throttleRate > 0 && Math.random() < tenant.spec.throttleRate)
        throw new GraphError(429, 'TooManyRequests', 'Application is over its resource limits.', { 'retry-after': '1' });
      if (!route) throw new GraphError(400, 'BadRequest', `Resource not found for the segment '${path.split('/')[1] ?? ''}'.`);
      if (route.needs.length && !route.needs.some((p) => caller.roles.includes(p)))
        throw new GraphError(403, 'Authorization_RequestDenied', 'Insufficient privileges to complete the operation.');
      reply = await route.handle({ caller, params, query, req, body: () => readBody(req) });
    } catch (error) {
      if (!(error instanceof GraphError)) log.error({ err: error, path }, 'emulator route failed');
      reply = errorReply(error instanceof GraphError ? error : new GraphError(500, 'generalException', 'An unexpected error occurred.'));
    }
    tenant.count(key, reply.status);
    return { ...reply, headers: { ...rateHeaders, ...reply.headers } };
  }

  // ------------------------------------------------------------------ Office 365 Management Activity API

  /**
   * `/api/v1.0/{tenant}/activity/feed/...` (https://learn.microsoft.com/en-us/office/office-365-management-api/office-365-management-activity-api-reference):
   * a token for the Management APIs' resource with `ActivityFeed.Read` and the URL's tenant; errors
   * `{ error: { code: "AF…", message } }`; throttled with 429 `AF429` (the reference documents no Retry-After).
   */
  async function handleManagement(req: IncomingMessage, path: string, query: URLSearchParams): Promise<Reply> {
    const m = /^\/api\/v1\.0\/([^/]+)\/activity\/feed\/(subscriptions\/(?:start|stop|list|content)|audit\/([^/]+))$/.exec(path);
    const bearer = /^Bearer\s+(\S+)$/i.exec(req.headers.authorization ?? '')?.[1];
    const claims = bearer ? readJwt(bearer) : null;
    if (!claims || claims.aud !== MANAGEMENT_RESOURCE)
      return errorReply(new GraphError(401, 'AF10001', 'The access token is missing, invalid, or not for https://manage.office.com.'));
    const tenant = tenants.get(String(claims.tid));
    const now = clock();
    if (!tenant || typeof claims.exp !== 'number' || claims.exp <= now / 1000 || claims.emu_gen !== tenant.generation)
      return errorReply(new GraphError(401, 'AF10001', 'The access token has expired.'));
    const key = `activity ${req.method} ${m?.[2]?.replace(/^audit\/.*/, 'audit/{contentId}') ?? '(no route)'}`;
    let reply: Reply;
    try {
      const roles = Array.isArray(claims.roles) ? (claims.roles as string[]) : [];
      if (!roles.includes('ActivityFeed.Read'))
        throw new GraphError(
          403,
          'AF10001',
          `The permission set (${roles.join(' ')}) sent in the request did not include the expected permission ActivityFeed.Read.`,
        );
      if (!m) throw new GraphError(404, 'AF20001', `Missing parameter: operation (${path}).`);
      if (m[1] !== tenant.tenantId)
        throw new GraphError(
          403,
          'AF20010',
          `The tenant ID passed in the URL (${m[1]}) does not match the tenant ID passed in the access token (${tenant.tenantId}).`,
        );
      const decision = tenant.buckets.activity.take(now);
      if (!decision.allowed || (tenant.spec.throttleRate > 0 && Math.random() < tenant.spec.throttleRate))
        throw new GraphError(
          429,
          'AF429',
          `Too many requests. Method=${req.method}, PublisherId=${query.get('PublisherIdentifier') ?? ''}`,
        );
      reply = managementOperation(tenant, req.method ?? 'GET', m[2]!, m[3], query, now);
    } catch (error) {
      if (!(error instanceof GraphError)) log.error({ err: error, path }, 'emulator route failed');
      reply = errorReply(
        error instanceof GraphError ? error : new GraphError(500, 'AF50000', 'An internal error occurred. Retry the request.'),
      );
    }
    tenant.count(key, reply.status);
    return reply;
  }

  function managementOperation(
    tenant: Tenant,
    method: string,
    operation: string,
    contentId: string | undefined,
    query: URLSearchParams,
    now: number,
  ): Reply {
    const feed = tenant.feed;
    const contentType = (): ContentType => {
      const value = query.get('contentType');
      if (!value) throw new GraphError(400, 'AF20001', 'Missing parameter: contentType.');
      if (!(CONTENT_TYPES as readonly string[]).includes(value))
        throw new GraphError(400, 'AF20020', 'The specified content type is not valid.');
      return value as ContentType;
    };
    const root = `${url}${MANAGEMENT_PREFIX}/api/v1.0/${tenant.tenantId}/activity/feed`;
    if (method === 'POST' && operation === 'subscriptions/start') {
      const type = contentType();
      feed.start(type, now);
      return json({ contentType: type, status: 'enabled', webhook: null });
    }
    if (method === 'POST' && operation === 'subscriptions/stop') {
      feed.stop(contentType());
      return { status: 200 };
    }
    if (method === 'GET' && operation === 'subscriptions/list')
      return json([...feed.started.keys()].map((type) => ({ contentType: type, status: 'enabled', webhook: null })));
    if (method === 'GET' && operation === 'subscriptions/content') {
      const type = contentType();
      if (!feed.started.has(type)) throw new GraphError(400, 'AF20022', 'No subscription found for the specified content type.');
      const start = query.get('startTime');
      const end = query.get('endTime');
      if ((start === null) !== (end === null))
        throw new GraphError(
          400,
          'AF20030',
          'Start time and end time must both be specified (or both omitted) and must be less than or equal to 24 hours apart, with the start time no more than 7 days in the past.',
        );
      const from = start === null ? now - 24 * 3_600_000 : parseFeedTime(start);
      const to = end === null ? now : parseFeedTime(end);
      if (from === null || to === null)
        throw new GraphError(400, 'AF20002', `Invalid parameter type: ${from === null ? 'startTime' : 'endTime'}. Expected type: datetime`);
      if (to <= from || to - from > 24 * 3_600_000 || from < now - 7 * 24 * 3_600_000)
        throw new GraphError(
          400,
          'AF20030',
          'Start time and end time must both be specified (or both omitted) and must be less than or equal to 24 hours apart, with the start time no more than 7 days in the past.',
        );
      const blobs = feed.blobs(type, from, to, now);
      const offset = query.get('nextPage') === null ? 0 : Number(query.get('nextPage'));
      if (!Number.isInteger(offset) || offset < 0 || offset > blobs.length)
        throw new GraphError(400, 'AF20031', `Invalid nextPage Input: ${query.get('nextPage')}.`);
      const size = tenant.spec.maxPageSize;
      const slice = blobs.slice(offset, offset + size);
      const headers: Record<string, string> = {};
      if (offset + size < blobs.length) {
        // The same startTime and endTime (set to the 24 hours before the request when omitted), and the next page's id.
        const next = new URLSearchParams({
          contentType: type,
          startTime: new Date(from).toISOString().slice(0, 19),
          endTime: new Date(to).toISOString().slice(0, 19),
          nextPage: String(offset + size),
        });
        headers.NextPageUri = `${root}/subscriptions/content?${next.toString()}`;
      }
      return {
        status: 200,
        headers,
        json: slice.map((blob) => ({
          contentType: blob.contentType,
          contentId: blob.contentId,
          contentUri: `${root}/audit/${blob.contentId}`,
          contentCreated: new Date(blob.contentCreated).toISOString(),
          contentExpiration: new Date(blob.contentExpiration).toISOString(),
        })),
      };
    }
    if (method === 'GET' && contentId !== undefined) {
      const records = feed.content(decodeURIComponent(contentId), now);
      if (records === 'expired')
        throw new GraphError(
          400,
          'AF20051',
          `Content requested with the key ${contentId} has already expired. Content older than 7 days cannot be retrieved.`,
        );
      if (records === null) throw new GraphError(404, 'AF20050', `The specified content (${contentId}) does not exist.`);
      return json(records);
    }
    throw new GraphError(405, 'AF20001', `Missing parameter: ${method} is not an operation of ${operation}.`);
  }

  // ------------------------------------------------------------------ admin

  async function handleAdmin(req: IncomingMessage, path: string): Promise<Reply> {
    const m = /^\/admin\/tenants\/([^/]+)(\/[a-z-]+)?$/.exec(path);
    if (!m) throw new GraphError(404, 'NotFound', `no admin route ${path}`);
    const tenant = tenantById(m[1]!);
    const action = `${req.method} ${m[2] ?? ''}`;
    let input: Record<string, unknown> = {};
    if (req.method === 'POST' || req.method === 'PATCH') {
      try {
        input = JSON.parse((await readBody(req)).toString('utf8') || '{}') as Record<string, unknown>;
      } catch {
        throw new GraphError(400, 'BadRequest', 'the admin API takes a JSON body');
      }
    }
    switch (action) {
      case 'GET /truth':
        return json(tenant.truth());
      case 'GET /stats':
        return json(tenant.stats());
      case 'PATCH ':
        try {
          tenant.update(input as never);
        } catch (error) {
          if (error instanceof M365SpecError) throw new GraphError(400, 'BadRequest', error.message);
          throw error;
        }
        return json({ updated: true });
      case 'POST /expire-tokens':
        return json({ validAfter: tenant.expireTokens() });
      case 'POST /late-records':
        return json({ ids: tenant.lateRecords(Number(input.count ?? 10), Number(input.lateMs ?? 60_000)) });
      case 'POST /remove':
        tenant.remove(input.kind as never, String(input.id));
        return json({ removed: true });
      case 'POST /change-file':
        tenant.changeFile(String(input.id));
        return json({ changed: true });
      case 'GET /subscriptions':
        return json({ value: tenant.subscriptions() });
      case 'POST /require-reauthorization':
        return json({ subscriptions: tenant.requireReauthorization() });
      case 'POST /drop-subscriptions':
        return json({ dropped: tenant.dropSubscriptions() });
      case 'POST /file-activity':
        return json({ ids: tenant.fileActivity(Number(input.count ?? 10), Number(input.lateMs ?? 0)) });
      default:
        throw new GraphError(404, 'NotFound', `no admin route ${req.method} ${path}`);
    }
  }

  const send = (res: ServerResponse, reply: Reply) => {
    if (reply.json !== undefined) {
      const body = Buffer.from(JSON.stringify(reply.json));
      res.writeHead(reply.status, {
        ...reply.headers,
        'content-type': 'application/json; odata.metadata=minimal; charset=utf-8',
        'content-length': body.length,
      });
      res.end(body);
    } else {
      res.writeHead(reply.status, {
        ...reply.headers,
        ...(reply.bytes ? { 'content-type': reply.contentType ?? 'application/octet-stream', 'content-length': reply.bytes.length } : {}),
      });
      res.end(reply.bytes);
    }
  };

  const handler = (req: IncomingMessage, res: ServerResponse) => {
    const { pathname, searchParams } = new URL(req.url ?? '/', 'http://emulator');
    const route = async (): Promise<Reply> => {
      // The tenant's OpenID Connect metadata, which MSAL reads to find the token endpoint
      // (https://learn.microsoft.com/en-us/entra/identity-platform/v2-protocols-oidc#find-your-apps-openid-configuration-document-uri).
      const metadata = /^\/([^/]+)\/v2\.0\/\.well-known\/openid-configuration$/.exec(pathname);
      if (metadata && req.method === 'GET') {
        const tenantId = metadata[1]!;
        if (!tenants.has(tenantId))
          return { status: 400, json: { error: 'invalid_tenant', error_description: `AADSTS90002: Tenant '${tenantId}' not found.` } };
        return json({
          token_endpoint: `${url}/${tenantId}/oauth2/v2.0/token`,
          token_endpoint_auth_methods_supported: ['client_secret_post', 'private_key_jwt', 'client_secret_basic'],
          jwks_uri: `${url}/${tenantId}/discovery/v2.0/keys`,
          response_modes_supported: ['query', 'fragment', 'form_post'],
          subject_types_supported: ['pairwise'],
          id_token_signing_alg_values_supported: ['RS256'],
          response_types_supported: ['code', 'id_token', 'code id_token', 'id_token token'],
          scopes_supported: ['openid', 'profile', 'email', 'offline_access'],
          issuer: `${url}/${tenantId}/v2.0`,
          authorization_endpoint: `${url}/${tenantId}/oauth2/v2.0/authorize`,
          end_session_endpoint: `${url}/${tenantId}/oauth2/v2.0/logout`,
          tenant_region_scope: 'WW',
        });
      }
      const token = /^\/([^/]+)\/oauth2\/v2\.0\/token$/.exec(pathname);
      if (token && req.method === 'POST') {
        try {
          return json(await issueToken(token[1]!, req));
        } catch (error) {
          if (!(error instanceof GraphError)) throw error;
          return {
            status: error.status,
            json: {
              error: error.code,
              error_description: error.message,
              error_codes: [Number(/AADSTS(\d+)/.exec(error.message)?.[1] ?? 0)],
              timestamp: new Date(clock()).toISOString(),
              trace_id: randomUUID(),
              correlation_id: randomUUID(),
            },
          };
        }
      }
      if (pathname.startsWith('/v1.0/')) return handleGraph(req, pathname.slice('/v1.0'.length), searchParams);
      if (pathname.startsWith(`${MANAGEMENT_PREFIX}/api/`))
        return handleManagement(req, pathname.slice(MANAGEMENT_PREFIX.length), searchParams);
      if (pathname.startsWith('/download/')) {
        const entry = downloads.get(pathname.slice('/download/'.length));
        const item = entry && entry.expires > clock() ? entry.tenant.state.item(entry.itemId) : undefined;
        if (!item)
          return { status: 404, json: { error: { code: 'itemNotFound', message: 'The download URL expired or the item is gone.' } } };
        return { status: 200, bytes: item.content, contentType: item.mimeType || 'application/octet-stream' };
      }
      if (pathname.startsWith('/admin/')) {
        if (!['127.0.0.1', '::1', '::ffff:127.0.0.1'].includes(req.socket.remoteAddress ?? ''))
          throw new GraphError(403, 'Forbidden', 'the admin API answers loopback callers only');
        return handleAdmin(req, pathname);
      }
      throw new GraphError(404, 'NotFound', `no route ${req.method} ${pathname}`);
    };
    route()
      .then((reply) => send(res, reply))
      .catch((error: unknown) => {
        if (!(error instanceof GraphError)) log.error({ err: error }, 'emulator request failed');
        if (!res.headersSent)
          send(
            res,
            errorReply(error instanceof GraphError ? error : new GraphError(500, 'generalException', 'An unexpected error occurred.')),
          );
      });
  };
  const server = options.tls ? https.createServer({ key: options.tls.key, cert: options.tls.cert }, handler) : http.createServer(handler);

  const port = await listen(server, options.port ?? 0, host);
  url = localUrl(host, port, '').replace(/^http:/, options.tls ? 'https:' : 'http:');
  return {
    url,
    authorityHost: url,
    graphEndpoint: url,
    managementEndpoint: `${url}${MANAGEMENT_PREFIX}`,
    tenant: (id) => tenantById(id),
    async stop() {
      for (const controller of inFlight) controller.abort();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY) throw new GraphError(413, 'requestTooLarge', `The request body is over ${MAX_BODY} bytes.`);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

export { GRAPH_PERMISSIONS };
