import path from 'node:path';
import { z } from 'zod';

/** Reads a boolean the way people write it in env files. */
const flag = z
  .enum(['on', 'off', 'true', 'false', '1', '0', 'yes', 'no'])
  .transform((v) => v === 'on' || v === 'true' || v === '1' || v === 'yes');

/** The demos `npm start` can run: the simulated provider, and the provider emulators connected as real connectors' instances. */
export const DEMO_NAMES = ['simulated', 'm365', 'google', 'salesforce'] as const;
export type DemoName = (typeof DEMO_NAMES)[number];

const port = z.coerce.number().int().min(0).max(65535);

const ConfigSchema = z
  .object({
    NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
    DATA_DIR: z.string().min(1).default('.data'),
    DATABASE_URL: z
      .string()
      .regex(/^postgres(ql)?:\/\//, 'must be a postgres:// or postgresql:// URL')
      .optional(),
    PORT: port.default(4000),
    HOST: z.string().min(1).default('0.0.0.0'),
    LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
    AUTH_JWT_SECRET: z.string().min(32, 'must be at least 32 characters').optional(),
    AUTH_JWKS_URL: z.url().optional(),
    AUTH_JWT_ISSUER: z.string().min(1).default('tenantwatch'),
    AUTH_JWT_AUDIENCE: z.string().min(1).default('tenantwatch-api'),
    CREDENTIALS_KEY: z
      .string()
      .regex(/^[0-9a-fA-F]{64}$/, 'must be 64 hex characters (a 256-bit AES key)')
      .optional(),
    ACCOUNTS_URL: z.url().optional(),
    ACTIVITIES_URL: z.url().optional(),
    FILES_URL: z.url().optional(),
    APP_PERMISSIONS_URL: z.url().optional(),
    DB_POOL_MAX: z.coerce.number().int().min(1).max(100).default(10),
    /** The first retry of a failed job waits this long; each next one twice as long (up to a minute, six times). */
    JOB_RETRY_DELAY_MS: z.coerce.number().int().min(10).max(60_000).default(2_000),
    /** OpenTelemetry: where spans go over OTLP/HTTP (`<endpoint>/v1/traces`); unset, none are made or sent. */
    OTEL_EXPORTER_OTLP_ENDPOINT: z.url().optional(),
    /** The `service.name` of this process's spans. */
    OTEL_SERVICE_NAME: z.string().min(1).max(100).default('tenantwatch'),
    /** How long spans are batched before they are sent. */
    OTEL_EXPORT_DELAY_MS: z.coerce.number().int().min(10).max(60_000).default(5_000),
    /** A provider request that fails (unreachable, 5xx) is tried again after this long, then twice as long each time (up to 30 s, 8 attempts). */
    PROVIDER_RETRY_DELAY_MS: z.coerce.number().int().min(10).max(30_000).default(250),
    /** A scan that still cannot reach its provider after its retries tries again this often until it can. */
    PROVIDER_OUTAGE_RETRY_SECONDS: z.coerce.number().min(0.1).max(3600).default(300),
    /** A subgraph's SQL statement running longer is cancelled (DATABASE_TIMEOUT), not left holding the request. */
    DB_STATEMENT_TIMEOUT_MS: z.coerce.number().int().min(100).max(600_000).default(30_000),
    /** A subgraph's statement waiting longer for a row or table lock is cancelled (DATABASE_TIMEOUT). */
    DB_LOCK_TIMEOUT_MS: z.coerce.number().int().min(100).max(600_000).default(5_000),
    MONGODB_URL: z
      .string()
      .regex(/^mongodb(\+srv)?:\/\//, 'must be a mongodb:// URL')
      .optional(),
    /**
     * Demos on `npm start` (default: the simulated provider, except in production): on/simulated, a
     * provider emulator (m365, google, salesforce), several separated by commas, all of them (all), or off.
     */
    DEMO: z
      .string()
      .transform((value, ctx) => {
        const words = value
          .split(',')
          .map((w) => w.trim().toLowerCase())
          .filter(Boolean);
        if (words.length === 1 && ['off', 'false', '0', 'no'].includes(words[0]!)) return false as const;
        const names = new Set<DemoName>();
        for (const word of words) {
          if (word === 'all') DEMO_NAMES.forEach((n) => names.add(n));
          else if (['on', 'true', '1', 'yes', 'simulated'].includes(word)) names.add('simulated');
          else if ((DEMO_NAMES as readonly string[]).includes(word)) names.add(word as DemoName);
          else {
            ctx.addIssue({
              code: 'custom',
              message: `must be on, off, all, or one or more of ${DEMO_NAMES.join(', ')} separated by commas (not "${word}")`,
            });
            return z.NEVER;
          }
        }
        if (names.size === 0) {
          ctx.addIssue({ code: 'custom', message: `must be on, off, all, or one or more of ${DEMO_NAMES.join(', ')}` });
          return z.NEVER;
        }
        // The simulated provider first, then the emulators in a fixed order.
        return DEMO_NAMES.filter((n) => names.has(n));
      })
      .optional(),
    /**
     * The browser console (the SOC web app at `/` and GraphiQL at `/graphql` for browsers): on or off
     * (default: on, except in production where it must be asked for with CONSOLE=on).
     */
    CONSOLE: z.enum(['on', 'off'], { message: 'must be on or off' }).optional(),
    /** Scheduler: how often each kind of scan runs per instance (Agenda intervals, e.g. "1 hour"). */
    SCAN_INTERVAL: z.string().min(1).default('1 hour'),
    ACTIVITY_SCAN_INTERVAL: z.string().min(1).default('5 minutes'),
    /** How often the audit trail is re-read as far back as the provider's documented maximum lag (events later than the activity scan's window). */
    LATE_ACTIVITY_SCAN_INTERVAL: z.string().min(1).default('1 day'),
    DATA_SCAN_INTERVAL: z.string().min(1).default('12 hours'),
    /** Data scan worker threads, each extracting and scanning one file at a time (1 leaves a core of 2 to the rest). */
    DATA_SCAN_WORKERS: z.coerce.number().int().min(1).max(32).default(1),
    /** How long one file's extraction and detection may take; past it the file is skipped with the reason. */
    DATA_SCAN_TIMEOUT_MS: z.coerce.number().int().min(100).max(600_000).default(10_000),
    /** A data scan worker's JavaScript heap in MiB; a file that needs more is skipped with the reason. */
    DATA_SCAN_MEMORY_MB: z.coerce.number().int().min(16).max(16_384).default(256),
    /** Audit trails are read this long behind now, and each window re-reads this much of the last. */
    AUDIT_LAG_SECONDS: z.coerce.number().int().min(0).max(86_400).default(60),
    AUDIT_OVERLAP_SECONDS: z.coerce
      .number()
      .int()
      .min(0)
      .max(7 * 86_400)
      .default(3_600),
    /** How far back the first activity scan of an instance reads. */
    BACKFILL_DAYS: z.coerce.number().min(0).max(180).default(7),
    /** Share of a provider's limit left unused. */
    HEADROOM_PERCENT: z.coerce.number().min(0).max(90).default(10),
    /** Jobs one scheduler process runs at once. */
    SCHEDULER_CONCURRENCY: z.coerce.number().int().min(1).max(200).default(20),
    /** Governance jobs one scheduler process runs at once, beside SCHEDULER_CONCURRENCY scan jobs (a long scan never holds an action back). */
    GOVERNANCE_CONCURRENCY: z.coerce.number().int().min(1).max(200).default(20),
    /** Attempts of a governance action before it FAILS on transient provider errors (5xx, timeouts, dropped connections); a throttled call is first retried by the HTTP client after Retry-After. */
    GOVERNANCE_MAX_ATTEMPTS: z.coerce.number().int().min(1).max(50).default(5),
    /** First wait before a governance action is retried, doubling each attempt (capped at 60 s). */
    GOVERNANCE_RETRY_MS: z.coerce.number().int().min(1).max(600_000).default(2_000),
    /**
     * `GET /metrics` (Prometheus text format, no token) on the gateway's, each subgraph's and the
     * scheduler's webhook receiver's port. Off: no service answers it (use when those ports are
     * reachable by people who should not read counts, durations and instance ids).
     */
    METRICS_ENABLED: flag.default(true),
    /** Port of the scheduler's webhook receiver (0: a free one). */
    WEBHOOK_PORT: port.default(0),
    /** Interface the webhook receiver binds (loopback unless a proxy or the providers must reach it directly). */
    WEBHOOK_HOST: z.string().min(1).default('127.0.0.1'),
    /**
     * The address providers reach the webhook receiver at (a reverse proxy's, in front of
     * WEBHOOK_HOST:WEBHOOK_PORT), e.g. https://tenantwatch.example.com: connectors that keep change
     * subscriptions (Microsoft 365) subscribe `<PUBLIC_WEBHOOK_URL>/webhooks/<instanceId>`. Unset: no
     * subscriptions are made, and change feeds are read by the periodic scans only.
     */
    PUBLIC_WEBHOOK_URL: z
      .url()
      .regex(/^https?:\/\/[^?#]+$/, 'must be an http(s) URL without a query or fragment')
      .transform((url) => url.replace(/\/+$/, ''))
      .optional(),
    /**
     * Browser origins allowed to call the gateway from another origin (CORS), and to open its
     * websocket: exact origins separated by commas, e.g. `https://soc.example.com,http://localhost:5173`.
     * Unset: none (same-origin pages and clients that send no Origin, as servers do, are unaffected).
     */
    CORS_ORIGINS: z
      .string()
      .transform((value, ctx) => {
        const origins = value
          .split(',')
          .map((o) => o.trim())
          .filter(Boolean);
        for (const origin of origins) {
          let parsed: URL | undefined;
          try {
            parsed = new URL(origin);
          } catch {
            parsed = undefined;
          }
          if (!parsed || !/^https?:$/.test(parsed.protocol) || parsed.origin !== origin) {
            ctx.addIssue({
              code: 'custom',
              message: `"${origin.slice(0, 100)}" is not an origin: write scheme://host[:port] with no path or trailing slash (no "*")`,
            });
            return z.NEVER;
          }
        }
        return origins;
      })
      .optional(),
    /** A webhook delivery larger than this is refused before it is parsed. */
    WEBHOOK_MAX_BYTES: z.coerce
      .number()
      .int()
      .min(1_024)
      .max(64 * 1_048_576)
      .default(1_048_576),
    /** A webhook delivery naming more notices than this is refused and enqueues nothing. */
    WEBHOOK_MAX_NOTICES: z.coerce.number().int().min(1).max(100_000).default(1_000),
    /** Webhook deliveries accepted per instance and minute; more answer 429. */
    WEBHOOK_RATE_PER_MINUTE: z.coerce.number().int().min(1).max(1_000_000).default(600),
    /** Interface the subgraphs bind (loopback unless they run apart from the gateway). */
    SUBGRAPH_HOST: z.string().min(1).default('127.0.0.1'),
    /** When set, the gateway sends it to the subgraphs and the subgraphs refuse requests without it. */
    GATEWAY_SHARED_SECRET: z.string().min(32, 'must be at least 32 characters').optional(),
    /** Connector endpoints may be private, loopback or link-local addresses (default: yes outside production, no in production). */
    CONNECTOR_ALLOW_PRIVATE: flag.optional(),
    /**
     * A PEM file of certificate authorities trusted for connector endpoints besides the system's (a
     * private CA, a TLS-inspecting proxy, an emulator on loopback).
     */
    CONNECTOR_CA_FILE: z.string().min(1).optional(),
    /** Where the demo's simulated provider listens (0: a free one). */
    SIMULATOR_PORT: port.default(0),
    /** Query limits (gateway and subgraphs, HTTP and websocket): nesting depth (connections' edges/node not counted), estimated cost (lists weigh their `first`), aliases, directives and tokens per document. */
    QUERY_MAX_DEPTH: z.coerce.number().int().min(2).max(50).default(12),
    QUERY_MAX_COST: z.coerce.number().int().min(100).max(100_000_000).default(50_000),
    QUERY_MAX_ALIASES: z.coerce.number().int().min(1).max(10_000).default(30),
    QUERY_MAX_DIRECTIVES: z.coerce.number().int().min(1).max(10_000).default(50),
    QUERY_MAX_TOKENS: z.coerce.number().int().min(100).max(1_000_000).default(5_000),
    /** Event-log entries older than this many days are pruned (subscribers cannot resume from before). */
    EVENT_LOG_RETENTION_DAYS: z.coerce.number().positive().max(3650).default(7),
    /** Tenantwatch's own audit log (mutations, refused authentications): entries older than this many days are pruned; at least 1. */
    AUDIT_RETENTION_DAYS: z.coerce.number().min(1).max(3650).default(365),
    /** An alert sink's delivery is retried (with backoff) for this long, then recorded EXPIRED and the next event goes. */
    ALERT_DELIVERY_EXPIRY_HOURS: z.coerce
      .number()
      .positive()
      .max(24 * 30)
      .default(24),
    /** The first wait before an alert sink's delivery is tried again; it doubles each time, up to 5 minutes. */
    ALERT_DELIVERY_RETRY_MS: z.coerce.number().int().min(1).max(600_000).default(1_000),
    /** One delivery attempt to an alert sink may take this long. */
    ALERT_DELIVERY_TIMEOUT_MS: z.coerce.number().int().min(100).max(120_000).default(10_000),
    /** Events one subscription may have waiting; beyond it the subscription ends with SUBSCRIBER_TOO_SLOW. */
    SUBSCRIPTION_QUEUE_LIMIT: z.coerce.number().int().min(1).max(100_000).default(1000),
    /** Gateway websocket limits: open connections, subscriptions per connection, connection_init wait, keep-alive ping. */
    GATEWAY_WS_MAX_CONNECTIONS: z.coerce.number().int().min(1).max(100_000).default(5_000),
    GATEWAY_WS_MAX_SUBSCRIPTIONS: z.coerce.number().int().min(1).max(1_000).default(50),
    GATEWAY_WS_INIT_TIMEOUT_MS: z.coerce.number().int().min(100).max(60_000).default(5_000),
    GATEWAY_WS_PING_MS: z.coerce.number().int().min(1_000).max(300_000).default(15_000),
    /** Websockets one source address may hold open before their connection_init is accepted. */
    GATEWAY_WS_MAX_PENDING_PER_ADDRESS: z.coerce.number().int().min(1).max(100_000).default(20),
    /** Websockets and subscriptions one token subject may hold open at once. */
    GATEWAY_WS_MAX_CONNECTIONS_PER_SUBJECT: z.coerce.number().int().min(1).max(100_000).default(100),
    GATEWAY_WS_MAX_SUBSCRIPTIONS_PER_SUBJECT: z.coerce.number().int().min(1).max(1_000_000).default(500),
    /** Requests one token subject may make per minute at the gateway; more answer 429 with Retry-After. */
    GATEWAY_RATE_LIMIT_PER_MINUTE: z.coerce.number().int().min(1).max(10_000_000).default(1_200),
    /** Failed authentications one source address may make per minute; more answer 429 until the minute ends. */
    AUTH_FAILURES_PER_MINUTE: z.coerce.number().int().min(1).max(1_000_000).default(30),
    /** Events a gateway subscriber may have waiting before it is closed as too slow. */
    GATEWAY_SUBSCRIBER_QUEUE_LIMIT: z.coerce.number().int().min(1).max(1_000_000).default(1_000),
    /**
     * Longest time the gateway holds one upstream subscription's events to write them to its
     * subscribers together (0: every batch at once). Events are held only in proportion to what a
     * write to all the subscribers costs (see BatchPipeline): an idle gateway never holds one.
     */
    GATEWAY_SUBSCRIPTION_FLUSH_MS: z.coerce.number().int().min(0).max(1_000).default(25),
    /**
     * Events one upstream subscription may hold received and not yet completed: past it the gateway
     * stops reading it until they are delivered, then reopens it after the last one (nothing lost).
     */
    GATEWAY_UPSTREAM_BUFFER_LIMIT: z.coerce.number().int().min(1).max(1_000_000).default(10_000),
  })
  .refine((c) => !(c.AUTH_JWT_SECRET && c.AUTH_JWKS_URL), {
    message: 'set AUTH_JWT_SECRET or AUTH_JWKS_URL, not both',
    path: ['AUTH_JWKS_URL'],
  });

export type Config = Omit<z.infer<typeof ConfigSchema>, 'DEMO' | 'CONNECTOR_ALLOW_PRIVATE' | 'CONSOLE'> & {
  readonly dataDir: string;
  /** Which demos run: the simulated provider unless NODE_ENV=production (where it must be asked for with DEMO=on), and provider emulators. */
  readonly DEMO: false | readonly DemoName[];
  /** Off in production unless CONNECTOR_ALLOW_PRIVATE=true; on elsewhere unless turned off. */
  readonly CONNECTOR_ALLOW_PRIVATE: boolean;
  /** Whether the gateway serves the browser console and GraphiQL: off in production unless CONSOLE=on. */
  readonly CONSOLE: boolean;
};

/** Raised when the environment holds a bad value; the message lists every bad variable. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

/** Every environment variable Tenantwatch reads (deployment manifests are checked against it). */
export const CONFIG_KEYS: readonly string[] = Object.keys(ConfigSchema.shape);

/**
 * Reads and validates the configuration from `env` (default `process.env`) once.
 * Throws a {@link ConfigError} that names each bad variable and what it accepts.
 */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const present = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const parsed = ConfigSchema.safeParse(present);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${i.path.join('.') || '(config)'}: ${i.message}`);
    throw new ConfigError(`Invalid configuration:\n${lines.join('\n')}`);
  }
  const production = parsed.data.NODE_ENV === 'production';
  return {
    ...parsed.data,
    dataDir: path.resolve(parsed.data.DATA_DIR),
    DEMO: parsed.data.DEMO ?? (production ? false : ['simulated']),
    CONNECTOR_ALLOW_PRIVATE: parsed.data.CONNECTOR_ALLOW_PRIVATE ?? !production,
    CONSOLE: parsed.data.CONSOLE === undefined ? !production : parsed.data.CONSOLE === 'on',
  };
}
