import type { AppCapability, ConnectionStatus } from '../vocabulary/instance.js';

/** What a governance check needs to know of an app instance. */
export interface InstanceGovernance {
  readonly name: string;
  readonly provider: string;
  readonly status: ConnectionStatus;
  readonly capabilities: readonly AppCapability[];
}

/**
 * The instance-directory port: how a subgraph that owns a governance target (or the scheduler) learns
 * whether the target's instance can take an action. The accounts subgraph owns app instances and
 * implements it.
 */
export interface InstanceDirectory {
  /** The instance's status and granted capabilities; null when there is no such instance. */
  governanceView(instanceId: string): Promise<InstanceGovernance | null>;
}
