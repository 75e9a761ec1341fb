import http from 'node:http';
import express from 'express';
import { WebhookRejectedError } from '../connectors/contract.js';
import { isId } from '../platform/ids.js';
import { listen, localUrl } from '../platform/http.js';
import { logger } from '../platform/logger.js';
import type { SchedulerServices } from './services.js';

/** What a verified notice turns into: a change-priority rescan of the file. */
export type FileChanged = (instanceId: string, fileExternalId: string) => Promise<void>;

export interface WebhookServer {
  readonly url: string;
  stop(): Promise<void>;
}

/**
 * Receives providers' change webhooks at `POST /webhooks/<instanceId>`. The raw body is verified
 * by the instance's connector (signature and replay window): a bad or replayed delivery answers 401
 * and enqueues nothing; a good one answers 202 and puts each changed file at the front of the queue.
 */
export async function startWebhookServer(
  services: Pick<SchedulerServices, 'connector'>,
  /** Resolves when the database answers (`/readyz`). */
  ready: () => Promise<void>,
  port: number,
  host: string,
  onFileChanged: FileChanged,
): Promise<WebhookServer> {
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
  app.post('/webhooks/:instanceId', express.raw({ type: '*/*', limit: '1mb' }), async (req, res) => {
    const instanceId = req.params.instanceId;
    if (!isId(instanceId)) {
      res.status(404).json({ error: 'unknown instance' });
      return;
    }
    try {
      const connector = await services.connector(instanceId, 'change');
      const headers = new Headers();
      for (const [name, value] of Object.entries(req.headers)) if (typeof value === 'string') headers.set(name, value);
      const { notices } = connector.verifyWebhook({ headers, rawBody: Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0) });
      for (const notice of notices) {
        if (notice.kind === 'file.changed' || notice.kind === 'file.deleted') await onFileChanged(instanceId, notice.externalId);
      }
      res.status(202).json({ accepted: notices.length });
    } catch (error) {
      if (error instanceof WebhookRejectedError) {
        logger.warn({ instanceId, reason: error.message }, 'webhook refused');
        res.status(401).json({ error: 'invalid signature', message: error.message });
        return;
      }
      logger.error({ err: error, instanceId }, 'webhook failed');
      res.status(/^No app instance/.test((error as Error).message) ? 404 : 500).json({ error: (error as Error).message });
    }
  });
  const server = http.createServer(app);
  const bound = await listen(server, port, host);
  return {
    url: localUrl(host, bound, '/webhooks'),
    stop: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
