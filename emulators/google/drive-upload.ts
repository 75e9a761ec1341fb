import { atLeast, openFile } from './drive-access.js';
import { MIME, type EmuFile } from './drive-store.js';
import { badRequest, insufficientFilePermissions, invalidValue } from './errors.js';
import { json, readJson, type Ctx, type Reply, type Route } from './routes.js';
import { SCOPES } from './spec.js';
import type { drive_v3 } from '@googleapis/drive';

/** A request's metadata and media: a JSON body, `uploadType=media` (the body is the content) or `multipart` (multipart/related: JSON, then media). */
async function readUpload(
  ctx: Ctx,
  withMedia: boolean,
): Promise<{ metadata: Record<string, unknown>; media: Buffer | null; mediaType: string | null }> {
  if (!withMedia) return { metadata: await readJson(ctx), media: null, mediaType: null };
  const uploadType = ctx.query.get('uploadType');
  const contentType = ctx.req.headers['content-type'] ?? '';
  if (uploadType === 'media') return { metadata: {}, media: await ctx.body(), mediaType: contentType.split(';')[0]!.trim() || null };
  if (uploadType !== 'multipart') throw invalidValue('uploadType');
  const boundary = /boundary="?([^";]+)"?/i.exec(contentType)?.[1];
  if (!boundary) throw badRequest('Malformed multipart body.');
  const parts = splitMultipart(await ctx.body(), boundary);
  if (parts.length !== 2) throw badRequest('Malformed multipart body.');
  let metadata: Record<string, unknown>;
  try {
    metadata = JSON.parse(parts[0]!.body.toString('utf8') || '{}') as Record<string, unknown>;
  } catch {
    throw badRequest('Invalid JSON payload received.');
  }
  return { metadata, media: parts[1]!.body, mediaType: parts[1]!.headers['content-type'] ?? null };
}

/** The parts of a multipart/related body (RFC 2387), binary-safe. */
function splitMultipart(body: Buffer, boundary: string): { headers: Record<string, string>; body: Buffer }[] {
  const delimiter = Buffer.from(`--${boundary}`);
  const parts: { headers: Record<string, string>; body: Buffer }[] = [];
  let at = body.indexOf(delimiter);
  while (at >= 0) {
    const start = at + delimiter.length;
    if (body.subarray(start, start + 2).toString() === '--') break;
    const next = body.indexOf(delimiter, start);
    if (next < 0) break;
    const part = body.subarray(start, next);
    const split = part.indexOf('\r\n\r\n');
    if (split < 0) throw badRequest('Malformed multipart body.');
    const headers = Object.fromEntries(
      part
        .subarray(0, split)
        .toString('utf8')
        .split('\r\n')
        .filter((l) => l.includes(':'))
        .map((l) => [l.slice(0, l.indexOf(':')).trim().toLowerCase(), l.slice(l.indexOf(':') + 1).trim()]),
    );
    // The part's body ends before the CRLF that precedes the next delimiter.
    const content = part.subarray(split + 4);
    parts.push({ headers, body: content.subarray(0, content.length - (content.subarray(-2).toString() === '\r\n' ? 2 : 0)) });
    at = next;
  }
  return parts;
}

/**
 * files.create (metadata only: a folder or an empty file) and uploads
 * (https://developers.google.com/drive/api/guides/manage-uploads): `POST /upload/drive/v3/files` and
 * `PATCH /upload/drive/v3/files/{id}` with `uploadType=media` or `multipart`; resumable uploads are not emulated.
 */
export function upload(defaults: string, wire: (ctx: Ctx, file: EmuFile) => drive_v3.Schema$File): Route[] {
  const create = async (ctx: Ctx, withMedia: boolean): Promise<Reply> => {
    const { metadata, media, mediaType } = await readUpload(ctx, withMedia);
    const state = ctx.customer.state;
    const parents = metadata.parents ?? ['root'];
    if (!Array.isArray(parents) || parents.length !== 1 || typeof parents[0] !== 'string') throw invalidValue('parents');
    const parent = openFile(ctx, parents[0], 'parents');
    if (parent.file.mimeType !== MIME.folder) throw badRequest('The parent must be a folder.');
    if (!atLeast(parent.role, 'writer')) throw insufficientFilePermissions();
    const mimeType = typeof metadata.mimeType === 'string' ? metadata.mimeType : (mediaType ?? 'application/octet-stream');
    const now = new Date(ctx.now).toISOString();
    const user = ctx.user;
    const file = state.drive.add({
      id: state.rng.fileId(),
      name: typeof metadata.name === 'string' ? metadata.name : 'Untitled',
      mimeType,
      ownerId: parent.file.driveId ? null : (user?.id ?? null),
      driveId: parent.file.driveId,
      parentId: parent.file.id,
      trashed: false,
      description: typeof metadata.description === 'string' ? metadata.description : null,
      content: media ?? Buffer.alloc(0),
      createdTime: now,
      modifiedTime: now,
      version: 1,
      deleted: false,
      planted: [],
      permissions:
        !parent.file.driveId && user
          ? [
              {
                id: user.permissionId,
                type: 'user',
                role: 'owner',
                emailAddress: user.primaryEmail,
                displayName: `${user.givenName} ${user.familyName}`,
                principalId: user.id,
              },
            ]
          : [],
    });
    ctx.customer.fileChanged(file, []);
    return json(wire(ctx, file));
  };

  return [
    {
      method: 'POST',
      pattern: /^\/drive\/v3\/files$/,
      api: 'drive',
      name: 'drive.files.create',
      scopes: [SCOPES.drive],
      defaultFields: defaults,
      handle: (ctx) => create(ctx, false),
    },
    {
      method: 'POST',
      pattern: /^\/upload\/drive\/v3\/files$/,
      api: 'drive',
      name: 'drive.files.create',
      scopes: [SCOPES.drive],
      defaultFields: defaults,
      handle: (ctx) => create(ctx, true),
    },
    {
      method: 'PATCH',
      pattern: /^\/upload\/drive\/v3\/files\/([^/]+)$/,
      api: 'drive',
      name: 'drive.files.update',
      scopes: [SCOPES.drive],
      defaultFields: defaults,
      handle: async (ctx) => {
        const { file, role } = openFile(ctx, ctx.params[0]!);
        if (!atLeast(role, 'writer')) throw insufficientFilePermissions();
        if (file.mimeType === MIME.folder) throw badRequest('A folder has no content.');
        const { metadata, media } = await readUpload(ctx, true);
        const state = ctx.customer.state;
        const before = state.drive.audience(file);
        if (typeof metadata.name === 'string') file.name = metadata.name;
        if (typeof metadata.description === 'string') file.description = metadata.description;
        if (media) {
          file.content = media;
          delete file.declaredSize;
          file.version++;
          state.record('file.content', file.id, ctx.now);
        }
        file.modifiedTime = new Date(ctx.now).toISOString();
        ctx.customer.fileChanged(file, before);
        return json(wire(ctx, file));
      },
    },
  ];
}
