import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import https from 'node:https';
import { listen, localUrl } from '../../platform/http.js';
import { logger } from '../../platform/logger.js';
import { adminApi } from './admin-api.js';
import { OAuthError, TokenService, type AccessToken } from './auth.js';
import { Customer, type GoogleCustomerControl } from './customer.js';
import { directoryRoutes } from './directory.js';
import { driveRoutes } from './drive.js';
import { badRequest, GoogleError, insufficientScopes, internalError, invalidCredentials, notAuthorized } from './errors.js';
import { applyFields } from './fields.js';
import { isRateLimit } from './limits.js';
import { reportsRoutes } from './reports.js';
import { PageTokens, type Reply, type Route } from './routes.js';
import { GoogleSpecError, resolveCustomerSpec, type CustomerSpec } from './spec.js';

const log = logger.child({ component: 'google-emulator' });
const MAX_BODY = 20 * 1024 * 1024;
/** Where each API is served from at Google, for scope errors' `service` metadata. */
const SERVICE = { directory: 'admin.googleapis.com', reports: 'admin.googleapis.com', drive: 'drive.googleapis.com' } as const;

export interface GoogleEmulatorOptions {
  readonly port?: number;
  readonly host?: string;
  readonly customers: readonly CustomerSpec[];
  readonly clock?: () => number;
  /** Serve HTTPS with this key and certificate (Google's endpoints are HTTPS only). */
  readonly tls?: { readonly key: string; readonly cert: string };
  /**
   * Accept `http://` webhook addresses for changes.watch (Drive requires HTTPS: "WebHook callback must
   * be HTTPS"). Off by default; tests and the local demo turn it on for their loopback receivers.
   */
  readonly allowHttpWebhooks?: boolean;
  /** The random source of throttling decisions (tests may fix it). */
  readonly random?: () => number;
}

export interface GoogleEmulator {
  /** Base URL of every API (in place of https://oauth2.googleapis.com, https://admin.googleapis.com and https://www.googleapis.com). */
  readonly url: string;
  /** The token endpoint (`${url}/token`), in place of https://oauth2.googleapis.com/token. */
  readonly tokenUrl: string;
  /** The `rootUrl` for the googleapis clients (`${url}/`). */
  readonly rootUrl: string;
  customer(customerId: string): GoogleCustomerControl;
  stop(): Promise<void>;
}

/** Starts the emulator. Throws a GoogleSpecError for a bad customer spec. */
export async function startGoogleEmulator(options: GoogleEmulatorOptions): Promise<GoogleEmulator> {
  const clock = options.clock ?? Date.now;
  const random = options.random ?? Math.random;
  const host = options.host ?? '127.0.0.1';
  const customers = new Map<string, Customer>();
  const inFlight = new Set<AbortController>();
  let url = '';

  /** A push notification: a POST without a body carrying the X-Goog-* headers (https://developers.google.com/drive/api/guides/push). */
  const deliver = (address: string, headers: Record<string, string>) => {
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), 10_000);
    inFlight.add(controller);
    fetch(address, { method: 'POST', headers, signal: controller.signal })
      .then((r) => r.body?.cancel())
      .catch(() => undefined)
      .finally(() => {
        clearTimeout(timer);
        inFlight.delete(controller);
      });
  };

  for (const input of options.customers) {
    const spec = resolveCustomerSpec(input);
    if (customers.has(spec.customerId)) throw new GoogleSpecError(`customer.customerId: ${spec.customerId} is already hosted`);
    if ([...customers.values()].some((c) => c.domain === spec.domain))
      throw new GoogleSpecError(`customer.domain: ${spec.domain} is already hosted`);
    customers.set(spec.customerId, new Customer(spec, clock, deliver));
  }
  const customerById = (id: string): Customer => {
    const customer = customers.get(id);
    if (!customer) throw new GoogleError(404, 'notFound', `customer ${id} is not hosted`);
    return customer;
  };

  const tokens = new TokenService(() => customers.values(), clock);
  const pages = new PageTokens();
  const routes: Route[] = [
    ...directoryRoutes(pages),
    ...reportsRoutes(pages),
    ...driveRoutes(pages, { allowHttpWebhooks: options.allowHttpWebhooks ?? false }),
  ];

  const authenticate = (req: IncomingMessage, query: URLSearchParams): AccessToken => {
    const value = /^Bearer\s+(\S+)$/i.exec(req.headers.authorization ?? '')?.[1] ?? query.get('access_token');
    const token = value ? tokens.lookup(value, (id) => customers.get(id)?.generation) : undefined;
    if (!token) throw invalidCredentials();
    const user = token.userId ? customers.get(token.customerId)?.state.usersById.get(token.userId) : undefined;
    // A deleted or suspended user's tokens are revoked with their sessions.
    if (token.userId && (!user || user.deleted || user.suspended)) throw invalidCredentials();
    return token;
  };

  async function handleApi(req: IncomingMessage, path: string, query: URLSearchParams): Promise<Reply> {
    const method = req.method ?? 'GET';
    try {
      decodeURIComponent(path);
    } catch {
      throw badRequest('Invalid request path.');
    }
    let params: string[] = [];
    const route = routes.find((r) => {
      if (r.method !== method) return false;
      const m = r.pattern.exec(path);
      if (m) params = m.slice(1);
      return m !== null;
    });
    if (!route) throw new GoogleError(404, 'notFound', `Not Found: ${method} ${path}`);
    const token = authenticate(req, query);
    const customer = customerById(token.customerId);
    const user = token.userId ? (customer.state.usersById.get(token.userId) ?? null) : null;
    const now = clock();
    let reply: Reply;
    let rateLimited = false;
    let body: Promise<Buffer> | undefined;
    try {
      customer.quotas.take(route.api, token.clientEmail.split('@')[1] ?? token.clientId, token.userId ?? token.clientId, now, random);
      if (!route.scopes.some((s) => token.scopes.includes(s))) throw insufficientScopes(SERVICE[route.api], route.name, route.scopes);
      if (route.privilege && !(user?.isAdmin || (user && customer.state.privileges(user).has(route.privilege)))) throw notAuthorized();
      reply = await route.handle({ customer, token, user, params, query, req, body: () => (body ??= readBody(req)), now, baseUrl: url });
      if (reply.json !== undefined && query.get('alt') !== 'media')
        reply = { ...reply, json: applyFields(reply.json, query.get('fields'), route.defaultFields) };
    } catch (error) {
      if (!(error instanceof GoogleError)) log.error({ err: error, path }, 'emulator route failed');
      const failure = error instanceof GoogleError ? error : internalError();
      rateLimited = isRateLimit(failure);
      reply = errorReply(failure);
    }
    customer.count(`${route.api} ${route.name}`, reply.status, rateLimited);
    return reply;
  }

  async function handleToken(req: IncomingMessage): Promise<Reply> {
    const form = new URLSearchParams((await readBody(req)).toString('utf8'));
    try {
      return { status: 200, json: tokens.issue(form, `${url}/token`) };
    } catch (error) {
      if (!(error instanceof OAuthError)) throw error;
      return { status: error.status, json: { error: error.error, error_description: error.description } };
    }
  }

  /** The token information endpoint (https://developers.google.com/identity/protocols/oauth2/javascript-implicit-flow#tokeninfo-validation). */
  async function handleTokenInfo(req: IncomingMessage, query: URLSearchParams): Promise<Reply> {
    const form = req.method === 'POST' ? new URLSearchParams((await readBody(req)).toString('utf8')) : query;
    const value = form.get('access_token') ?? '';
    const token = tokens.lookup(value, (id) => customers.get(id)?.generation);
    if (!token) return { status: 400, json: { error: 'invalid_token', error_description: 'Invalid Value' } };
    const expiresIn = Math.max(0, Math.floor((token.expiresAt - clock()) / 1000));
    return {
      status: 200,
      json: {
        azp: token.clientId,
        aud: token.clientId,
        ...(token.userId ? { sub: token.userId } : {}),
        scope: token.scopes.join(' '),
        exp: String(Math.floor(token.expiresAt / 1000)),
        expires_in: String(expiresIn),
        email: token.email,
        email_verified: 'true',
        access_type: 'online',
      },
    };
  }

  const send = (res: ServerResponse, reply: Reply) => {
    if (reply.json !== undefined) {
      const body = Buffer.from(JSON.stringify(reply.json));
      res.writeHead(reply.status, { ...reply.headers, 'content-type': 'application/json; charset=UTF-8', 'content-length': body.length });
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
      if ((pathname === '/token' || pathname === '/oauth2/v4/token') && req.method === 'POST') return handleToken(req);
      if (pathname === '/tokeninfo' || pathname === '/oauth2/v3/tokeninfo') return handleTokenInfo(req, searchParams);
      if (pathname.startsWith('/admin/customers/')) {
        if (!['127.0.0.1', '::1', '::ffff:127.0.0.1'].includes(req.socket.remoteAddress ?? ''))
          throw new GoogleError(403, 'forbidden', 'the admin API answers loopback callers only');
        const input = req.method === 'POST' || req.method === 'PATCH' ? (await readBody(req)).toString('utf8') : '';
        return adminApi(req.method ?? 'GET', pathname, input, customerById);
      }
      return handleApi(req, pathname, searchParams);
    };
    route()
      .then((reply) => send(res, reply))
      .catch((error: unknown) => {
        if (!(error instanceof GoogleError)) log.error({ err: error }, 'emulator request failed');
        if (!res.headersSent) send(res, errorReply(error instanceof GoogleError ? error : internalError()));
      });
  };
  const server = options.tls ? https.createServer({ key: options.tls.key, cert: options.tls.cert }, handler) : http.createServer(handler);
  const port = await listen(server, options.port ?? 0, host);
  url = localUrl(host, port, '').replace(/^http:/, options.tls ? 'https:' : 'http:');
  return {
    url,
    tokenUrl: `${url}/token`,
    rootUrl: `${url}/`,
    customer: (id) => customerById(id),
    async stop() {
      for (const controller of inFlight) controller.abort();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}

function errorReply(error: GoogleError): Reply {
  return { status: error.code, json: error.body(), headers: error.extra.headers };
}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY) throw new GoogleError(413, 'uploadTooLarge', `The request body is over ${MAX_BODY} bytes.`);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}
