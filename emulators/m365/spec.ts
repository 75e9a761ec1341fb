import { z } from 'zod';

/**
 * The application permissions (app roles of Microsoft Graph) the emulator knows, as the Graph
 * permissions reference names them: https://learn.microsoft.com/en-us/graph/permissions-reference
 */
export const GRAPH_PERMISSIONS = [
  'User.Read.All',
  'User.ReadWrite.All',
  'User.EnableDisableAccount.All',
  'User-PasswordProfile.ReadWrite.All',
  'User.RevokeSessions.All',
  'Group.Read.All',
  'GroupMember.Read.All',
  'Directory.Read.All',
  'Directory.ReadWrite.All',
  'RoleManagement.Read.Directory',
  'AuditLog.Read.All',
  'Application.Read.All',
  'DelegatedPermissionGrant.ReadWrite.All',
  'Files.Read.All',
  'Files.ReadWrite.All',
  'Sites.Read.All',
  'Sites.ReadWrite.All',
  'AppRoleAssignment.ReadWrite.All',
] as const;
export type GraphPermission = (typeof GRAPH_PERMISSIONS)[number];

/**
 * Application permissions of the Office 365 Management APIs (a resource of its own, so a token of its
 * own): https://learn.microsoft.com/en-us/office/office-365-management-api/get-started-with-office-365-management-apis
 */
export const MANAGEMENT_PERMISSIONS = ['ActivityFeed.Read'] as const;
const ALL_PERMISSIONS = [...GRAPH_PERMISSIONS, ...MANAGEMENT_PERMISSIONS] as const;

const ClientSchema = z
  .object({
    clientId: z.string().min(1),
    /** A client secret (https://learn.microsoft.com/en-us/entra/identity-platform/v2-oauth2-client-creds-grant-flow#first-case-access-token-request-with-a-shared-secret). */
    clientSecret: z.string().min(8).optional(),
    /** The public certificate (PEM) of a certificate credential: client assertions are verified with it. */
    certificatePem: z.string().min(1).optional(),
    /** The application permissions an admin consented to: the access token's `roles` claim. */
    roles: z.array(z.enum(ALL_PERMISSIONS)).default([...ALL_PERMISSIONS]),
  })
  .strict();

/** Requests per minute one app may make to one service of the tenant before 429 (see README: throttling). */
const LimitsSchema = z
  .object({
    directory: z.number().positive().default(6000),
    audit: z.number().positive().default(300),
    files: z.number().positive().default(6000),
    /** The Office 365 Management Activity API: a baseline of 2,000 requests per minute per tenant (its reference, "API throttling"). */
    activity: z.number().positive().default(2000),
  })
  .strict();

/** One emulated Microsoft 365 tenant. Sizes and seed decide everything generated. */
export const M365TenantSpecSchema = z
  .object({
    tenantId: z.uuid({ error: 'must be a GUID' }),
    displayName: z.string().min(1).default('Contoso (emulated)'),
    domain: z
      .string()
      .regex(/^[a-z0-9.-]+\.[a-z]{2,}$/)
      .default('contoso.example.com'),
    seed: z.int().default(1),
    users: z.int().min(1).max(100_000).default(40),
    guests: z.int().min(0).max(10_000).default(4),
    admins: z.int().min(0).max(1000).default(2),
    groups: z.int().min(0).max(10_000).default(6),
    files: z.int().min(0).max(200_000).default(60),
    /** Third-party apps with delegated grants (one of them over-privileged). */
    apps: z.int().min(1).max(1000).default(5),
    grants: z.int().min(0).max(100_000).default(30),
    /** Apps (the first ones) holding application permissions of Microsoft Graph: the first is over-privileged. */
    appRoleApps: z.int().min(0).max(1000).default(2),
    /** Days of sign-ins and directory audits generated at start. */
    backfillDays: z.number().min(0).max(30).default(2),
    signInsPerUserPerDay: z.number().min(0).max(100).default(2),
    clients: z.array(ClientSchema).min(1),
    /** Access token lifetime (Entra ID issues 60–90 minutes; default 3599 s as its answers show). */
    tokenLifetimeSeconds: z.int().min(1).max(86_400).default(3599),
    /** Each audit record becomes visible up to this long after it happened (Entra documents up to hours; default 0). */
    auditLatencyMs: z.int().min(0).default(0),
    limits: LimitsSchema.default({ directory: 6000, audit: 300, files: 6000, activity: 2000 }),
    /** Seconds of availability one content blob of the Management Activity API aggregates. */
    activityBlobSeconds: z.int().min(1).max(3600).default(60),
    /** File activity (accessed, downloaded, modified, sharing set) per minute while Audit.SharePoint is subscribed. */
    fileActivityPerMinute: z.number().min(0).max(10_000).default(0),
    /** One user downloads 40 files within a minute, half a minute after Audit.SharePoint is subscribed. */
    massDownload: z.boolean().default(false),
    /** Largest page (`$top`) served per list (Graph: users 999, sign-ins 1000). */
    maxPageSize: z.int().min(1).max(1000).default(999),
    /** Share of requests answered 429 + Retry-After although the limit has room (other apps spend the tenant's budget). */
    throttleRate: z.number().min(0).max(1).default(0),
    /** The longest a drive subscription may live (Graph: 42,300 minutes for driveItem). */
    maxSubscriptionMinutes: z.int().min(1).max(43_200).default(42_300),
  })
  .strict();

export type M365TenantSpec = z.input<typeof M365TenantSpecSchema>;
export type ResolvedM365Spec = z.output<typeof M365TenantSpecSchema>;

export class M365SpecError extends Error {
  override readonly name = 'M365SpecError';
}

export function resolveM365Spec(input: unknown): ResolvedM365Spec {
  const parsed = M365TenantSpecSchema.safeParse(input);
  if (parsed.success) return parsed.data;
  throw new M365SpecError(parsed.error.issues.map((i) => `tenant.${i.path.join('.')}: ${i.message}`).join('; '));
}
