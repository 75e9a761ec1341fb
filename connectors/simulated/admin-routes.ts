import { z } from 'zod';
import { ApiError } from './api-error.js';
import { route, type Reply, type Route } from './router.js';
import { parseSpec } from './spec.js';
import type { Tenant } from './tenant.js';

/**
 * The control API under `/admin` (loopback only, no token): ground truth, stats, run-time changes,
 * activity on demand, deletions, new tenants. Tests and demos drive the simulator through it.
 */

export interface AdminContext {
  tenant(id: string): Tenant;
  tenants(): readonly Tenant[];
  /** Adds a tenant from an unvalidated spec; throws a SpecError. */
  addTenant(spec: unknown): Tenant;
  /** Expires every access token issued to the tenant's OAuth client now; answers how many. */
  expireTokens(id: string): number;
  readonly url: string;
}

type AdminRoute = Route<AdminContext>;

const ActivityBody = z
  .object({
    count: z.int().min(1).max(100_000),
    occurredAgoMs: z
      .int()
      .min(0)
      .max(30 * 86_400_000)
      .optional(),
  })
  .strict();
const GovernanceFaultsBody = z
  .object({
    faults: z
      .array(
        z.union([
          z.object({ status: z.int().min(400).max(599), message: z.string().max(500).optional() }).strict(),
          z.object({ holdMs: z.int().min(1).max(600_000) }).strict(),
        ]),
      )
      .min(1)
      .max(1000),
  })
  .strict();
const TouchBody = z.object({ notify: z.boolean().optional() }).strict();
const LockBody = z.object({ locked: z.boolean() }).strict();
const AuthorizeBody = z.object({ clientId: z.string().min(1).max(500) }).strict();
const DeleteBody = z.object({ kind: z.enum(['user', 'group', 'file', 'grant']), externalId: z.string().min(1) }).strict();

function json(body: unknown, status = 200): Reply {
  return { status, json: body };
}

function summary(tenant: Tenant, url: string) {
  return { id: tenant.id, name: tenant.state.name, token: tenant.token, endpoint: url };
}

export const adminRoutes: readonly AdminRoute[] = [
  route('GET', '/admin/tenants', (_req, ctx) => json({ items: ctx.tenants().map((t) => summary(t, ctx.url)) })),
  route('POST', '/admin/tenants', (req, ctx) => json(summary(ctx.addTenant(req.body), ctx.url), 201)),
  route('GET', '/admin/tenants/:id', (req, ctx) => json(ctx.tenant(req.params.id!).spec())),
  route('PATCH', '/admin/tenants/:id', (req, ctx) => json(ctx.tenant(req.params.id!).update(req.body ?? {}))),
  route('GET', '/admin/tenants/:id/truth', (req, ctx) => json(ctx.tenant(req.params.id!).truth())),
  route('GET', '/admin/tenants/:id/stats', (req, ctx) => json(ctx.tenant(req.params.id!).stats())),
  route('POST', '/admin/tenants/:id/activity', (req, ctx) => {
    const { count, occurredAgoMs } = parseSpec(ActivityBody, req.body, 'body');
    return json({ items: ctx.tenant(req.params.id!).generateActivity(count, occurredAgoMs) });
  }),
  route('POST', '/admin/tenants/:id/grants', (req, ctx) => {
    const { clientId } = parseSpec(AuthorizeBody, req.body, 'body');
    return json(ctx.tenant(req.params.id!).authorizeApp(clientId), 201);
  }),
  route('POST', '/admin/tenants/:id/delete', (req, ctx) => {
    const { kind, externalId } = parseSpec(DeleteBody, req.body, 'body');
    ctx.tenant(req.params.id!).delete(kind, externalId);
    return json({ deleted: true, kind, externalId });
  }),
  route('POST', '/admin/tenants/:id/governance-faults', (req, ctx) => {
    const { faults } = parseSpec(GovernanceFaultsBody, req.body, 'body');
    return json({ queued: ctx.tenant(req.params.id!).queueGovernanceFaults(faults) });
  }),
  route('POST', '/admin/tenants/:id/oauth/expire', (req, ctx) => json({ expired: ctx.expireTokens(req.params.id!) })),
  route('POST', '/admin/tenants/:id/files/:fileId/touch', (req, ctx) => {
    const { notify } = parseSpec(TouchBody, req.body ?? {}, 'body');
    return json(ctx.tenant(req.params.id!).touchFile(req.params.fileId!, { notify }));
  }),
  route('POST', '/admin/tenants/:id/files/:fileId/lock', (req, ctx) => {
    const { locked } = parseSpec(LockBody, req.body ?? {}, 'body');
    return json(ctx.tenant(req.params.id!).lockFile(req.params.fileId!, locked));
  }),
  route('GET', '/admin/tenants/:id/subscriptions', (req, ctx) => json({ items: ctx.tenant(req.params.id!).subscriptions() })),
  route('POST', '/admin/tenants/:id/subscriptions/:subscriptionId/lifecycle', (req, ctx) =>
    json(ctx.tenant(req.params.id!).changeSubscriptions.lifecycle(req.params.subscriptionId!, req.body)),
  ),
];

/** 404 for a tenant id the simulator does not host. */
export function unknownTenant(id: string): ApiError {
  return new ApiError(404, 'not_found', `tenant ${id} not found`);
}
