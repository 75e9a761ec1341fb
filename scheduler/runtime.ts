import type { Connector, Priority } from '../connectors/contract.js';
import { connectorFactory } from '../connectors/registry.js';
import { AccountService } from '../subgraphs/accounts/account.service.js';
import { AppInstanceService } from '../subgraphs/accounts/app-instance.service.js';
import { ActivityService } from '../subgraphs/activities/activity.service.js';
import { GovernanceService } from '../subgraphs/activities/governance.service.js';
import { DetectionService } from '../subgraphs/activities/detection.service.js';
import { PolicyService } from '../subgraphs/activities/policy.service.js';
import { AppPermissionService } from '../subgraphs/app-permissions/app-permission.service.js';
import type { Config } from '../platform/config.js';
import type { Database } from '../platform/database.js';
import { FileService } from '../subgraphs/files/file.service.js';
import type { RateBudget } from './budget.js';
import { PolicyEvaluator } from './policies/evaluator.js';
import { BudgetedProviderHttp } from './provider-http.js';
import type { UsageRecorder } from './usage.js';

/** The module databases the scheduler writes through their services. */
export interface SchedulerDatabases {
  readonly accounts: Database;
  readonly activities: Database;
  readonly files: Database;
  readonly appPermissions: Database;
  readonly scheduler: Database;
}

/** What every job gets: the modules' services, the policy evaluator, the rate budget and a connector factory. */
export class SchedulerRuntime {
  constructor(
    readonly config: Config,
    readonly dbs: SchedulerDatabases,
    readonly budget: RateBudget,
    readonly usage: UsageRecorder,
    readonly credentialsKey: Buffer,
    /** Aborted when the scheduler is asked to stop: jobs finish their page, save their cursor and return. */
    readonly stopping: AbortSignal,
  ) {}

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

  /** Runs what scans store through the enabled policies. */
  evaluator(): PolicyEvaluator {
    return new PolicyEvaluator(this);
  }

  /**
   * A connector for the instance whose requests spend its budget at `priority`. Throws when the
   * instance is unknown or its provider has no connector.
   */
  async connector(instanceId: string, priority: Priority, options: { retryTransient?: boolean } = {}): Promise<Connector> {
    const instances = this.instances();
    const [instance] = await instances.byIds([instanceId]);
    if (!instance) throw new Error(`No app instance ${instanceId}`);
    const factory = connectorFactory(instance.provider);
    if (!factory) throw new Error(`No connector for provider "${instance.provider}"`);
    const config = factory.validateConfig(await instances.readConfig(instanceId));
    const http = new BudgetedProviderHttp({
      instanceId,
      endpoint: factory.endpointOf(config),
      headers: factory.authHeaders(config),
      priority,
      budget: this.budget,
      usage: this.usage,
      signal: this.stopping,
      ...options,
    });
    const connector = factory.create(config, http);
    http.parseThrottle = (response) => connector.parseThrottle(response);
    await this.budget.configure(instanceId, {
      requestsPerMinute: instance.limitPerMinute ?? connector.limits.requestsPerMinute,
      headroomPercent: instance.headroomPercent ?? this.config.HEADROOM_PERCENT,
    });
    return connector;
  }
}
