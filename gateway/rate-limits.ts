import type { RequestHandler } from 'express';
import pg from 'pg';
import { RateLimiterMemory, RateLimiterPostgres, RateLimiterRes, type RateLimiterAbstract } from 'rate-limiter-flexible';
import type { TokenVerifier } from '../platform/auth.js';
import type { RefusalChannel } from '../platform/audit/refusals.js';
import type { Config } from '../platform/config.js';
import { ErrorCode } from '../platform/errors.js';
import { logger } from '../platform/logger.js';

/** The gateway's own schema: its rate-limit counters, shared by every gateway on the database. */
const SCHEMA = 'gateway';
const WINDOW_SECONDS = 60;

/**
 * The gateway's request rates: per token subject (GATEWAY_RATE_LIMIT_PER_MINUTE) and failed
 * authentications per source address (AUTH_FAILURES_PER_MINUTE). Counters live in PostgreSQL when the
 * gateway has a database, so that several gateways share them; in memory otherwise, and in memory
 * too while the database does not answer (the limits hold per process then).
 */
export interface RateLimits {
  /** Express middleware for `/graphql`: 429 with Retry-After past either limit. */
  readonly http: RequestHandler;
  /** Seconds until `address` may try to authenticate again, or 0 when it may now. */
  authBlockedFor(address: string): Promise<number>;
  /** Counts one failed authentication from `address` (and tells `onAuthFailure` what was refused). */
  noteAuthFailure(address: string, refusal: AuthRefusal): Promise<void>;
  close(): Promise<void>;
}

/** One refused authentication: how the client came, the code and the reason it was answered. */
export interface AuthRefusal {
  readonly channel: RefusalChannel;
  readonly code: string;
  readonly reason: string;
}

/**
 * Opens the counters (creating their tables on a first start) and answers the limits; `onAuthFailure`
 * hears every failed authentication (the audit log's recorder).
 */
export async function createRateLimits(
  config: Config,
  verify: TokenVerifier,
  databaseUrl: string | undefined,
  onAuthFailure?: (address: string, refusal: AuthRefusal) => void,
): Promise<RateLimits> {
  const pool = databaseUrl ? new pg.Pool({ connectionString: databaseUrl, max: 4 }) : undefined;
  pool?.on('error', (error) => logger.warn({ err: error }, 'rate-limit database connection failed'));
  if (pool) await pool.query(`create schema if not exists "${SCHEMA}"`);
  const limiter = async (tableName: string, points: number): Promise<RateLimiterAbstract> => {
    const memory = new RateLimiterMemory({ points, duration: WINDOW_SECONDS, keyPrefix: tableName });
    if (!pool) return memory;
    return new Promise((resolve, reject) => {
      const store: RateLimiterPostgres = new RateLimiterPostgres(
        { storeClient: pool, schemaName: SCHEMA, tableName, points, duration: WINDOW_SECONDS, insuranceLimiter: memory },
        (error?: Error) => (error ? reject(error) : resolve(store)),
      );
    });
  };
  const requests = await limiter('request_rate', config.GATEWAY_RATE_LIMIT_PER_MINUTE);
  const authFailures = await limiter('auth_failure', config.AUTH_FAILURES_PER_MINUTE);

  const authBlockedFor = async (address: string): Promise<number> => {
    const counted = await authFailures.get(address);
    return counted && counted.consumedPoints > config.AUTH_FAILURES_PER_MINUTE ? Math.ceil(counted.msBeforeNext / 1000) : 0;
  };
  const noteAuthFailure = async (address: string, refusal: AuthRefusal): Promise<void> => {
    onAuthFailure?.(address, refusal);
    // Past the limit the counter refuses: that refusal is the block, nothing else to do.
    await authFailures.consume(address).catch((rejection: unknown) => {
      if (!(rejection instanceof RateLimiterRes)) logger.warn({ err: rejection }, 'could not count a failed authentication');
    });
  };

  const http: RequestHandler = async (req, res, next) => {
    const address = req.socket.remoteAddress ?? 'unknown';
    try {
      const blocked = await authBlockedFor(address);
      if (blocked > 0) {
        tooMany(res, blocked, `Too many failed authentications from this address; try again in ${blocked} s (AUTH_FAILURES_PER_MINUTE)`);
        return;
      }
      let subject: string;
      try {
        subject = (await verify(req.headers.authorization || undefined)).subject;
      } catch (error) {
        // Apollo Server answers the request with its UNAUTHENTICATED error; it counts against the address.
        await noteAuthFailure(address, { channel: 'http', code: ErrorCode.UNAUTHENTICATED, reason: (error as Error).message });
        next();
        return;
      }
      try {
        await requests.consume(subject);
      } catch (rejection) {
        if (!(rejection instanceof RateLimiterRes)) throw rejection;
        const seconds = Math.max(1, Math.ceil(rejection.msBeforeNext / 1000));
        tooMany(res, seconds, `Too many requests for this token; try again in ${seconds} s (GATEWAY_RATE_LIMIT_PER_MINUTE)`);
        return;
      }
      next();
    } catch (error) {
      // The counters' store failed although its insurance did not: serve rather than refuse everyone.
      logger.warn({ err: error }, 'rate limits unavailable; request served without them');
      next();
    }
  };

  return {
    http,
    authBlockedFor,
    noteAuthFailure,
    close: async () => {
      await pool?.end();
    },
  };
}

/** 429 with Retry-After, in GraphQL's error shape. */
function tooMany(res: Parameters<RequestHandler>[1], seconds: number, message: string): void {
  res
    .status(429)
    .set('retry-after', String(seconds))
    .json({ errors: [{ message, extensions: { code: ErrorCode.RATE_LIMITED, retryAfterSeconds: seconds } }] });
}
