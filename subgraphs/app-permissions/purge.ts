import type { Knex } from '@mikro-orm/postgresql';
import { purgeMirrorRows, type PurgeOptions } from '../../platform/purge.js';

/**
 * Deletes a deleted instance's OAuth grants in bounded batches (platform/purge.ts); the grants in
 * `keepAppPermissionIds` (targets of its governance log) stay, marked deleted. Safe to run again.
 * Answers how many rows were deleted.
 */
export function purgeInstance(
  knex: Knex,
  instanceId: string,
  options: PurgeOptions & { readonly keepAppPermissionIds?: readonly string[] },
): Promise<number> {
  return purgeMirrorRows(knex, 'app_permissions.app_permission', instanceId, options.keepAppPermissionIds ?? [], options);
}
