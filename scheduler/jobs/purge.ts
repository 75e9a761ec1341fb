import type { Knex } from '@mikro-orm/postgresql';
import { logger } from '../../platform/logger.js';
import { deleteInBatches, type PurgeOptions } from '../../platform/purge.js';
import { ConnectionStatus } from '../../platform/vocabulary/instance.js';
import type { InstanceGovernanceReferences } from '../../subgraphs/activities/public.js';
import type { SchedulerServices } from '../services.js';
import { syncSubscriptions } from './subscriptions.js';

/** Agenda job: purge a deleted instance's data from every module. */
export const PURGE_JOB = 'instance.purge';

export interface PurgeJobData {
  readonly instanceId: string;
}

/** Rows per delete statement: each batch is one short transaction. */
export const PURGE_BATCH = 1_000;

/**
 * Each module's purge of a deleted instance's rows, on that module's own connection (the runtime
 * wires them from each subgraph's public `purgeInstance`): the scheduler orders them, the modules
 * delete their own rows.
 */
export interface InstancePurges {
  governanceReferences(instanceId: string): Promise<InstanceGovernanceReferences>;
  activities(instanceId: string, options: PurgeOptions & { readonly keepDetectionIds: readonly string[] }): Promise<number>;
  files(instanceId: string, options: PurgeOptions & { readonly keepFileIds: readonly string[] }): Promise<number>;
  appPermissions(instanceId: string, options: PurgeOptions & { readonly keepAppPermissionIds: readonly string[] }): Promise<number>;
  accounts(instanceId: string, options: PurgeOptions & { readonly keepAccountIds: readonly string[] }): Promise<number>;
  scheduler(instanceId: string, options: PurgeOptions): Promise<number>;
}

/** The scheduler's own rows of an instance: its rate budgets and the webhook deliveries remembered for replays. */
export async function purgeSchedulerRows(knex: Knex, instanceId: string, options: PurgeOptions): Promise<number> {
  return (
    (await deleteInBatches(knex, 'scheduler.rate_budget', 'instance_id = ?', [instanceId], options)) +
    (await deleteInBatches(knex, 'scheduler.webhook_delivery', 'instance_id = ?', [instanceId], options))
  );
}

/** What the purge needs of the scheduler around it (its job store and scan locks). */
export interface PurgeHooks {
  /** Removes the instance's jobs from the job store: its scans (periodic or not), connect, file and subscription jobs. */
  cancelJobs(instanceId: string): Promise<void>;
  /** Whether no scan of the instance is running (a run sees the deletion at its next page and stops). */
  scansIdle(instanceId: string): Promise<boolean>;
  /** Called after each batch: keeps the job's lock. */
  touch(): Promise<void>;
}

/** A scan of the deleted instance still runs: the purge job is retried (the scan stops at its next page). */
export class ScansStillRunningError extends Error {
  override readonly name = 'ScansStillRunningError';
}

/**
 * `instance.purge`: everything of a deleted instance stops, then its data goes, module by module, in
 * batches of {@link PURGE_BATCH} rows. Its jobs are removed; a running scan is waited for; its change
 * subscriptions at the provider are deleted (as at disconnectApp) before its credentials are
 * forgotten; then each module deletes its rows, keeping what the governance log points at. Every step
 * may run again: a scheduler that dies midway leaves the purge claimed, and once the claim goes stale
 * another scheduler's dispatcher starts it again, and it deletes what is left.
 */
export async function purgeDeletedInstance(
  services: Pick<SchedulerServices, 'config' | 'connector' | 'instances' | 'purges'>,
  hooks: PurgeHooks,
  instanceId: string,
): Promise<void> {
  const instances = services.instances();
  const [instance] = await instances.byIds([instanceId]);
  if (!instance || instance.status !== ConnectionStatus.DELETED || instance.purgedAt) return;
  await hooks.cancelJobs(instanceId);
  if (!(await hooks.scansIdle(instanceId))) throw new ScansStillRunningError(`a scan of deleted instance ${instanceId} still runs`);
  // Throws when the provider could not be reached (retried); a refusal records the subscriptions as lapsing.
  if (instance.notificationSubscriptions > 0) await syncSubscriptions(services, instanceId);
  await instances.forgetConfig(instanceId);
  const purges = services.purges();
  const keep = await purges.governanceReferences(instanceId);
  const options: PurgeOptions = {
    batch: PURGE_BATCH,
    onBatch: async () => {
      await instances.touchPurge(instanceId);
      await hooks.touch();
    },
  };
  const started = Date.now();
  let deleted = await purges.activities(instanceId, { ...options, keepDetectionIds: keep.detectionIds });
  deleted += await purges.files(instanceId, { ...options, keepFileIds: keep.fileIds });
  deleted += await purges.appPermissions(instanceId, { ...options, keepAppPermissionIds: keep.appPermissionIds });
  deleted += await purges.accounts(instanceId, { ...options, keepAccountIds: keep.accountIds });
  deleted += await purges.scheduler(instanceId, options);
  // A job another scheduler made meanwhile (a webhook admitted just before the delete) goes too.
  await hooks.cancelJobs(instanceId);
  await instances.finishPurge(instanceId);
  logger.info({ instanceId, deleted, kept: keep, ms: Date.now() - started }, 'deleted instance purged');
}
