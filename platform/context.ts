import type { EntityManager } from '@mikro-orm/postgresql';
import DataLoader from 'dataloader';
import type { AuthContext } from './auth.js';

/** What every subgraph resolver gets: the caller, an EntityManager for this request, its loaders. */
export interface SubgraphContext extends AuthContext {
  readonly em: EntityManager;
  readonly loaders: Map<string, DataLoader<unknown, unknown>>;
  readonly authorization: string;
  /** Where the request came from (the gateway's client when it forwarded it), for the audit log. */
  readonly clientAddress?: string;
  /** The request's id, when it carries one. */
  readonly requestId?: string;
}

/**
 * One DataLoader per request and `name`: every lookup made while resolving one level of a query is
 * sent as one batch. `batch` must answer one value (or null) per key, in the keys' order.
 */
export function loader<K, V>(
  context: SubgraphContext,
  name: string,
  batch: (keys: readonly K[]) => Promise<readonly (V | Error)[]>,
  cacheKeyFn?: (key: K) => unknown,
): DataLoader<K, V, unknown> {
  let found = context.loaders.get(name) as DataLoader<K, V, unknown> | undefined;
  if (!found) {
    found = new DataLoader<K, V, unknown>(batch, { cacheKeyFn, maxBatchSize: 1000 });
    context.loaders.set(name, found as unknown as DataLoader<unknown, unknown>);
  }
  return found;
}

/** Orders `rows` to match `keys` (null where a key has no row), for DataLoader batch functions. */
export function byKeys<K, R>(keys: readonly K[], rows: readonly R[], keyOf: (row: R) => K): (R | null)[] {
  const found = new Map(rows.map((r) => [keyOf(r), r]));
  return keys.map((k) => found.get(k) ?? null);
}
