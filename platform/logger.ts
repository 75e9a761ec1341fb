import { pino, type Logger } from 'pino';

export type { Logger };

/** The one logger. Level from LOG_LEVEL (default info); JSON lines on stdout. */
export const logger: Logger = pino({
  level: process.env.LOG_LEVEL ?? 'info',
  base: { service: 'tenantwatch' },
  redact: ['req.headers.authorization', '*.authorization', '*.password', '*.secret', '*.token'],
});
