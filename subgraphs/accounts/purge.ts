import type { Knex } from '@mikro-orm/postgresql';
import { deleteInBatches, purgeMirrorRows, type PurgeOptions } from '../../platform/purge.js';

/**
 * Deletes a deleted instance's rows from the accounts module's tables in bounded batches (see
 * {@link deleteInBatches}): group memberships, groups, accounts, scan states and API usage. Accounts
 * in `keepAccountIds` (the targets of its governance log) stay, marked deleted: they leave every list
 * but still resolve by id. The instance's own row stays as its tombstone. Safe to run again after a
 * crash: each step deletes what is left. Answers how many rows were deleted.
 */
export async function purgeInstance(
  knex: Knex,
  instanceId: string,
  options: PurgeOptions & { readonly keepAccountIds?: readonly string[] },
): Promise<number> {
  const keep = [...(options.keepAccountIds ?? [])];
  let deleted = 0;
  // Memberships through the instance's groups (the primary key leads with group_id).
  deleted += await deleteInBatches(
    knex,
    'accounts.group_membership',
    `group_id in (select id from accounts."group" where instance_id = ?)`,
    [instanceId],
    options,
  );
  deleted += await deleteInBatches(knex, 'accounts."group"', 'instance_id = ?', [instanceId], options);
  deleted += await purgeMirrorRows(knex, 'accounts.account', instanceId, keep, options);
  deleted += await deleteInBatches(knex, 'accounts.scan_state', 'instance_id = ?', [instanceId], options);
  deleted += await deleteInBatches(knex, 'accounts.api_usage_minute', 'instance_id = ?', [instanceId], options);
  return deleted;
}
