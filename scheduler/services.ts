import type { Knex } from '@mikro-orm/postgresql';
import type { Connector, Priority } from '../connectors/contract.js';
import type { Config } from '../platform/config.js';
import type { InstanceDirectory } from '../platform/governance/instances.js';
import type { AccountService, AppInstanceService } from '../subgraphs/accounts/public.js';
import type { ActivityService, DetectionService, GovernanceService, PolicyService } from '../subgraphs/activities/public.js';
import type { AppPermissionService } from '../subgraphs/app-permissions/public.js';
import type { FileService } from '../subgraphs/files/public.js';
import type { DataScanPool } from './data-scan/pool.js';
import type { PolicyEvaluator } from './policies/evaluator.js';
import type { InstancePurges } from './jobs/purge.js';

/**
 * The modules' services as the scheduler reaches them, each call on a fresh EntityManager (one per
 * page or step, so that no identity map grows over a long scan).
 */
export interface ModuleServices {
  instances(): AppInstanceService;
  accounts(): AccountService;
  activities(): ActivityService;
  files(): FileService;
  grants(): AppPermissionService;
  policies(): PolicyService;
  detections(): DetectionService;
  governance(): GovernanceService;
  /** Each module's purge of a deleted instance's rows (and what its governance log points at). */
  purges(): InstancePurges;
  /** App instances' status and capabilities, for governance checks. */
  instanceDirectory(): InstanceDirectory;
  /**
   * Runs `work` in one transaction of the shared cluster, handed to the services' writes that take a
   * connection: a governance result (the target's new state and the log's entry) commits as one.
   */
  transaction<T>(work: (trx: Knex.Transaction) => Promise<T>): Promise<T>;
}

/**
 * Everything a scheduler job may use. No job takes all of it: each names what it uses with
 * `Pick<SchedulerServices, ...>`, so its signature says what it may touch.
 */
export interface SchedulerServices extends ModuleServices {
  readonly config: Config;
  /** Aborted when the scheduler is asked to stop: jobs finish their page, save their cursor and return. */
  readonly stopping: AbortSignal;
  /** Extracts and scans downloaded files in worker threads, each file within its time and memory budget. */
  readonly dataScan: DataScanPool;
  /** Runs what scans store through the enabled policies. */
  evaluator(): PolicyEvaluator;
  /**
   * A connector for the instance whose requests spend its budget at `priority`. Throws when the
   * instance is unknown or its provider has no connector.
   */
  connector(instanceId: string, priority: Priority, options?: { retryTransient?: boolean }): Promise<Connector>;
}
