import type { admin_directory_v1, admin_reports_v1 } from '@googleapis/admin';
import type { drive_v3 } from '@googleapis/drive';
import type { EmuActivity } from './audit-log.js';
import { isGoogleDoc, MIME, type DriveStore, type EmuDrive, type EmuFile, type EmuPermission } from './drive-store.js';
import type { CustomerState, EmuGroup, EmuRole, EmuRoleAssignment, EmuToken, EmuUser } from './tenant.js';

/** The emulator's records in the APIs' wire shapes, typed with the discovery documents' types (@googleapis/admin, @googleapis/drive). */

const etag = (...parts: unknown[]) => `"${Buffer.from(JSON.stringify(parts)).toString('base64url').slice(-27)}"`;

export const wireUser = (u: EmuUser, customerId: string): admin_directory_v1.Schema$User => ({
  kind: 'admin#directory#user',
  id: u.id,
  etag: etag(u.id, u.suspended, u.changePasswordAtNextLogin, u.archived),
  primaryEmail: u.primaryEmail,
  name: { givenName: u.givenName, familyName: u.familyName, fullName: `${u.givenName} ${u.familyName}` },
  isAdmin: u.isAdmin,
  isDelegatedAdmin: u.isDelegatedAdmin,
  lastLoginTime: u.lastLoginTime ?? '1970-01-01T00:00:00.000Z',
  creationTime: u.creationTime,
  agreedToTerms: true,
  suspended: u.suspended,
  ...(u.suspended ? { suspensionReason: 'ADMIN' } : {}),
  archived: u.archived,
  changePasswordAtNextLogin: u.changePasswordAtNextLogin,
  ipWhitelisted: false,
  emails: [{ address: u.primaryEmail, primary: true }],
  customerId,
  orgUnitPath: '/',
  isMailboxSetup: true,
  isEnrolledIn2Sv: false,
  isEnforcedIn2Sv: false,
  includeInGlobalAddressList: true,
});

export const wireGroup = (g: EmuGroup): admin_directory_v1.Schema$Group => ({
  kind: 'admin#directory#group',
  id: g.id,
  etag: etag(g.id, g.members.length),
  email: g.email,
  name: g.name,
  directMembersCount: String(g.members.length),
  description: '',
  adminCreated: true,
});

export const wireMember = (m: EmuGroup['members'][number], user: EmuUser): admin_directory_v1.Schema$Member => ({
  kind: 'admin#directory#member',
  etag: etag(user.id, m.role),
  id: user.id,
  email: user.primaryEmail,
  role: m.role,
  type: 'USER',
  status: user.suspended ? 'SUSPENDED' : 'ACTIVE',
});

export const wireRole = (r: EmuRole): admin_directory_v1.Schema$Role => ({
  kind: 'admin#directory#role',
  etag: etag(r.roleId),
  roleId: r.roleId,
  roleName: r.roleName,
  roleDescription: r.roleDescription,
  isSystemRole: true,
  isSuperAdminRole: r.isSuperAdminRole,
  rolePrivileges: r.privileges,
});

export const wireRoleAssignment = (a: EmuRoleAssignment): admin_directory_v1.Schema$RoleAssignment => ({
  kind: 'admin#directory#roleAssignment',
  etag: etag(a.roleAssignmentId),
  roleAssignmentId: a.roleAssignmentId,
  roleId: a.roleId,
  assignedTo: a.assignedTo,
  assigneeType: 'user',
  scopeType: 'CUSTOMER',
});

export const wireToken = (t: EmuToken): admin_directory_v1.Schema$Token => ({
  kind: 'admin#directory#token',
  etag: etag(t.userId, t.clientId),
  clientId: t.clientId,
  displayText: t.displayText,
  anonymous: false,
  nativeApp: t.nativeApp,
  scopes: t.scopes,
  userKey: t.userId,
});

export const wireActivity = (a: EmuActivity, customerId: string): admin_reports_v1.Schema$Activity => ({
  kind: 'admin#reports#activity',
  id: { time: new Date(a.time).toISOString(), uniqueQualifier: a.uniqueQualifier, applicationName: a.applicationName, customerId },
  etag: etag(a.uniqueQualifier),
  actor: a.actorId ? { callerType: 'USER', email: a.actorEmail, profileId: a.actorId } : { callerType: 'KEY', key: 'SYSTEM' },
  ipAddress: a.ipAddress,
  networkInfo: { regionCode: a.regionCode },
  events: a.events.map((e) => ({ type: e.type, name: e.name, parameters: [...e.parameters] })),
});

export const wirePermission = (p: EmuPermission): drive_v3.Schema$Permission => ({
  kind: 'drive#permission',
  id: p.id,
  type: p.type,
  role: p.role,
  ...(p.emailAddress ? { emailAddress: p.emailAddress } : {}),
  ...(p.domain ? { domain: p.domain } : {}),
  ...(p.displayName ? { displayName: p.displayName } : {}),
  ...(p.allowFileDiscovery !== undefined ? { allowFileDiscovery: p.allowFileDiscovery } : {}),
  deleted: false,
  ...(p.inherited !== undefined ? { permissionDetails: [{ permissionType: 'member', role: p.role, inherited: p.inherited }] } : {}),
});

/** A shared drive member as a permission on the drive's files (https://developers.google.com/drive/api/guides/manage-sharing). */
export function memberPermissions(state: CustomerState, drive: EmuDrive): EmuPermission[] {
  return drive.members.flatMap((m): EmuPermission[] => {
    const user = m.type === 'user' ? state.usersById.get(m.principalId) : undefined;
    const group = m.type === 'group' ? state.groupsById.get(m.principalId) : undefined;
    if (user)
      return [
        {
          id: user.permissionId,
          type: 'user',
          role: m.role,
          emailAddress: user.primaryEmail,
          displayName: `${user.givenName} ${user.familyName}`,
          principalId: user.id,
          inherited: true,
        },
      ];
    if (group)
      return [
        {
          id: group.permissionId,
          type: 'group',
          role: m.role,
          emailAddress: group.email,
          displayName: group.name,
          principalId: group.id,
          inherited: true,
        },
      ];
    return [];
  });
}

/** The full file resource (the request's `fields`, or the method's defaults, select from it). */
export function wireFile(
  state: CustomerState,
  store: DriveStore,
  file: EmuFile,
  viewer: EmuUser | null,
  baseUrl: string,
): drive_v3.Schema$File {
  const owner = file.ownerId ? state.usersById.get(file.ownerId) : undefined;
  const folder = file.mimeType === MIME.folder;
  const binary = !folder && !isGoogleDoc(file.mimeType);
  const drive = file.driveId ? store.drives.get(file.driveId) : undefined;
  const permissions = drive ? [...memberPermissions(state, drive), ...file.permissions] : file.permissions;
  return {
    kind: 'drive#file',
    id: file.id,
    name: file.name,
    mimeType: file.mimeType,
    ...(file.description !== null ? { description: file.description } : {}),
    starred: false,
    trashed: file.trashed,
    explicitlyTrashed: file.trashed,
    parents: file.parentId ? [file.parentId] : [],
    ...(file.driveId ? { driveId: file.driveId, teamDriveId: file.driveId } : {}),
    ...(owner
      ? {
          owners: [
            {
              kind: 'drive#user',
              displayName: `${owner.givenName} ${owner.familyName}`,
              emailAddress: owner.primaryEmail,
              permissionId: owner.permissionId,
              me: viewer?.id === owner.id,
            },
          ],
          ownedByMe: viewer?.id === owner.id,
        }
      : {}),
    version: String(file.version),
    webViewLink: `${baseUrl}/file/d/${file.id}/view`,
    createdTime: file.createdTime,
    modifiedTime: file.modifiedTime,
    shared: permissions.some((p) => p.role !== 'owner'),
    // Drive leaves `permissions` out for shared drive items ("Not populated for items in shared drives").
    ...(drive ? {} : { permissions: permissions.map(wirePermission) }),
    permissionIds: permissions.map((p) => p.id),
    ...(folder ? {} : { size: String(store.size(file)), quotaBytesUsed: String(binary ? store.size(file) : 0) }),
    ...(binary
      ? { md5Checksum: store.md5(file), headRevisionId: `0B${file.id.slice(1, 20)}${file.version}`, originalFilename: file.name }
      : {}),
    ...(binary && file.name.includes('.') ? { fileExtension: file.name.slice(file.name.lastIndexOf('.') + 1) } : {}),
    ...(isGoogleDoc(file.mimeType) ? { exportLinks: exportLinks(file, baseUrl) } : {}),
  };
}

/** The export formats the emulator serves per Google Workspace type (https://developers.google.com/drive/api/guides/ref-export-formats). */
export const EXPORT_FORMATS: Record<string, readonly string[]> = {
  [MIME.doc]: ['text/plain'],
  [MIME.slides]: ['text/plain'],
  [MIME.sheet]: ['text/csv'],
};

const exportLinks = (file: EmuFile, baseUrl: string) =>
  Object.fromEntries(
    (EXPORT_FORMATS[file.mimeType] ?? []).map((m) => [m, `${baseUrl}/feeds/download/export?id=${file.id}&exportFormat=${m}`]),
  );

export const wireDrive = (d: EmuDrive): drive_v3.Schema$Drive => ({
  kind: 'drive#drive',
  id: d.id,
  name: d.name,
  createdTime: d.createdTime,
  hidden: false,
});
