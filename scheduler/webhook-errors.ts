import type { ErrorRequestHandler, RequestHandler, Response } from 'express';
import { logger } from '../platform/logger.js';

/**
 * Every answer the webhook receiver refuses with, by its stable code, and the HTTP status each one
 * is sent with. The body is always `{ error: <code>, message }`: JSON, never a page or a stack.
 */
export const WebhookRefusal = {
  /** Bad percent-encoding, an aborted or unreadable body. */
  bad_request: 400,
  /** The instance's connector did not verify it: signature, signed timestamp (replay window) or shape. */
  unverified_delivery: 401,
  not_found: 404,
  unknown_instance: 404,
  /** The instance already received this delivery id, and its signature has not expired. */
  replayed_delivery: 409,
  /** The body is larger than WEBHOOK_MAX_BYTES. */
  body_too_large: 413,
  /** The delivery names more than WEBHOOK_MAX_NOTICES notices. */
  too_many_notices: 413,
  /** A Content-Encoding or charset the body parser does not read. */
  unsupported_encoding: 415,
  /** More than WEBHOOK_RATE_PER_MINUTE deliveries this minute for the instance (with Retry-After). */
  rate_limited: 429,
  internal_error: 500,
} as const;
export type WebhookRefusal = keyof typeof WebhookRefusal;

/** Log fields that say which delivery was refused. */
export interface RefusalContext {
  readonly instanceId?: string;
  readonly deliveryId?: string;
  readonly [field: string]: unknown;
}

/** Refusals anyone can cause at will and in bulk, logged at debug so that a flood does not flood the log. */
const QUIET: ReadonlySet<WebhookRefusal> = new Set(['rate_limited', 'unknown_instance', 'not_found']);

/** Answers `{ error: code, message }` with the code's status and logs the refusal as structured fields. */
export function refuse(res: Response, code: WebhookRefusal, message: string, context: RefusalContext = {}): void {
  const status = WebhookRefusal[code];
  const fields = { ...context, status, code, reason: message };
  // The refusal's code, for the delivery count (see startWebhookServer).
  res.locals.refusal = code;
  if (QUIET.has(code)) logger.debug(fields, 'webhook refused');
  else logger.warn(fields, 'webhook refused');
  // Refused before its body was read: close the connection rather than read (and discard) the rest.
  if (!res.req.complete) res.set('Connection', 'close');
  res.status(status).json({ error: code, message });
}

/** Anything the routes do not serve: a JSON 404 instead of Express's HTML page. */
export const notFound: RequestHandler = (req, res) => {
  res.status(404).json({ error: 'not_found', message: `no ${req.method} ${req.path} here; webhooks are POST /webhooks/<instanceId>` });
};

/** The `status` and `type` body-parser and Express put on their errors (http-errors), when present. */
function statusAndType(error: unknown): { status: number; type: string | undefined } {
  if (typeof error !== 'object' || error === null) return { status: NaN, type: undefined };
  const { status, type } = error as { status?: unknown; type?: unknown };
  return { status: typeof status === 'number' ? status : NaN, type: typeof type === 'string' ? type : undefined };
}

/** A body-parser, routing or handler error as the receiver's refusal. */
function refusalOf(status: number, type: string | undefined, maxBytes: number): { code: WebhookRefusal; message: string } {
  if (status === 413) return { code: 'body_too_large', message: `the body is larger than WEBHOOK_MAX_BYTES (${maxBytes} bytes)` };
  if (status === 415)
    return {
      code: 'unsupported_encoding',
      message: `the body's ${type === 'charset.unsupported' ? 'charset' : 'Content-Encoding'} is not supported`,
    };
  if (status >= 400 && status < 500)
    return { code: 'bad_request', message: type === 'request.aborted' ? 'the request was aborted' : 'the request could not be read' };
  return { code: 'internal_error', message: 'internal error' };
}

/**
 * The receiver's last middleware: every error becomes a JSON refusal (Express's own handler would
 * send an HTML page with the stack in development and print the stack raw in production). Client
 * errors are logged as refusals, with no stack; anything else as pino's structured `err`, and the
 * client is told only "internal error".
 */
export function webhookErrorHandler(maxBytes: number): ErrorRequestHandler {
  return (error: unknown, req, res, _next) => {
    const { status, type } = statusAndType(error);
    const { code, message } = refusalOf(status, type, maxBytes);
    // Set once the delivery was admitted (scheduler/webhooks.ts); route params are gone at this point.
    const instanceId = typeof res.locals.instanceId === 'string' ? res.locals.instanceId : undefined;
    if (code === 'internal_error') logger.error({ err: error, instanceId, path: req.path }, 'webhook failed');
    if (res.headersSent) {
      // Too late for an answer: end the exchange here rather than let Express print the error.
      req.socket.destroy();
      return;
    }
    if (code === 'internal_error') res.status(500).json({ error: code, message });
    else refuse(res, code, message, { instanceId, type });
  };
}
