import { inScope, isDriveMember, removedFor, type ChangeScope } from './drive-access.js';
import { GoogleError, invalidValue, required } from './errors.js';
import { boolParam, intParam, json, noContent, readJson, type Ctx, type Route } from './routes.js';
import { SCOPES } from './spec.js';
import { wireFile } from './wire.js';

const READ = [SCOPES.drive, SCOPES.driveReadonly, SCOPES.driveMetadata, SCOPES.driveMetadataReadonly];
/** A channel lives an hour when the request names no expiration (https://developers.google.com/drive/api/guides/push). */
const DEFAULT_CHANNEL_SECONDS = 3600;

/** The change list a request names: the user's (My Drive, and their shared drives with includeItemsFromAllDrives) or one shared drive's. */
function scopeOf(ctx: Ctx): ChangeScope {
  const driveId = ctx.query.get('driveId');
  const supports = boolParam(ctx.query, 'supportsAllDrives') || boolParam(ctx.query, 'supportsTeamDrives');
  const all = boolParam(ctx.query, 'includeItemsFromAllDrives') || boolParam(ctx.query, 'includeTeamDriveItems');
  if (driveId !== null) {
    if (!supports) throw invalidValue('supportsAllDrives', 'The supportsAllDrives parameter must be set to true when driveId is set.');
    if (!isDriveMember(ctx.customer.state, driveId, ctx.user))
      throw new GoogleError(404, 'notFound', `Shared drive not found: ${driveId}`, { location: 'driveId', locationType: 'parameter' });
  }
  return { userId: ctx.user?.id ?? null, driveId, includeItemsFromAllDrives: all && supports };
}

/** A page token of the change log: the sequence number of the first change to answer, as a decimal string. */
function pageToken(ctx: Ctx): number {
  const raw = ctx.query.get('pageToken');
  if (raw === null || raw === '') throw required('pageToken', 'Required parameter: pageToken');
  const seq = /^\d{1,15}$/.test(raw) ? Number(raw) : Number.NaN;
  if (!Number.isInteger(seq) || seq < 1 || seq > ctx.customer.state.drive.nextSeq) throw invalidValue('pageToken');
  return seq;
}

/**
 * Changes and push notifications (https://developers.google.com/drive/api/guides/manage-changes,
 * https://developers.google.com/drive/api/guides/push): getStartPageToken, changes.list (pages by
 * `nextPageToken`, the last page carries `newStartPageToken`; a token the emulator did not make is a
 * 400 at `pageToken`), changes.watch (a `web_hook` channel with a `sync` message, then `change`
 * messages), channels.stop.
 */
export function changeRoutes(options: { allowHttpWebhooks: boolean }): Route[] {
  return [
    {
      method: 'GET',
      pattern: /^\/drive\/v3\/changes\/startPageToken$/,
      api: 'drive',
      name: 'drive.changes.getStartPageToken',
      scopes: READ,
      handle: (ctx) => {
        scopeOf(ctx);
        return json({ kind: 'drive#startPageToken', startPageToken: String(ctx.customer.state.drive.nextSeq) });
      },
    },
    {
      method: 'GET',
      pattern: /^\/drive\/v3\/changes$/,
      api: 'drive',
      name: 'drive.changes.list',
      scopes: READ,
      defaultFields:
        'kind,nextPageToken,newStartPageToken,changes(kind,changeType,time,removed,fileId,driveId,file(kind,id,name,mimeType))',
      handle: (ctx) => {
        const scope = scopeOf(ctx);
        const from = pageToken(ctx);
        const size = intParam(ctx.query, 'pageSize', 100, 1, 1000);
        const includeRemoved = ctx.query.get('includeRemoved') !== 'false';
        const state = ctx.customer.state;
        const log = state.drive.changes;
        const changes: unknown[] = [];
        let seq = from;
        for (; seq <= log.length && changes.length < size; seq++) {
          const change = log[seq - 1]!;
          if (!inScope(state, scope, change)) continue;
          const file = state.drive.files.get(change.fileId);
          const removed = removedFor(state, scope, file);
          if (removed && !includeRemoved) continue;
          changes.push({
            kind: 'drive#change',
            changeType: 'file',
            time: change.time,
            removed,
            fileId: change.fileId,
            ...(change.driveId ? { driveId: change.driveId } : {}),
            ...(!removed && file ? { file: wireFile(state, state.drive, file, ctx.user, ctx.baseUrl) } : {}),
          });
        }
        const done = seq > log.length;
        return json({
          kind: 'drive#changeList',
          ...(done ? { newStartPageToken: String(state.drive.nextSeq) } : { nextPageToken: String(seq) }),
          changes,
        });
      },
    },
    {
      method: 'POST',
      pattern: /^\/drive\/v3\/changes\/watch$/,
      api: 'drive',
      name: 'drive.changes.watch',
      scopes: READ,
      handle: async (ctx) => {
        const scope = scopeOf(ctx);
        const from = pageToken(ctx);
        const body = await readJson(ctx);
        const { id, type, address, token, expiration } = body;
        if (typeof id !== 'string' || !id) throw required('id', 'Required: id');
        if (type !== 'web_hook' && type !== 'webhook') throw invalidValue('type', `Invalid value for type: ${String(type)}`);
        if (typeof address !== 'string' || !URL.canParse(address))
          throw invalidValue('address', `Invalid value for address: ${String(address)}`);
        const protocol = new URL(address).protocol;
        if (protocol !== 'https:' && !(protocol === 'http:' && options.allowHttpWebhooks))
          throw new GoogleError(400, 'push.webhookUrlNotHttps', `WebHook callback must be HTTPS: ${address}`);
        const registry = ctx.customer.channelRegistry;
        if (registry.has(id)) throw new GoogleError(400, 'channelIdNotUnique', `Channel id ${id} not unique`);
        if (token !== undefined && typeof token !== 'string') throw invalidValue('token');
        const requested = expiration === undefined ? null : Number(expiration);
        if (requested !== null && (!Number.isFinite(requested) || requested <= ctx.now)) throw invalidValue('expiration');
        // Longer than the changes resource allows is cut to the maximum.
        const max = ctx.now + ctx.customer.spec.maxChangesChannelSeconds * 1000;
        const expires = Math.min(requested ?? ctx.now + DEFAULT_CHANNEL_SECONDS * 1000, max);
        const params = new URLSearchParams({ alt: 'json', pageToken: String(from) });
        for (const name of ['driveId', 'includeItemsFromAllDrives', 'supportsAllDrives'])
          if (ctx.query.get(name) !== null) params.set(name, ctx.query.get(name)!);
        const channel = registry.open({
          id,
          resourceUri: `${ctx.baseUrl}/drive/v3/changes?${params}`,
          address,
          token: typeof token === 'string' ? token : null,
          expiration: expires,
          userId: scope.userId,
          driveId: scope.driveId,
          includeItemsFromAllDrives: scope.includeItemsFromAllDrives,
          clientId: ctx.token.clientId,
        });
        return json({
          kind: 'api#channel',
          id: channel.id,
          resourceId: channel.resourceId,
          resourceUri: channel.resourceUri,
          ...(channel.token !== null ? { token: channel.token } : {}),
          expiration: String(channel.expiration),
        });
      },
    },
    {
      method: 'POST',
      pattern: /^\/drive\/v3\/channels\/stop$/,
      api: 'drive',
      name: 'drive.channels.stop',
      scopes: READ,
      handle: async (ctx) => {
        const { id, resourceId } = await readJson(ctx);
        if (typeof id !== 'string' || typeof resourceId !== 'string') throw required(typeof id !== 'string' ? 'id' : 'resourceId');
        if (!ctx.customer.channelRegistry.stop(id, resourceId))
          throw new GoogleError(
            404,
            'notFound',
            `Channel '${id}' not found for project '${ctx.token.clientEmail.split('@')[1]?.split('.')[0] ?? ''}'`,
          );
        return noContent();
      },
    },
  ];
}
