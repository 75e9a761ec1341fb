import {
  CredentialError,
  PermanentError,
  UnsupportedError,
  type Capability,
  type ChangePage,
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
import { readAuditPage, SALESFORCE_MAX_AUDIT_LAG_MS } from './audit.js';
import { validateSalesforceConfig, type SalesforceConfig } from './config.js';
import { SALESFORCE_CONFIG_FIELDS } from './config-fields.js';
import { SalesforceCredentials, salesforceCredentials } from './credentials.js';
import { DOCUMENT_FIELDS, OrgFiles } from './files.js';
import { apiUsageOf, parseSalesforceThrottle } from './limits.js';
import { Org } from './org.js';
import { verifyOutboundMessage } from './outbound-message.js';
import { capabilitiesOf, EVENT_LOG_PERMISSION, PERMISSIONS_READ, REQUIRED_PERMISSIONS } from './permissions.js';
import {
  PRIVILEGED_PERMISSIONS,
  isUserId,
  mimeTypeOf,
  privilegesOf,
  soqlId,
  toGrant,
  toUser,
  type ContentDistributionRecord,
  type ContentDocumentLinkRecord,
  type ContentDocumentRecord,
  type OauthTokenRecord,
  type PermissionSetRecord,
  type UserRecord,
} from './records.js';

export const SALESFORCE_PROVIDER = 'salesforce';
export const SALESFORCE_CAPABILITIES: readonly Capability[] = [
  'ACCOUNT_INFO',
  'AUDIT_TRAIL',
  'ACCOUNT_GOVERNANCE',
  'APP_PERMISSIONS',
  'APP_PERMISSION_GOVERNANCE',
  'DATA_SCAN',
  'DATA_GOVERNANCE',
];

const USER_FIELDS = 'Id, Username, Email, Name, IsActive, UserType, ProfileId, Profile.Name, UserRoleId, UserRole.Name';
const GRANT_FIELDS = 'Id, AppName, AppMenuItemId, UserId, UseCount, LastUsedDate, CreatedDate';
const PRIVILEGE_FIELDS = Object.keys(PRIVILEGED_PERMISSIONS);
/** Experience Cloud and guest users: sharing with them is sharing outside the company. */
const EXTERNAL_USERS =
  "SELECT Id FROM User WHERE UserType IN ('PowerPartner','PowerCustomerSuccess','CustomerSuccess','CspLitePortal','Guest')";

const isNotFound = (error: unknown) => (error as { status?: number }).status === 404;

export class SalesforceConnector implements Connector {
  readonly provider = SALESFORCE_PROVIDER;
  readonly capabilities = SALESFORCE_CAPABILITIES;
  readonly limits: ProviderLimits;
  readonly maxAuditLagMs = SALESFORCE_MAX_AUDIT_LAG_MS;
  private readonly org: Org;
  private readonly files: OrgFiles;
  /** The daily limit last reported (Sforce-Limit-Info), for a refusal that carries none. */
  private dailyLimit: number;
  private privileged?: Promise<Map<string, string[]>>;
  private frozen?: Promise<Set<string>>;
  private external?: Promise<Set<string>>;
  private granted?: Promise<string[]>;

  constructor(
    private readonly config: SalesforceConfig,
    private readonly http: ProviderHttp,
    private readonly credentials?: ConnectorCredentials,
  ) {
    this.org = new Org(http, config.instanceUrl, config.apiVersion);
    this.files = new OrgFiles(this.org, () => this.externalUsers());
    this.dailyLimit = config.dailyRequestLimit;
    this.limits = {
      requestsPerMinute: config.rateLimitPerMinute,
      requestsPerDay: config.dailyRequestLimit,
      maxPageSize: 2000,
      // The concurrent long-running request limit of a production org (requests running over 20 seconds).
      maxConcurrency: 25,
    };
  }

  // ---------------------------------------------------------------- verify

  /** The integration user's id: from the token's identity URL, or the userinfo endpoint. */
  private async me(): Promise<{ userId: string; organizationId: string | null }> {
    if (!this.credentials) throw new CredentialError('The Salesforce connector needs its credentials to read the granted permissions', 401);
    await this.credentials.headers();
    const identity = this.credentials instanceof SalesforceCredentials ? this.credentials.identity() : null;
    if (identity?.userId) return { userId: identity.userId, organizationId: identity.organizationId };
    const info = await this.org.request<{ user_id?: string; organization_id?: string }>('GET', '/services/oauth2/userinfo');
    if (!info.user_id) throw new CredentialError('Salesforce did not say which user the token stands for', 401);
    return { userId: info.user_id, organizationId: info.organization_id ?? null };
  }

  /** The user permissions the integration user holds, from its permission sets (its profile's included). */
  private grantedPermissions(): Promise<string[]> {
    this.granted ??= (async () => {
      const { userId } = await this.me();
      const assignments = await this.org.all<{ PermissionSetId: string }>(
        `SELECT PermissionSetId FROM PermissionSetAssignment WHERE AssigneeId = ${soqlId(userId)}`,
      );
      const ids = [...new Set(assignments.map((a) => a.PermissionSetId))];
      const fields = PERMISSIONS_READ.map((p) => `Permissions${p}`).join(', ');
      const sets = (
        await this.org.many<Record<string, unknown>>(
          Org.chunks(ids).map((chunk) => `SELECT Id, ${fields} FROM PermissionSet WHERE Id IN (${chunk.map(soqlId).join(',')})`),
        )
      ).flat();
      return PERMISSIONS_READ.filter((p) => sets.some((s) => s[`Permissions${p}`] === true));
    })();
    this.granted.catch(() => (this.granted = undefined));
    return this.granted;
  }

  async verify(): Promise<PermissionReport> {
    const { organizationId } = await this.me();
    const granted = await this.grantedPermissions();
    const { capabilities, missing } = capabilitiesOf(granted);
    // The org's daily limit and what is left of it (https://developer.salesforce.com/docs/atlas.en-us.api_rest.meta/api_rest/resources_limits.htm).
    const limits = await this.org.request<{ DailyApiRequests?: { Max?: number; Remaining?: number } }>('GET', '/limits');
    if (typeof limits.DailyApiRequests?.Max === 'number' && limits.DailyApiRequests.Max > 0) this.dailyLimit = limits.DailyApiRequests.Max;
    const [org] = await this.org.all<{ Id: string; Name?: string }>('SELECT Id, Name FROM Organization');
    return {
      grantedPermissions: granted,
      capabilities,
      missingPermissions: missing,
      tenantId: org?.Id ?? organizationId ?? undefined,
      tenantName: org?.Name ?? undefined,
    };
  }

  // ---------------------------------------------------------------- directory

  /** Privileged permissions per user, from the permission sets (profile-owned ones included) that grant any, and their assignments. */
  private privileges(): Promise<Map<string, string[]>> {
    this.privileged ??= (async () => {
      const where = PRIVILEGE_FIELDS.map((f) => `${f} = true`).join(' OR ');
      const sets = await this.org.all<PermissionSetRecord>(
        `SELECT Id, Name, IsOwnedByProfile, ${PRIVILEGE_FIELDS.join(', ')} FROM PermissionSet WHERE ${where}`,
      );
      const bySet = new Map(sets.map((s) => [s.Id, privilegesOf(s)]));
      const assignments = (
        await this.org.many<{ AssigneeId: string; PermissionSetId: string }>(
          Org.chunks([...bySet.keys()]).map(
            (ids) =>
              `SELECT AssigneeId, PermissionSetId FROM PermissionSetAssignment WHERE PermissionSetId IN (${ids.map(soqlId).join(',')})`,
          ),
        )
      ).flat();
      const byUser = new Map<string, string[]>();
      for (const a of assignments) byUser.set(a.AssigneeId, [...(byUser.get(a.AssigneeId) ?? []), ...(bySet.get(a.PermissionSetId) ?? [])]);
      return byUser;
    })();
    this.privileged.catch(() => (this.privileged = undefined));
    return this.privileged;
  }

  /** Frozen users: one query for the org (few are), not one per user (https://developer.salesforce.com/docs/atlas.en-us.object_reference.meta/object_reference/sforce_api_objects_userlogin.htm). */
  private frozenUsers(): Promise<Set<string>> {
    this.frozen ??= this.org
      .all<{ UserId: string }>('SELECT Id, UserId, IsFrozen FROM UserLogin WHERE IsFrozen = true')
      .then((rows) => new Set(rows.map((r) => r.UserId)));
    this.frozen.catch(() => (this.frozen = undefined));
    return this.frozen;
  }

  private externalUsers(): Promise<Set<string>> {
    this.external ??= this.org.all<{ Id: string }>(EXTERNAL_USERS).then((rows) => new Set(rows.map((r) => r.Id)));
    this.external.catch(() => (this.external = undefined));
    return this.external;
  }

  async listUsers(page: PageToken | null): Promise<Page<ProviderUser>> {
    const [privileges, frozen] = await Promise.all([this.privileges(), this.frozenUsers()]);
    const result = await this.org.byId<UserRecord>(USER_FIELDS, 'User', null, page);
    return { items: result.records.map((u) => toUser(u, frozen.has(u.Id), privileges.get(u.Id) ?? [])), next: result.next };
  }

  async getUser(externalId: string): Promise<ProviderUser | null> {
    const [user] = await this.org.all<UserRecord>(`SELECT ${USER_FIELDS} FROM User WHERE Id = ${soqlId(externalId)}`);
    if (!user) return null;
    const login = await this.userLogin(externalId);
    const password = await this.org
      .request<{ isExpired?: boolean }>('GET', `/sobjects/User/${soqlIdBare(externalId)}/password`)
      .catch((error: unknown): { isExpired?: boolean } => {
        if (isNotFound(error)) return {};
        throw error;
      });
    return toUser(user, login?.IsFrozen === true, (await this.privileges()).get(user.Id) ?? [], {
      ...(typeof password.isExpired === 'boolean' ? { passwordResetRequired: password.isExpired } : {}),
    });
  }

  private async userLogin(userId: string): Promise<{ Id: string; IsFrozen: boolean } | null> {
    const [login] = await this.org.all<{ Id: string; IsFrozen: boolean }>(
      `SELECT Id, IsFrozen FROM UserLogin WHERE UserId = ${soqlId(userId)}`,
    );
    return login ?? null;
  }

  /** Public groups (Type Regular); roles, queues and the org-wide group are not groups of people one joins. */
  async listGroups(page: PageToken | null): Promise<Page<ProviderGroup>> {
    const result = await this.org.byId<{ Id: string; Name?: string | null }>('Id, Name', 'Group', "Type = 'Regular'", page);
    return { items: result.records.map((g) => ({ externalId: g.Id, name: g.Name ?? g.Id })), next: result.next };
  }

  async listGroupMembers(groupExternalId: string, page: PageToken | null): Promise<Page<string>> {
    const result = await this.org.byId<{ Id: string; UserOrGroupId: string }>(
      'Id, UserOrGroupId',
      'GroupMember',
      `GroupId = ${soqlId(groupExternalId)}`,
      page,
    );
    // Groups also hold other groups and roles: only users are accounts.
    return { items: result.records.map((m) => m.UserOrGroupId).filter(isUserId), next: result.next };
  }

  // ---------------------------------------------------------------- app permissions

  async listGrants(page: PageToken | null): Promise<Page<ProviderGrant>> {
    const result = await this.org.byId<OauthTokenRecord>(GRANT_FIELDS, 'OauthToken', null, page);
    return { items: result.records.map(toGrant), next: result.next };
  }

  async getGrant(externalId: string): Promise<ProviderGrant | null> {
    const [token] = await this.org.all<OauthTokenRecord>(`SELECT ${GRANT_FIELDS} FROM OauthToken WHERE Id = ${soqlId(externalId)}`);
    return token ? toGrant(token) : null;
  }

  // ---------------------------------------------------------------- audit

  async readAuditEvents(window: TimeWindow, page: PageToken | null): Promise<Page<ProviderEvent>> {
    const eventLogs = (await this.grantedPermissions().catch(() => [] as string[])).includes(EVENT_LOG_PERMISSION);
    return readAuditPage(this.org, window, page, eventLogs);
  }

  // ---------------------------------------------------------------- files

  listFiles(page: PageToken | null): Promise<Page<ProviderFile>> {
    return this.files.list(page);
  }

  readFileChanges(cursor: string | null, page: PageToken | null): Promise<ChangePage> {
    return this.files.changes(cursor, page);
  }

  getFile(externalId: string): Promise<ProviderFile | null> {
    return this.files.get(externalId);
  }

  /** The latest published version's content (https://developer.salesforce.com/docs/atlas.en-us.api_rest.meta/api_rest/dome_sobject_blob_retrieve.htm). */
  async downloadFile(externalId: string): Promise<FileContent> {
    const [document] = await this.org.all<ContentDocumentRecord>(
      `SELECT ${DOCUMENT_FIELDS} FROM ContentDocument WHERE Id = ${soqlId(externalId)}`,
    );
    if (!document?.LatestPublishedVersionId) throw new PermanentError(`The org has no file ${externalId}`, 404);
    // Bytes, which jsforce's HttpApi would decode as text: asked through the scheduler's client directly.
    const response = await this.http.request({
      method: 'GET',
      path: `${this.org.base}/sobjects/ContentVersion/${document.LatestPublishedVersionId}/VersionData`,
    });
    return { bytes: response.bytes, mimeType: mimeTypeOf(document.FileExtension) };
  }

  // ---------------------------------------------------------------- governance

  /** Freezing (https://developer.salesforce.com/docs/atlas.en-us.object_reference.meta/object_reference/sforce_api_objects_userlogin.htm): the user cannot sign in, keeps their licence and data. */
  private async setFrozen(externalId: string, frozen: boolean): Promise<ProviderUser | null> {
    const login = await this.userLogin(externalId);
    if (!login) throw new PermanentError(`The org has no sign-in record for user ${externalId}`, 404);
    if (login.IsFrozen !== frozen) await this.org.request('PATCH', `/sobjects/UserLogin/${login.Id}`, { IsFrozen: frozen });
    return null;
  }

  suspendUser(externalId: string): Promise<ProviderUser | null> {
    return this.setFrozen(externalId, true);
  }

  unsuspendUser(externalId: string): Promise<ProviderUser | null> {
    return this.setFrozen(externalId, false);
  }

  /**
   * Resets the password (https://developer.salesforce.com/docs/atlas.en-us.api_rest.meta/api_rest/dome_sobject_user_password.htm):
   * Salesforce sets a new one, which the answer carries and Tenantwatch drops unread, so the user must
   * set their own through the reset email.
   */
  async requirePasswordReset(externalId: string): Promise<ProviderUser | null> {
    await this.org.request('DELETE', `/sobjects/User/${soqlIdBare(externalId)}/password`);
    return null;
  }

  /** Revoking a connected app's token is deleting it (OauthToken supports delete()). */
  async revokeGrant(externalId: string): Promise<ProviderGrant | null> {
    await this.org.remove('OauthToken', soqlIdBare(externalId));
    return null;
  }

  async quarantineFile(): Promise<ProviderFile | null> {
    throw new UnsupportedError(
      'Salesforce Files have no quarantine: a file cannot be moved out of its owner’s library without losing its sharing',
    );
  }

  async restoreFile(): Promise<ProviderFile | null> {
    throw new UnsupportedError('Salesforce Files have no quarantine to restore from');
  }

  /** Deleting a document sends it (all its versions) to the recycle bin for 15 days. */
  async trashFile(externalId: string): Promise<ProviderFile | null> {
    await this.org.remove('ContentDocument', soqlIdBare(externalId));
    return null;
  }

  /**
   * Deletes the file's public links (ContentDistribution), and its shares with people outside the
   * company (Experience Cloud and guest users); a share visible to all users (AllUsers, which takes
   * in the org's external users) is narrowed to internal users.
   */
  async removeExternalSharing(externalId: string): Promise<ProviderFile | null> {
    const id = soqlId(externalId);
    const [distributions, links] = await this.org.many<ContentDistributionRecord & ContentDocumentLinkRecord>([
      `SELECT Id, ContentDocumentId FROM ContentDistribution WHERE ContentDocumentId = ${id}`,
      `SELECT Id, ContentDocumentId, LinkedEntityId, ShareType, Visibility FROM ContentDocumentLink WHERE ContentDocumentId = ${id}`,
    ]);
    for (const d of distributions ?? []) await this.org.remove('ContentDistribution', d.Id);
    const external = await this.externalUsers();
    for (const link of links ?? []) {
      if (external.has(link.LinkedEntityId)) await this.org.remove('ContentDocumentLink', link.Id);
      else if (link.Visibility === 'AllUsers')
        await this.org
          .request('PATCH', `/sobjects/ContentDocumentLink/${link.Id}`, { Visibility: 'InternalUsers' })
          .catch((error: unknown) => {
            if (!isNotFound(error)) throw error;
          });
    }
    return this.getFile(externalId);
  }

  /**
   * A new version holding the notice (https://developer.salesforce.com/docs/atlas.en-us.object_reference.meta/object_reference/sforce_api_objects_contentversion.htm):
   * the earlier versions stay in the file's version history, where its owner and admins find them.
   */
  async overwriteFile(externalId: string, notice: string): Promise<ProviderFile | null> {
    const [document] = await this.org.all<ContentDocumentRecord>(
      `SELECT ${DOCUMENT_FIELDS} FROM ContentDocument WHERE Id = ${soqlId(externalId)}`,
    );
    if (!document) throw new PermanentError(`The org has no file ${externalId}`, 404);
    await this.org.request('POST', '/sobjects/ContentVersion', {
      ContentDocumentId: document.Id,
      VersionData: Buffer.from(notice).toString('base64'),
      PathOnClient: `${document.Title ?? document.Id}.txt`,
      ReasonForChange: 'Replaced by your security team (Tenantwatch); earlier versions are in the version history',
    });
    return this.getFile(externalId);
  }

  // ---------------------------------------------------------------- limits and notifications

  parseThrottle(response: ProviderResponseHead): ThrottleSignal {
    const usage = apiUsageOf(response.headers.get('sforce-limit-info'));
    if (usage) this.dailyLimit = usage.limit;
    return parseSalesforceThrottle(response, this.dailyLimit);
  }

  verifyWebhook(delivery: WebhookDelivery, now?: Date): VerifiedWebhook {
    return verifyOutboundMessage(this.config.organizationId, delivery, now);
  }
}

/** An id put in a path: checked as a SOQL id is. */
function soqlIdBare(id: string): string {
  return soqlId(id).slice(1, -1);
}

/** Salesforce through its REST API with jsforce: config `{ instanceUrl, consumerKey, privateKeyPem and username (or consumerSecret), loginUrl?, apiVersion? }`. */
export const salesforceConnectorFactory: ConnectorFactory = {
  provider: SALESFORCE_PROVIDER,
  capabilities: SALESFORCE_CAPABILITIES,
  name: 'Salesforce',
  documentationUrl: 'connectors/salesforce/README.md',
  configFields: SALESFORCE_CONFIG_FIELDS,
  requiredPermissions: REQUIRED_PERMISSIONS,
  validateConfig: validateSalesforceConfig,
  endpointOf: (config: ConnectorConfig) => validateSalesforceConfig(config).instanceUrl,
  credentials: (config: ConnectorConfig, tokens: TokenHttp) => salesforceCredentials(validateSalesforceConfig(config), tokens),
  create: (config: ConnectorConfig, http: ProviderHttp, credentials?: ConnectorCredentials) =>
    new SalesforceConnector(validateSalesforceConfig(config), http, credentials),
};
