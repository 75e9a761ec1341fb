import { pino, type Logger } from 'pino';
import { currentRequest } from './request-context.js';

export type { Logger };

/** The logger's options: a line written while a request is served carries its `requestId` and `traceId`. */
export const LOGGER_OPTIONS = {
  level: process.env.LOG_LEVEL ?? 'info',
  base: { service: 'tenantwatch' },
  redact: ['req.headers.authorization', '*.authorization', '*.password', '*.secret', '*.token'],
  mixin: () => {
    const request = currentRequest();
    return request ? { requestId: request.requestId, traceId: request.traceId } : {};
  },
};

/** The one logger. Level from LOG_LEVEL (default info); JSON lines on stdout. */
export const logger: Logger = pino(LOGGER_OPTIONS);
