import http from 'node:http';
import express, { type Request, type RequestHandler, type Response } from 'express';
import pg from 'pg';
import { WebhookRejectedError, type VerifiedWebhook, type WebhookNotice } from '../connectors/contract.js';
import { isId } from '../platform/ids.js';
import { ConnectionStatus } from '../platform/vocabulary/instance.js';
import { listen, localUrl } from '../platform/http.js';
import { logger } from '../platform/logger.js';
import { serveMetrics } from '../platform/metrics.js';
import type { SchedulerMetrics } from './metrics.js';
import type { SchedulerServices } from './services.js';
import { WebhookDeliveries } from './webhook-deliveries.js';
import { notFound, refuse, webhookErrorHandler } from './webhook-errors.js';
import { WebhookRateLimit } from './webhook-rate.js';

/** What a verified notice turns into: a change-priority rescan of the file. */
export type FileChanged = (instanceId: string, fileExternalId: string) => Promise<void>;
/** Something changed in containers of files (drives; `*`: any): read their change feed now. */
export type FilesChanged = (instanceId: string, containers: readonly string[]) => Promise<void>;
/**
 * Lifecycle notices: the named subscriptions (by the provider's id; `all` when a notice named none)
 * must be renewed, which reauthorizes them, or made again.
 */
export type SubscriptionsStale = (instanceId: string, subscriptions: readonly string[] | 'all') => Promise<void>;

export interface WebhookServer {
  readonly url: string;
  stop(): Promise<void>;
}

export interface WebhookServerOptions {
  /** WEBHOOK_HOST, WEBHOOK_PORT and the limits come from `services.config`. */
  readonly services: Pick<SchedulerServices, 'config' | 'connector' | 'instances'>;
  /** The scheduler's database: delivery ids and delivery rates are kept there, shared by every scheduler. */
  readonly databaseUrl: string;
  /** Resolves when the database answers (`/readyz`). */
  readonly ready: () => Promise<void>;
  /** Counts deliveries, and serves `/metrics` (when METRICS_ENABLED) on this port. */
  readonly metrics?: SchedulerMetrics;
  readonly onFileChanged: FileChanged;
  readonly onFilesChanged: FilesChanged;
  readonly onSubscriptionsStale?: SubscriptionsStale;
}

/** Rescans enqueued at once for one delivery (each is one insert into the job store). */
const ENQUEUE_CONCURRENCY = 8;

/** The longest subscription validation token echoed (Graph's are about 100 characters). */
const MAX_VALIDATION_TOKEN = 1024;

/** How often expired delivery ids are deleted. */
const PRUNE_EVERY_MS = 60_000;

/**
 * A request's headers, and the whole request, must arrive within these. A provider sends a delivery
 * of a few kilobytes at once; body-parser drains an oversized chunked body before answering 413, and
 * Node's defaults (60 s, 300 s) would let a slow sender hold a connection that long.
 */
const HEADERS_TIMEOUT_MS = 10_000;
const REQUEST_TIMEOUT_MS = 30_000;

/** The files a delivery's notices name, each once: a change and a deletion of one file are one rescan, which sees either. */
export function changedFiles(notices: readonly WebhookNotice[]): string[] {
  const files = new Set<string>();
  for (const notice of notices) if (notice.kind === 'file.changed' || notice.kind === 'file.deleted') files.add(notice.externalId);
  return [...files];
}

/** The request's headers as the connector contract takes them; a value `Headers` refuses is left out (and its check fails). */
function headersOf(req: Request): Headers {
  const headers = new Headers();
  for (const [name, value] of Object.entries(req.headers)) {
    if (typeof value !== 'string') continue;
    try {
      headers.set(name, value);
    } catch {
      // Not a valid header value for fetch's Headers: the signature check that needs it will say so.
    }
  }
  return headers;
}

/** Runs `work` for every item, at most `concurrency` at a time; rejects with the first failure. */
async function eachLimited<T>(items: readonly T[], concurrency: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await work(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, worker));
}

/**
 * Receives providers' change webhooks at `POST /webhooks/<instanceId>` on WEBHOOK_HOST:WEBHOOK_PORT.
 * In order, each delivery is refused:
 * 413 when its Content-Length exceeds WEBHOOK_MAX_BYTES; 404 for an unknown instance; 429 with
 * Retry-After past WEBHOOK_RATE_PER_MINUTE for the instance (counted before the body is read);
 * 413 when the body read exceeds WEBHOOK_MAX_BYTES; 401 when the instance's connector does not
 * verify it (signature, replay window, shape); 413 past WEBHOOK_MAX_NOTICES; 409 when the instance
 * already received its delivery id. Nothing is enqueued then. Otherwise it answers 202 after one
 * change-priority rescan per file named. Every refusal is `{ error, message }` JSON.
 */
export async function startWebhookServer(options: WebhookServerOptions): Promise<WebhookServer> {
  const { services, ready, onFileChanged, onFilesChanged, onSubscriptionsStale } = options;
  const config = services.config;
  const maxBytes = config.WEBHOOK_MAX_BYTES;
  const pool = new pg.Pool({ connectionString: options.databaseUrl, max: 4 });
  pool.on('error', (error) => logger.warn({ err: error }, 'webhook database connection lost'));
  const deliveries = new WebhookDeliveries(pool);
  const rateLimit = new WebhookRateLimit(pool, config.WEBHOOK_RATE_PER_MINUTE);

  /** The admitted instance's id (lower case), set by `admit`. */
  const instanceOf = (res: Response): string => res.locals.instanceId as string;

  /** The cheap checks, before the body is read: declared size, a known instance, the instance's rate. */
  const admit: RequestHandler<{ instanceId: string }> = async (req, res, next) => {
    const declared = Number(req.headers['content-length']);
    if (declared > maxBytes)
      return refuse(res, 'body_too_large', `the body is larger than WEBHOOK_MAX_BYTES (${maxBytes} bytes)`, { declared });
    const raw = req.params.instanceId;
    // Unknown ids are answered before the rate limit, so they never create its rows.
    const instanceId = isId(raw) ? raw.toLowerCase() : undefined;
    const [instance] = instanceId ? await services.instances().byIds([instanceId]) : [];
    // A deleted instance is unknown here: its credentials are gone, and nothing of it is stored again.
    if (!instanceId || !instance || instance.status === ConnectionStatus.DELETED)
      return refuse(res, 'unknown_instance', 'no app instance has this id', { instanceId: raw.slice(0, 64) });
    const decision = await rateLimit.take(instanceId);
    if (!decision.allowed) {
      res.set('Retry-After', String(decision.retryAfterSeconds));
      return refuse(
        res,
        'rate_limited',
        `more than WEBHOOK_RATE_PER_MINUTE (${config.WEBHOOK_RATE_PER_MINUTE}) deliveries this minute for this instance; retry after ${decision.retryAfterSeconds} s`,
        { instanceId },
      );
    }
    res.locals.instanceId = instanceId;
    next();
  };

  const receive: RequestHandler = async (req, res) => {
    const instanceId = instanceOf(res);
    // A subscription's validation handshake (Microsoft Graph): the provider POSTs a token in the query
    // and expects it back as text/plain within 10 s. Only for a known instance, within its rate, capped.
    const validationToken = req.query.validationToken;
    if (validationToken !== undefined) {
      if (typeof validationToken !== 'string' || validationToken.length === 0 || validationToken.length > MAX_VALIDATION_TOKEN)
        return refuse(res, 'unverified_delivery', `validationToken must be one value of 1 to ${MAX_VALIDATION_TOKEN} characters`, {
          instanceId,
        });
      res.status(200).set({ 'content-type': 'text/plain; charset=utf-8', 'x-content-type-options': 'nosniff' }).send(validationToken);
      return;
    }
    const connector = await services.connector(instanceId, 'change');
    let verified: VerifiedWebhook;
    try {
      verified = connector.verifyWebhook({ headers: headersOf(req), rawBody: Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0) });
    } catch (error) {
      if (error instanceof WebhookRejectedError) return refuse(res, 'unverified_delivery', error.message, { instanceId });
      throw error;
    }
    const { deliveryId, notices } = verified;
    if (notices.length > config.WEBHOOK_MAX_NOTICES) {
      return refuse(
        res,
        'too_many_notices',
        `the delivery names ${notices.length} notices; at most WEBHOOK_MAX_NOTICES (${config.WEBHOOK_MAX_NOTICES}) are accepted`,
        { instanceId, deliveryId },
      );
    }
    // Only a verified delivery's id is recorded: an unsigned request cannot burn a legitimate one.
    if (!(await deliveries.remember(instanceId, deliveryId, verified.expiresAt))) {
      return refuse(res, 'replayed_delivery', `delivery "${deliveryId}" was already received for this instance: a replay is refused`, {
        instanceId,
        deliveryId,
      });
    }
    const files = changedFiles(notices);
    const containers = [...new Set(notices.filter((notice) => notice.kind === 'files.changed').map((notice) => notice.externalId))];
    const staleIds = notices.filter((notice) => notice.kind === 'subscriptions.stale').map((notice) => notice.externalId);
    try {
      await eachLimited(files, ENQUEUE_CONCURRENCY, (file) => onFileChanged(instanceId, file));
      if (containers.length > 0) await onFilesChanged(instanceId, containers);
      if (staleIds.length > 0) await onSubscriptionsStale?.(instanceId, staleIds.includes('*') ? 'all' : staleIds);
    } catch (error) {
      // Let the provider's retry of this delivery through: rescans it repeats are harmless.
      await deliveries.forget(instanceId, deliveryId).catch((e: unknown) => logger.warn({ err: e, instanceId }, 'delivery id kept'));
      throw error;
    }
    if (verified.reply) res.status(200).type(verified.reply.contentType).send(verified.reply.body);
    else res.status(202).json({ accepted: notices.length, rescans: files.length });
  };

  const app = express();
  app.disable('x-powered-by');
  app.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  app.get('/readyz', async (_req, res) => {
    try {
      await ready();
      res.json({ status: 'ready', database: 'ok' });
    } catch (error) {
      res.status(503).json({ status: 'unready', database: (error as Error).message });
    }
  });
  if (options.metrics) serveMetrics(app, options.metrics.registry, config.METRICS_ENABLED);
  const counted: RequestHandler = (_req, res, next) => {
    res.once('finish', () => {
      const accepted = res.statusCode < 300;
      const refusal = res.locals.refusal as string | undefined;
      options.metrics?.webhook(accepted, accepted ? 'none' : (refusal ?? `http_${res.statusCode}`));
    });
    next();
  };
  app.post('/webhooks/:instanceId', counted, admit, express.raw({ type: () => true, limit: maxBytes }), receive);
  app.use(notFound);
  app.use(webhookErrorHandler(maxBytes));

  const server = http.createServer({ headersTimeout: HEADERS_TIMEOUT_MS, requestTimeout: REQUEST_TIMEOUT_MS }, app);
  let bound: number;
  try {
    bound = await listen(server, config.WEBHOOK_PORT, config.WEBHOOK_HOST);
  } catch (error) {
    await pool.end();
    throw error;
  }
  const pruning = setInterval(() => {
    deliveries.prune().catch((error: unknown) => logger.warn({ err: error }, 'pruning webhook delivery ids failed'));
  }, PRUNE_EVERY_MS);
  pruning.unref();
  return {
    url: localUrl(config.WEBHOOK_HOST, bound, '/webhooks'),
    stop: async () => {
      clearInterval(pruning);
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await pool.end();
    },
  };
}
