import fs from 'node:fs';
import type { Knex } from '@mikro-orm/postgresql';
import type { Connector, ConnectorConfig, ConnectorCredentials, ConnectorFactory, Priority } from '../connectors/contract.js';
import { connectorFactory } from '../connectors/registry.js';
import type { Config } from '../platform/config.js';
import type { Dispatcher } from 'undici';
import type { Database } from '../platform/database.js';
import { outboundDispatcher } from '../platform/outbound.js';
import type { InstanceDirectory } from '../platform/governance/instances.js';
import { AccountService, AppInstanceService, instanceDirectory, purgeInstance as purgeAccounts } from '../subgraphs/accounts/public.js';
import {
  ActivityService,
  DetectionService,
  GovernanceService,
  governanceReferences,
  PolicyService,
  purgeInstance as purgeActivities,
} from '../subgraphs/activities/public.js';
import { AppPermissionService, purgeInstance as purgeAppPermissions } from '../subgraphs/app-permissions/public.js';
import { FileService, purgeInstance as purgeFiles } from '../subgraphs/files/public.js';
import { purgeSchedulerRows, type InstancePurges } from './jobs/purge.js';
import type { RateBudget } from './budget.js';
import { DataScanPool } from './data-scan/pool.js';
import { PolicyEvaluator } from './policies/evaluator.js';
import { BudgetedProviderHttp, type ProviderMetrics } from './provider-http.js';
import { fetchTokenHttp } from './token-http.js';
import type { SchedulerServices } from './services.js';
import type { UsageRecorder } from './usage.js';

/** CONNECTOR_CA_FILE's certificates; a file that cannot be read stops the scheduler at start, naming it. */
function readCaFile(file: string | undefined): string | undefined {
  if (!file) return undefined;
  let pem: string;
  try {
    pem = fs.readFileSync(file, 'utf8');
  } catch (error) {
    throw new Error(`CONNECTOR_CA_FILE: cannot read ${file} (${(error as NodeJS.ErrnoException).code ?? 'unreadable'})`);
  }
  if (!pem.includes('BEGIN CERTIFICATE')) throw new Error(`CONNECTOR_CA_FILE: ${file} holds no PEM certificate`);
  return pem;
}

/** The module databases the scheduler writes through their services. */
export interface SchedulerDatabases {
  readonly accounts: Database;
  readonly activities: Database;
  readonly files: Database;
  readonly appPermissions: Database;
  readonly scheduler: Database;
}

/**
 * The scheduler's one place that builds the modules' services (through each subgraph's public
 * surface), connectors and the policy evaluator; jobs get it typed as the narrow part they use.
 */
export class SchedulerRuntime implements SchedulerServices {
  /** Calls to providers (and alert sinks) go through the outbound policy (CONNECTOR_ALLOW_PRIVATE off: public addresses only). */
  readonly outbound: Dispatcher | undefined;
  /**
   * Each instance's credentials, kept across jobs so that an access token is acquired once and shared
   * until it is refreshed; a changed config (new credentials) gets new ones.
   */
  private readonly credentials = new Map<string, { readonly config: string; readonly credentials: ConnectorCredentials }>();
  /** Its worker threads start with the first file scanned. */
  readonly dataScan: DataScanPool;

  constructor(
    readonly config: Config,
    private readonly dbs: SchedulerDatabases,
    private readonly budget: RateBudget,
    private readonly usage: UsageRecorder,
    private readonly credentialsKey: Buffer,
    readonly stopping: AbortSignal,
    /** Where every provider attempt is counted (the scheduler's metrics). */
    private readonly providerMetrics?: ProviderMetrics,
  ) {
    this.outbound = outboundDispatcher(config.CONNECTOR_ALLOW_PRIVATE, readCaFile(config.CONNECTOR_CA_FILE));
    this.dataScan = new DataScanPool({
      workers: config.DATA_SCAN_WORKERS,
      timeoutMs: config.DATA_SCAN_TIMEOUT_MS,
      memoryMb: config.DATA_SCAN_MEMORY_MB,
    });
  }

  private credentialsOf(instanceId: string, factory: ConnectorFactory, config: ConnectorConfig): ConnectorCredentials {
    const key = JSON.stringify(config);
    const kept = this.credentials.get(instanceId);
    if (kept?.config === key) return kept.credentials;
    const credentials = factory.credentials(config, fetchTokenHttp(this.outbound, this.stopping));
    this.credentials.set(instanceId, { config: key, credentials });
    return credentials;
  }

  /** Closes the data scan's worker threads and the outbound connection pool (after the jobs have drained). */
  async close(): Promise<void> {
    await this.dataScan.close();
    await this.outbound?.close();
  }

  instances(): AppInstanceService {
    return new AppInstanceService(this.dbs.accounts.fork(), this.credentialsKey);
  }

  accounts(): AccountService {
    return new AccountService(this.dbs.accounts.fork());
  }

  activities(): ActivityService {
    return new ActivityService(this.dbs.activities.fork());
  }

  files(): FileService {
    return new FileService(this.dbs.files.fork());
  }

  grants(): AppPermissionService {
    return new AppPermissionService(this.dbs.appPermissions.fork());
  }

  policies(): PolicyService {
    return new PolicyService(this.dbs.activities.fork());
  }

  detections(): DetectionService {
    return new DetectionService(this.dbs.activities.fork());
  }

  governance(): GovernanceService {
    return new GovernanceService(this.dbs.activities.fork());
  }

  purges(): InstancePurges {
    const { accounts, activities, files, appPermissions, scheduler } = this.dbs;
    return {
      governanceReferences: (instanceId) => governanceReferences(activities.knex(), instanceId),
      activities: (instanceId, options) => purgeActivities(activities.knex(), instanceId, options),
      files: (instanceId, options) => purgeFiles(files.knex(), instanceId, options),
      appPermissions: (instanceId, options) => purgeAppPermissions(appPermissions.knex(), instanceId, options),
      accounts: (instanceId, options) => purgeAccounts(accounts.knex(), instanceId, options),
      scheduler: (instanceId, options) => purgeSchedulerRows(scheduler.knex(), instanceId, options),
    };
  }

  instanceDirectory(): InstanceDirectory {
    return instanceDirectory(this.dbs.accounts.fork());
  }

  transaction<T>(work: (trx: Knex.Transaction) => Promise<T>): Promise<T> {
    return this.dbs.activities.knex().transaction(work);
  }

  /** Whether the database answers (the scheduler's /readyz). */
  ping(): Promise<void> {
    return this.dbs.scheduler.ping();
  }

  evaluator(): PolicyEvaluator {
    return new PolicyEvaluator(this);
  }

  async connector(instanceId: string, priority: Priority, options: { retryTransient?: boolean } = {}): Promise<Connector> {
    const found = await this.instances().withConfig(instanceId);
    if (!found) throw new Error(`No app instance ${instanceId}`);
    const { instance } = found;
    const factory = connectorFactory(instance.provider);
    if (!factory) throw new Error(`No connector for provider "${instance.provider}"`);
    const config = factory.validateConfig(found.config);
    const credentials = this.credentialsOf(instanceId, factory, config);
    const http = new BudgetedProviderHttp({
      instanceId,
      endpoint: factory.endpointOf(config),
      serviceEndpoints: factory.serviceEndpointsOf?.(config),
      credentials,
      priority,
      budget: this.budget,
      usage: this.usage,
      signal: this.stopping,
      dispatcher: this.outbound,
      backoffMs: this.config.PROVIDER_RETRY_DELAY_MS,
      metrics: this.providerMetrics,
      ...options,
    });
    const connector = factory.create(config, http, credentials);
    http.parseThrottle = (response) => connector.parseThrottle(response);
    const headroomPercent = instance.headroomPercent ?? this.config.HEADROOM_PERCENT;
    await this.budget.configure(instanceId, {
      // The administrator's limit (updateAppInstance), else the provider's documented one.
      requestsPerMinute: instance.limitPerMinuteOverride ?? instance.limitPerMinute ?? connector.limits.requestsPerMinute,
      headroomPercent,
      ...(connector.limits.requestsPerDay !== undefined ? { requestsPerDay: connector.limits.requestsPerDay } : {}),
    });
    // A provider that throttles its services separately: one budget each, and a 429 blocks only its service.
    const services = Object.entries(connector.limits.services ?? {});
    for (const [service, limits] of services)
      await this.budget.configure(
        instanceId,
        {
          requestsPerMinute: limits.requestsPerMinute,
          headroomPercent,
          ...(limits.requestsPerDay !== undefined ? { requestsPerDay: limits.requestsPerDay } : {}),
        },
        service,
      );
    http.budgetServices = new Set(services.map(([service]) => service));
    return connector;
  }
}
