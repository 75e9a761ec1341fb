import { atLeast, isDriveMember, openFile, roleOn } from './drive-access.js';
import { changeRoutes } from './drive-changes.js';
import { parseFileQuery } from './drive-query.js';
import { isGoogleDoc, MIME, type EmuFile, type PermissionRole } from './drive-store.js';
import { badRequest, GoogleError, insufficientFilePermissions, insufficientScopes, invalidValue, required } from './errors.js';
import { upload } from './drive-upload.js';
import { boolParam, intParam, json, noContent, offsetPage, readJson, type Ctx, type PageTokens, type Route } from './routes.js';
import { SCOPES } from './spec.js';
import { EXPORT_FORMATS, memberPermissions, wireDrive, wireFile, wirePermission } from './wire.js';

const BASE = '/drive/v3';
export const READ = [SCOPES.drive, SCOPES.driveReadonly, SCOPES.driveMetadata, SCOPES.driveMetadataReadonly];
const CONTENT = [SCOPES.drive, SCOPES.driveReadonly];
const WRITE = [SCOPES.drive];
const METADATA_WRITE = [SCOPES.drive, SCOPES.driveMetadata];
/** Drive's export limit (https://developers.google.com/drive/api/reference/rest/v3/files/export). */
const EXPORT_LIMIT = 10 * 1024 * 1024;
const FILE_DEFAULTS = 'kind,id,name,mimeType';

const wire = (ctx: Ctx, file: EmuFile) => wireFile(ctx.customer.state, ctx.customer.state.drive, file, ctx.user, ctx.baseUrl);

/** Whether the role may trash, untrash or move the file: its owner in My Drive, a (file) organizer in a shared drive. */
const mayOrganize = (file: EmuFile, role: PermissionRole) => (file.driveId ? atLeast(role, 'fileOrganizer') : role === 'owner');

/** Drive API v3 routes for files, permissions, shared drives and about (https://developers.google.com/drive/api/reference/rest/v3). */
export function driveRoutes(pages: PageTokens, options: { allowHttpWebhooks: boolean }): Route[] {
  const update = async (ctx: Ctx): Promise<ReturnType<typeof json>> => {
    const { file, role } = openFile(ctx, ctx.params[0]!);
    const state = ctx.customer.state;
    const body = await readJson(ctx);
    const before = state.drive.audience(file);
    const changed: string[] = [];
    for (const field of ['name', 'description'] as const) {
      if (!(field in body)) continue;
      if (typeof body[field] !== 'string') throw invalidValue(field);
      if (!atLeast(role, 'writer')) throw insufficientFilePermissions();
      file[field] = body[field];
      changed.push(field);
    }
    if ('trashed' in body) {
      if (typeof body.trashed !== 'boolean') throw invalidValue('trashed');
      if (!mayOrganize(file, role)) throw insufficientFilePermissions();
      file.trashed = body.trashed;
      state.record(body.trashed ? 'file.trash' : 'file.untrash', file.id, ctx.now);
      changed.push('trashed');
    }
    const add = ctx.query.get('addParents')?.split(',').filter(Boolean) ?? [];
    const remove = ctx.query.get('removeParents')?.split(',').filter(Boolean) ?? [];
    if (add.length || remove.length) {
      if (!mayOrganize(file, role) && !atLeast(role, 'writer')) throw insufficientFilePermissions();
      if (remove.some((p) => p !== file.parentId && !(p === 'root' && ctx.user?.rootFolderId === file.parentId)))
        throw invalidValue('removeParents');
      // A file has exactly one parent since 2020: adding one without removing the other is refused.
      if (add.length > 1 || (add.length === 1 && remove.length === 0))
        throw new GoogleError(403, 'cannotAddParent', 'Increasing the number of parents is not allowed.');
      if (add.length === 1) {
        const target = openFile(ctx, add[0]!, 'addParents');
        if (target.file.mimeType !== MIME.folder) throw badRequest('The parent must be a folder.');
        if (!atLeast(target.role, 'writer')) throw insufficientFilePermissions();
        if (target.file.driveId !== file.driveId)
          throw new GoogleError(
            403,
            'teamDrivesParentLimit',
            'Moving items between a My Drive and a shared drive is not supported by the emulator.',
          );
        state.drive.move(file, target.file.id);
        state.record('file.move', file.id, ctx.now, target.file.id);
        changed.push('parents');
      }
    }
    if (changed.length) {
      file.modifiedTime = new Date(ctx.now).toISOString();
      ctx.customer.fileChanged(file, before);
    }
    return json(wire(ctx, file));
  };

  return [
    {
      method: 'GET',
      pattern: new RegExp(`^${BASE}/about$`),
      api: 'drive',
      name: 'drive.about.get',
      scopes: READ,
      handle: (ctx) => {
        // "The fields parameter is required for this method" (https://developers.google.com/drive/api/reference/rest/v3/about/get).
        if (!ctx.query.get('fields')) throw required('fields', "The 'fields' parameter is required for this method.");
        const user = ctx.user;
        const usage = user
          ? ctx.customer.state.drive
              .seenByUser(user.id)
              .reduce(
                (n, id) =>
                  n +
                  (ctx.customer.state.drive.files.get(id)?.ownerId === user.id
                    ? ctx.customer.state.drive.size(ctx.customer.state.drive.files.get(id)!)
                    : 0),
                0,
              )
          : 0;
        return json({
          kind: 'drive#about',
          user: {
            kind: 'drive#user',
            displayName: user ? `${user.givenName} ${user.familyName}` : ctx.token.clientEmail,
            emailAddress: user?.primaryEmail ?? ctx.token.clientEmail,
            permissionId: user?.permissionId ?? ctx.token.clientId,
            me: true,
          },
          storageQuota: { limit: String(30 * 1024 ** 3), usage: String(usage), usageInDrive: String(usage), usageInDriveTrash: '0' },
        });
      },
    },
    {
      method: 'GET',
      pattern: new RegExp(`^${BASE}/files$`),
      api: 'drive',
      name: 'drive.files.list',
      scopes: READ,
      defaultFields: `kind,nextPageToken,incompleteSearch,files(${FILE_DEFAULTS})`,
      handle: (ctx) => {
        const { query } = ctx;
        const state = ctx.customer.state;
        const size = intParam(query, 'pageSize', 100, 1, 1000);
        const corpora = query.get('corpora') ?? 'user';
        const allDrives = boolParam(query, 'includeItemsFromAllDrives') || boolParam(query, 'includeTeamDriveItems');
        const supports = boolParam(query, 'supportsAllDrives') || boolParam(query, 'supportsTeamDrives');
        const driveId = query.get('driveId');
        if (!['user', 'drive', 'domain', 'allDrives'].includes(corpora)) throw invalidValue('corpora');
        if ((corpora === 'drive') !== (driveId !== null))
          throw invalidValue(
            driveId === null ? 'driveId' : 'corpora',
            'The driveId parameter must be specified if and only if corpora is set to drive.',
          );
        if ((corpora === 'drive' || corpora === 'allDrives') && !(allDrives && supports))
          throw invalidValue(
            'includeItemsFromAllDrives',
            'The includeItemsFromAllDrives and supportsAllDrives parameters must be set to true when corpora is drive or allDrives.',
          );
        const q = parseFileQuery(query.get('q'), state, ctx.user);
        const user = ctx.user;
        let candidates: string[];
        if (q.parentId !== null) candidates = state.drive.childrenOf(q.parentId);
        else if (corpora === 'drive') candidates = isDriveMember(state, driveId!, user) ? state.drive.inDrive(driveId!) : [];
        else if (corpora === 'domain')
          candidates = [...state.drive.files.values()]
            .filter((f) => f.permissions.some((p) => p.type === 'domain' && p.allowFileDiscovery))
            .map((f) => f.id);
        else {
          candidates = user ? state.drive.seenByUser(user.id) : [];
          if (allDrives && supports)
            for (const d of state.drive.drives.values())
              if (isDriveMember(state, d.id, user)) candidates = candidates.concat(state.drive.inDrive(d.id));
        }
        const files = candidates
          .map((id) => state.drive.files.get(id)!)
          .filter(
            (f) => f && !f.deleted && !f.root && (!f.driveId || (allDrives && supports)) && q.test(f) && roleOn(state, f, user) !== null,
          );
        sortFiles(files, query.get('orderBy'));
        const list = `files:${user?.id}:${corpora}:${driveId ?? ''}:${query.get('q') ?? ''}:${query.get('orderBy') ?? ''}:${allDrives}`;
        const { page, nextPageToken } = offsetPage(pages, list, files, query, size);
        return json({
          kind: 'drive#fileList',
          ...(nextPageToken ? { nextPageToken } : {}),
          incompleteSearch: false,
          files: page.map((f) => wire(ctx, f)),
        });
      },
    },
    {
      method: 'GET',
      pattern: new RegExp(`^${BASE}/files/([^/]+)$`),
      api: 'drive',
      name: 'drive.files.get',
      scopes: READ,
      defaultFields: FILE_DEFAULTS,
      handle: (ctx) => {
        const { file } = openFile(ctx, ctx.params[0]!);
        if (ctx.query.get('alt') !== 'media') return json(wire(ctx, file));
        if (!CONTENT.some((s) => ctx.token.scopes.includes(s)))
          throw insufficientScopes('drive.googleapis.com', 'drive.files.get', CONTENT);
        // "Only files with binary content can be downloaded. Use Export with Docs Editors files." (handle-errors: fileNotDownloadable).
        if (isGoogleDoc(file.mimeType) || file.mimeType === MIME.folder)
          throw new GoogleError(
            403,
            'fileNotDownloadable',
            'Only files with binary content can be downloaded. Use Export with Docs Editors files.',
            {
              location: 'alt',
              locationType: 'parameter',
            },
          );
        return { status: 200, bytes: file.content, contentType: file.mimeType };
      },
    },
    {
      method: 'GET',
      pattern: new RegExp(`^${BASE}/files/([^/]+)/export$`),
      api: 'drive',
      name: 'drive.files.export',
      scopes: CONTENT,
      handle: (ctx) => {
        const { file } = openFile(ctx, ctx.params[0]!);
        const mimeType = ctx.query.get('mimeType');
        if (!mimeType) throw required('mimeType', 'Required parameter: mimeType');
        if (!isGoogleDoc(file.mimeType))
          throw new GoogleError(403, 'fileNotExportable', 'Export only supports Docs Editors files.', {
            location: 'fileId',
            locationType: 'parameter',
          });
        if (!(EXPORT_FORMATS[file.mimeType] ?? []).includes(mimeType))
          throw new GoogleError(400, 'badRequest', 'The requested conversion is not supported.', {
            location: 'mimeType',
            locationType: 'parameter',
          });
        if (ctx.customer.state.drive.size(file) > EXPORT_LIMIT)
          throw new GoogleError(403, 'exportSizeLimitExceeded', 'This file is too large to be exported.');
        return { status: 200, bytes: file.content, contentType: `${mimeType}; charset=utf-8` };
      },
    },
    {
      method: 'PATCH',
      pattern: new RegExp(`^${BASE}/files/([^/]+)$`),
      api: 'drive',
      name: 'drive.files.update',
      scopes: METADATA_WRITE,
      defaultFields: FILE_DEFAULTS,
      handle: update,
    },
    ...upload(FILE_DEFAULTS, wire),
    {
      method: 'GET',
      pattern: new RegExp(`^${BASE}/files/([^/]+)/permissions$`),
      api: 'drive',
      name: 'drive.permissions.list',
      scopes: READ,
      handle: (ctx) => {
        const { file } = openFile(ctx, ctx.params[0]!);
        const state = ctx.customer.state;
        const drive = file.driveId ? state.drive.drives.get(file.driveId) : undefined;
        const all = drive ? [...memberPermissions(state, drive), ...file.permissions] : file.permissions;
        // "When not set for files that are not in a shared drive, the entire list will be returned"; 100 at most for shared drive items.
        const size = intParam(ctx.query, 'pageSize', drive ? 100 : Math.max(all.length, 1), 1, drive ? 100 : Math.max(100, all.length));
        const { page, nextPageToken } = offsetPage(pages, `permissions:${file.id}`, all, ctx.query, size);
        return json({ kind: 'drive#permissionList', ...(nextPageToken ? { nextPageToken } : {}), permissions: page.map(wirePermission) });
      },
    },
    {
      method: 'DELETE',
      pattern: new RegExp(`^${BASE}/files/([^/]+)/permissions/([^/]+)$`),
      api: 'drive',
      name: 'drive.permissions.delete',
      scopes: WRITE,
      handle: (ctx) => {
        const { file, role } = openFile(ctx, ctx.params[0]!);
        const state = ctx.customer.state;
        const permissionId = decodeURIComponent(ctx.params[1]!);
        const index = file.permissions.findIndex((p) => p.id === permissionId);
        const inherited =
          file.driveId && memberPermissions(state, state.drive.drives.get(file.driveId)!).some((p) => p.id === permissionId);
        if (index < 0 && inherited)
          throw new GoogleError(
            403,
            'cannotModifyInheritedTeamDrivePermission',
            'Cannot modify a permission inherited from the shared drive on a single item.',
          );
        if (index < 0)
          throw new GoogleError(404, 'notFound', `Permission not found: ${permissionId}.`, {
            location: 'permissionId',
            locationType: 'parameter',
          });
        if (!atLeast(role, file.driveId ? 'fileOrganizer' : 'writer')) throw insufficientFilePermissions();
        if (file.permissions[index]!.role === 'owner')
          throw new GoogleError(403, 'cannotRemoveOwner', 'The owner of a file cannot be removed.');
        const before = state.drive.audience(file);
        file.permissions.splice(index, 1);
        state.record('permission.delete', file.id, ctx.now, permissionId);
        ctx.customer.fileChanged(file, before);
        return noContent();
      },
    },
    {
      method: 'GET',
      pattern: new RegExp(`^${BASE}/drives$`),
      api: 'drive',
      name: 'drive.drives.list',
      scopes: READ,
      handle: (ctx) => {
        const state = ctx.customer.state;
        const asAdmin = boolParam(ctx.query, 'useDomainAdminAccess');
        if (asAdmin && !ctx.user?.isAdmin)
          throw new GoogleError(
            403,
            'insufficientAdministratorPrivileges',
            'The user does not have sufficient administrator privileges for this operation.',
          );
        const drives = [...state.drive.drives.values()].filter((d) => !d.deleted && (asAdmin || isDriveMember(state, d.id, ctx.user)));
        const size = intParam(ctx.query, 'pageSize', 10, 1, 100);
        const { page, nextPageToken } = offsetPage(pages, `drives:${asAdmin ? '*' : ctx.user?.id}`, drives, ctx.query, size);
        return json({ kind: 'drive#driveList', ...(nextPageToken ? { nextPageToken } : {}), drives: page.map(wireDrive) });
      },
    },
    {
      method: 'GET',
      pattern: new RegExp(`^${BASE}/drives/([^/]+)$`),
      api: 'drive',
      name: 'drive.drives.get',
      scopes: READ,
      handle: (ctx) => {
        const state = ctx.customer.state;
        const drive = state.drive.drives.get(decodeURIComponent(ctx.params[0]!));
        const asAdmin = boolParam(ctx.query, 'useDomainAdminAccess') && ctx.user?.isAdmin;
        if (!drive || drive.deleted || !(asAdmin || isDriveMember(state, drive.id, ctx.user)))
          throw new GoogleError(404, 'notFound', `Shared drive not found: ${ctx.params[0]}`, {
            location: 'driveId',
            locationType: 'parameter',
          });
        return json(wireDrive(drive));
      },
    },
    ...changeRoutes(options),
  ];
}

/** `orderBy`: `name`, `modifiedTime`, `createdTime` or `folder`, each optionally `desc`, comma-separated; by id otherwise (a stable order for paging). */
function sortFiles(files: EmuFile[], orderBy: string | null): void {
  const keys = (orderBy ?? '')
    .split(',')
    .map((k) => k.trim())
    .filter(Boolean)
    .map((k) => {
      const [field, dir] = k.split(/\s+/);
      if (!['name', 'modifiedTime', 'createdTime', 'folder'].includes(field!) || (dir && dir !== 'desc')) throw invalidValue('orderBy');
      return { field: field as 'name' | 'modifiedTime' | 'createdTime' | 'folder', sign: dir ? -1 : 1 };
    });
  files.sort((a, b) => {
    for (const { field, sign } of keys) {
      const va = field === 'folder' ? String(a.mimeType !== MIME.folder) : a[field];
      const vb = field === 'folder' ? String(b.mimeType !== MIME.folder) : b[field];
      if (va !== vb) return sign * (va < vb ? -1 : 1);
    }
    return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
  });
}
