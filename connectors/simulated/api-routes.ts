import { ApiError } from './api-error.js';
import * as governance from './governance.js';
import type { ListPage } from './paging.js';
import { pageById } from './paging.js';
import { route, type Reply, type RequestInfo, type Route } from './router.js';
import { wireEvent, wireFile, wireGrant, wireGroup, wireMember, wireUser } from './serialize.js';
import type { Permission } from './spec.js';
import type { Tenant } from './tenant.js';

/** The tenant API under `/api/v1`. Every route names the permission its token needs. */

export interface ApiContext {
  readonly tenant: Tenant;
  readonly now: number;
}

type ApiRoute = Route<ApiContext>;

/** The page size asked for: `limit` (default min(100, maxPageSize)); over maxPageSize is a 400. */
export function pageLimit(query: URLSearchParams, maxPageSize: number): number {
  const raw = query.get('limit');
  if (raw === null || raw === '') return Math.min(100, maxPageSize);
  const limit = Number(raw);
  if (!Number.isInteger(limit) || limit < 1) throw new ApiError(400, 'invalid_request', `limit: must be a positive integer, got "${raw}"`);
  if (limit > maxPageSize) throw new ApiError(400, 'invalid_request', `limit: at most ${maxPageSize} per page, got ${limit}`);
  return limit;
}

function timeParam(query: URLSearchParams, name: string): number {
  const raw = query.get(name);
  const t = raw ? Date.parse(raw) : NaN;
  if (Number.isNaN(t)) throw new ApiError(400, 'invalid_request', `${name}: required, an ISO 8601 time such as 2024-05-01T00:00:00Z`);
  return t;
}

function json(body: unknown): Reply {
  return { status: 200, json: body };
}

function list<T, W>(page: ListPage<T>, map: (item: T) => W): Reply {
  return json({ items: page.items.map(map), nextPageToken: page.nextPageToken });
}

/** A list route paged by id over the tenant's non-deleted `items`. */
function listRoute<T extends { id: string; deleted: boolean }, W>(
  path: string,
  permission: Permission,
  items: (ctx: ApiContext, req: RequestInfo) => readonly T[],
  map: (item: T) => W,
): ApiRoute {
  return route(
    'GET',
    path,
    (req, ctx) => {
      const limit = pageLimit(req.query, ctx.tenant.state.spec.maxPageSize);
      const alive = items(ctx, req).filter((i) => !i.deleted);
      return list(pageById(alive, path, req.query.get('pageToken') ?? undefined, limit), map);
    },
    { permission },
  );
}

/** A governance route: changes the tenant, counted per endpoint, answers the changed record. */
function act(
  method: 'POST' | 'DELETE',
  path: string,
  permission: Permission,
  run: (req: RequestInfo, ctx: ApiContext) => unknown,
): ApiRoute {
  return route(method, path, (req, ctx) => json(run(req, ctx)), { permission, governance: true });
}

const fileAction = (name: string, run: (ctx: ApiContext, id: string, req: RequestInfo) => void): ApiRoute =>
  act('POST', `/api/v1/files/:id/${name}`, 'files.write', (req, ctx) => {
    run(ctx, req.params.id!, req);
    return wireFile(ctx.tenant.state.file(req.params.id!));
  });

const userAction = (name: string, run: (ctx: ApiContext, id: string) => void): ApiRoute =>
  act('POST', `/api/v1/users/:id/${name}`, 'users.write', (req, ctx) => {
    run(ctx, req.params.id!);
    return wireUser(ctx.tenant.state.user(req.params.id!));
  });

export const apiRoutes: readonly ApiRoute[] = [
  route('GET', '/api/v1/me', (_req, { tenant }) =>
    json({ tenantId: tenant.id, name: tenant.state.name, domain: tenant.state.domain, permissions: [...tenant.state.spec.permissions] }),
  ),

  listRoute('/api/v1/users', 'users.read', ({ tenant }) => tenant.state.users, wireUser),
  route('GET', '/api/v1/users/:id', (req, { tenant }) => json(wireUser(tenant.state.user(req.params.id!))), { permission: 'users.read' }),
  userAction('suspend', ({ tenant, now }, id) => governance.suspendUser(tenant.state, id, now)),
  userAction('unsuspend', ({ tenant, now }, id) => governance.unsuspendUser(tenant.state, id, now)),
  userAction('reset-password', ({ tenant, now }, id) => governance.resetPassword(tenant.state, id, now)),

  listRoute('/api/v1/groups', 'groups.read', ({ tenant }) => tenant.state.groups, wireGroup),
  route(
    'GET',
    '/api/v1/groups/:id/members',
    (req, { tenant }) => {
      const limit = pageLimit(req.query, tenant.state.spec.maxPageSize);
      const group = tenant.state.group(req.params.id!);
      const alive = new Set(tenant.state.users.filter((u) => !u.deleted).map((u) => u.id));
      const members = tenant.state.memberships
        .filter((m) => m.groupId === group.id && alive.has(m.userId))
        .map((m) => ({ ...m, id: m.userId }));
      return list(pageById(members, `members:${group.id}`, req.query.get('pageToken') ?? undefined, limit), wireMember);
    },
    { permission: 'groups.read' },
  ),

  listRoute('/api/v1/oauth-grants', 'grants.read', ({ tenant }) => tenant.state.grants, wireGrant),
  route('GET', '/api/v1/oauth-grants/:id', (req, { tenant }) => json(wireGrant(tenant.state.grant(req.params.id!))), {
    permission: 'grants.read',
  }),
  act('DELETE', '/api/v1/oauth-grants/:id', 'grants.write', (req, { tenant, now }) => {
    governance.revokeGrant(tenant.state, req.params.id!, now);
    return wireGrant(tenant.state.grant(req.params.id!));
  }),

  route(
    'GET',
    '/api/v1/audit/events',
    (req, { tenant, now }) => {
      const limit = pageLimit(req.query, tenant.state.spec.maxPageSize);
      const from = timeParam(req.query, 'from');
      const to = timeParam(req.query, 'to');
      if (from > to) throw new ApiError(400, 'invalid_request', 'from: must not be after to');
      return list(tenant.state.events.page(from, to, now, req.query.get('pageToken') ?? undefined, limit), wireEvent);
    },
    { permission: 'audit.read' },
  ),

  listRoute('/api/v1/files', 'files.read', ({ tenant }) => tenant.state.files, wireFile),
  route(
    'GET',
    '/api/v1/files/changes',
    (req, { tenant, now }) => {
      const limit = pageLimit(req.query, tenant.state.spec.maxPageSize);
      const page = tenant.state.changes.read(req.query.get('cursor') ?? undefined, req.query.get('pageToken') ?? undefined, limit, now);
      const items = page.fileIds.map((id) => {
        const file = tenant.state.files.find((f) => f.id === id);
        return file && !file.deleted ? { type: 'file.upsert', fileId: id, file: wireFile(file) } : { type: 'file.deleted', fileId: id };
      });
      return json({ items, nextPageToken: page.nextPageToken, deltaCursor: page.deltaCursor });
    },
    { permission: 'files.read' },
  ),
  route('GET', '/api/v1/files/:id', (req, { tenant }) => json(wireFile(tenant.state.file(req.params.id!))), { permission: 'files.read' }),
  route(
    'GET',
    '/api/v1/files/:id/content',
    (req, { tenant }) => {
      const file = tenant.state.file(req.params.id!);
      if (tenant.isFileLocked(file.id)) throw new ApiError(403, 'access_denied', 'this file is restricted from this app');
      return { status: 200, bytes: Buffer.from(file.content), contentType: file.mimeType };
    },
    { permission: 'files.read' },
  ),
  // Change subscriptions (subscriptions.ts): reading files is what a subscription to any resource needs.
  route(
    'POST',
    '/api/v1/subscriptions',
    async (req, { tenant }) => ({ status: 201, json: await tenant.changeSubscriptions.create(req.body) }),
    {
      permission: 'files.read',
    },
  ),
  route('GET', '/api/v1/subscriptions', (_req, { tenant }) => json({ items: tenant.changeSubscriptions.list(), nextPageToken: null }), {
    permission: 'files.read',
  }),
  route('GET', '/api/v1/subscriptions/:id', (req, { tenant }) => json(tenant.changeSubscriptions.read(req.params.id!)), {
    permission: 'files.read',
  }),
  route('PATCH', '/api/v1/subscriptions/:id', (req, { tenant }) => json(tenant.changeSubscriptions.renew(req.params.id!, req.body)), {
    permission: 'files.read',
  }),
  route(
    'DELETE',
    '/api/v1/subscriptions/:id',
    (req, { tenant }) => {
      tenant.changeSubscriptions.delete(req.params.id!);
      return { status: 204, bytes: Buffer.alloc(0), contentType: 'application/json' };
    },
    { permission: 'files.read' },
  ),
  fileAction('quarantine', ({ tenant, now }, id) => governance.quarantineFile(tenant.state, id, now)),
  fileAction('restore', ({ tenant, now }, id) => governance.restoreFile(tenant.state, id, now)),
  fileAction('trash', ({ tenant, now }, id) => governance.trashFile(tenant.state, id, now)),
  fileAction('remove-external-sharing', ({ tenant, now }, id) => governance.removeExternalSharing(tenant.state, id, now)),
  fileAction('overwrite', ({ tenant, now }, id, req) => {
    const body = req.body as { notice?: unknown } | undefined;
    governance.overwriteFile(tenant.state, id, body?.notice, now);
  }),
];
