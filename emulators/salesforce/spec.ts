import { z } from 'zod';

/**
 * A connected app of the org (https://help.salesforce.com/s/articleView?id=sf.connected_app_create_api_integration.htm):
 * its consumer key, the certificate its JWT bearer assertions are signed for, optionally a consumer
 * secret and the client credentials flow with a "run as" user.
 */
const ConnectedAppSchema = z
  .object({
    consumerKey: z.string().min(1),
    name: z.string().min(1).optional(),
    /** The X.509 certificate (PEM) uploaded to the app ("Use digital signatures"): JWT bearer assertions are verified with its key. */
    certificatePem: z.string().min(1).optional(),
    /** The consumer secret (client credentials flow). */
    consumerSecret: z.string().min(8).optional(),
    /** The integration user: made in the org (System Administrator profile) unless a generated user has this username. */
    username: z.string().min(3),
    /** "Admin approved users are pre-authorized" with the integration user's profile: false answers `user hasn't approved this consumer`. */
    preAuthorized: z.boolean().default(true),
    /** The client credentials flow is enabled, running as `username` (needs `consumerSecret`). */
    clientCredentials: z.boolean().optional(),
    /** OAuth scopes of the app, as the token response's `scope` says them. */
    scopes: z.array(z.string().min(1)).default(['api']),
  })
  .strict();

/** One emulated Salesforce org. The seed and the sizes decide everything generated. */
export const SalesforceOrgSpecSchema = z
  .object({
    /** The org's 15- or 18-character id (key prefix 00D). */
    organizationId: z
      .string()
      .regex(/^00D[a-zA-Z0-9]{12}(?:[a-zA-Z0-9]{3})?$/, { error: 'must be an org id: 00D and 12 or 15 more characters' }),
    name: z.string().min(1).default('Acme (emulated)'),
    /** Users' usernames and emails are at this domain. */
    domain: z
      .string()
      .regex(/^[a-z0-9.-]+\.[a-z]{2,}$/)
      .default('acme.example.com'),
    seed: z.int().default(1),
    /** Internal users (Salesforce licence), admins, frozen and inactive ones included. */
    users: z.int().min(1).max(100_000).default(40),
    admins: z.int().min(0).max(1000).default(2),
    frozen: z.int().min(0).max(10_000).default(1),
    inactive: z.int().min(0).max(10_000).default(2),
    /** Experience Cloud users (UserType PowerCustomerSuccess), in addition to `users`. */
    externalUsers: z.int().min(0).max(10_000).default(0),
    /** Public groups (Type Regular); role groups and a queue come in addition. */
    groups: z.int().min(0).max(10_000).default(4),
    /** ContentDocuments, each with one to three versions. */
    files: z.int().min(0).max(200_000).default(30),
    /** Public links (ContentDistribution), on the first files. */
    publicLinks: z.int().min(0).max(200_000).default(4),
    /** OAuth tokens of third-party connected apps (the first app heavily used). */
    oauthTokens: z.int().min(0).max(100_000).default(12),
    /** Days of LoginHistory, SetupAuditTrail and event log files generated at start. */
    backfillDays: z.number().min(0).max(30).default(2),
    loginsPerUserPerDay: z.number().min(0).max(100).default(2),
    setupChangesPerDay: z.number().min(0).max(10_000).default(10),
    /** Event Monitoring: hourly and daily EventLogFiles of Login, ReportExport, ContentTransfer and API events. */
    eventLogFiles: z.boolean().default(true),
    /** An hourly event log file appears this long after its hour ends (Salesforce: 3 to 6 hours or more; default 3 h). */
    eventLogLatencyMinutes: z
      .int()
      .min(0)
      .max(7 * 24 * 60)
      .default(180),
    /** LoginHistory and SetupAuditTrail records become visible up to this long after they happen (default 0). */
    auditLatencyMs: z.int().min(0).default(0),
    /** The most records one query batch returns (Salesforce: 2,000, and fewer when it chooses). */
    pageSize: z.int().min(1).max(2000).default(2000),
    /** DailyApiRequests Max (default: Enterprise Edition's 100,000 + 1,000 per Salesforce licence). */
    dailyApiLimit: z.int().min(1).optional(),
    /** Requests already spent in the last 24 hours (by other integrations). */
    apiUsage: z.int().min(0).default(0),
    /** Concurrent long-running (20 s or more) requests allowed (production 25, Developer Edition 5). */
    concurrentLongRunningLimit: z.int().min(1).default(25),
    /** Share of requests refused as over the concurrent long-running limit (other integrations' long requests). */
    throttleRate: z.number().min(0).max(1).default(0),
    /** Session timeout: an access token unused this long stops working (Salesforce default 2 hours). */
    sessionSeconds: z.int().min(1).max(86_400).default(7200),
    connectedApps: z.array(ConnectedAppSchema).min(1),
    /** An outbound message endpoint notified of every new ContentVersion (a record-triggered flow's outbound message action). */
    outboundMessageUrl: z.url().nullable().default(null),
    /** First retry of an unacknowledged outbound message (Salesforce retries with growing intervals up to 2 hours for 24 hours). */
    outboundRetryMs: z.int().min(1).default(15_000),
  })
  .strict();

export type SalesforceOrgSpec = z.input<typeof SalesforceOrgSpecSchema>;
export type ResolvedOrgSpec = z.output<typeof SalesforceOrgSpecSchema>;
export type ConnectedAppSpec = ResolvedOrgSpec['connectedApps'][number];

export class SalesforceSpecError extends Error {
  override readonly name = 'SalesforceSpecError';
}

export function resolveOrgSpec(input: unknown): ResolvedOrgSpec {
  const parsed = SalesforceOrgSpecSchema.safeParse(input);
  if (!parsed.success) throw new SalesforceSpecError(parsed.error.issues.map((i) => `org.${i.path.join('.')}: ${i.message}`).join('; '));
  const spec = parsed.data;
  if (spec.admins + spec.frozen + spec.inactive > spec.users)
    throw new SalesforceSpecError('org.users: must be at least admins + frozen + inactive');
  for (const app of spec.connectedApps) {
    if (!app.certificatePem && !app.consumerSecret)
      throw new SalesforceSpecError(`org.connectedApps: ${app.consumerKey} needs a certificatePem or a consumerSecret`);
    if (app.clientCredentials && !app.consumerSecret)
      throw new SalesforceSpecError(`org.connectedApps: ${app.consumerKey} enables client credentials without a consumerSecret`);
  }
  return spec;
}

/** Enterprise Edition's daily API request allocation: 100,000 + 1,000 per Salesforce licence (the limits cheat sheet). */
export function defaultDailyLimit(spec: ResolvedOrgSpec): number {
  return spec.dailyApiLimit ?? 100_000 + 1_000 * spec.users;
}
