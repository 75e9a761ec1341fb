import { z } from 'zod';

/**
 * The OAuth scopes the emulator knows, as Google names them
 * (https://developers.google.com/identity/protocols/oauth2/scopes): the Admin SDK's Directory and
 * Reports scopes and Drive's. A token request naming another scope is refused `invalid_scope`.
 */
export const SCOPES = {
  user: 'https://www.googleapis.com/auth/admin.directory.user',
  userReadonly: 'https://www.googleapis.com/auth/admin.directory.user.readonly',
  userSecurity: 'https://www.googleapis.com/auth/admin.directory.user.security',
  group: 'https://www.googleapis.com/auth/admin.directory.group',
  groupReadonly: 'https://www.googleapis.com/auth/admin.directory.group.readonly',
  groupMember: 'https://www.googleapis.com/auth/admin.directory.group.member',
  groupMemberReadonly: 'https://www.googleapis.com/auth/admin.directory.group.member.readonly',
  roles: 'https://www.googleapis.com/auth/admin.directory.rolemanagement',
  rolesReadonly: 'https://www.googleapis.com/auth/admin.directory.rolemanagement.readonly',
  customerReadonly: 'https://www.googleapis.com/auth/admin.directory.customer.readonly',
  audit: 'https://www.googleapis.com/auth/admin.reports.audit.readonly',
  drive: 'https://www.googleapis.com/auth/drive',
  driveReadonly: 'https://www.googleapis.com/auth/drive.readonly',
  driveMetadata: 'https://www.googleapis.com/auth/drive.metadata',
  driveMetadataReadonly: 'https://www.googleapis.com/auth/drive.metadata.readonly',
  gmail: 'https://mail.google.com/',
} as const;
export const ALL_SCOPES: readonly string[] = Object.values(SCOPES);

/** The Reports API's applications the emulator generates activities for. */
export const APPLICATIONS = ['login', 'admin', 'drive', 'token'] as const;
export type ApplicationName = (typeof APPLICATIONS)[number];

/** The APIs with quotas of their own (https://developers.google.com/admin-sdk/directory/v1/limits, https://developers.google.com/drive/api/guides/limits). */
export const APIS = ['directory', 'reports', 'drive'] as const;
export type GoogleApi = (typeof APIS)[number];

/**
 * A service account with domain-wide delegation in this customer
 * (https://support.google.com/a/answer/162106): its client email (the JWT's `iss`), its numeric client
 * id (what the Admin console authorizes), its public key (PEM, SPKI or certificate) that verifies the
 * assertion's RS256 signature, and the scopes the admin authorized for the client id.
 */
const ServiceAccountSchema = z
  .object({
    clientEmail: z.email(),
    clientId: z.string().regex(/^\d{6,30}$/, 'must be the numeric client id'),
    publicKeyPem: z.string().includes('-----BEGIN'),
    scopes: z.array(z.string()).default([...ALL_SCOPES]),
  })
  .strict();

/** Requests per minute per project (the service account's) and per user (the impersonated one), for one API. */
const QuotaSchema = z.object({ perProject: z.number().positive(), perUser: z.number().positive() }).strict();

/**
 * Defaults from the docs: Directory 2,400 queries per minute per user per project
 * (https://developers.google.com/admin-sdk/directory/v1/limits); the Reports API the same (the Admin
 * SDK's quota); Drive 12,000 queries per minute per project and per user
 * (https://developers.google.com/drive/api/guides/limits). The per-project figure of the Admin SDK is
 * not published on those pages: the emulator uses the per-user one times ten.
 */
const LimitsSchema = z
  .object({
    directory: QuotaSchema.default({ perProject: 24_000, perUser: 2_400 }),
    reports: QuotaSchema.default({ perProject: 24_000, perUser: 2_400 }),
    drive: QuotaSchema.default({ perProject: 12_000, perUser: 12_000 }),
  })
  .strict();

/**
 * How late each application's activities become visible in the Reports API, at most (each event is
 * visible after a random share of it): "Near real time (couple of minutes)" for admin, login, Drive
 * and OAuth token log events (https://support.google.com/a/answer/7061566).
 */
const LatencySchema = z
  .object({
    login: z.int().min(0).default(120_000),
    admin: z.int().min(0).default(120_000),
    drive: z.int().min(0).default(120_000),
    token: z.int().min(0).default(120_000),
  })
  .strict();

/** One emulated Google Workspace customer (an account with its primary domain). Sizes and seed decide everything generated. */
export const CustomerSpecSchema = z
  .object({
    /** The customer id (Admin console: Account settings), `C` and base-36 characters. */
    customerId: z.string().regex(/^C[0-9a-z]{6,12}$/, 'must look like C03az79cb'),
    domain: z
      .string()
      .regex(/^[a-z0-9.-]+\.[a-z]{2,}$/)
      .default('example.com'),
    displayName: z.string().min(1).default('Example Org (emulated)'),
    seed: z.int().default(1),
    users: z.int().min(1).max(100_000).default(40),
    /** Users suspended by an admin (not counting the archived ones). */
    suspended: z.int().min(0).default(2),
    archived: z.int().min(0).default(1),
    /** Super administrators (`isAdmin`): the first users, among them the one a connector impersonates. */
    admins: z.int().min(1).default(2),
    /** Users with an administrator role other than super admin (`isDelegatedAdmin`). */
    delegatedAdmins: z.int().min(0).default(1),
    groups: z.int().min(0).max(20_000).default(5),
    /** Third-party apps users authorized (the Directory API's tokens); the first is over-privileged (full Drive and Gmail). */
    apps: z.int().min(1).max(500).default(5),
    /** OAuth tokens granted to apps, spread over users. */
    tokens: z.int().min(0).max(200_000).default(30),
    /** Files in users' My Drives (Google Docs, Sheets and Slides among them), spread over users. */
    files: z.int().min(0).max(500_000).default(60),
    /** Google Docs whose export would exceed Drive's 10 MB export limit. */
    oversizeDocs: z.int().min(0).max(10).default(0),
    /** Shared drives, each with members and files of its own. */
    sharedDrives: z.int().min(0).max(100).default(1),
    filesPerSharedDrive: z.int().min(0).max(100_000).default(8),
    /** Domains outside the customer that files are shared with. */
    externalDomains: z.array(z.string()).default(['partner.example.net', 'gmail.com']),
    /** Days of audit activity generated at start (login, admin, drive, token). */
    backfillDays: z.number().min(0).max(180).default(2),
    /** Activities per user per day in the backfill, over all four applications. */
    eventsPerUserPerDay: z.number().min(0).max(200).default(3),
    serviceAccounts: z.array(ServiceAccountSchema).min(1),
    /** Lifetime of the access tokens the token endpoint issues (Google: 3599 s). */
    tokenLifetimeSeconds: z.int().min(1).max(3600).default(3599),
    latencyMs: LatencySchema.default({ login: 120_000, admin: 120_000, drive: 120_000, token: 120_000 }),
    limits: LimitsSchema.default({
      directory: { perProject: 24_000, perUser: 2_400 },
      reports: { perProject: 24_000, perUser: 2_400 },
      drive: { perProject: 12_000, perUser: 12_000 },
    }),
    /** Share of requests answered rate-limited although under quota (other apps spending the project's quota). */
    throttleRate: z.number().min(0).max(1).default(0),
    /** The longest a changes channel may live: 604,800 s, a week (https://developers.google.com/drive/api/guides/push). */
    maxChangesChannelSeconds: z.int().min(1).max(604_800).default(604_800),
  })
  .strict();

export type CustomerSpec = z.input<typeof CustomerSpecSchema>;
export type ResolvedCustomerSpec = z.output<typeof CustomerSpecSchema>;

export class GoogleSpecError extends Error {
  override readonly name = 'GoogleSpecError';
}

export function resolveCustomerSpec(input: unknown): ResolvedCustomerSpec {
  const parsed = CustomerSpecSchema.safeParse(input);
  if (!parsed.success) throw new GoogleSpecError(parsed.error.issues.map((i) => `customer.${i.path.join('.')}: ${i.message}`).join('; '));
  const spec = parsed.data;
  if (spec.admins + spec.delegatedAdmins + spec.suspended + spec.archived > spec.users)
    throw new GoogleSpecError('customer.users: must be at least admins + delegatedAdmins + suspended + archived');
  return spec;
}
