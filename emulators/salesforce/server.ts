import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import https from 'node:https';
import { listen } from '../../platform/http.js';
import { logger } from '../../platform/logger.js';
import { clientCredentials, jwtBearer, type Session, type TokenAnswer } from './auth.js';
import { composite } from './composite.js';
import { orgControl, type SalesforceOrgControl } from './control.js';
import { ApiError, OAuthError, badJson, invalidSession, notFound } from './errors.js';
import { canonicalId } from './ids.js';
import { OutboundMessages } from './outbound.js';
import { dispatch, type RestRequest } from './rest.js';
import { Org } from './runtime.js';
import { resolveOrgSpec, SalesforceSpecError, type SalesforceOrgSpec } from './spec.js';
import type { Reply } from './sobjects.js';

const log = logger.child({ component: 'salesforce-emulator' });
const MAX_BODY = 50_000_000;

export interface SalesforceEmulatorOptions {
  readonly port?: number;
  readonly host?: string;
  readonly orgs: readonly SalesforceOrgSpec[];
  readonly clock?: () => number;
  /** Serve HTTPS with this key and certificate (Salesforce is HTTPS only). */
  readonly tls?: { readonly key: string; readonly cert: string };
  /** REST API versions served (default 60.0, 61.0, 62.0). */
  readonly apiVersions?: readonly string[];
}

export interface SalesforceEmulator {
  /** The origin every org is served under. */
  readonly url: string;
  /** Stands in for https://login.salesforce.com: its token endpoint serves every org (the JWT's `iss` finds the app). */
  readonly loginUrl: string;
  /** An org by its 15- or 18-character id: its My Domain URL is `${url}/orgs/<18-character id>`. */
  org(organizationId: string): SalesforceOrgControl;
  readonly orgs: readonly SalesforceOrgControl[];
  stop(): Promise<void>;
}

interface Served {
  readonly org: Org;
  readonly control: SalesforceOrgControl;
  readonly outbound: OutboundMessages;
}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY) throw new ApiError(413, 'REQUEST_ENTITY_TOO_LARGE', `The request body is over ${MAX_BODY} bytes`);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

function send(res: ServerResponse, reply: Reply, headers: Record<string, string> = {}): void {
  if (reply.body) {
    res.writeHead(reply.status, { 'content-type': reply.contentType ?? 'application/octet-stream', ...headers });
    res.end(reply.body);
    return;
  }
  if (reply.json === undefined) {
    res.writeHead(reply.status, headers);
    res.end();
    return;
  }
  res.writeHead(reply.status, { 'content-type': 'application/json;charset=UTF-8', ...headers });
  res.end(JSON.stringify(reply.json));
}

/**
 * Starts the emulator: every org on one loopback origin under `/orgs/<orgId>` (its My Domain URL, both
 * login and instance URL), and a generic login URL (the origin) that issues JWT bearer tokens for any org.
 * Throws {@link SalesforceSpecError} for a bad org spec.
 */
export async function startSalesforceEmulator(options: SalesforceEmulatorOptions): Promise<SalesforceEmulator> {
  const clock = options.clock ?? Date.now;
  const versions = options.apiVersions ?? ['60.0', '61.0', '62.0'];
  const specs = options.orgs.map((o) => resolveOrgSpec(o));
  const ids = specs.map((s) => canonicalId(s.organizationId)!);
  if (new Set(ids).size !== ids.length) throw new SalesforceSpecError('orgs: two orgs have the same organizationId');
  const served = new Map<string, Served>();
  const handler = (req: IncomingMessage, res: ServerResponse) => {
    handle(req, res).catch((error: unknown) => {
      log.error({ err: error, url: req.url }, 'emulator request failed');
      if (!res.headersSent) send(res, { status: 500, json: [{ message: 'An unexpected error occurred', errorCode: 'UNKNOWN_EXCEPTION' }] });
      else res.destroy();
    });
  };
  const server = options.tls ? https.createServer({ key: options.tls.key, cert: options.tls.cert }, handler) : http.createServer(handler);
  const host = options.host ?? '127.0.0.1';
  const port = await listen(server, options.port ?? 0, host);
  const url = `${options.tls ? 'https' : 'http'}://${host.includes(':') ? `[${host}]` : host}:${port}`;
  const now = clock();
  for (const [k, spec] of specs.entries()) {
    const org = new Org(spec, `${url}/orgs/${ids[k]}`, now);
    const outbound = new OutboundMessages(org.organizationId, org.instanceUrl, () => spec.outboundRetryMs, clock);
    served.set(org.organizationId, { org, outbound, control: orgControl(org, outbound, clock) });
  }

  function tokenEndpoint(form: URLSearchParams, target: Served | null, base: string): TokenAnswer {
    const grant = form.get('grant_type');
    const now = clock();
    if (grant === 'urn:ietf:params:oauth:grant-type:jwt-bearer') {
      const issuers = target ? [target.org] : [...served.values()].map((s) => s.org);
      return jwtBearer(
        form.get('assertion') ?? '',
        issuers.map((o) => o.issuer()),
        [url, ...(target ? [target.org.instanceUrl] : [])],
        base,
        now,
      );
    }
    if (grant === 'client_credentials') {
      // Only on the org's My Domain URL (https://help.salesforce.com/s/articleView?id=sf.remoteaccess_oauth_client_credentials_flow.htm).
      if (!target) throw new OAuthError(400, 'invalid_grant', 'request not supported on this domain');
      return clientCredentials(form.get('client_id') ?? '', form.get('client_secret') ?? '', target.org.issuer(), now);
    }
    throw new OAuthError(400, 'unsupported_grant_type', 'grant type not supported');
  }

  /** The session a Bearer token opened in any org (identity endpoints on the generic login URL). */
  function anySession(authorization: string | undefined, target: Served | null): { served: Served; session: Session } {
    const candidates = target ? [target] : [...served.values()];
    for (const s of candidates) {
      try {
        return { served: s, session: s.org.authenticate(authorization, clock()) };
      } catch {
        // Not this org's.
      }
    }
    throw invalidSession();
  }

  function identity(s: Served, session: Session, base: string) {
    const user = s.org.state.table('User').get(session.userId)!;
    const version = versions.at(-1)!;
    return {
      id: `${base}/id/${s.org.organizationId}/${user.Id}`,
      sub: `${base}/id/${s.org.organizationId}/${user.Id}`,
      user_id: user.Id,
      organization_id: s.org.organizationId,
      preferred_username: user.Username,
      username: user.Username,
      nickname: user.Alias,
      name: user.Name,
      display_name: user.Name,
      email: user.Email,
      email_verified: true,
      active: user.IsActive === true,
      user_type: 'STANDARD',
      urls: {
        rest: `${s.org.instanceUrl}/services/data/v${version}/`,
        sobjects: `${s.org.instanceUrl}/services/data/v${version}/sobjects/`,
        query: `${s.org.instanceUrl}/services/data/v${version}/query/`,
        limits: `${s.org.instanceUrl}/services/data/v${version}/limits/`,
      },
    };
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const parsed = new URL(req.url ?? '/', url);
    const method = req.method ?? 'GET';
    let path = parsed.pathname;
    let target: Served | null = null;
    const orgMatch = /^\/orgs\/([^/]+)(\/.*)?$/.exec(path);
    if (orgMatch) {
      const id = canonicalId(orgMatch[1]!);
      target = (id && served.get(id)) || null;
      if (!target) return send(res, { status: 404, json: notFound().body() });
      path = orgMatch[2] ?? '/';
    }
    const base = target ? target.org.instanceUrl : url;

    if (path === '/services/oauth2/token') {
      if (method !== 'POST') return send(res, { status: 405, json: { error: 'invalid_request', error_description: 'must use HTTP POST' } });
      const form = new URLSearchParams((await readBody(req)).toString('utf8'));
      for (const [k, v] of parsed.searchParams) if (!form.has(k)) form.set(k, v);
      const basic = /^Basic\s+(\S+)$/i.exec(req.headers.authorization ?? '');
      if (basic) {
        const [clientId, secret] = Buffer.from(basic[1]!, 'base64').toString('utf8').split(':');
        if (clientId && !form.has('client_id')) form.set('client_id', decodeURIComponent(clientId));
        if (secret && !form.has('client_secret')) form.set('client_secret', decodeURIComponent(secret));
      }
      const orgs = target ? [target] : [...served.values()];
      try {
        const answer = tokenEndpoint(form, target, base);
        const owner = orgs.find((s) => s.org.organizationId === answer.session.organizationId);
        if (owner) owner.org.stats.tokensIssued++;
        return send(res, { status: 200, json: answer.body });
      } catch (error) {
        if (!(error instanceof OAuthError)) throw error;
        for (const s of orgs) s.org.stats.tokensRefused++;
        return send(res, { status: error.status, json: { error: error.error, error_description: error.description } });
      }
    }
    if (path === '/services/oauth2/revoke' && method === 'POST') {
      const token = new URLSearchParams((await readBody(req)).toString('utf8')).get('token') ?? parsed.searchParams.get('token') ?? '';
      const owner = [...served.values()].find((s) => s.org.sessions.has(token));
      if (!owner)
        return send(res, { status: 400, json: { error: 'unsupported_token_type', error_description: 'this token type is not supported' } });
      owner.org.sessions.delete(token);
      return send(res, { status: 200 });
    }
    if (path === '/services/oauth2/userinfo' || /^\/id\/[^/]+\/[^/]+$/.test(path)) {
      try {
        const { served: s, session } = anySession(req.headers.authorization, target);
        return send(res, { status: 200, json: identity(s, session, base) });
      } catch (error) {
        if (error instanceof ApiError) return send(res, { status: 403, json: 'Bad_OAuth_Token' });
        throw error;
      }
    }
    if (!target) return send(res, { status: 404, json: notFound().body() });
    if (path === '/services/data' || path === '/services/data/') {
      // The Versions resource needs no session and does not count (https://developer.salesforce.com/docs/atlas.en-us.api_rest.meta/api_rest/resources_versions.htm).
      const labels: Record<string, string> = { '60.0': "Spring '24", '61.0': "Summer '24", '62.0': "Winter '25", '63.0': "Spring '25" };
      return send(res, {
        status: 200,
        json: versions.map((v) => ({ label: labels[v] ?? `v${v}`, url: `/services/data/v${v}`, version: v })),
      });
    }
    const rest = /^\/services\/data\/v(\d+\.\d)(\/.*)?$/.exec(path);
    if (!rest) return send(res, { status: 404, json: notFound().body() });
    return serveRest(req, res, target, rest[1]!, rest[2] ?? '/', parsed.searchParams);
  }

  async function serveRest(
    req: IncomingMessage,
    res: ServerResponse,
    target: Served,
    version: string,
    path: string,
    query: URLSearchParams,
  ): Promise<void> {
    const { org } = target;
    const now = clock();
    org.stats.requests++;
    const usage = () => ({ 'sforce-limit-info': `api-usage=${org.quota.used(clock())}/${org.quota.max}` });
    const fail = (error: ApiError, extra: Record<string, string> = {}) => {
      org.count(error.status);
      send(res, { status: error.status, json: error.body() }, { ...usage(), ...extra });
    };
    if (!versions.includes(version)) return fail(notFound());
    let session: Session;
    try {
      session = org.authenticate(req.headers.authorization, now);
    } catch (error) {
      if (error instanceof ApiError) return fail(error, { 'www-authenticate': 'Token' });
      throw error;
    }
    // The daily allocation, then the concurrent long-running limit (https://developer.salesforce.com/docs/atlas.en-us.salesforce_app_limits_cheatsheet.meta/salesforce_app_limits_cheatsheet/salesforce_app_limits_platform_api.htm).
    if (org.quota.used(now) >= org.quota.max) {
      org.stats.limitExceeded++;
      return fail(new ApiError(403, 'REQUEST_LIMIT_EXCEEDED', 'TotalRequests Limit exceeded.'));
    }
    const settings = org.settings;
    if (
      settings.longRunningRequests >= settings.concurrentLongRunningLimit ||
      (settings.throttleRate > 0 && Math.random() < settings.throttleRate)
    ) {
      org.stats.throttled++;
      return fail(new ApiError(403, 'REQUEST_LIMIT_EXCEEDED', 'ConcurrentPerOrgLongTxn Limit exceeded.'));
    }
    org.quota.spend(1, now);
    let reply: Reply;
    try {
      const raw = req.method === 'GET' || req.method === 'DELETE' || req.method === 'HEAD' ? Buffer.alloc(0) : await readBody(req);
      let body: unknown = undefined;
      if (raw.length) {
        try {
          body = JSON.parse(raw.toString('utf8'));
        } catch (error) {
          throw badJson(`Unexpected character in the request body: ${(error as Error).message}`);
        }
      }
      const restRequest: RestRequest = {
        org,
        userId: session.userId,
        now,
        version,
        method: req.method ?? 'GET',
        path,
        query,
        headers: Object.fromEntries(Object.entries(req.headers).map(([k, v]) => [k, Array.isArray(v) ? v.join(',') : v])),
        body,
        onNewVersion: (row) => {
          if (settings.outboundMessageUrl) target.outbound.send(settings.outboundMessageUrl, row);
        },
      };
      reply = path.replace(/\/$/, '') === '/composite' && req.method === 'POST' ? composite(restRequest, versions) : dispatch(restRequest);
    } catch (error) {
      if (!(error instanceof ApiError)) throw error;
      return fail(error);
    }
    org.count(reply.status);
    send(res, reply, usage());
  }

  const controls = [...served.values()].map((s) => s.control);
  return {
    url,
    loginUrl: url,
    orgs: controls,
    org(organizationId) {
      const s = served.get(canonicalId(organizationId) ?? '');
      if (!s) throw new Error(`no emulated org ${organizationId}`);
      return s.control;
    },
    async stop() {
      for (const s of served.values()) s.outbound.stop();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}
