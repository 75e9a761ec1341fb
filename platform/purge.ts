import type { Knex } from '@mikro-orm/postgresql';

/**
 * How a module purges a deleted instance's rows: `batch` rows per statement, and `onBatch` after
 * each (the purge job keeps its claim alive there, and may throw to stop between batches).
 */
export interface PurgeOptions {
  readonly batch: number;
  onBatch?(deleted: number): Promise<void>;
}

/**
 * What a deleted instance's governance log still points at, by module: these rows are kept (marked
 * deleted, so they leave every list) when the rest of the instance's data is purged.
 */
export interface GovernanceReferences {
  readonly accountIds: readonly string[];
  readonly fileIds: readonly string[];
  readonly appPermissionIds: readonly string[];
}

/** A PostgreSQL array literal of uuids, bound as one value (`id <> all(?::uuid[])`): knex would spread a JS array. */
export function uuidArray(ids: readonly string[]): string {
  for (const id of ids) if (!/^[0-9a-f-]{36}$/i.test(id)) throw new Error(`not a uuid: ${id.slice(0, 40)}`);
  return `{${ids.join(',')}}`;
}

/**
 * Deletes the rows of `table` that `where` selects, `batch` at a time, each batch one statement (its
 * own short transaction, taking row locks only: writers of other rows never wait, and nothing is
 * held between batches). Rows are addressed by `ctid`, so a batch costs one index range scan of
 * `where` whatever the table's key. Answers how many rows were deleted.
 */
export async function deleteInBatches(
  knex: Knex,
  table: string,
  where: string,
  bindings: readonly Knex.RawBinding[],
  options: PurgeOptions,
): Promise<number> {
  let total = 0;
  for (;;) {
    const result: { rowCount: number | null } = await knex.raw(
      `delete from ${table} where ctid = any(array(select ctid from ${table} where ${where} limit ?))`,
      [...bindings, options.batch],
    );
    const deleted = result.rowCount ?? 0;
    total += deleted;
    if (deleted > 0) await options.onBatch?.(deleted);
    if (deleted === 0) {
      // A row updated meanwhile has a new ctid, and the batch missed it: done only when none is left.
      const left: { rows: unknown[] } = await knex.raw(`select 1 from ${table} where ${where} limit 1`, [...bindings]);
      if (left.rows.length === 0) return total;
    }
  }
}

/**
 * Purges one instance's rows of a provider-mirror table (one with `instance_id` and `deleted_at`,
 * platform/mirror.ts): the rows in `keepIds` are marked deleted (they leave the lists, still resolve
 * by id), every other row is deleted in batches. Answers how many rows were deleted.
 */
export async function purgeMirrorRows(
  knex: Knex,
  table: string,
  instanceId: string,
  keepIds: readonly string[],
  options: PurgeOptions,
): Promise<number> {
  if (keepIds.length > 0)
    await knex(table)
      .whereIn('id', [...keepIds])
      .where('instance_id', instanceId)
      .whereNull('deleted_at')
      .update({ deleted_at: new Date() });
  return deleteInBatches(knex, table, 'instance_id = ? and id <> all(?::uuid[])', [instanceId, uuidArray(keepIds)], options);
}
