import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import { listen, localUrl } from '../../platform/http.js';
import { logger } from '../../platform/logger.js';
import { adminRoutes, unknownTenant, type AdminContext } from './admin-routes.js';
import { ApiError } from './api-error.js';
import { apiRoutes, type ApiContext } from './api-routes.js';
import { AccessTokens, oauthErrorReply } from './oauth.js';
import { decideFault } from './faults.js';
import { errorReply, matchRoute, noRoute, readJsonBody, sendReply, type Reply, type Route } from './router.js';
import { resolveTenantSpec, SpecError, type TenantSpec } from './spec.js';
import { Tenant, type TenantControl } from './tenant.js';

const log = logger.child({ component: 'simulator' });

export interface SimulatorOptions {
  /** Port to listen on (default 0: a free one). */
  readonly port?: number;
  /** Interface to bind (default 127.0.0.1; the admin API only answers loopback callers anyway). */
  readonly host?: string;
  readonly tenants: readonly TenantSpec[];
  /** Time source in epoch ms (default Date.now); tests pass a manual clock to move time without sleeping. */
  readonly clock?: () => number;
}

/** A running simulated provider. */
export interface Simulator {
  /** Base URL (`http://127.0.0.1:<port>`): the endpoint of every tenant; the token picks the tenant. */
  readonly url: string;
  /** Control of a tenant; throws for an unknown id. */
  tenant(id: string): TenantControl;
  tenants(): readonly TenantControl[];
  /** Adds a tenant while running; throws a SpecError for a bad spec or a taken id or token. */
  addTenant(spec: TenantSpec): TenantControl;
  /** Closes the server, its sockets, timers and webhook deliveries. */
  stop(): Promise<void>;
}

const LOOPBACK = new Set(['127.0.0.1', '::1', '::ffff:127.0.0.1']);
const WRITE_METHODS = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/** Starts the simulator with `options.tenants`. Throws a SpecError for a bad spec, or the listen error. */
export async function startSimulator(options: SimulatorOptions): Promise<Simulator> {
  const clock = options.clock ?? Date.now;
  const host = options.host ?? '127.0.0.1';
  const byId = new Map<string, Tenant>();
  const byToken = new Map<string, Tenant>();
  const delays = new Set<NodeJS.Timeout>();
  const accessTokens = new AccessTokens(() => byId.values());
  let url = '';

  const addTenant = (input: unknown): Tenant => {
    const spec = resolveTenantSpec(input);
    if (byId.has(spec.id)) throw new SpecError(`tenant.id: ${spec.id} is already hosted`);
    if (byToken.has(spec.token)) throw new SpecError('tenant.token: already used by another tenant');
    if (spec.oauth && [...byId.values()].some((t) => t.state.spec.oauth?.clientId === spec.oauth!.clientId)) {
      throw new SpecError('tenant.oauth.clientId: already used by another tenant');
    }
    const tenant = new Tenant(spec, clock);
    byId.set(spec.id, tenant);
    byToken.set(spec.token, tenant);
    return tenant;
  };
  const tenantById = (id: string): Tenant => {
    const tenant = byId.get(id);
    if (!tenant) throw unknownTenant(id);
    return tenant;
  };
  const delay = (ms: number) =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        delays.delete(timer);
        resolve();
      }, ms);
      delays.add(timer);
    });

  async function run<C>(
    route: Route<C>,
    params: Record<string, string>,
    req: IncomingMessage,
    query: URLSearchParams,
    context: C,
  ): Promise<Reply> {
    const body = WRITE_METHODS.has(req.method ?? '') ? await readJsonBody(req) : undefined;
    return route.handle({ method: req.method ?? 'GET', path: route.pattern, params, query, headers: req.headers, body }, context);
  }

  async function handleApi(req: IncomingMessage, res: ServerResponse, path: string, query: URLSearchParams): Promise<void> {
    const method = req.method ?? 'GET';
    const bearer = /^Bearer\s+(\S+)\s*$/i.exec(req.headers.authorization ?? '')?.[1];
    const issued = bearer ? accessTokens.lookup(bearer, clock()) : undefined;
    const tenant = bearer ? (byToken.get(bearer) ?? (issued && 'tenant' in issued ? issued.tenant : undefined)) : undefined;
    if (!tenant) {
      const message = !bearer
        ? 'missing Authorization: Bearer <token>'
        : issued && 'expired' in issued
          ? 'the access token expired'
          : 'the token is not valid for any tenant';
      sendReply(res, { status: 401, json: { error: 'invalid_token', message } }, { 'www-authenticate': 'Bearer error="invalid_token"' });
      return;
    }
    const match = matchRoute(apiRoutes, method, path);
    const found = match && 'route' in match ? match : null;
    const key = found ? `${method} ${found.route.pattern}` : `${method} (no route)`;
    const governance = found?.route.meta.governance === true;
    tenant.requests.start();
    const rate = tenant.takeToken();
    const headers = {
      'x-ratelimit-limit': String(rate.limit),
      'x-ratelimit-remaining': String(rate.remaining),
      'x-ratelimit-reset': String(rate.resetAt),
    };
    let reply: Reply;
    try {
      if (!rate.allowed) {
        throw new ApiError(429, 'rate_limited', `over ${rate.limit} requests per minute: retry after ${rate.retryAfterSeconds} s`, {
          'retry-after': String(rate.retryAfterSeconds),
        });
      }
      // A drop may come before or after the handler ran, as on a real network: the caller cannot tell.
      const fault = decideFault(tenant.state.spec.faults);
      const dropAfter = fault.kind === 'drop' && Math.random() < 0.5;
      if (fault.kind === 'drop' && !dropAfter) {
        tenant.requests.record(key, 'dropped', governance);
        req.socket.destroy();
        return;
      }
      if (fault.kind === 'error') throw new ApiError(503, 'unavailable', 'the service is temporarily unavailable, try again');
      if (fault.kind === 'throttle')
        throw new ApiError(429, 'rate_limited', 'the organisation is over its request limit: retry after 1 s', { 'retry-after': '1' });
      if (fault.kind === 'slow') await delay(fault.ms);
      if (!found) throw noRoute(match, method, path);
      const permission = found.route.meta.permission;
      if (typeof permission === 'string' && !tenant.state.spec.permissions.includes(permission as never)) {
        throw new ApiError(403, 'insufficient_scope', `this token lacks the ${permission} permission`);
      }
      const scripted = governance ? tenant.takeGovernanceFault() : undefined;
      if (scripted && 'status' in scripted) {
        throw new ApiError(
          scripted.status,
          scripted.status >= 500 ? 'unavailable' : 'scripted_fault',
          scripted.message ?? 'the service is temporarily unavailable, try again',
        );
      }
      reply = await run(found.route, found.params, req, query, { tenant, now: clock() } satisfies ApiContext);
      if (scripted) await delay(scripted.holdMs);
      if (dropAfter) {
        tenant.requests.record(key, 'dropped', governance);
        req.socket.destroy();
        return;
      }
    } catch (error) {
      reply = errorReply(error);
      if (reply.status === 500) log.error({ err: error, path }, 'simulator route failed');
    }
    sendReply(res, reply, headers);
    tenant.requests.record(key, reply.status, governance);
  }

  async function handleToken(req: IncomingMessage, res: ServerResponse): Promise<void> {
    let reply: Reply;
    try {
      reply = await accessTokens.grant(req, clock());
    } catch (error) {
      reply = oauthErrorReply(error) ?? errorReply(error);
    }
    sendReply(res, reply);
  }

  const admin: AdminContext = {
    tenant: tenantById,
    expireTokens: (id) => accessTokens.expireAll(tenantById(id)),
    tenants: () => [...byId.values()],
    addTenant,
    get url() {
      return url;
    },
  };

  async function handleAdmin(req: IncomingMessage, res: ServerResponse, path: string, query: URLSearchParams): Promise<void> {
    let reply: Reply;
    try {
      if (!LOOPBACK.has(req.socket.remoteAddress ?? ''))
        throw new ApiError(403, 'forbidden', 'the admin API only answers loopback callers');
      const method = req.method ?? 'GET';
      const match = matchRoute(adminRoutes, method, path);
      if (!match || !('route' in match)) throw noRoute(match, method, path);
      reply = await run(match.route, match.params, req, query, admin);
    } catch (error) {
      reply = errorReply(error instanceof SpecError ? new ApiError(400, 'invalid_request', error.message) : error);
      if (reply.status === 500) log.error({ err: error, path }, 'simulator admin route failed');
    }
    sendReply(res, reply);
  }

  const server = http.createServer((req, res) => {
    const { pathname, searchParams } = new URL(req.url ?? '/', 'http://simulator');
    const handler =
      pathname === '/oauth/token'
        ? (request: IncomingMessage, response: ServerResponse) => handleToken(request, response)
        : pathname.startsWith('/api/')
          ? handleApi
          : pathname.startsWith('/admin/')
            ? handleAdmin
            : null;
    if (!handler) {
      sendReply(res, errorReply(new ApiError(404, 'not_found', `no route ${req.method} ${pathname}`)));
      return;
    }
    handler(req, res, pathname, searchParams).catch((error: unknown) => {
      log.error({ err: error }, 'simulator request failed');
      if (!res.headersSent) sendReply(res, errorReply(error));
    });
  });

  try {
    for (const spec of options.tenants) addTenant(spec);
    const port = await listen(server, options.port ?? 0, host);
    url = localUrl(host, port, '');
  } catch (error) {
    for (const tenant of byId.values()) tenant.close();
    throw error;
  }

  return {
    url,
    tenant: tenantById,
    tenants: () => [...byId.values()],
    addTenant: (spec) => addTenant(spec),
    async stop() {
      for (const tenant of byId.values()) tenant.close();
      for (const timer of delays) clearTimeout(timer);
      delays.clear();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}
