import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import { ApiError } from './api-error.js';

/** A tiny router: routes are `METHOD /pattern/:param`, matched in order; handlers answer a {@link Reply}. */

export interface RequestInfo {
  readonly method: string;
  readonly path: string;
  readonly params: Readonly<Record<string, string>>;
  readonly query: URLSearchParams;
  readonly headers: IncomingHttpHeaders;
  /** The parsed JSON body, or undefined when there is none. */
  readonly body: unknown;
}

export type Reply =
  | { readonly status: number; readonly json: unknown; readonly headers?: Readonly<Record<string, string>> }
  | { readonly status: number; readonly bytes: Buffer; readonly contentType: string };

export interface Route<C> {
  readonly method: string;
  readonly pattern: string;
  readonly handle: (request: RequestInfo, context: C) => Reply | Promise<Reply>;
  /** Extra facts the pipeline reads (permission, governance). */
  readonly meta: Readonly<Record<string, string | boolean>>;
  readonly regex: RegExp;
  readonly keys: readonly string[];
}

/** Defines a route; `:name` segments become params. */
export function route<C>(method: string, pattern: string, handle: Route<C>['handle'], meta: Route<C>['meta'] = {}): Route<C> {
  const keys: string[] = [];
  const source = pattern
    .split('/')
    .map((segment) => {
      if (!segment.startsWith(':')) return segment.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
      keys.push(segment.slice(1));
      return '([^/]+)';
    })
    .join('/');
  return { method, pattern, handle, meta, regex: new RegExp(`^${source}/?$`), keys };
}

export type Match<C> =
  { readonly route: Route<C>; readonly params: Record<string, string> } | { readonly allowed: readonly string[] } | null;

/** The route for `method` and `path`; `{ allowed }` when only other methods match (405); null for none (404). */
export function matchRoute<C>(routes: readonly Route<C>[], method: string, path: string): Match<C> {
  const allowed: string[] = [];
  for (const r of routes) {
    const m = r.regex.exec(path);
    if (!m) continue;
    if (r.method !== method) {
      allowed.push(r.method);
      continue;
    }
    const params: Record<string, string> = {};
    r.keys.forEach((key, i) => {
      params[key] = decodeURIComponent(m[i + 1]!);
    });
    return { route: r, params };
  }
  return allowed.length ? { allowed } : null;
}

/** The answer when no route matched. */
export function noRoute<C>(match: Match<C>, method: string, path: string): ApiError {
  if (match && 'allowed' in match)
    return new ApiError(405, 'method_not_allowed', `${method} ${path}: allowed methods are ${match.allowed.join(', ')}`, {
      allow: match.allowed.join(', '),
    });
  return new ApiError(404, 'not_found', `no route ${method} ${path}`);
}

const MAX_BODY_BYTES = 1_000_000;

/** Reads and parses a JSON body (undefined when empty). Throws a 400/413 {@link ApiError}. */
export async function readJsonBody(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) throw new ApiError(413, 'body_too_large', `request body over ${MAX_BODY_BYTES} bytes`);
    chunks.push(chunk);
  }
  const text = Buffer.concat(chunks).toString('utf8');
  if (text.trim() === '') return undefined;
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new ApiError(400, 'invalid_json', `request body is not JSON: ${(error as Error).message}`);
  }
}

/** Writes a reply with `headers` added; JSON replies get `application/json`. */
export function sendReply(res: ServerResponse, reply: Reply, headers: Readonly<Record<string, string>> = {}): void {
  if ('bytes' in reply) {
    res.writeHead(reply.status, { ...headers, 'content-type': reply.contentType, 'content-length': reply.bytes.length });
    res.end(reply.bytes);
    return;
  }
  const body = Buffer.from(JSON.stringify(reply.json));
  res.writeHead(reply.status, {
    ...headers,
    ...reply.headers,
    'content-type': 'application/json; charset=utf-8',
    'content-length': body.length,
  });
  res.end(body);
}

/** The JSON reply of an error: ApiErrors as they say, anything else as a 500. */
export function errorReply(error: unknown): Reply {
  if (error instanceof ApiError)
    return { status: error.status, json: { error: error.code, message: error.message }, headers: error.headers };
  return { status: 500, json: { error: 'internal', message: 'simulator failure' } };
}
