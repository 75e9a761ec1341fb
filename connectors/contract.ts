/**
 * The connector contract: what Tenantwatch needs from a SaaS provider's API, shaped so that
 * Microsoft Graph, Google Workspace, Salesforce, GitHub, Okta, Box and Dropbox all fit it.
 *
 * - Every list is paged by an opaque {@link PageToken}: a provider page token, a `Link: rel="next"`
 *   cursor, a delta link or an encoded offset, whatever the provider uses. `null` asks for the first
 *   page; a page whose `next` is null is the last.
 * - Audit events are read by time window (Google Reports, O365 Management Activity, Okta System Log,
 *   GitHub audit log, Box admin_logs): the caller chooses the window with a lag and an overlap and
 *   deduplicates on {@link ProviderEvent.externalId}. Events arrive late and out of order.
 * - File changes come from a change feed with a delta cursor (Graph delta, Drive changes, Box
 *   events, Dropbox list_folder/continue); an expired cursor throws {@link CursorExpiredError} and
 *   the caller resynchronises from a full listing.
 * - Every HTTP call goes through the {@link ProviderHttp} the scheduler hands in: it spends the
 *   instance's rate budget at the job's priority, obeys Retry-After and rate-limit headers, and
 *   retries transient failures. Connectors only say how to read the provider's throttle signals
 *   ({@link Connector.parseThrottle}).
 * - Failures are typed ({@link ProviderError} subclasses) so that jobs know to retry, wait, stop, or
 *   report a credential problem loudly.
 */

import type { AccountStatus } from '../platform/vocabulary/account-status.js';
import type { ActivityCategory } from '../platform/vocabulary/activity-category.js';
import type { AppCapability } from '../platform/vocabulary/instance.js';
import type { SharingLevel } from '../platform/vocabulary/sharing.js';

export type { SharingLevel };
import type { ConnectorConfigField } from '../platform/ports.js';
export type { ConnectorConfigField };

/** What a connector can do: the graph's `AppCapability`. */
export type Capability = AppCapability;

/** An opaque position in a paged list; only the connector that made it reads it. */
export type PageToken = string;

export interface Page<T> {
  readonly items: readonly T[];
  /** Where the next page starts; null on the last page. */
  readonly next: PageToken | null;
}

/** The limits a provider documents, used to size the rate budget before any header is seen. */
export interface ProviderLimits {
  /** Requests per minute per instance (Atlassian 1,000; Zendesk 200; the simulator's configured limit). */
  readonly requestsPerMinute: number;
  /** A daily quota, where the provider has one (Salesforce). */
  readonly requestsPerDay?: number;
  /** Largest page the provider serves. */
  readonly maxPageSize: number;
  /** Concurrent requests the provider tolerates per instance (GitHub secondary limit: 100). */
  readonly maxConcurrency?: number;
  /**
   * Services the provider throttles separately (Microsoft Graph: directory, audit, files), each with
   * its own requests per minute: requests naming one (`ProviderRequest.service`) spend its budget,
   * and a 429 from it blocks it alone. Other requests spend the instance's `requestsPerMinute`.
   */
  readonly services?: Readonly<Record<string, { readonly requestsPerMinute: number; readonly requestsPerDay?: number }>>;
}

/** What the credentials were granted, found out by {@link Connector.verify}. */
export interface PermissionReport {
  /** Provider scopes / roles / permissions as the provider names them. */
  readonly grantedPermissions: readonly string[];
  /** Capabilities these permissions allow (a subset of the connector's). */
  readonly capabilities: readonly Capability[];
  /** Permissions the connector would need for its other capabilities. */
  readonly missingPermissions: readonly string[];
  /** The provider's own tenant/org id and name, when it tells. */
  readonly tenantId?: string;
  readonly tenantName?: string;
}

export interface ProviderUser {
  readonly externalId: string;
  readonly email: string | null;
  readonly displayName: string;
  readonly status: AccountStatus;
  readonly isAdmin: boolean;
  readonly privileges: readonly string[];
  /** The user must set a new password at next sign-in (Google changePasswordAtNextLogin, Graph forceChangePasswordNextSignIn, Okta PASSWORD_EXPIRED), when the provider tells. */
  readonly passwordResetRequired?: boolean;
  /** When the user's sessions were last ended by an admin (ISO 8601), when the provider tells. */
  readonly sessionsRevokedAt?: string | null;
}

export interface ProviderGroup {
  readonly externalId: string;
  readonly name: string;
}

/** One OAuth grant of a third-party app by one user. */
export interface ProviderGrant {
  readonly externalId: string;
  readonly appName: string;
  readonly clientId: string;
  readonly publisher: string | null;
  readonly scopes: readonly string[];
  readonly userExternalId: string | null;
  readonly grantedAt: string | null;
  readonly lastUsedAt: string | null;
  readonly revoked: boolean;
}

/** One audit event, normalized. */
export interface ProviderEvent {
  /** The provider's event id: the deduplication key with the instance. */
  readonly externalId: string;
  readonly category: ActivityCategory;
  /** Normalized, e.g. "user.login", "file.download", "admin.role.assign". */
  readonly action: string;
  readonly actorExternalId: string | null;
  /** ISO 8601. */
  readonly occurredAt: string;
  readonly ipAddress: string | null;
  readonly country: string | null;
  readonly userAgent: string | null;
  readonly succeeded: boolean;
  readonly targetType: string | null;
  readonly targetId: string | null;
  /** The file the event is about, by the provider's file id. */
  readonly fileExternalId: string | null;
  /** The provider's record, kept for investigation. */
  readonly raw: unknown;
}

export interface ProviderFile {
  readonly externalId: string;
  readonly name: string;
  readonly path: string;
  readonly mimeType: string | null;
  readonly sizeBytes: number;
  readonly ownerExternalId: string | null;
  readonly sharing: SharingLevel;
  readonly collaborators: readonly string[];
  readonly trashed: boolean;
  readonly quarantined: boolean;
  /** ISO 8601. */
  readonly modifiedAt: string;
  /** Changes whenever the content changes (etag, content hash, revision). */
  readonly contentVersion: string;
}

/** One entry of a change feed: the file as it is now, or its deletion. */
export type FileChange =
  { readonly kind: 'upsert'; readonly file: ProviderFile } | { readonly kind: 'deleted'; readonly externalId: string };

/** One entry of the directory's change feed: the user as it is now, or its deletion. */
export type UserChange =
  { readonly kind: 'upsert'; readonly user: ProviderUser } | { readonly kind: 'deleted'; readonly externalId: string };

/** A page of the directory's change feed, as {@link ChangePage} is of files. */
export interface UserChangePage {
  readonly changes: readonly UserChange[];
  readonly next: PageToken | null;
  readonly deltaCursor: string | null;
}

/** A page of a change feed; when `next` is null, `deltaCursor` resumes from "now" next time. */
export interface ChangePage {
  readonly changes: readonly FileChange[];
  readonly next: PageToken | null;
  readonly deltaCursor: string | null;
}

export interface FileContent {
  readonly bytes: Buffer;
  readonly mimeType: string | null;
}

/** A time window of the audit trail: `from` inclusive, `to` exclusive. */
export interface TimeWindow {
  readonly from: Date;
  readonly to: Date;
}

/** What a rate-limit response or header set says, as the connector reads it. */
export interface ThrottleSignal {
  /** The provider refused this request for throttling (429, or GitHub/Google's 403 variants). */
  readonly throttled: boolean;
  /** Wait this long before the next request (Retry-After, or reset - now). */
  readonly retryAfterMs?: number;
  /** Requests left in the provider's current window, and that window's size. */
  readonly remaining?: number;
  readonly limit?: number;
  /** When the provider's window resets (epoch ms). */
  readonly resetAt?: number;
  /**
   * `remaining` is what is left of a fixed window until `resetAt` (the IETF RateLimit headers
   * OneDrive and SharePoint send near their limit), not a bucket that refills meanwhile (the
   * simulator's X-RateLimit-*): the budget spreads those requests until the reset, and so slows
   * before the provider throttles.
   */
  readonly window?: boolean;
  /**
   * The provider's daily request quota as this response reports it (Salesforce's
   * `Sforce-Limit-Info: api-usage=<used>/<limit>`, counted over a rolling 24 hours and shared with the
   * org's other integrations): the budget's day bucket follows it, never granting what would leave
   * less than HEADROOM_PERCENT of `limit` free.
   */
  readonly daily?: { readonly used: number; readonly limit: number };
}

/** The parts of an HTTP response a connector reads throttle signals from. */
export interface ProviderResponseHead {
  readonly status: number;
  readonly headers: Headers;
  /** The body, where a provider says in it that it throttled (Google's 403 `rateLimitExceeded`, Salesforce's `REQUEST_LIMIT_EXCEEDED`). */
  readonly bytes?: Buffer;
}

/** A change the provider announced through a (verified) webhook: a hint, the scans reconcile. */
export interface WebhookNotice {
  /**
   * `subscriptions.stale` is a lifecycle notice (Graph's `reauthorizationRequired` or
   * `subscriptionRemoved`): the instance's change subscriptions are synchronised at once, every one
   * renewed (which reauthorizes it).
   *
   * `files.changed` says only that something changed in a container of files (Graph's notifications
   * on a drive root name no item): its `externalId` is the container's (`*`: every container, after
   * notifications were lost), and the file change feed is read at once.
   */
  readonly kind: 'file.changed' | 'file.deleted' | 'user.changed' | 'grant.changed' | 'files.changed' | 'subscriptions.stale';
  /** The item's provider id; for `subscriptions.stale`, the provider's subscription id. */
  readonly externalId: string;
}

/**
 * A delivery the connector verified: its id (the key replays are refused by), how long its signature
 * stays valid, and what changed.
 */
export interface VerifiedWebhook {
  /**
   * The provider's id of this delivery, 1 to 200 characters; the receiver refuses a second delivery
   * with the same id for the instance until {@link VerifiedWebhook.expiresAt}. It must be covered by
   * the signature, or a replay could simply change it: the simulator's `deliveryId`, Stripe's event
   * `id` and Box's payload `id` are in the signed body (Box's `BOX-DELIVERY-ID` header is not signed
   * and changes on retries: https://developer.box.com/guides/webhooks/v2/). Where the only id travels
   * in an unsigned header (GitHub's `X-GitHub-Delivery`), answer a digest of the signed bytes instead
   * (`sha256:<hex>`), which every byte-for-byte replay repeats.
   */
  readonly deliveryId: string;
  /**
   * When the signature stops verifying: the signed timestamp plus the replay window (Box: 10 minutes).
   * A provider that signs no timestamp (GitHub) answers the time until which its connector chooses to
   * remember deliveries, and says why.
   */
  readonly expiresAt: Date;
  readonly notices: readonly WebhookNotice[];
  /**
   * The answer the provider waits for, where it is not any 2xx (Salesforce's outbound messages want a
   * SOAP `notificationsResponse` with `Ack` true, or they are sent again for 24 hours): sent with
   * HTTP 200 once the notices are queued. Omitted: the receiver's own 202 JSON.
   */
  readonly reply?: { readonly contentType: string; readonly body: string };
}

/** A received webhook delivery, as the HTTP layer hands it over (raw body, for signatures). */
export interface WebhookDelivery {
  readonly headers: Headers;
  readonly rawBody: Buffer;
}

/** The job's urgency when spending the instance's rate budget, highest first. */
export type Priority = 'governance' | 'change' | 'periodic' | 'backfill';

export interface ProviderRequest {
  /** The provider's API the request goes to, when it has several with budgets and tokens of their own. */
  readonly service?: string;
  /**
   * The user the request acts as, where the instance's credentials impersonate users (Google's
   * domain-wide delegation: each user's Drive is read with a token for that user): the credentials are
   * asked for that user's headers. Omitted: the instance's own identity.
   */
  readonly subject?: string;
  readonly method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  /** Relative to the instance's endpoint, e.g. `/api/v1/users`. */
  readonly path: string;
  readonly query?: Readonly<Record<string, string | number | undefined>>;
  /** A JSON body. */
  readonly body?: unknown;
  /** A body sent as it is (file content), instead of `body`. */
  readonly rawBody?: { readonly contentType: string; readonly bytes: Buffer };
}

export interface ProviderResponse {
  readonly status: number;
  readonly headers: Headers;
  /** Parsed JSON, or the raw bytes when the response is not JSON. */
  readonly body: unknown;
  readonly bytes: Buffer;
}

/**
 * HTTP to one instance of one provider, supplied by the scheduler. `request` waits for the rate
 * budget at the caller's priority, retries throttled and transient failures with backoff, and
 * throws a {@link ProviderError} when it gives up or the failure is permanent. Answers only 2xx.
 */
export interface ProviderHttp {
  request(request: ProviderRequest): Promise<ProviderResponse>;
}

/**
 * Token requests (OAuth 2.0 token endpoints), made through the scheduler's outbound policy but not
 * its rate budget: acquiring a token is the identity provider's business, not the API's.
 */
export interface TokenHttp {
  /** POSTs `form` as application/x-www-form-urlencoded to `url`; answers the status and the parsed JSON body (or the text). */
  postForm(url: string, form: Readonly<Record<string, string>>): Promise<{ readonly status: number; readonly body: unknown }>;
  /**
   * Any request an identity provider's client library makes (its metadata, its token endpoint): the
   * status, the headers (lower-case names) and the parsed JSON body (or the text).
   */
  send(
    method: 'GET' | 'POST',
    url: string,
    init?: { readonly headers?: Readonly<Record<string, string>>; readonly body?: string },
  ): Promise<{ readonly status: number; readonly headers: Readonly<Record<string, string>>; readonly body: unknown }>;
}

/**
 * How requests to one instance are authenticated. The scheduler keeps one per instance (and
 * config), asks {@link headers} before every request, and calls {@link invalidate} when the provider
 * answers 401 — then retries that request once with fresh headers. Credentials that expire (OAuth
 * client credentials, JWT bearer assertions, certificates) are acquired on first use, cached and
 * refreshed before they expire; concurrent requests share one acquisition. An acquisition the
 * identity provider refuses throws {@link CredentialError} in Tenantwatch's words.
 */
export interface ConnectorCredentials {
  /**
   * The headers that authenticate a request to `service` (the connector's default service when
   * omitted) as `subject` (a user the credentials impersonate; the instance's own identity when omitted).
   */
  headers(service?: string, subject?: string): Promise<Readonly<Record<string, string>>>;
  /** Forgets the token for `service` (and `subject`): the provider refused it. */
  invalidate(service?: string, subject?: string): void;
}

/** Where and for what an instance's change subscriptions are kept, as {@link ChangeSubscriptions.sync} takes it. */
export interface SubscriptionTarget {
  /** The address the provider must notify (PUBLIC_WEBHOOK_URL's `/webhooks/<instanceId>`); null: keep none (polling only, or disconnected). */
  readonly url: string | null;
  /** Whether a subscription's notification address is this instance's (any PUBLIC_WEBHOOK_URL it ever had): only these are renewed or deleted. */
  readonly owns: (notificationUrl: string) => boolean;
  /** The capabilities the instance was granted: a subscription whose capability is missing is not made. */
  readonly capabilities: readonly Capability[];
  /**
   * Subscriptions to renew now, whatever their expiry, by the provider's id (the ones it asked to
   * reauthorize), or `all` (it did not say which).
   */
  readonly renew?: ReadonlySet<string> | 'all';
}

/** What a {@link ChangeSubscriptions.sync} did and found. */
export interface SubscriptionSync {
  /** Subscriptions to `url` alive after the sync. */
  readonly active: number;
  readonly created: number;
  readonly renewed: number;
  readonly deleted: number;
  /** When the next renewal is due (the earliest expiry minus the renewal margin); null with none active. */
  readonly renewAt: Date | null;
}

/**
 * The provider-side subscriptions that make a provider push changes to Tenantwatch (Graph
 * subscriptions, Drive `changes.watch` channels, Box webhooks). The provider's own list is the state:
 * a sync reads it, creates what is missing, renews what expires soon and deletes what is not needed.
 */
export interface ChangeSubscriptions {
  sync(target: SubscriptionTarget, now?: Date): Promise<SubscriptionSync>;
}

/** The stored config of an instance (decrypted): the endpoint and the credentials. */
export type ConnectorConfig = Readonly<Record<string, unknown>>;

/** One provider's API, for one instance. Methods a capability does not cover may throw {@link UnsupportedError}. */
export interface Connector {
  readonly provider: string;
  readonly capabilities: readonly Capability[];
  readonly limits: ProviderLimits;
  /**
   * The longest the provider documents between an audit event and its appearance in
   * {@link readAuditEvents} (Google's Reports API: up to days for some applications; the Office 365
   * Management Activity API: up to 24 hours). Events later than the activity scan's lag and overlap
   * are read by the daily late-activities scan, which re-reads this much of the audit trail.
   */
  readonly maxAuditLagMs: number;

  /** Checks the credentials and reports what they were granted. Throws {@link CredentialError} when they are refused. */
  verify(): Promise<PermissionReport>;

  listUsers(page: PageToken | null): Promise<Page<ProviderUser>>;
  /**
   * The directory's change feed after `cursor` (null: start a feed at "now"), where the provider has
   * one (Graph's `/users/delta`): the user scan reads it between full listings. Throws {@link CursorExpiredError}.
   */
  readUserChanges?(cursor: string | null, page: PageToken | null): Promise<UserChangePage>;
  listGroups(page: PageToken | null): Promise<Page<ProviderGroup>>;
  /** External ids of the group's member users. */
  listGroupMembers(groupExternalId: string, page: PageToken | null): Promise<Page<string>>;
  listGrants(page: PageToken | null): Promise<Page<ProviderGrant>>;
  /** Audit events that occurred in `window` and are visible now, in any order. */
  readAuditEvents(window: TimeWindow, page: PageToken | null): Promise<Page<ProviderEvent>>;
  listFiles(page: PageToken | null): Promise<Page<ProviderFile>>;
  /**
   * The change feed after `cursor` (null: start a feed at "now"). Throws {@link CursorExpiredError}.
   * `containers`: the containers a change notification named (`files.changed` notices: Graph's drives,
   * Google's users and shared drives), when the read is that notification's. A connector whose feed is
   * one per container may read only those and answer the cursor as it was (the next full read of the
   * feed reconciles); one that cannot ignores them.
   */
  readFileChanges(cursor: string | null, page: PageToken | null, containers?: readonly string[]): Promise<ChangePage>;
  downloadFile(externalId: string): Promise<FileContent>;

  /** Current provider-side state, read before a governance action is retried (never act twice). */
  getUser(externalId: string): Promise<ProviderUser | null>;
  getFile(externalId: string): Promise<ProviderFile | null>;
  getGrant(externalId: string): Promise<ProviderGrant | null>;

  /*
   * Governance operations. Each answers the target's record as the provider reports it after the
   * action when its answer carries one (most do), or null when the provider answers without it
   * (Graph's 204 No Content): the caller then applies the action's known effect.
   */
  suspendUser(externalId: string): Promise<ProviderUser | null>;
  unsuspendUser(externalId: string): Promise<ProviderUser | null>;
  /** Ends the user's sessions and forces a new password ("revoke password"). */
  requirePasswordReset(externalId: string): Promise<ProviderUser | null>;
  revokeGrant(externalId: string): Promise<ProviderGrant | null>;
  quarantineFile(externalId: string): Promise<ProviderFile | null>;
  restoreFile(externalId: string): Promise<ProviderFile | null>;
  trashFile(externalId: string): Promise<ProviderFile | null>;
  removeExternalSharing(externalId: string): Promise<ProviderFile | null>;
  /** Replaces the content with `notice`; the provider keeps the original in quarantine. */
  overwriteFile(externalId: string, notice: string): Promise<ProviderFile | null>;

  /** Present when the provider pushes changes to subscriptions the connector must create, renew and delete. */
  readonly subscriptions?: ChangeSubscriptions;

  /** Reads throttle signals from any response (status and headers). */
  parseThrottle(response: ProviderResponseHead): ThrottleSignal;
  /**
   * Verifies a webhook delivery (signature over the raw body, timestamp within the replay window)
   * and answers its id, its signature's expiry and what changed. Throws {@link WebhookRejectedError}
   * when it is not authentic. Remembering ids to refuse replays is the receiver's part.
   */
  verifyWebhook(delivery: WebhookDelivery, now?: Date): VerifiedWebhook;
}

/** Builds a connector for one instance from its decrypted config and the scheduler's HTTP client. */
export interface ConnectorFactory {
  readonly provider: string;
  readonly capabilities: readonly Capability[];
  /** The connector's name in a console ("Microsoft 365"). */
  readonly name: string;
  /** Where an admin reads how to connect it (registering the app, the permissions and why): a URL, or a path in Tenantwatch's repository. */
  readonly documentationUrl: string;
  /** The config's fields, as a connect form renders them. */
  readonly configFields: readonly ConnectorConfigField[];
  /** Per capability, the permissions it needs: every inner list met by one of its permissions (the first is the one to grant). */
  readonly requiredPermissions: Readonly<Partial<Record<Capability, readonly (readonly string[])[]>>>;
  /** Checks a `connectApp` config; throws an Error whose message names the bad field. */
  validateConfig(config: unknown): ConnectorConfig;
  /** The endpoint requests go to (for the HTTP client). */
  endpointOf(config: ConnectorConfig): string;
  /**
   * Services on an endpoint of their own (the Office 365 Management Activity API at
   * manage.office.com beside Graph): a request naming one of them goes there instead.
   */
  serviceEndpointsOf?(config: ConnectorConfig): Readonly<Record<string, string>>;
  /**
   * The instance's credentials (a static API token, or tokens acquired from the provider's token
   * endpoint through `tokens`); the HTTP client asks them before every request.
   */
  credentials(config: ConnectorConfig, tokens: TokenHttp): ConnectorCredentials;
  /** `credentials` are the instance's (as {@link credentials} made them): a connector reads granted permissions from its token. */
  create(config: ConnectorConfig, http: ProviderHttp, credentials?: ConnectorCredentials): Connector;
}

/** Base of every failure a connector or its HTTP client reports. */
export abstract class ProviderError extends Error {
  /** Worth trying again later. */
  abstract readonly transient: boolean;
  constructor(
    message: string,
    readonly status?: number,
  ) {
    super(message);
    this.name = new.target.name;
  }
}

/** 429 (or a provider's throttling 403) that the client gave up retrying. */
export class ThrottledError extends ProviderError {
  readonly transient = true;
  constructor(
    message: string,
    readonly retryAfterMs: number,
    status = 429,
  ) {
    super(message, status);
  }
}

/** 5xx, timeouts, dropped connections. */
export class TransientError extends ProviderError {
  readonly transient = true;
}

/** 401, or 403 for missing permission: the instance's credentials need attention. */
export class CredentialError extends ProviderError {
  readonly transient = false;
}

/**
 * 404 and other 4xx a retry will not fix. Its message is shown to users (a status message, a
 * governance action's error): Tenantwatch's words and the HTTP status, never the provider's body,
 * which goes to the log.
 */
export class PermanentError extends ProviderError {
  readonly transient = false;
}

/** The change feed's cursor expired (410 Gone, Dropbox reset): resynchronise from a full listing. */
export class CursorExpiredError extends ProviderError {
  readonly transient = false;
}

/**
 * The endpoint is refused by Tenantwatch's outbound policy (a private, loopback or link-local
 * address while CONNECTOR_ALLOW_PRIVATE is off): nothing was sent; the instance's config must change.
 */
export class EndpointRefusedError extends ProviderError {
  readonly transient = false;
}

/** The connector does not support this operation. */
export class UnsupportedError extends ProviderError {
  readonly transient = false;
}

/** A webhook delivery whose signature or timestamp does not verify. */
export class WebhookRejectedError extends Error {
  override readonly name = 'WebhookRejectedError';
}
