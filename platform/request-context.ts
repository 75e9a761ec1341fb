import { AsyncLocalStorage } from 'node:async_hooks';
import { randomBytes, randomUUID } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';

/**
 * What ties one client request together across the gateway, the subgraphs and the logs: its request
 * id (the client's `X-Request-Id` when it sent a sensible one, else a new UUID) and its W3C trace
 * context (https://www.w3.org/TR/trace-context/: the client's `traceparent`, else a new trace). Every
 * log line written while the request is served carries `requestId` and `traceId`.
 */
export interface RequestContext {
  readonly requestId: string;
  /** 32 lowercase hex digits. */
  readonly traceId: string;
  /** This hop's span: 16 lowercase hex digits. */
  readonly spanId: string;
  /** The trace's sampled flag, kept as the caller set it. */
  readonly sampled: boolean;
}

export const REQUEST_ID_HEADER = 'x-request-id';
export const TRACEPARENT_HEADER = 'traceparent';

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;
const TRACEPARENT = /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;
const ZEROS = /^0+$/;

const storage = new AsyncLocalStorage<RequestContext>();

/** The request being served here, if any. */
export function currentRequest(): RequestContext | undefined {
  return storage.getStore();
}

/** Runs `fn` as part of `request`: the logs it writes, and the calls it makes onward, carry its ids. */
export function runWithRequest<T>(request: RequestContext, fn: () => T): T {
  return storage.run(request, fn);
}

const header = (headers: IncomingHttpHeaders, name: string): string | undefined => {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
};

/** A new span id (never all zeros). */
export const newSpanId = (): string => randomBytes(8).toString('hex');

/**
 * The request an incoming HTTP request is: its `X-Request-Id` (1 to 128 of `A-Z a-z 0-9 . _ : -`,
 * anything else is replaced) and its `traceparent` continued with a span of this hop (a malformed one,
 * or an all-zero id, starts a new trace, as the W3C recommendation says).
 */
export function requestFrom(headers: IncomingHttpHeaders, spanId = newSpanId()): RequestContext {
  const given = header(headers, REQUEST_ID_HEADER);
  const requestId = given && REQUEST_ID.test(given) ? given : randomUUID();
  const parent = TRACEPARENT.exec(header(headers, TRACEPARENT_HEADER)?.trim().toLowerCase() ?? '');
  if (parent && !ZEROS.test(parent[1]!) && !ZEROS.test(parent[2]!))
    return { requestId, traceId: parent[1]!, spanId, sampled: (Number.parseInt(parent[3]!, 16) & 1) === 1 };
  return { requestId, traceId: randomBytes(16).toString('hex'), spanId, sampled: true };
}

/** The headers a call made while serving `request` carries onward: its request id and its trace, this hop as the parent. */
export function onwardHeaders(request: RequestContext): Record<string, string> {
  return {
    [REQUEST_ID_HEADER]: request.requestId,
    [TRACEPARENT_HEADER]: `00-${request.traceId}-${request.spanId}-${request.sampled ? '01' : '00'}`,
  };
}
