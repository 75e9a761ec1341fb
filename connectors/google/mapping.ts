import type { admin_directory_v1, admin_reports_v1 } from '@googleapis/admin';
import type { drive_v3 } from '@googleapis/drive';
import { AccountStatus } from '../../platform/vocabulary/account-status.js';
import { ActivityCategory } from '../../platform/vocabulary/activity-category.js';
import { SharingLevel } from '../../platform/vocabulary/sharing.js';
import type { ProviderEvent, ProviderFile, ProviderGrant, ProviderUser } from '../contract.js';

/** Google's records in Tenantwatch's terms: pure functions of the APIs' resources (typed by the discovery documents). */

export const FOLDER = 'application/vnd.google-apps.folder';

/** Where the Drive channels an instance keeps are recorded (Drive cannot list channels): a file in the admin subject's My Drive, not a file of the organization's. */
export const CHANNELS_FILE = 'tenantwatch-channels.json';

/** Docs Editors files have no binary content: they are exported, as text (https://developers.google.com/drive/api/guides/ref-export-formats). */
export const EXPORTS: Readonly<Record<string, string>> = {
  'application/vnd.google-apps.document': 'text/plain',
  'application/vnd.google-apps.presentation': 'text/plain',
  'application/vnd.google-apps.spreadsheet': 'text/csv',
};

/**
 * A Directory user (https://developers.google.com/admin-sdk/directory/reference/rest/v1/users):
 * archived → DISABLED (cannot sign in; a licence of its own), suspended → SUSPENDED; super and
 * delegated administrators are admins, with their roles as privileges.
 */
export function toUser(user: admin_directory_v1.Schema$User, roles: readonly string[] = []): ProviderUser {
  const status = user.archived ? AccountStatus.DISABLED : user.suspended ? AccountStatus.SUSPENDED : AccountStatus.ACTIVE;
  const privileges = [...(user.isAdmin ? ['Super Admin'] : []), ...(user.isDelegatedAdmin ? ['Delegated Admin'] : []), ...roles];
  return {
    externalId: user.id!,
    email: user.primaryEmail ?? null,
    displayName: user.name?.fullName ?? user.primaryEmail ?? user.id!,
    status,
    isAdmin: user.isAdmin === true || user.isDelegatedAdmin === true,
    privileges: [...new Set(privileges)],
    passwordResetRequired: user.changePasswordAtNextLogin ?? undefined,
  };
}

/** A grant's id: the user's and the app's, as tokens.get and tokens.delete name it. */
export const grantId = (userId: string, clientId: string) => `${userId}/${clientId}`;
export function splitGrantId(externalId: string): { userId: string; clientId: string } {
  const slash = externalId.indexOf('/');
  if (slash <= 0 || slash === externalId.length - 1) throw new Error(`"${externalId}" is not a Google Workspace grant id (user/client)`);
  return { userId: externalId.slice(0, slash), clientId: externalId.slice(slash + 1) };
}

/** An OAuth token a user granted an app (https://developers.google.com/admin-sdk/directory/reference/rest/v1/tokens). */
export function toGrant(userId: string, token: admin_directory_v1.Schema$Token): ProviderGrant {
  return {
    externalId: grantId(userId, token.clientId!),
    appName: token.displayText || token.clientId!,
    clientId: token.clientId!,
    publisher: null,
    scopes: token.scopes ?? [],
    userExternalId: userId,
    grantedAt: null,
    lastUsedAt: null,
    revoked: false,
  };
}

/** Tenantwatch's names of Reports API events (https://developers.google.com/admin-sdk/reports/v1/appendix/activity/login and its siblings). */
const LOGIN_ACTIONS: Readonly<Record<string, string>> = {
  login_success: 'user.login',
  login_failure: 'user.login.failed',
  logout: 'user.logout',
  login_challenge: 'user.login.challenge',
  login_verification: 'user.login.verification',
  suspicious_login: 'user.login.suspicious',
  suspicious_login_less_secure_app: 'user.login.suspicious',
  password_edit: 'user.password.change',
};
const ADMIN_ACTIONS: Readonly<Record<string, string>> = {
  CREATE_USER: 'admin.user.create',
  DELETE_USER: 'admin.user.delete',
  SUSPEND_USER: 'admin.user.suspend',
  UNSUSPEND_USER: 'admin.user.unsuspend',
  CHANGE_PASSWORD: 'admin.user.password_reset',
  CHANGE_PASSWORD_ON_NEXT_LOGIN: 'admin.user.password_reset',
  ASSIGN_ROLE: 'admin.role.assign',
  UNASSIGN_ROLE: 'admin.role.unassign',
  CHANGE_APPLICATION_SETTING: 'admin.settings.change',
};
const DRIVE_ACTIONS: Readonly<Record<string, string>> = {
  view: 'file.view',
  preview: 'file.view',
  download: 'file.download',
  edit: 'file.edit',
  upload: 'file.upload',
  create: 'file.upload',
  delete: 'file.delete',
  trash: 'file.delete',
  untrash: 'file.restore',
  rename: 'file.rename',
  move: 'file.move',
  copy: 'file.copy',
  print: 'file.print',
  change_user_access: 'file.share',
  change_acl_editors: 'file.share',
};
const TOKEN_ACTIONS: Readonly<Record<string, string>> = { authorize: 'app.authorize', revoke: 'app.revoke', activity: 'app.access' };

const snake = (name: string) => name.toLowerCase().replace(/[^a-z0-9]+/g, '_');

type Parameter = NonNullable<NonNullable<admin_reports_v1.Schema$Activity['events']>[number]['parameters']>[number];
function param(parameters: readonly Parameter[] | undefined, name: string): string | null {
  const found = parameters?.find((p) => p.name === name);
  return (
    found?.value ?? found?.intValue ?? (found?.boolValue !== undefined && found.boolValue !== null ? String(found.boolValue) : null) ?? null
  );
}

/**
 * One event of a Reports API activity (https://developers.google.com/admin-sdk/reports/reference/rest/v1/activities):
 * an activity holds one or more events; each is stored on its own, its id made of the activity's
 * `id.time`, `id.uniqueQualifier` and its index in the activity — stable across re-reads, so that
 * overlapping windows store it once.
 */
export function toEvents(activity: admin_reports_v1.Schema$Activity): ProviderEvent[] {
  const app = activity.id?.applicationName ?? '';
  const time = activity.id?.time ?? '';
  return (activity.events ?? []).map((event, index) => {
    const name = event.name ?? 'unknown';
    const p = event.parameters ?? undefined;
    const base = {
      externalId: eventId(time, activity.id?.uniqueQualifier ?? '', index),
      actorExternalId: activity.actor?.profileId ?? null,
      occurredAt: new Date(time).toISOString(),
      ipAddress: activity.ipAddress ?? null,
      country: activity.networkInfo?.regionCode ?? null,
      userAgent: null,
      raw: { ...activity, events: [event] },
    };
    switch (app) {
      case 'login':
        return {
          ...base,
          category: ActivityCategory.SIGN_IN,
          action: LOGIN_ACTIONS[name] ?? `user.${snake(name)}`,
          succeeded: !/failure/.test(name),
          targetType: 'app',
          targetId: 'Google Workspace',
          fileExternalId: null,
        };
      case 'admin': {
        const user = param(p, 'USER_EMAIL');
        return {
          ...base,
          category: ActivityCategory.ADMIN,
          action: ADMIN_ACTIONS[name] ?? `admin.${snake(name)}`,
          succeeded: true,
          targetType: user ? 'user' : (event.type?.toLowerCase() ?? null),
          targetId: user,
          fileExternalId: null,
        };
      }
      case 'drive': {
        const doc = param(p, 'doc_id');
        const visibility = param(p, 'visibility');
        const shared =
          name === 'change_document_visibility' || name === 'change_document_access_scope'
            ? visibility === 'people_with_link' || visibility === 'public_on_the_web'
              ? 'file.share.anonymous'
              : 'file.share'
            : null;
        return {
          ...base,
          category: ActivityCategory.USER,
          action: shared ?? DRIVE_ACTIONS[name] ?? `file.${snake(name)}`,
          succeeded: true,
          targetType: 'file',
          targetId: param(p, 'doc_title') ?? doc,
          fileExternalId: doc,
        };
      }
      default:
        return {
          ...base,
          category: ActivityCategory.USER,
          action: app === 'token' ? (TOKEN_ACTIONS[name] ?? `app.${snake(name)}`) : `${snake(app)}.${snake(name)}`,
          succeeded: true,
          targetType: app === 'token' ? 'app' : null,
          targetId: app === 'token' ? (param(p, 'app_name') ?? param(p, 'client_id')) : null,
          fileExternalId: null,
        };
    }
  });
}

/** The stored id of an activity's event (`<id.time>/<id.uniqueQualifier>/<index>`). */
export const eventId = (time: string, uniqueQualifier: string, index: number) => `${time}/${uniqueQualifier}/${index}`;

const RANK: Record<SharingLevel, number> = { PRIVATE: 0, INTERNAL: 1, EXTERNAL: 2, PUBLIC: 3 };

/** Whether a permission reaches outside the organization's domains (anyone with the link, or a user, group or domain elsewhere). */
export function isExternal(permission: drive_v3.Schema$Permission, domains: ReadonlySet<string>): boolean {
  if (permission.type === 'anyone') return true;
  if (permission.type === 'domain') return !domains.has((permission.domain ?? '').toLowerCase());
  const email = permission.emailAddress?.toLowerCase();
  const domain = email?.slice(email.indexOf('@') + 1);
  return (permission.type === 'user' || permission.type === 'group') && !!domain && !domains.has(domain);
}

/**
 * Who reaches a file from its permissions (https://developers.google.com/drive/api/guides/ref-roles):
 * anyone → PUBLIC; a user, group or domain outside the organization → EXTERNAL; the organization's
 * domain → INTERNAL; otherwise PRIVATE. The most exposed wins; collaborators are the people and
 * groups named (not the owner).
 */
export function sharingOf(
  permissions: readonly drive_v3.Schema$Permission[],
  domains: ReadonlySet<string>,
): { sharing: SharingLevel; collaborators: string[] } {
  let sharing: SharingLevel = SharingLevel.PRIVATE;
  const raise = (level: SharingLevel) => {
    if (RANK[level] > RANK[sharing]) sharing = level;
  };
  const collaborators = new Set<string>();
  for (const p of permissions) {
    if (p.role === 'owner' || p.deleted) continue;
    if (p.type === 'anyone') raise(SharingLevel.PUBLIC);
    else if (isExternal(p, domains)) raise(SharingLevel.EXTERNAL);
    else if (p.type === 'domain') raise(SharingLevel.INTERNAL);
    if ((p.type === 'user' || p.type === 'group') && p.emailAddress) collaborators.add(p.emailAddress.toLowerCase());
  }
  return { sharing, collaborators: [...collaborators] };
}

/** A Drive file in Tenantwatch's terms; its owner and place are resolved by the caller. */
export function toFile(
  file: drive_v3.Schema$File,
  context: {
    readonly permissions: readonly drive_v3.Schema$Permission[];
    readonly domains: ReadonlySet<string>;
    readonly ownerExternalId: string | null;
    readonly folder: string;
    readonly quarantined: boolean;
  },
): ProviderFile {
  const { sharing, collaborators } = sharingOf(context.permissions, context.domains);
  return {
    externalId: file.id!,
    name: file.name ?? file.id!,
    path: `/${context.folder ? `${context.folder}/` : ''}${file.name ?? file.id!}`,
    mimeType: file.mimeType ?? null,
    sizeBytes: Number(file.size ?? 0) || 0,
    ownerExternalId: context.ownerExternalId,
    sharing,
    collaborators,
    trashed: file.trashed === true,
    quarantined: context.quarantined,
    modifiedAt: file.modifiedTime ?? new Date(0).toISOString(),
    // Binary files change md5 with their content; Docs Editors files have none, their version moves with every change.
    contentVersion: file.md5Checksum ?? `v${file.version ?? ''}:${file.modifiedTime ?? ''}`,
  };
}
