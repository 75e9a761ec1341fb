import { ADMIN_PRIVILEGES, APPS, DEPARTMENTS, FAMILY_NAMES, GIVEN_NAMES, GROUP_NAMES, HOME_COUNTRIES } from './catalog.js';
import type { Membership, SimGrant, SimGroup, SimUser } from './model.js';
import { hash32, type Rng } from './prng.js';

/** Users, groups, memberships and OAuth grants, generated from the tenant's seed and sizes. */

const DAY = 86_400_000;

/** A fresh id `prefix_<12 hex>` not in `taken`. */
export function newId(rng: Rng, prefix: string, taken: Set<string>): string {
  for (;;) {
    const id = `${prefix}_${rng.hex(12)}`;
    if (!taken.has(id)) {
      taken.add(id);
      return id;
    }
  }
}

/**
 * `count` users: about 5% admins (at least one, the first a super admin), about 3% suspended and
 * 2% disabled (never the first admin), each with a home country.
 */
export function generateUsers(rng: Rng, count: number, domain: string, now: number, ids: Set<string>): SimUser[] {
  const emails = new Set<string>();
  const adminCount = Math.max(1, Math.round(count * 0.05));
  const users: SimUser[] = [];
  for (let i = 0; i < count; i++) {
    const r = rng.fork(`user:${i}`);
    const givenName = r.pick(GIVEN_NAMES);
    const familyName = r.pick(FAMILY_NAMES);
    const local = `${givenName}.${familyName}`.toLowerCase();
    let email = `${local}@${domain}`;
    for (let n = 2; emails.has(email); n++) email = `${local}${n}@${domain}`;
    emails.add(email);
    const isAdmin = i < adminCount;
    const privileges = !isAdmin ? [] : i === 0 ? ['super_admin'] : r.sample(ADMIN_PRIVILEGES.slice(1), r.int(1, 2));
    const roll = r.float();
    const status = i === 0 ? 'ACTIVE' : roll < 0.03 ? 'SUSPENDED' : roll < 0.05 ? 'DISABLED' : 'ACTIVE';
    users.push({
      id: newId(r, 'usr', ids),
      email,
      givenName,
      familyName,
      displayName: `${givenName} ${familyName}`,
      department: r.pick(DEPARTMENTS),
      status,
      isAdmin,
      privileges,
      homeCountry: r.weighted(HOME_COUNTRIES),
      createdAt: new Date(now - r.int(30, 730) * DAY).toISOString(),
      lastLoginAt: null,
      passwordResetRequired: false,
      sessionsRevokedAt: null,
      deleted: false,
    });
  }
  // At least one suspended user once there are a handful, so the scans always meet one.
  if (count >= 5 && !users.some((u) => u.status === 'SUSPENDED')) users[count - 1]!.status = 'SUSPENDED';
  return users;
}

/** `count` groups; the first holds everyone, the others a random part of the company with one owner. */
export function generateGroups(
  rng: Rng,
  count: number,
  users: readonly SimUser[],
  domain: string,
  ids: Set<string>,
): { groups: SimGroup[]; memberships: Membership[] } {
  const groups: SimGroup[] = [];
  const memberships: Membership[] = [];
  for (let i = 0; i < count; i++) {
    const r = rng.fork(`group:${i}`);
    const base = GROUP_NAMES[i % GROUP_NAMES.length]!;
    const name = i < GROUP_NAMES.length ? base : `${base} ${Math.floor(i / GROUP_NAMES.length) + 1}`;
    const group: SimGroup = {
      id: newId(r, 'grp', ids),
      name,
      email: `${name.toLowerCase().replace(/[^a-z0-9]+/g, '-')}@${domain}`,
      description: `${name} (generated)`,
      deleted: false,
    };
    groups.push(group);
    const members =
      i === 0
        ? [...users]
        : r.sample(users, Math.min(users.length, r.int(2, Math.max(2, Math.ceil((users.length * 2) / Math.max(1, count))))));
    members.forEach((user, n) => memberships.push({ groupId: group.id, userId: user.id, role: n === 0 ? 'OWNER' : 'MEMBER' }));
  }
  return { groups, memberships };
}

/** An app's client id: the same in every tenant, as a real app's would be. */
export function clientIdOf(appName: string): string {
  return `${hash32(appName).toString(16).padStart(8, '0')}-${hash32(`client:${appName}`).toString(16).padStart(8, '0')}.apps.example.com`;
}

/** `count` OAuth grants; popular apps (some of them high-risk) are granted by many users, each user grants an app at most once while it can. */
export function generateGrants(rng: Rng, count: number, users: readonly SimUser[], now: number, ids: Set<string>): SimGrant[] {
  const grants: SimGrant[] = [];
  const pairs = new Set<string>();
  const weights = APPS.map((app) => [app, app.weight] as const);
  for (let i = 0; i < count; i++) {
    const r = rng.fork(`grant:${i}`);
    let app = r.weighted(weights);
    let user = r.pick(users);
    for (let tries = 0; pairs.has(`${app.name}|${user.id}`) && tries < 20; tries++) {
      app = r.weighted(weights);
      user = r.pick(users);
    }
    pairs.add(`${app.name}|${user.id}`);
    const grantedAt = now - r.int(1, 365) * DAY - r.int(0, DAY);
    grants.push({
      id: newId(r, 'gnt', ids),
      clientId: clientIdOf(app.name),
      appName: app.name,
      publisher: app.publisher,
      scopes: [...app.scopes],
      risk: app.risk,
      userId: user.id,
      grantedAt: new Date(grantedAt).toISOString(),
      lastUsedAt: r.chance(0.2) ? null : new Date(r.int(grantedAt, now - 60_000)).toISOString(),
      revoked: false,
      revokedAt: null,
      deleted: false,
    });
  }
  return grants;
}
