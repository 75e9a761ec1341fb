import net from 'node:net';
import { z } from 'zod';
import { PolicyKind } from './policy.entity.js';
import { ActivityCategory } from '../../platform/vocabulary/activity-category.js';
import { PERMISSION_LEVELS, PermissionLevel } from '../../platform/vocabulary/permission-level.js';
import { SensitiveDataType } from '../../platform/vocabulary/sensitive-data.js';
import { SHARING_LEVELS, SharingLevel } from '../../platform/vocabulary/sharing.js';

/**
 * What a policy's `condition` may say, per kind, as zod schemas. Every field is optional; the ones
 * given must all hold (AND), and a list means "any of" (OR). A single value stands for a list of one.
 * Stored conditions keep the administrator's spelling; the evaluator reads them through
 * {@link parsePolicyCondition}, which also normalizes (lists, upper-case country codes).
 */

/** How long a detection stays open to more matches about the same subject, by default. */
export const DEFAULT_WINDOW_MINUTES: Readonly<Record<PolicyKind, number>> = {
  ACTIVITY: 60,
  FILE: 1440,
  APP_PERMISSION: 1440,
};

/**
 * How many earlier successful activities (with a known country) an actor needs before a country can be
 * "new" for it: an actor's first place is its baseline, never news.
 */
export const NEW_COUNTRY_BASELINE = 1;

/** One value or a non-empty list of at most `max`; always a list once parsed. */
function oneOrMany<T extends z.ZodType>(item: T, max: number) {
  return z.preprocess(
    (value) => (value === undefined || Array.isArray(value) ? value : [value]),
    z.array(item).min(1, 'must not be empty').max(max, `must hold at most ${max} entries`),
  );
}

const text = (max: number) => z.string('must be a string').trim().min(1, 'must not be empty').max(max, `must be at most ${max} characters`);

/** A CIDR block (`10.0.0.0/8`, `2001:db8::/32`) or a single address; null when it is neither. */
export function parseCidr(value: string): { address: string; prefix: number; family: 'ipv4' | 'ipv6' } | null {
  const [address = '', prefixText, extra] = value.trim().split('/');
  if (extra !== undefined) return null;
  const family = net.isIPv4(address) ? 'ipv4' : net.isIPv6(address) ? 'ipv6' : null;
  if (!family) return null;
  const bits = family === 'ipv4' ? 32 : 128;
  if (prefixText === undefined) return { address, prefix: bits, family };
  if (!/^\d{1,3}$/.test(prefixText) || Number(prefixText) > bits) return null;
  return { address, prefix: Number(prefixText), family };
}

/** Glob wildcards: `*` (any run) and `?` (one character); matched without regular expressions. */
const MAX_STARS = 10;
const Glob = text(200).refine((g) => [...g].filter((c) => c === '*').length <= MAX_STARS, `must hold at most ${MAX_STARS} "*" wildcards`);

const Country = z
  .string()
  .regex(/^[A-Za-z]{2}$/, 'must be an ISO 3166 alpha-2 country code such as "US"')
  .transform((c) => c.toUpperCase());

/** A whole number; the message says when it is missing. */
const int = (what: string) => z.int({ error: (issue) => (issue.input === undefined ? `is required: ${what}` : `must be ${what}`) });

const Window = int('a whole number of minutes').min(1, 'must be at least 1 minute').max(43_200, 'must be at most 43200 minutes (30 days)');

const CountryCondition = z
  .strictObject({
    in: oneOrMany(Country, 300),
    notIn: oneOrMany(Country, 300),
    newForActor: z.literal(true, 'must be true (leave "country" out to ignore where activities come from)'),
  })
  .partial()
  .refine(
    (c) => Object.values(c).filter((v) => v !== undefined).length === 1,
    'must hold exactly one of "in", "notIn" or "newForActor: true"',
  );

export const ActivityConditionSchema = z
  .strictObject({
    /** Exact action names or globs ("file.*"). */
    action: oneOrMany(Glob, 100),
    category: oneOrMany(z.enum(ActivityCategory, `must be one of ${Object.values(ActivityCategory).join(', ')}`), 3),
    succeeded: z.boolean('must be true or false'),
    actorIsAdmin: z.boolean('must be true or false'),
    /**
     * `newForActor`: no earlier successful activity of the actor came from that country, while at
     * least {@link NEW_COUNTRY_BASELINE} earlier ones (from elsewhere) did, and it is not the actor's
     * usual country (where most of its successful activities come from). The last rule keeps the
     * home country from looking new when the stored history begins (at the backfill) with an anomaly.
     */
    country: CountryCondition,
    ipInCidr: oneOrMany(
      text(64).refine((c) => parseCidr(c) !== null, 'must be a CIDR block such as "10.0.0.0/8" or "2001:db8::/32"'),
      100,
    ),
    /** At least `count` matching activities by the same actor within `windowMinutes`. */
    threshold: z.strictObject({
      count: int('a whole number of activities').min(2, 'must be at least 2').max(10_000, 'must be at most 10000'),
      windowMinutes: Window.max(10_080, 'must be at most 10080 minutes (7 days)'),
    }),
    windowMinutes: Window,
  })
  .partial();

export const FileConditionSchema = z
  .strictObject({
    sharing: oneOrMany(z.enum(SharingLevel, `must be one of ${SHARING_LEVELS.join(', ')}`), 4),
    /** Any of these types with at least `minCount` matches (any type when left out). */
    sensitiveType: oneOrMany(z.enum(SensitiveDataType, `must be one of ${Object.values(SensitiveDataType).join(', ')}`), 20),
    minCount: int('a whole number').min(1, 'must be at least 1').max(1_000_000, 'must be at most 1000000'),
    trashed: z.boolean('must be true or false'),
    ownerIsAdmin: z.boolean('must be true or false'),
    /** Globs on the file name, case-insensitive. */
    namePattern: oneOrMany(Glob, 20),
    windowMinutes: Window,
  })
  .partial();

export const AppPermissionConditionSchema = z
  .strictObject({
    permissionLevel: oneOrMany(z.enum(PermissionLevel, `must be one of ${PERMISSION_LEVELS.join(', ')}`), 3),
    /** Any scope containing any of these, case-insensitive. */
    scopeContains: oneOrMany(text(200), 50),
    /** At least this many accounts hold a live grant of the same app (client id). */
    grantedByAtLeast: int('a whole number').min(1, 'must be at least 1').max(1_000_000, 'must be at most 1000000'),
    /** The app's OAuth client id, exactly (one or any of several): with autoGovernance REVOKE_APP_PERMISSION, a ban. */
    clientId: oneOrMany(text(500), 100),
    /** The app's name: globs (`*`, `?`), case-insensitive. */
    appName: oneOrMany(Glob, 100),
    windowMinutes: Window,
  })
  .partial();

export type ActivityCondition = z.output<typeof ActivityConditionSchema>;
export type FileCondition = z.output<typeof FileConditionSchema>;
export type AppPermissionCondition = z.output<typeof AppPermissionConditionSchema>;

/** A parsed condition, tagged with its policy kind. */
export type PolicyCondition =
  | { readonly kind: PolicyKind.ACTIVITY; readonly condition: ActivityCondition }
  | { readonly kind: PolicyKind.FILE; readonly condition: FileCondition }
  | { readonly kind: PolicyKind.APP_PERMISSION; readonly condition: AppPermissionCondition };

/** A parse result: the condition, or the first problem with its field path (`threshold.count`; '' for the whole). */
export type ConditionResult =
  { readonly ok: true; readonly value: PolicyCondition } | { readonly ok: false; readonly field: string; readonly message: string };

const SCHEMAS = {
  ACTIVITY: ActivityConditionSchema,
  FILE: FileConditionSchema,
  APP_PERMISSION: AppPermissionConditionSchema,
} as const;

/** The fields of the nested objects, for messages about unknown ones. */
const NESTED_KEYS: Readonly<Record<string, readonly string[]>> = {
  country: ['in', 'notIn', 'newForActor'],
  threshold: ['count', 'windowMinutes'],
};

/** Fields that only tune grouping, not matching: a condition of only these would match everything. */
const NOT_CRITERIA = new Set(['windowMinutes']);

/**
 * Validates and normalizes `value` as the condition of a `kind` policy; never throws. `contentRules`:
 * the policy has content patterns or keyword lists, which are criteria of their own, so the condition
 * may then be empty (`{}`).
 */
export function parsePolicyCondition(kind: PolicyKind, value: unknown, { contentRules = false } = {}): ConditionResult {
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    return { ok: false, field: '', message: 'must be a JSON object' };
  const schema = SCHEMAS[kind];
  const accepted = Object.keys(schema.shape);
  const parsed = schema.safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    if (issue.code === 'unrecognized_keys') {
      const where = inputPath(value, issue.path);
      const field = [...where, issue.keys[0]!].join('.');
      if (where.length === 0)
        return { ok: false, field, message: `is not a field of ${kind} policy conditions; accepted: ${accepted.join(', ')}` };
      return {
        ok: false,
        field,
        message: `is not a field of "${where.join('.')}"; accepted: ${(NESTED_KEYS[where.join('.')] ?? []).join(', ')}`,
      };
    }
    return { ok: false, field: inputPath(value, issue.path).join('.'), message: issue.message };
  }
  if (!contentRules && !Object.keys(parsed.data).some((key) => !NOT_CRITERIA.has(key))) {
    return { ok: false, field: '', message: `must set at least one of ${accepted.filter((k) => !NOT_CRITERIA.has(k)).join(', ')}` };
  }
  return { ok: true, value: { kind, condition: parsed.data } as PolicyCondition };
}

/**
 * The issue's path as the client wrote the input: a single value that the schema wrapped in a list
 * is named without the list index (`action`, not `action.0`).
 */
function inputPath(input: unknown, path: readonly PropertyKey[]): (string | number)[] {
  const out: (string | number)[] = [];
  let at: unknown = input;
  for (const key of path) {
    if (typeof key === 'number' && !Array.isArray(at)) continue;
    out.push(typeof key === 'number' ? key : String(key));
    at = at !== null && typeof at === 'object' ? (at as Record<string | number, unknown>)[key as string | number] : undefined;
  }
  return out;
}
