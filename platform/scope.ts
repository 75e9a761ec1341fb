import type { Knex } from '@mikro-orm/postgresql';
import type { AuthContext, Principal } from './auth.js';
import { appError, ErrorCode } from './errors.js';

/**
 * Which app instances a caller may see and act on: `null` for every instance (a token without an
 * `instances` claim), or the ids its `instances` claim lists. Every subgraph applies it where it reads
 * (lists, counts, loaders, entity references) and where it acts (governance, triage, lifecycle): data
 * of another instance is answered as if it did not exist.
 */
export type InstanceScope = readonly string[] | null;

/** Every instance: what Tenantwatch's own processes (the scheduler, migrations, purges) read with. */
export const EVERY_INSTANCE: InstanceScope = null;

/** The caller's scope (null: every instance). */
export function scopeOf(context: AuthContext | { readonly principal?: Principal }): InstanceScope {
  return context.principal?.instances ?? null;
}

/** True when `instanceId` lies within `scope`. */
export function inScope(scope: InstanceScope, instanceId: string): boolean {
  return scope === null || scope.includes(instanceId);
}

/**
 * Restricts a query to the scope's instances on `column` (e.g. `f.instance_id`); every instance:
 * the query unchanged. Use with `qb.modify(restrictTo(scope, column))`.
 */
export function restrictTo(scope: InstanceScope, column: string): (qb: Knex.QueryBuilder) => void {
  return (qb) => {
    if (scope !== null) void qb.whereIn(column, [...scope]);
  };
}

/** Keeps the rows of the scope's instances. */
export function withinScope<R extends { readonly instanceId: string }>(scope: InstanceScope, rows: readonly R[]): R[] {
  return scope === null ? [...rows] : rows.filter((r) => scope.includes(r.instanceId));
}

/**
 * Refuses (FORBIDDEN) a caller scoped to some instances what concerns every instance: policies,
 * alert sinks, connecting a new instance.
 */
export function requireEveryInstance(context: AuthContext, what: string): void {
  const scope = scopeOf(context);
  if (scope !== null)
    throw appError(
      ErrorCode.FORBIDDEN,
      `${what} concerns every instance; this token is limited to ${scope.length === 1 ? 'one instance' : `${scope.length} instances`} (its "instances" claim)`,
    );
}
