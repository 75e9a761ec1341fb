import type { Knex } from '@mikro-orm/postgresql';
import { deleteInBatches, uuidArray, type GovernanceReferences, type PurgeOptions } from '../../platform/purge.js';

/** What a deleted instance's governance log points at: its targets, and the detections that asked for actions. */
export interface InstanceGovernanceReferences extends GovernanceReferences {
  readonly detectionIds: readonly string[];
}

/**
 * The rows a deleted instance's governance log still points at, so that every action stays readable
 * in the graph: its targets (kept by their modules, marked deleted) and the detections that asked
 * for actions (kept here), with those detections' own subjects.
 */
export async function governanceReferences(knex: Knex, instanceId: string): Promise<InstanceGovernanceReferences> {
  const {
    rows,
  }: { rows: { account_id: string | null; file_id: string | null; app_permission_id: string | null; detection_id: string | null }[] } =
    await knex.raw(
      `select a.account_id, a.file_id, a.app_permission_id, a.detection_id from activities.governance_action a where a.instance_id = ?
       union
       select d.account_id, d.file_id, d.app_permission_id, null from activities.detection d
        where d.id in (select detection_id from activities.governance_action where instance_id = ? and detection_id is not null)`,
      [instanceId, instanceId],
    );
  const ids = (pick: (row: (typeof rows)[number]) => string | null) => [...new Set(rows.flatMap((r) => (pick(r) ? [pick(r)!] : [])))];
  return {
    accountIds: ids((r) => r.account_id),
    fileIds: ids((r) => r.file_id),
    appPermissionIds: ids((r) => r.app_permission_id),
    detectionIds: ids((r) => r.detection_id),
  };
}

/**
 * Deletes a deleted instance's rows from the activities module's tables in bounded batches
 * (platform/purge.ts): its activities, and its detections with their history and their event-log
 * entries, except the detections in `keepDetectionIds` (those its governance log points at). The
 * governance log itself is kept whole. Safe to run again after a crash. Answers how many rows were
 * deleted.
 */
export async function purgeInstance(
  knex: Knex,
  instanceId: string,
  options: PurgeOptions & { readonly keepDetectionIds?: readonly string[] },
): Promise<number> {
  const keep = uuidArray(options.keepDetectionIds ?? []);
  let deleted = 0;
  deleted += await deleteInBatches(
    knex,
    'activities.detection_history',
    `detection_id in (select id from activities.detection where instance_id = ? and id <> all(?::uuid[]))`,
    [instanceId, keep],
    options,
  );
  // The live streams skip an entry whose detection is gone; these go now rather than at the log's retention.
  deleted += await deleteInBatches(
    knex,
    'activities.event_log',
    `instance_id = ? and kind = 'DETECTION' and entity_id <> all(?::uuid[])`,
    [instanceId, keep],
    options,
  );
  deleted += await deleteInBatches(knex, 'activities.detection', 'instance_id = ? and id <> all(?::uuid[])', [instanceId, keep], options);
  deleted += await deleteInBatches(knex, 'activities.activity_evaluation_queue', 'instance_id = ?', [instanceId], options);
  deleted += await deleteInBatches(knex, 'activities.activity', 'instance_id = ?', [instanceId], options);
  return deleted;
}
