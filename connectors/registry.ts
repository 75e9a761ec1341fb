import type { ConnectorFactory } from './contract.js';
import { simulatedConnectorFactory } from './simulated/connector.js';

/** Every connector Tenantwatch ships, by provider name (`connectApp`'s `provider`). */
export const CONNECTORS: ReadonlyMap<string, ConnectorFactory> = new Map([[simulatedConnectorFactory.provider, simulatedConnectorFactory]]);

export function connectorFactory(provider: string): ConnectorFactory | undefined {
  return CONNECTORS.get(provider);
}
