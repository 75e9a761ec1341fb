import type { AppCapability } from './vocabulary/instance.js';
import type { EntityManager } from '@mikro-orm/postgresql';
import type { InstanceDirectory } from './governance/instances.js';
import type { GovernanceLog } from './governance/log.js';

/**
 * The connectors Tenantwatch ships, as the accounts subgraph needs them to check `connectApp`'s
 * input. The connectors' registry implements it.
 */
/** The JSON type of a config field's value in connectApp's `config`. */
export type ConfigValueType = 'STRING' | 'NUMBER' | 'JSON';

/** A field of a connector's config, as a connect form renders it. */
export interface ConnectorConfigField {
  readonly name: string;
  readonly label: string;
  /** What its value is in `config` (absent: a string); a form sends it as that type. */
  readonly valueType?: ConfigValueType;
  /** Stored encrypted and never shown again (a secret, a private key). */
  readonly secret: boolean;
  readonly required: boolean;
  readonly description: string;
}

/** What a kind of connector is, for the graph's `connectorTypes` (no instance's data in it). */
export interface ConnectorTypeInfo {
  readonly id: string;
  readonly name: string;
  readonly capabilities: readonly AppCapability[];
  readonly configFields: readonly ConnectorConfigField[];
  /** Per capability, what it needs granted: every inner list met by one of its permissions (the first is the one to grant). */
  readonly requiredPermissions: Readonly<Partial<Record<AppCapability, readonly (readonly string[])[]>>>;
  readonly documentationUrl: string;
}

export interface ConnectorCatalog {
  /** Every connector, for connect forms. */
  readonly types: readonly ConnectorTypeInfo[];
  /** The provider names a connector exists for, as `connectApp`'s `provider` takes them. */
  readonly providers: readonly string[];
  /**
   * The named connector's check of an instance's config (endpoint and credentials): answers the
   * config as the connector will read it, or throws an Error whose message says what is wrong.
   * Throws too when no connector has that name (check {@link providers} first).
   */
  validateConfig(provider: string, config: unknown): Readonly<Record<string, unknown>>;
  /** The endpoint a validated config points the connector at (checked against the outbound policy). */
  endpointOf(provider: string, config: Readonly<Record<string, unknown>>): string;
}

/**
 * What a subgraph may reach of another module, each through a port defined in the platform. The
 * process that composes the subgraphs (subgraphs/index.ts) wires the implementations; a subgraph's
 * definition names the ports it takes.
 */
export interface SubgraphPorts {
  /** The governance log on a request's EntityManager (the activities subgraph implements it). */
  readonly governanceLog: (em: EntityManager) => GovernanceLog;
  /** App instances' status and capabilities on a request's EntityManager (the accounts subgraph implements it). */
  readonly instances: (em: EntityManager) => InstanceDirectory;
  /** The connectors (connectors/registry.ts implements it). */
  readonly connectors: ConnectorCatalog;
}
