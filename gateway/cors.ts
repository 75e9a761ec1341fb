import type { IncomingMessage } from 'node:http';
import cors from 'cors';
import type { RequestHandler } from 'express';
import type { Config } from '../platform/config.js';

/** The request headers a browser client of the graph sends (Apollo Client's CSRF-prevention header among them). */
const ALLOWED_HEADERS = [
  'authorization',
  'content-type',
  'apollo-require-preflight',
  'x-apollo-operation-name',
  // Request ids and W3C trace context (platform/tracing.ts).
  'x-request-id',
  'traceparent',
  'tracestate',
];

/**
 * CORS for `/graphql` (the `cors` package): a browser page of an origin in CORS_ORIGINS may call the
 * graph with GET and POST and its token in `Authorization` (no cookies: Tenantwatch authenticates with
 * bearer tokens only, so credentials are not allowed); other origins get no CORS headers, so their
 * browsers refuse the answer. Preflights are cached for 10 minutes.
 */
export function corsMiddleware(config: Config): RequestHandler {
  const allowed = new Set(config.CORS_ORIGINS ?? []);
  return cors({
    origin: (origin, callback) => callback(null, origin !== undefined && allowed.has(origin)),
    methods: ['GET', 'POST'],
    allowedHeaders: ALLOWED_HEADERS,
    exposedHeaders: ['x-request-id'],
    maxAge: 600,
  });
}

/**
 * Whether a websocket upgrade may proceed: browsers always send `Origin`, so one that is neither
 * in CORS_ORIGINS nor the gateway's own address (a page it serves) is refused — a page elsewhere
 * must not open subscriptions with a token it got hold of. Clients that send no Origin (servers,
 * SOC tooling) are not browsers and pass.
 */
export function websocketOriginAllowed(config: Config, request: IncomingMessage): boolean {
  const origin = request.headers.origin;
  if (origin === undefined) return true;
  if ((config.CORS_ORIGINS ?? []).includes(origin)) return true;
  try {
    return new URL(origin).host === request.headers.host;
  } catch {
    return false;
  }
}
