import { randomInt } from 'node:crypto';
import {
  CredentialError,
  type Capability,
  type ChangePage,
  type ChangeSubscriptions,
  type Connector,
  type ConnectorConfig,
  type ConnectorCredentials,
  type ConnectorFactory,
  type FileContent,
  type Page,
  type PageToken,
  type PermissionReport,
  type ProviderEvent,
  type ProviderFile,
  type ProviderGrant,
  type ProviderGroup,
  type ProviderHttp,
  type ProviderLimits,
  type ProviderResponseHead,
  type ProviderUser,
  type ThrottleSignal,
  type TimeWindow,
  type TokenHttp,
  type VerifiedWebhook,
  type WebhookDelivery,
} from '../contract.js';
import { DriveChannels, verifyDriveNotification } from './channels.js';
import { validateGoogleConfig, type GoogleConfig } from './config.js';
import { GoogleCredentials, googleCredentials } from './credentials.js';
import { GoogleDirectory } from './directory.js';
import { GoogleDrive } from './drive.js';
import { FileGovernance } from './file-governance.js';
import { endpointsOf, GoogleApis } from './google-http.js';
import { toEvents } from './mapping.js';
import { decodeToken, encodeToken } from './page-token.js';
import { capabilitiesOf, REQUIRED_SCOPES } from './scopes.js';

export const GOOGLE_PROVIDER = 'google';
export const GOOGLE_CAPABILITIES: readonly Capability[] = [
  'ACCOUNT_INFO',
  'AUDIT_TRAIL',
  'ACCOUNT_GOVERNANCE',
  'APP_PERMISSIONS',
  'APP_PERMISSION_GOVERNANCE',
  'DATA_SCAN',
  'DATA_GOVERNANCE',
];

/** The Reports API's applications read, in order (https://developers.google.com/admin-sdk/reports/reference/rest/v1/activities/list). */
export const AUDIT_APPLICATIONS = ['login', 'admin', 'drive', 'token'] as const;

/** Throttling reasons of Google's JSON errors (https://developers.google.com/drive/api/guides/limits, https://developers.google.com/admin-sdk/directory/v1/limits). */
const THROTTLE_REASONS = new Set(['rateLimitExceeded', 'userRateLimitExceeded', 'quotaExceeded', 'sharingRateLimitExceeded']);
/** Google's exponential backoff: 1 s, 2 s, 4 s … up to 64 s, plus up to a second of jitter (https://developers.google.com/drive/api/guides/limits#exponential). */
const BACKOFF_MAX_MS = 64_000;

interface AuditToken {
  readonly a: number;
  readonly p: string | null;
}

/** The reasons of a Google JSON error body (`error.errors[].reason`), if it is one. */
export function errorReasons(bytes: Buffer | undefined): string[] {
  if (!bytes || bytes.length === 0 || bytes.length > 65_536) return [];
  try {
    const body = JSON.parse(bytes.toString('utf8')) as { error?: { errors?: { reason?: unknown }[]; status?: unknown } };
    const reasons = (body.error?.errors ?? []).map((e) => e.reason).filter((r): r is string => typeof r === 'string');
    return body.error?.status === 'RESOURCE_EXHAUSTED' ? [...reasons, 'RESOURCE_EXHAUSTED'] : reasons;
  } catch {
    return [];
  }
}

export class GoogleConnector implements Connector {
  readonly provider = GOOGLE_PROVIDER;
  readonly capabilities = GOOGLE_CAPABILITIES;
  readonly limits: ProviderLimits;
  /**
   * Google documents lags "from minutes up to several hours" for Reports data
   * (https://support.google.com/a/answer/7061566), and activities seen up to days late: three days are re-read.
   */
  readonly maxAuditLagMs = 3 * 24 * 3_600_000;
  readonly subscriptions: ChangeSubscriptions;
  private readonly apis: GoogleApis;
  private readonly directory: GoogleDirectory;
  private readonly drive: GoogleDrive;
  private readonly files: FileGovernance;
  /** Throttled answers in a row: Google sends no Retry-After, the wait doubles with each. */
  private throttledInARow = 0;

  constructor(
    private readonly config: GoogleConfig,
    http: ProviderHttp,
    private readonly credentials?: ConnectorCredentials,
  ) {
    this.apis = new GoogleApis(http, config);
    this.directory = new GoogleDirectory(this.apis, config);
    this.drive = new GoogleDrive(this.apis, config, this.directory);
    this.files = new FileGovernance(this.apis, config, this.drive);
    const channels = new DriveChannels(this.apis, config, this.drive);
    this.subscriptions = { sync: (target, now) => channels.sync(target, now) };
    const { directory, reports, drive } = config.quotas;
    this.limits = {
      requestsPerMinute: directory,
      maxPageSize: 500,
      services: {
        directory: { requestsPerMinute: directory },
        reports: { requestsPerMinute: reports },
        drive: { requestsPerMinute: drive },
      },
    };
  }

  /**
   * Which scopes the delegation grants, each asked for alone (a token request naming one scope not
   * authorized is refused whole), and the capabilities they allow; the customer id from the admin's record.
   */
  async verify(): Promise<PermissionReport> {
    if (!(this.credentials instanceof GoogleCredentials))
      throw new CredentialError('The Google Workspace connector needs its own credentials to find the granted scopes', 401);
    const granted = [...(await this.credentials.grantedScopes(true))];
    if (granted.length === 0)
      throw new CredentialError(
        'The identity provider refused to issue an access token (HTTP 401: unauthorized_client for every scope)',
        401,
      );
    const { capabilities, missing } = capabilitiesOf(granted);
    let tenantId: string | undefined;
    if (capabilities.includes('ACCOUNT_INFO')) {
      const admin = await this.directory.getUser(this.config.adminSubject);
      tenantId = admin ? await this.customerIdOf() : undefined;
    }
    return {
      grantedPermissions: granted,
      capabilities,
      missingPermissions: missing,
      tenantId: tenantId ?? (this.config.customerId === 'my_customer' ? undefined : this.config.customerId),
      tenantName: this.config.adminSubject.slice(this.config.adminSubject.indexOf('@') + 1),
    };
  }

  private async customerIdOf(): Promise<string | undefined> {
    const result = await this.apis.call(this.apis.directory().users.list({ customer: this.config.customerId, maxResults: 1 }));
    return result.users?.[0]?.customerId ?? undefined;
  }

  listUsers(page: PageToken | null): Promise<Page<ProviderUser>> {
    return this.directory.listUsers(page);
  }
  getUser(externalId: string): Promise<ProviderUser | null> {
    return this.directory.getUser(externalId);
  }
  listGroups(page: PageToken | null): Promise<Page<ProviderGroup>> {
    return this.directory.listGroups(page);
  }
  listGroupMembers(groupExternalId: string, page: PageToken | null): Promise<Page<string>> {
    return this.directory.listGroupMembers(groupExternalId, page);
  }
  listGrants(page: PageToken | null): Promise<Page<ProviderGrant>> {
    return this.directory.listGrants(page);
  }
  getGrant(externalId: string): Promise<ProviderGrant | null> {
    return this.directory.getGrant(externalId);
  }

  /**
   * Activities of login, admin, drive and token (https://developers.google.com/admin-sdk/reports/reference/rest/v1/activities/list)
   * whose time is in the window (`startTime` inclusive, `endTime` the window's end less a millisecond), newest first, a page of up to 1,000 at a time.
   */
  async readAuditEvents(window: TimeWindow, page: PageToken | null): Promise<Page<ProviderEvent>> {
    const token = decodeToken<AuditToken>(page, (t) => typeof t.a === 'number' && (t.p === null || typeof t.p === 'string')) ?? {
      a: 0,
      p: null,
    };
    const applicationName = AUDIT_APPLICATIONS[token.a];
    if (!applicationName) return { items: [], next: null };
    const result = await this.apis.call(
      this.apis.reports().activities.list({
        userKey: 'all',
        applicationName,
        startTime: window.from.toISOString(),
        endTime: new Date(window.to.getTime() - 1).toISOString(),
        maxResults: this.config.pageSize ?? 1000,
        pageToken: token.p ?? undefined,
        ...(this.config.customerId !== 'my_customer' ? { customerId: this.config.customerId } : {}),
      }),
    );
    const items = (result.items ?? []).flatMap(toEvents);
    const next = result.nextPageToken
      ? { a: token.a, p: result.nextPageToken }
      : token.a + 1 < AUDIT_APPLICATIONS.length
        ? { a: token.a + 1, p: null }
        : null;
    return { items, next: next ? encodeToken(next) : null };
  }

  listFiles(page: PageToken | null): Promise<Page<ProviderFile>> {
    return this.drive.listFiles(page);
  }
  readFileChanges(cursor: string | null, page: PageToken | null, containers?: readonly string[]): Promise<ChangePage> {
    return this.drive.readFileChanges(cursor, page, containers);
  }
  downloadFile(externalId: string): Promise<FileContent> {
    return this.drive.downloadFile(externalId);
  }
  getFile(externalId: string): Promise<ProviderFile | null> {
    return this.drive.getFile(externalId);
  }

  suspendUser(externalId: string): Promise<ProviderUser | null> {
    return this.directory.suspendUser(externalId);
  }
  unsuspendUser(externalId: string): Promise<ProviderUser | null> {
    return this.directory.unsuspendUser(externalId);
  }
  requirePasswordReset(externalId: string): Promise<ProviderUser | null> {
    return this.directory.requirePasswordReset(externalId);
  }
  revokeGrant(externalId: string): Promise<ProviderGrant | null> {
    return this.directory.revokeGrant(externalId);
  }
  quarantineFile(externalId: string): Promise<ProviderFile | null> {
    return this.files.quarantineFile(externalId);
  }
  restoreFile(externalId: string): Promise<ProviderFile | null> {
    return this.files.restoreFile(externalId);
  }
  trashFile(externalId: string): Promise<ProviderFile | null> {
    return this.files.trashFile(externalId);
  }
  removeExternalSharing(externalId: string): Promise<ProviderFile | null> {
    return this.files.removeExternalSharing(externalId);
  }
  overwriteFile(externalId: string, notice: string): Promise<ProviderFile | null> {
    return this.files.overwriteFile(externalId, notice);
  }

  /**
   * 429, or 403 with `rateLimitExceeded`/`userRateLimitExceeded` in the body, is throttling. Google
   * sends no Retry-After and documents exponential backoff with jitter: each throttled answer in a row
   * doubles the wait (1 s, 2 s, 4 s … 64 s, plus up to a second), which blocks the API's budget that long.
   */
  parseThrottle(response: ProviderResponseHead): ThrottleSignal {
    const reasons = response.status === 403 || response.status === 429 ? errorReasons(response.bytes) : [];
    const throttled = response.status === 429 || (response.status === 403 && reasons.some((r) => THROTTLE_REASONS.has(r)));
    if (!throttled) {
      if (response.status < 400) this.throttledInARow = 0;
      return { throttled: false };
    }
    const retryAfter = Number(response.headers.get('retry-after'));
    const backoff = Math.min(BACKOFF_MAX_MS, 1000 * 2 ** Math.min(this.throttledInARow, 6)) + randomInt(0, 1000);
    this.throttledInARow++;
    return { throttled: true, retryAfterMs: Number.isFinite(retryAfter) && retryAfter > 0 ? retryAfter * 1000 : backoff };
  }

  verifyWebhook(delivery: WebhookDelivery, now?: Date): VerifiedWebhook {
    return verifyDriveNotification(this.config, delivery, now);
  }
}

/** Google Workspace through the Admin SDK (Directory, Reports) and Drive v3, with a service account's domain-wide delegation. */
export const googleConnectorFactory: ConnectorFactory = {
  provider: GOOGLE_PROVIDER,
  capabilities: GOOGLE_CAPABILITIES,
  name: 'Google Workspace',
  documentationUrl: 'connectors/google/README.md',
  configFields: [
    {
      name: 'serviceAccountKey',
      label: 'Service account key (JSON)',
      secret: true,
      required: true,
      description: 'The JSON key of a service account with domain-wide delegation (client_email, private_key, client_id)',
    },
    {
      name: 'adminSubject',
      label: 'Admin to act as',
      secret: false,
      required: true,
      description: 'A super administrator’s email: the Admin SDK is called as this user',
    },
    { name: 'customerId', label: 'Customer ID', secret: false, required: false, description: 'my_customer (default) or e.g. C03az79cb' },
    {
      name: 'domains',
      label: 'Other domains',
      secret: false,
      required: false,
      description: 'Secondary domains of the organization (not external)',
    },
    {
      name: 'quarantineFolder',
      label: 'Quarantine folder',
      secret: false,
      required: false,
      description: 'Folder quarantined files move to (default “Tenantwatch Quarantine”)',
    },
    {
      name: 'quotas',
      valueType: 'JSON',
      label: 'Requests per minute',
      secret: false,
      required: false,
      description: '{ directory, reports, drive } (defaults 2,400, 2,400, 12,000)',
    },
    {
      name: 'webhookSecret',
      label: 'Notification secret',
      secret: true,
      required: false,
      description: '16-256 characters the push channels’ token is derived from (default: from the private key)',
    },
    {
      name: 'tokenUrl',
      label: 'Token endpoint',
      secret: false,
      required: false,
      description: 'Default https://oauth2.googleapis.com/token',
    },
    {
      name: 'adminEndpoint',
      label: 'Admin SDK endpoint',
      secret: false,
      required: false,
      description: 'Default https://admin.googleapis.com',
    },
    { name: 'driveEndpoint', label: 'Drive endpoint', secret: false, required: false, description: 'Default https://www.googleapis.com' },
  ],
  requiredPermissions: REQUIRED_SCOPES,
  validateConfig: validateGoogleConfig,
  endpointOf: (config: ConnectorConfig) => validateGoogleConfig(config).adminEndpoint,
  serviceEndpointsOf: (config: ConnectorConfig) => endpointsOf(validateGoogleConfig(config)),
  credentials: (config: ConnectorConfig, tokens: TokenHttp) => googleCredentials(validateGoogleConfig(config), tokens),
  create: (config: ConnectorConfig, http: ProviderHttp, credentials?: ConnectorCredentials) =>
    new GoogleConnector(validateGoogleConfig(config), http, credentials),
};
