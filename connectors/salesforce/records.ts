import { createHash } from 'node:crypto';
import { AccountStatus } from '../../platform/vocabulary/account-status.js';
import { ActivityCategory } from '../../platform/vocabulary/activity-category.js';
import { SharingLevel } from '../../platform/vocabulary/sharing.js';
import type { ProviderEvent, ProviderFile, ProviderGrant, ProviderUser } from '../contract.js';

/**
 * Salesforce's records as the connector reads them (the fields it selects), and their mapping to
 * Tenantwatch's. Field names and meanings: the Object Reference
 * (https://developer.salesforce.com/docs/atlas.en-us.object_reference.meta/object_reference/).
 */

/** A nested relationship field (`Profile.Name`): an object with the parent's selected fields, or null. */
export interface Related {
  readonly Name?: string | null;
  readonly CountryIso?: string | null;
  readonly Country?: string | null;
}

export interface UserRecord {
  readonly Id: string;
  readonly Username: string;
  readonly Email?: string | null;
  readonly Name?: string | null;
  readonly IsActive: boolean;
  readonly UserType?: string | null;
  readonly Profile?: Related | null;
  readonly UserRole?: Related | null;
}

/** The user permissions that make a user privileged, as PermissionSet's fields name them, and how Tenantwatch shows them. */
export const PRIVILEGED_PERMISSIONS = {
  PermissionsModifyAllData: 'Modify All Data',
  PermissionsViewAllData: 'View All Data',
  PermissionsCustomizeApplication: 'Customize Application',
  PermissionsManageUsers: 'Manage Users',
  PermissionsAuthorApex: 'Author Apex',
} as const;
export type PrivilegedPermissionField = keyof typeof PRIVILEGED_PERMISSIONS;
/** Any of these makes a user an administrator: each lets its holder change the org's data, setup or users at will. */
const ADMIN_PRIVILEGES = new Set<string>(['Modify All Data', 'Customize Application', 'Manage Users']);

export type PermissionSetRecord = { readonly Id: string; readonly Name?: string | null; readonly IsOwnedByProfile?: boolean } & Partial<
  Readonly<Record<PrivilegedPermissionField, boolean | null>>
>;

/** The privileged permissions a permission set (a profile's own included) grants. */
export function privilegesOf(set: PermissionSetRecord): string[] {
  return (Object.keys(PRIVILEGED_PERMISSIONS) as PrivilegedPermissionField[])
    .filter((f) => set[f] === true)
    .map((f) => PRIVILEGED_PERMISSIONS[f]);
}

/** User types of people outside the company: Experience Cloud (partner, customer, portal) and site guest users (https://developer.salesforce.com/docs/atlas.en-us.object_reference.meta/object_reference/sforce_api_objects_user.htm, UserType). */
const EXTERNAL_USER_TYPES = new Set(['PowerPartner', 'PowerCustomerSuccess', 'CustomerSuccess', 'CspLitePortal', 'Guest']);

export function isExternalUserType(userType: string | null | undefined): boolean {
  return EXTERNAL_USER_TYPES.has(userType ?? '');
}

/** A Salesforce user: inactive is DISABLED, frozen (UserLogin.IsFrozen) is SUSPENDED; privileges from permission sets and the profile's. */
export function toUser(
  user: UserRecord,
  frozen: boolean,
  privileges: readonly string[],
  extra: { passwordResetRequired?: boolean } = {},
): ProviderUser {
  const all = [...new Set(privileges)].sort();
  return {
    externalId: user.Id,
    email: user.Email ?? null,
    displayName: user.Name ?? user.Username,
    status: !user.IsActive ? AccountStatus.DISABLED : frozen ? AccountStatus.SUSPENDED : AccountStatus.ACTIVE,
    isAdmin: all.some((p) => ADMIN_PRIVILEGES.has(p)),
    privileges: [
      ...all,
      ...(user.Profile?.Name ? [`profile:${user.Profile.Name}`] : []),
      ...(user.UserRole?.Name ? [`role:${user.UserRole.Name}`] : []),
      ...(isExternalUserType(user.UserType) ? ['external'] : []),
    ],
    ...(extra.passwordResetRequired !== undefined ? { passwordResetRequired: extra.passwordResetRequired } : {}),
  };
}

export interface OauthTokenRecord {
  readonly Id: string;
  readonly AppName?: string | null;
  readonly AppMenuItemId?: string | null;
  readonly UserId?: string | null;
  readonly UseCount?: number | null;
  readonly LastUsedDate?: string | null;
  readonly CreatedDate?: string | null;
}

/**
 * An OAuth token a user granted a connected app (https://developer.salesforce.com/docs/atlas.en-us.object_reference.meta/object_reference/sforce_api_objects_oauthtoken.htm).
 * Salesforce names the app (and its app menu item) but neither its consumer key nor the token's scopes:
 * the app is known by its menu item (or its name), and the scopes are left empty.
 */
export function toGrant(token: OauthTokenRecord): ProviderGrant {
  const name = token.AppName ?? 'unknown connected app';
  return {
    externalId: token.Id,
    appName: name,
    clientId: token.AppMenuItemId ?? `app:${name}`,
    publisher: null,
    scopes: [],
    userExternalId: token.UserId ?? null,
    grantedAt: isoOf(token.CreatedDate),
    lastUsedAt: isoOf(token.LastUsedDate),
    revoked: false,
  };
}

/** Salesforce's dateTime (`2026-12-05T10:00:00.000+0000`) as ISO 8601 UTC; null when absent or unreadable. */
export function isoOf(value: string | null | undefined): string | null {
  if (!value) return null;
  const normalized = value.replace(/([+-]\d\d)(\d\d)$/, '$1:$2');
  const at = Date.parse(normalized);
  return Number.isFinite(at) ? new Date(at).toISOString() : null;
}

/** A SOQL dateTime literal (unquoted, UTC). */
export function soqlDateTime(at: Date | number): string {
  return new Date(at).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** A SOQL string literal, escaped (https://developer.salesforce.com/docs/atlas.en-us.soql_sosl.meta/soql_sosl/sforce_api_calls_soql_select_quotedstringescapes.htm). */
export function soqlString(value: string): string {
  return `'${value.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}

/** An id for a SOQL filter: Salesforce ids are 15 or 18 letters and digits; anything else is refused before it reaches a query. */
export function soqlId(value: string): string {
  if (!/^[a-zA-Z0-9]{15}([a-zA-Z0-9]{3})?$/.test(value)) throw new Error(`"${value.slice(0, 40)}" is not a Salesforce id`);
  return `'${value}'`;
}

export interface LoginHistoryRecord {
  readonly Id: string;
  readonly UserId?: string | null;
  readonly LoginTime: string;
  readonly SourceIp?: string | null;
  readonly LoginType?: string | null;
  readonly Status?: string | null;
  readonly Browser?: string | null;
  readonly Platform?: string | null;
  readonly Application?: string | null;
  readonly LoginGeo?: Related | null;
}

/** A sign-in (https://developer.salesforce.com/docs/atlas.en-us.object_reference.meta/object_reference/sforce_api_objects_loginhistory.htm): Status "Success" or the failure's reason; the country from LoginGeo. */
export function loginEvent(login: LoginHistoryRecord): ProviderEvent {
  const succeeded = (login.Status ?? '') === 'Success';
  return {
    externalId: login.Id,
    category: ActivityCategory.SIGN_IN,
    action: succeeded ? 'user.login' : 'user.login.failed',
    actorExternalId: login.UserId ?? null,
    occurredAt: isoOf(login.LoginTime) ?? login.LoginTime,
    ipAddress: login.SourceIp && login.SourceIp !== 'Salesforce.com IP' ? login.SourceIp : null,
    country: login.LoginGeo?.CountryIso ?? null,
    userAgent: [login.Browser, login.Platform].filter((v) => v && v !== 'Unknown').join(' / ') || null,
    succeeded,
    targetType: 'app',
    targetId: login.Application ?? login.LoginType ?? null,
    fileExternalId: null,
    raw: login,
  };
}

export interface SetupAuditTrailRecord {
  readonly Id: string;
  readonly Action: string;
  readonly Section?: string | null;
  readonly Display?: string | null;
  readonly CreatedDate: string;
  readonly CreatedById?: string | null;
  readonly DelegateUser?: string | null;
}

/** A setup change (https://developer.salesforce.com/docs/atlas.en-us.object_reference.meta/object_reference/sforce_api_objects_setupaudittrail.htm): `admin.<Action>` in snake case. */
export function setupEvent(change: SetupAuditTrailRecord): ProviderEvent {
  return {
    externalId: change.Id,
    category: ActivityCategory.ADMIN,
    action: `admin.${snake(change.Action)}`,
    actorExternalId: change.CreatedById ?? null,
    occurredAt: isoOf(change.CreatedDate) ?? change.CreatedDate,
    ipAddress: null,
    country: null,
    userAgent: null,
    succeeded: true,
    targetType: change.Section ? snake(change.Section) : null,
    targetId: null,
    fileExternalId: null,
    raw: change,
  };
}

const snake = (value: string) =>
  value
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '_')
    .replace(/^_|_$/g, '') || 'activity';

/** The event types of EventLogFile the connector reads, and what their rows become. */
export const EVENT_LOG_TYPES = ['ReportExport', 'ContentTransfer'] as const;

/** ContentTransfer's TRANSACTION_TYPE values (https://developer.salesforce.com/docs/atlas.en-us.object_reference.meta/object_reference/sforce_api_objects_eventlogfile_contenttransfer.htm). */
const TRANSFER_ACTIONS: Readonly<Record<string, string>> = {
  VersionDownloadAction: 'file.download',
  VersionDownloadAllowedChecker: 'file.download',
  VersionRenditionDownload: 'file.preview',
  saveVersion: 'file.upload',
};

/**
 * One row of an event log file's CSV (https://developer.salesforce.com/docs/atlas.en-us.object_reference.meta/object_reference/sforce_api_objects_eventlogfile.htm),
 * or null for a row that is no activity Tenantwatch keeps. The id is the event type and the
 * request's id (REQUEST_ID), the same in the hourly and the daily file of an org that has both; a
 * digest of the row where it has none.
 */
export function eventLogEvent(eventType: string, row: Readonly<Record<string, string>>): ProviderEvent | null {
  const at = eventTimeOf(row);
  if (!at) return null;
  const request = row.REQUEST_ID?.trim();
  const externalId = `elf:${eventType}:${request || createHash('sha256').update(JSON.stringify(row)).digest('hex').slice(0, 32)}`;
  const actor = row.USER_ID_DERIVED || row.USER_ID || null;
  const common = {
    externalId,
    category: ActivityCategory.USER,
    actorExternalId: actor,
    occurredAt: at,
    ipAddress: row.CLIENT_IP || null,
    country: null,
    userAgent: row.USER_AGENT || null,
    raw: { EventType: eventType, ...row },
  };
  if (eventType === 'ReportExport')
    return {
      ...common,
      action: 'report.export',
      succeeded: true,
      targetType: 'report',
      targetId: row.REPORT_ID_DERIVED || row.REPORT_ID || null,
      fileExternalId: null,
    };
  if (eventType === 'ContentTransfer') {
    const action = TRANSFER_ACTIONS[row.TRANSACTION_TYPE ?? ''] ?? `file.${snake(row.TRANSACTION_TYPE || 'transfer')}`;
    const document = row.DOCUMENT_ID_DERIVED || row.DOCUMENT_ID || null;
    return { ...common, action, succeeded: true, targetType: 'file', targetId: document, fileExternalId: document };
  }
  return null;
}

/** When a row's event happened: TIMESTAMP_DERIVED (ISO 8601) or TIMESTAMP (yyyyMMddHHmmss.SSS, UTC). */
export function eventTimeOf(row: Readonly<Record<string, string>>): string | null {
  const derived = row.TIMESTAMP_DERIVED ? Date.parse(row.TIMESTAMP_DERIVED) : NaN;
  if (Number.isFinite(derived)) return new Date(derived).toISOString();
  const m = /^(\d{4})(\d\d)(\d\d)(\d\d)(\d\d)(\d\d)(?:\.(\d{1,3}))?$/.exec(row.TIMESTAMP ?? '');
  if (!m) return null;
  return new Date(Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!, +m[4]!, +m[5]!, +m[6]!, +(m[7] ?? '0').padEnd(3, '0'))).toISOString();
}

export interface ContentDocumentRecord {
  readonly Id: string;
  readonly Title?: string | null;
  readonly FileExtension?: string | null;
  readonly FileType?: string | null;
  readonly ContentSize?: number | null;
  readonly OwnerId?: string | null;
  readonly LatestPublishedVersionId?: string | null;
  readonly SystemModstamp: string;
  readonly ContentModifiedDate?: string | null;
  readonly IsDeleted?: boolean;
}

export interface ContentDocumentLinkRecord {
  readonly Id: string;
  readonly ContentDocumentId: string;
  readonly LinkedEntityId: string;
  /** V (viewer), C (collaborator), I (inferred from the record). */
  readonly ShareType?: string | null;
  /** AllUsers (Experience Cloud users too), InternalUsers, SharedUsers. */
  readonly Visibility?: string | null;
}

export interface ContentDistributionRecord {
  readonly Id: string;
  readonly ContentDocumentId: string;
  readonly DistributionPublicUrl?: string | null;
  readonly ExpiryDate?: string | null;
  readonly PreferencesExpires?: boolean | null;
}

/** Key prefixes of Salesforce ids (https://help.salesforce.com/s/articleView?id=000385203): users and groups. */
export const isUserId = (id: string) => id.startsWith('005');

/** Whether a public link still works: one that expires is dead after its ExpiryDate. */
export function isLiveDistribution(d: ContentDistributionRecord, now = Date.now()): boolean {
  if (!d.PreferencesExpires || !d.ExpiryDate) return true;
  const expires = Date.parse(isoOf(d.ExpiryDate) ?? '');
  return !Number.isFinite(expires) || expires > now;
}

/**
 * A file's sharing from its links and public links: PUBLIC with a live public link
 * (ContentDistribution), EXTERNAL when shared with an Experience Cloud or guest user or visible to
 * all users (AllUsers takes in external users of the org's sites), INTERNAL when shared beyond its
 * owner (people, groups, libraries, records), PRIVATE otherwise. Collaborators: the users it is
 * shared with, the owner left out.
 */
export function sharingOf(
  document: ContentDocumentRecord,
  links: readonly ContentDocumentLinkRecord[],
  distributions: readonly ContentDistributionRecord[],
  externalUsers: ReadonlySet<string>,
): { sharing: SharingLevel; collaborators: string[] } {
  const others = links.filter((l) => l.LinkedEntityId !== document.OwnerId);
  const collaborators = [...new Set(others.filter((l) => isUserId(l.LinkedEntityId)).map((l) => l.LinkedEntityId))].sort();
  if (distributions.some((d) => isLiveDistribution(d))) return { sharing: SharingLevel.PUBLIC, collaborators };
  if (others.some((l) => externalUsers.has(l.LinkedEntityId) || l.Visibility === 'AllUsers'))
    return { sharing: SharingLevel.EXTERNAL, collaborators };
  return { sharing: others.length > 0 ? SharingLevel.INTERNAL : SharingLevel.PRIVATE, collaborators };
}

/** A Salesforce file (https://developer.salesforce.com/docs/atlas.en-us.object_reference.meta/object_reference/sforce_api_objects_contentdocument.htm): its content version is the latest published version's id. */
export function toFile(
  document: ContentDocumentRecord,
  links: readonly ContentDocumentLinkRecord[],
  distributions: readonly ContentDistributionRecord[],
  externalUsers: ReadonlySet<string>,
): ProviderFile {
  const title = document.Title ?? document.Id;
  const name =
    document.FileExtension && !title.toLowerCase().endsWith(`.${document.FileExtension.toLowerCase()}`)
      ? `${title}.${document.FileExtension}`
      : title;
  return {
    externalId: document.Id,
    name,
    path: `/${name}`,
    mimeType: mimeTypeOf(document.FileExtension),
    sizeBytes: document.ContentSize ?? 0,
    ownerExternalId: document.OwnerId ?? null,
    ...sharingOf(document, links, distributions, externalUsers),
    trashed: document.IsDeleted === true,
    quarantined: false,
    modifiedAt: isoOf(document.ContentModifiedDate) ?? isoOf(document.SystemModstamp) ?? new Date(0).toISOString(),
    contentVersion: document.LatestPublishedVersionId ?? document.SystemModstamp,
  };
}

const MIME: Readonly<Record<string, string>> = {
  pdf: 'application/pdf',
  txt: 'text/plain',
  csv: 'text/csv',
  json: 'application/json',
  html: 'text/html',
  png: 'image/png',
  jpg: 'image/jpeg',
  jpeg: 'image/jpeg',
  docx: 'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
  xlsx: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
  pptx: 'application/vnd.openxmlformats-officedocument.presentationml.presentation',
};

/** Salesforce keeps no MIME type on a file: it follows from the extension. */
export function mimeTypeOf(extension: string | null | undefined): string | null {
  return extension ? (MIME[extension.toLowerCase()] ?? 'application/octet-stream') : null;
}
