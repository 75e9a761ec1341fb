import type { EmuChange, EmuFile, PermissionRole } from './drive-store.js';
import { GoogleError } from './errors.js';
import { boolParam, type Ctx } from './routes.js';
import type { CustomerState, EmuUser } from './tenant.js';

const RANK: Record<PermissionRole, number> = { reader: 1, commenter: 2, writer: 3, fileOrganizer: 4, organizer: 5, owner: 6 };

/** Whether `role` is at least `needed` (owner > organizer > fileOrganizer > writer > commenter > reader). */
export const atLeast = (role: PermissionRole | null, needed: PermissionRole) => role !== null && RANK[role] >= RANK[needed];

/**
 * The user's role on a file (https://developers.google.com/drive/api/guides/ref-roles): the owner's, a
 * shared drive membership's, or the best of the permissions that reach them (their own, a group's,
 * their domain's, anyone with the link); null when they cannot open it.
 */
export function roleOn(state: CustomerState, file: EmuFile, user: EmuUser | null): PermissionRole | null {
  if (file.deleted || !user) return null;
  let best: PermissionRole | null = null;
  const consider = (role: PermissionRole) => {
    if (!atLeast(best, role)) best = role;
  };
  if (file.ownerId === user.id) return 'owner';
  if (file.driveId) {
    const drive = state.drive.drives.get(file.driveId);
    for (const m of drive?.members ?? []) if (reaches(state, m.type, m.principalId, user)) consider(m.role);
  }
  for (const p of file.permissions) {
    if (p.type === 'anyone') consider(p.role);
    else if (p.type === 'domain' && p.domain === state.spec.domain) consider(p.role);
    else if ((p.type === 'user' || p.type === 'group') && p.principalId && reaches(state, p.type, p.principalId, user)) consider(p.role);
  }
  return best;
}

function reaches(state: CustomerState, type: 'user' | 'group' | 'domain' | 'anyone', principalId: string, user: EmuUser): boolean {
  if (type === 'user') return principalId === user.id;
  if (type === 'group') return state.groupsById.get(principalId)?.members.some((m) => m.userId === user.id) ?? false;
  return false;
}

/** Whether the user is a member of the shared drive (directly or through a group). */
export function isDriveMember(state: CustomerState, driveId: string, user: EmuUser | null): boolean {
  const drive = state.drive.drives.get(driveId);
  if (!drive || drive.deleted || !user) return false;
  return drive.members.some((m) => reaches(state, m.type, m.principalId, user));
}

/** Which changes a user's change list (or channel) reports: the `user` corpus, one shared drive, or both. */
export interface ChangeScope {
  readonly userId: string | null;
  readonly driveId: string | null;
  readonly includeItemsFromAllDrives: boolean;
}

/**
 * Whether a change belongs in the scope's list (https://developers.google.com/drive/api/guides/manage-changes):
 * My Drive changes of files the user saw before or after the change (its audience), shared drive
 * changes of the named drive, or of the user's drives when items from all drives are included.
 */
export function inScope(state: CustomerState, scope: ChangeScope, change: EmuChange): boolean {
  const user = scope.userId ? state.usersById.get(scope.userId) : undefined;
  if (scope.driveId) return change.driveId === scope.driveId;
  if (change.driveId) return scope.includeItemsFromAllDrives && isDriveMember(state, change.driveId, user ?? null);
  return user !== undefined && change.audience.includes(user.id);
}

/** Whether the change reports the file as removed for this scope: deleted, or out of the user's reach now. */
export function removedFor(state: CustomerState, scope: ChangeScope, file: EmuFile | undefined): boolean {
  if (!file || file.deleted) return true;
  if (file.driveId)
    return scope.driveId === null && !isDriveMember(state, file.driveId, scope.userId ? (state.usersById.get(scope.userId) ?? null) : null);
  return scope.userId === null || !state.drive.audience(file).includes(scope.userId);
}

/** The file the user can open, by id (`root`: their My Drive); shared drive items only with `supportsAllDrives`. */
export function openFile(ctx: Ctx, rawId: string, location = 'fileId'): { file: EmuFile; role: PermissionRole } {
  const id = decodeURIComponent(rawId);
  const state = ctx.customer.state;
  const file = id === 'root' ? (ctx.user ? state.drive.files.get(ctx.user.rootFolderId) : undefined) : state.drive.files.get(id);
  const role = file ? roleOn(state, file, ctx.user) : null;
  if (!file || !role || (file.driveId && !boolParam(ctx.query, 'supportsAllDrives') && !boolParam(ctx.query, 'supportsTeamDrives')))
    throw new GoogleError(404, 'notFound', `File not found: ${id}.`, { location, locationType: 'parameter' });
  return { file, role };
}
