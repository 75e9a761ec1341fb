import { badRequest, GoogleError, invalidValue, notAuthorized, resourceNotFound } from './errors.js';
import { json, noContent, offsetPage, intParam, readJson, type Ctx, type PageTokens, type Route } from './routes.js';
import { SCOPES } from './spec.js';
import type { EmuUser } from './tenant.js';
import { wireGroup, wireMember, wireRole, wireRoleAssignment, wireToken, wireUser } from './wire.js';

const BASE = '/admin/directory/v1';
const READ_USERS = [SCOPES.user, SCOPES.userReadonly];
const SECURITY = [SCOPES.userSecurity];
const READ_GROUPS = [SCOPES.group, SCOPES.groupReadonly];
const READ_MEMBERS = [SCOPES.group, SCOPES.groupReadonly, SCOPES.groupMember, SCOPES.groupMemberReadonly];
const READ_ROLES = [SCOPES.roles, SCOPES.rolesReadonly];

/** The `customer` parameter: `my_customer` or the caller's own customer id; another customer is not the caller's to read. */
function checkCustomer(ctx: Ctx, value: string | null | undefined): void {
  if (value === 'my_customer' || value === ctx.customer.customerId) return;
  throw notAuthorized();
}

function userOr404(ctx: Ctx, key: string): EmuUser {
  const user = ctx.customer.state.user(decodeURIComponent(key));
  if (!user) throw resourceNotFound('userKey');
  return user;
}

/** Omits an empty list, as the Admin SDK's answers do. */
const items = <T>(name: string, list: readonly T[]) => (list.length ? { [name]: list } : {});

/**
 * The users.list `query` terms the emulator understands (https://developers.google.com/admin-sdk/directory/v1/guides/search-users):
 * `isSuspended=`, `isAdmin=`, `isDelegatedAdmin=`, `isArchived=` and `email:` (a prefix with `*`), joined by spaces.
 */
function userQuery(query: string | null): (u: EmuUser) => boolean {
  if (!query) return () => true;
  const tests = query
    .trim()
    .split(/\s+/)
    .map((term): ((u: EmuUser) => boolean) => {
      const flag = /^(isSuspended|isAdmin|isDelegatedAdmin|isArchived)=(true|false)$/.exec(term);
      if (flag) {
        const field = (
          { isSuspended: 'suspended', isAdmin: 'isAdmin', isDelegatedAdmin: 'isDelegatedAdmin', isArchived: 'archived' } as const
        )[flag[1] as 'isSuspended'];
        return (u) => u[field] === (flag[2] === 'true');
      }
      const email = /^email:'?([^'*]+)(\*?)'?$/.exec(term);
      if (email) return (u) => (email[2] ? u.primaryEmail.startsWith(email[1]!.toLowerCase()) : u.primaryEmail === email[1]!.toLowerCase());
      throw invalidValue('query', 'Invalid Input');
    });
  return (u) => tests.every((t) => t(u));
}

/** Admin SDK Directory API routes (https://developers.google.com/admin-sdk/directory/reference/rest). */
export function directoryRoutes(pages: PageTokens): Route[] {
  // users.update and users.patch both keep the fields a body leaves out ("This method supports patch semantics").
  const setUser = async (ctx: Ctx) => {
    const user = userOr404(ctx, ctx.params[0]!);
    const body = await readJson(ctx);
    const state = ctx.customer.state;
    for (const field of ['suspended', 'changePasswordAtNextLogin'] as const) {
      if (!(field in body)) continue;
      if (typeof body[field] !== 'boolean') throw new GoogleError(400, 'invalid', `Invalid Input: ${field}`);
    }
    if (typeof body.suspended === 'boolean') {
      user.suspended = body.suspended;
      state.record(body.suspended ? 'user.suspend' : 'user.unsuspend', user.id, ctx.now);
    }
    if (typeof body.changePasswordAtNextLogin === 'boolean') {
      user.changePasswordAtNextLogin = body.changePasswordAtNextLogin;
      if (body.changePasswordAtNextLogin) state.record('user.changePasswordAtNextLogin', user.id, ctx.now);
    }
    return json(wireUser(user, ctx.customer.customerId));
  };

  return [
    {
      method: 'GET',
      pattern: new RegExp(`^${BASE}/users$`),
      api: 'directory',
      name: 'directory.users.list',
      scopes: READ_USERS,
      privilege: 'USERS_RETRIEVE',
      handle: (ctx) => {
        const { query } = ctx;
        const customer = query.get('customer');
        const domain = query.get('domain');
        if (!customer && !domain) throw badRequest();
        if (customer) checkCustomer(ctx, customer);
        if (domain && domain.toLowerCase() !== ctx.customer.domain) throw notAuthorized();
        const size = intParam(query, 'maxResults', 100, 1, 500);
        const matches = userQuery(query.get('query'));
        let users = ctx.customer.state.users.filter((u) => !u.deleted && matches(u));
        const orderBy = query.get('orderBy');
        if (orderBy) {
          const key = ({ email: 'primaryEmail', givenName: 'givenName', familyName: 'familyName' } as const)[orderBy as 'email'];
          if (!key) throw invalidValue('orderBy');
          const sign = query.get('sortOrder') === 'DESCENDING' ? -1 : 1;
          users = [...users].sort((a, b) => sign * a[key].localeCompare(b[key]));
        }
        const list = `users:${customer ?? domain}:${query.get('query') ?? ''}:${orderBy ?? ''}`;
        const { page, nextPageToken } = offsetPage(pages, list, users, query, size);
        return json({
          kind: 'admin#directory#users',
          etag: `"${ctx.customer.customerId}-${users.length}"`,
          ...items(
            'users',
            page.map((u) => wireUser(u, ctx.customer.customerId)),
          ),
          ...(nextPageToken ? { nextPageToken } : {}),
        });
      },
    },
    {
      method: 'GET',
      pattern: new RegExp(`^${BASE}/users/([^/]+)$`),
      api: 'directory',
      name: 'directory.users.get',
      scopes: READ_USERS,
      privilege: 'USERS_RETRIEVE',
      handle: (ctx) => json(wireUser(userOr404(ctx, ctx.params[0]!), ctx.customer.customerId)),
    },
    {
      method: 'PUT',
      pattern: new RegExp(`^${BASE}/users/([^/]+)$`),
      api: 'directory',
      name: 'directory.users.update',
      scopes: [SCOPES.user],
      privilege: 'USERS_UPDATE',
      handle: (ctx) => setUser(ctx),
    },
    {
      method: 'PATCH',
      pattern: new RegExp(`^${BASE}/users/([^/]+)$`),
      api: 'directory',
      name: 'directory.users.patch',
      scopes: [SCOPES.user],
      privilege: 'USERS_UPDATE',
      handle: (ctx) => setUser(ctx),
    },
    {
      // https://developers.google.com/admin-sdk/directory/reference/rest/v1/users/signOut: an empty answer.
      method: 'POST',
      pattern: new RegExp(`^${BASE}/users/([^/]+)/signOut$`),
      api: 'directory',
      name: 'directory.users.signOut',
      scopes: SECURITY,
      privilege: 'USERS_UPDATE',
      handle: (ctx) => {
        const user = userOr404(ctx, ctx.params[0]!);
        user.signOuts++;
        ctx.customer.state.record('user.signOut', user.id, ctx.now);
        return noContent();
      },
    },
    {
      method: 'GET',
      pattern: new RegExp(`^${BASE}/users/([^/]+)/tokens$`),
      api: 'directory',
      name: 'directory.tokens.list',
      scopes: SECURITY,
      privilege: 'USERS_RETRIEVE',
      handle: (ctx) => {
        const user = userOr404(ctx, ctx.params[0]!);
        const tokens = ctx.customer.state.tokensOf(user.id);
        return json({ kind: 'admin#directory#tokenList', etag: `"${user.id}-${tokens.length}"`, ...items('items', tokens.map(wireToken)) });
      },
    },
    {
      method: 'GET',
      pattern: new RegExp(`^${BASE}/users/([^/]+)/tokens/([^/]+)$`),
      api: 'directory',
      name: 'directory.tokens.get',
      scopes: SECURITY,
      privilege: 'USERS_RETRIEVE',
      handle: (ctx) => {
        const user = userOr404(ctx, ctx.params[0]!);
        const clientId = decodeURIComponent(ctx.params[1]!);
        const token = ctx.customer.state.tokensOf(user.id).find((t) => t.clientId === clientId);
        if (!token) throw resourceNotFound('clientId');
        return json(wireToken(token));
      },
    },
    {
      method: 'DELETE',
      pattern: new RegExp(`^${BASE}/users/([^/]+)/tokens/([^/]+)$`),
      api: 'directory',
      name: 'directory.tokens.delete',
      scopes: SECURITY,
      privilege: 'USERS_UPDATE',
      handle: (ctx) => {
        const user = userOr404(ctx, ctx.params[0]!);
        const clientId = decodeURIComponent(ctx.params[1]!);
        const token = ctx.customer.state.tokensOf(user.id).find((t) => t.clientId === clientId);
        if (!token) throw resourceNotFound('clientId');
        token.deleted = true;
        ctx.customer.state.record('token.delete', `${user.id}/${clientId}`, ctx.now);
        return noContent();
      },
    },
    {
      method: 'GET',
      pattern: new RegExp(`^${BASE}/groups$`),
      api: 'directory',
      name: 'directory.groups.list',
      scopes: READ_GROUPS,
      privilege: 'GROUPS_RETRIEVE',
      handle: (ctx) => {
        const { query } = ctx;
        const customer = query.get('customer');
        const domain = query.get('domain');
        const userKey = query.get('userKey');
        if (!customer && !domain && !userKey) throw badRequest();
        if (customer) checkCustomer(ctx, customer);
        if (domain && domain.toLowerCase() !== ctx.customer.domain) throw notAuthorized();
        const member = userKey ? userOr404(ctx, userKey) : null;
        const groups = ctx.customer.state.groups.filter((g) => !g.deleted && (!member || g.members.some((m) => m.userId === member.id)));
        const size = intParam(query, 'maxResults', 200, 1, 200);
        const { page, nextPageToken } = offsetPage(pages, `groups:${customer ?? domain}:${userKey ?? ''}`, groups, query, size);
        return json({
          kind: 'admin#directory#groups',
          etag: `"${groups.length}"`,
          ...items('groups', page.map(wireGroup)),
          ...(nextPageToken ? { nextPageToken } : {}),
        });
      },
    },
    {
      method: 'GET',
      pattern: new RegExp(`^${BASE}/groups/([^/]+)/members$`),
      api: 'directory',
      name: 'directory.members.list',
      scopes: READ_MEMBERS,
      privilege: 'GROUPS_RETRIEVE',
      handle: (ctx) => {
        const group = ctx.customer.state.group(decodeURIComponent(ctx.params[0]!));
        if (!group) throw resourceNotFound('groupKey');
        const roles = ctx.query.get('roles')?.split(',');
        const members = group.members.flatMap((m) => {
          const user = ctx.customer.state.user(m.userId);
          return user && (!roles || roles.includes(m.role)) ? [wireMember(m, user)] : [];
        });
        const size = intParam(ctx.query, 'maxResults', 200, 1, 200);
        const { page, nextPageToken } = offsetPage(pages, `members:${group.id}:${roles ?? ''}`, members, ctx.query, size);
        return json({
          kind: 'admin#directory#members',
          etag: `"${members.length}"`,
          ...items('members', page),
          ...(nextPageToken ? { nextPageToken } : {}),
        });
      },
    },
    {
      method: 'GET',
      pattern: new RegExp(`^${BASE}/customer/([^/]+)/roles$`),
      api: 'directory',
      name: 'directory.roles.list',
      scopes: READ_ROLES,
      privilege: 'ROLE_MANAGEMENT',
      handle: (ctx) => {
        checkCustomer(ctx, ctx.params[0]);
        const size = intParam(ctx.query, 'maxResults', 100, 1, 100);
        const { page, nextPageToken } = offsetPage(pages, 'roles', ctx.customer.state.roles, ctx.query, size);
        return json({
          kind: 'admin#directory#roles',
          etag: '"roles"',
          ...items('items', page.map(wireRole)),
          ...(nextPageToken ? { nextPageToken } : {}),
        });
      },
    },
    {
      method: 'GET',
      pattern: new RegExp(`^${BASE}/customer/([^/]+)/roleassignments$`),
      api: 'directory',
      name: 'directory.roleAssignments.list',
      scopes: READ_ROLES,
      privilege: 'ROLE_MANAGEMENT',
      handle: (ctx) => {
        checkCustomer(ctx, ctx.params[0]);
        const userKey = ctx.query.get('userKey');
        const roleId = ctx.query.get('roleId');
        const user = userKey ? userOr404(ctx, userKey) : null;
        const state = ctx.customer.state;
        const assignments = state.roleAssignments.filter(
          (a) => (!user || a.assignedTo === user.id) && (!roleId || a.roleId === roleId) && !state.usersById.get(a.assignedTo)?.deleted,
        );
        const size = intParam(ctx.query, 'maxResults', 100, 1, 200);
        const { page, nextPageToken } = offsetPage(pages, `roleassignments:${userKey ?? ''}:${roleId ?? ''}`, assignments, ctx.query, size);
        return json({
          kind: 'admin#directory#roleAssignments',
          etag: `"${assignments.length}"`,
          ...items('items', page.map(wireRoleAssignment)),
          ...(nextPageToken ? { nextPageToken } : {}),
        });
      },
    },
  ];
}
