import { z } from 'zod';

/** Every permission a tenant token can hold; a token holds all of them unless the spec says otherwise. */
export const ALL_PERMISSIONS = [
  'users.read',
  'users.write',
  'groups.read',
  'audit.read',
  'files.read',
  'files.write',
  'grants.read',
  'grants.write',
] as const;
export type Permission = (typeof ALL_PERMISSIONS)[number];

const rate = z.number().min(0, 'must be between 0 and 1').max(1, 'must be between 0 and 1');

const slowMs = z.int().min(0).max(600_000);

/** Fault injection on `/api/` routes: probabilities per request, and the delay of a slow answer. */
export const FaultsSchema = z.object({
  /** Share of requests answered 503 (default 0). */
  errorRate: rate.default(0),
  /** Share of requests answered after `slowMs` (default 0). */
  slowRate: rate.default(0),
  /** Delay of a slow answer, ms (default 1000). */
  slowMs: slowMs.default(1000),
  /** Share of requests whose socket is destroyed without an answer (default 0). */
  dropRate: rate.default(0),
  /**
   * Share of requests answered 429 with Retry-After: 1 although the tenant's own bucket has room,
   * as when other apps spend a shared organisation bucket (default 0).
   */
  throttleRate: rate.default(0),
});

/** A change to some of the fault settings (the others stay as they are). */
const FaultsPatchSchema = z
  .object({
    errorRate: rate.optional(),
    slowRate: rate.optional(),
    slowMs: slowMs.optional(),
    dropRate: rate.optional(),
    throttleRate: rate.optional(),
  })
  .strict();
export type Faults = z.output<typeof FaultsSchema>;

export const WebhookSchema = z.object({
  url: z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' }),
  secret: z.string().min(1, 'must not be empty'),
});

/**
 * An OAuth client of the tenant (RFC 6749 §4.4 client credentials): `POST /oauth/token` issues access
 * tokens that expire after `tokenLifetimeSeconds`, as an identity provider does.
 */
export const OAuthClientSchema = z
  .object({
    clientId: z.string({ error: 'required: a string' }).min(1, 'must not be empty'),
    clientSecret: z.string({ error: 'required: a string of at least 8 characters' }).min(8, 'must be at least 8 characters'),
    /** Lifetime of an issued access token (default 3600 s). */
    tokenLifetimeSeconds: z.int().min(1).max(86_400).default(3600),
  })
  .strict();

/** One simulated app instance. Sizes and seed decide everything generated; the rest can change at run time. */
export const TenantSpecSchema = z
  .object({
    id: z
      .string({ error: 'required: 1-63 lowercase letters, digits or dashes' })
      .regex(/^[a-z0-9][a-z0-9-]{0,62}$/, 'must be 1-63 lowercase letters, digits or dashes'),
    /** Display name (default: the id, capitalised). */
    name: z.string().min(1).optional(),
    /** The API token that selects this tenant (`Authorization: Bearer <token>`). */
    token: z.string({ error: 'required: a string of at least 8 characters' }).min(8, 'must be at least 8 characters'),
    /** Seed of every generated thing (default 1). */
    seed: z.int().default(1),
    /** The company's mail domain (default `<id>.example.com`). */
    domain: z
      .string()
      .regex(/^[a-z0-9.-]+\.[a-z]{2,}$/, 'must be a domain name such as acme.example.com')
      .optional(),
    users: z.int().min(1).max(100_000).default(50),
    groups: z.int().min(0).max(10_000).default(8),
    files: z.int().min(0).max(100_000).default(120),
    grants: z.int().min(0).max(100_000).default(60),
    /** Live audit events generated per minute while running (default 6; 0 stops it). */
    activityPerMinute: z.number().min(0).max(60_000).default(6),
    /** Days of history generated at start (default 7). */
    backfillDays: z.number().min(0).max(90).default(7),
    /** Ordinary events per user per backfilled day, before anomalies (default 4). */
    backfillEventsPerUserPerDay: z.number().min(0).max(1000).default(4),
    rateLimitPerMinute: z.number().positive().max(1_000_000).default(600),
    /** The token bucket holds this many seconds of the rate (default 5). */
    burstSeconds: z.number().positive().max(3600).default(5),
    /** Largest `limit` the API accepts (default 200). */
    maxPageSize: z.int().min(1).max(10_000).default(200),
    /** Max delay before an audit event becomes visible; each event's own delay is drawn in [0, auditLagMs] (default 60 000). */
    auditLagMs: z.int().min(0).default(60_000),
    /** How long change-feed cursors stay valid (default 1 h); older ones answer 410. */
    changeRetentionMs: z.int().positive().default(3_600_000),
    /** Permissions the token was granted (default all of {@link ALL_PERMISSIONS}). */
    permissions: z.array(z.enum(ALL_PERMISSIONS)).default([...ALL_PERMISSIONS]),
    /** A webhook set out of band (as an admin would), signed with its secret, beside the API's subscriptions. */
    webhook: WebhookSchema.optional(),
    /** The longest life of a change subscription (default 3600 s): later expiries are capped to it. */
    maxSubscriptionLifetimeSeconds: z.int().min(1).max(86_400).default(3600),
    /** An OAuth client whose access tokens expire; the fixed `token` keeps working beside it. */
    oauth: OAuthClientSchema.optional(),
    faults: FaultsSchema.default({ errorRate: 0, slowRate: 0, slowMs: 1000, dropRate: 0, throttleRate: 0 }),
  })
  .strict();

/** A tenant as callers describe it (defaults optional). */
export type TenantSpec = z.input<typeof TenantSpecSchema>;
/** A tenant with every default filled in. */
export type ResolvedTenantSpec = z.output<typeof TenantSpecSchema>;

/**
 * What can change while the tenant runs (`PATCH /admin/tenants/:id`, `TenantControl.update`).
 * The spec's defaults are unwrapped: in zod 4 an optional default still yields the default, which
 * would reset every field a patch leaves out.
 */
export const TenantPatchSchema = z
  .object({
    rateLimitPerMinute: TenantSpecSchema.shape.rateLimitPerMinute.unwrap().optional(),
    burstSeconds: TenantSpecSchema.shape.burstSeconds.unwrap().optional(),
    maxPageSize: TenantSpecSchema.shape.maxPageSize.unwrap().optional(),
    auditLagMs: TenantSpecSchema.shape.auditLagMs.unwrap().optional(),
    activityPerMinute: TenantSpecSchema.shape.activityPerMinute.unwrap().optional(),
    changeRetentionMs: TenantSpecSchema.shape.changeRetentionMs.unwrap().optional(),
    permissions: z.array(z.enum(ALL_PERMISSIONS)).optional(),
    faults: FaultsPatchSchema.optional(),
    webhook: WebhookSchema.nullable().optional(),
    maxSubscriptionLifetimeSeconds: TenantSpecSchema.shape.maxSubscriptionLifetimeSeconds.unwrap().optional(),
    /** A new OAuth client (a rotated secret: tokens already issued stay valid until they expire), or null to remove it. */
    oauth: OAuthClientSchema.nullable().optional(),
  })
  .strict();
export type TenantPatch = z.input<typeof TenantPatchSchema>;

/** Bad input to the simulator; the message names each bad field. */
export class SpecError extends Error {
  override readonly name = 'SpecError';
}

/** Parses `value` with `schema`, or throws a {@link SpecError} naming each bad field under `what`. */
export function parseSpec<S extends z.ZodType>(schema: S, value: unknown, what: string): z.output<S> {
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  const lines = parsed.error.issues.map((i) => `${[what, ...i.path.map(String)].join('.')}: ${i.message}`);
  throw new SpecError(lines.join('; '));
}

/** Validates a tenant spec and fills its defaults. Throws {@link SpecError}. */
export function resolveTenantSpec(spec: unknown): ResolvedTenantSpec {
  return parseSpec(TenantSpecSchema, spec, 'tenant');
}
