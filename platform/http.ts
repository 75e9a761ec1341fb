import http from 'node:http';
import type { AddressInfo } from 'node:net';
import express, { type ErrorRequestHandler, type Express } from 'express';

/** Express with a JSON body parser whose failures answer 400 in GraphQL's error shape, never 500. */
export function createApp(): Express {
  const app = express();
  app.disable('x-powered-by');
  app.use(express.json({ limit: '1mb' }));
  return app;
}

/** Last middleware: a body that is not JSON, or too large, gets a clear 4xx. */
export const jsonErrorHandler: ErrorRequestHandler = (error, _req, res, next) => {
  if (res.headersSent) return next(error);
  const status = typeof error?.status === 'number' && error.status >= 400 && error.status < 500 ? error.status : 500;
  const message = status === 500 ? 'Internal server error' : `Bad request body: ${error.message ?? 'unreadable'}`;
  res.status(status).json({ errors: [{ message, extensions: { code: status === 500 ? 'INTERNAL_SERVER_ERROR' : 'BAD_REQUEST' } }] });
};

/** Listens on `port` (0: a free one) and resolves with the port actually bound. */
export async function listen(server: http.Server, port: number, host: string): Promise<number> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  return (server.address() as AddressInfo).port;
}

/** The URL a local client uses for a server bound to `host` (0.0.0.0 is reached as 127.0.0.1). */
export function localUrl(host: string, port: number, pathname = '/graphql'): string {
  const reach = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host;
  return `http://${reach.includes(':') ? `[${reach}]` : reach}:${port}${pathname}`;
}
