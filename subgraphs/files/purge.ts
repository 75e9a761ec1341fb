import type { Knex } from '@mikro-orm/postgresql';
import { purgeMirrorRows, type PurgeOptions } from '../../platform/purge.js';

/**
 * Deletes a deleted instance's files in bounded batches (platform/purge.ts); the files in
 * `keepFileIds` (targets of its governance log) stay, marked deleted. Safe to run again. Answers how
 * many rows were deleted.
 */
export function purgeInstance(
  knex: Knex,
  instanceId: string,
  options: PurgeOptions & { readonly keepFileIds?: readonly string[] },
): Promise<number> {
  return purgeMirrorRows(knex, 'files.file', instanceId, options.keepFileIds ?? [], options);
}
