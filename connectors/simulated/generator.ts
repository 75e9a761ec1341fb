import { generateGrants, generateGroups, generateUsers } from './directory.js';
import { generateBackfill } from './event-generator.js';
import { generateFiles } from './file-generator.js';
import type { Membership, SimEvent, SimFile, SimGrant, SimGroup, SimUser } from './model.js';
import { Rng } from './prng.js';
import type { ResolvedTenantSpec } from './spec.js';

const DAY = 86_400_000;

/** A tenant's initial state. */
export interface GeneratedTenant {
  readonly users: SimUser[];
  readonly groups: SimGroup[];
  readonly memberships: Membership[];
  readonly files: SimFile[];
  readonly grants: SimGrant[];
  /** The backfilled history, oldest first. */
  readonly events: SimEvent[];
  /** Every id handed out, so later ids never collide. */
  readonly ids: Set<string>;
  /** Every file path taken. */
  readonly paths: Set<string>;
}

/** The domain of a spec (default `<id>.example.com`). */
export function domainOf(spec: Pick<ResolvedTenantSpec, 'id' | 'domain'>): string {
  return spec.domain ?? `${spec.id}.example.com`;
}

/**
 * Generates everything from the spec's seed and sizes, with times relative to `now`: the same
 * spec and `now` give the same tenant, byte for byte.
 */
export function generateTenant(spec: ResolvedTenantSpec, now: number): GeneratedTenant {
  const root = new Rng(spec.seed);
  const domain = domainOf(spec);
  const ids = new Set<string>();
  const paths = new Set<string>();
  const users = generateUsers(root.fork('users'), spec.users, domain, now - spec.backfillDays * DAY, ids);
  const { groups, memberships } = generateGroups(root.fork('groups'), spec.groups, users, domain, ids);
  const files = generateFiles(root.fork('files'), spec.files, { users, domain, now: now - spec.backfillDays * DAY, ids, paths });
  const grants = generateGrants(root.fork('grants'), spec.grants, users, now, ids);
  const events = generateBackfill(root.fork('events'), {
    users,
    files,
    start: now,
    days: spec.backfillDays,
    perUserPerDay: spec.backfillEventsPerUserPerDay,
    auditLagMs: spec.auditLagMs,
    ids,
  });
  return { users, groups, memberships, files, grants, events, ids, paths };
}
