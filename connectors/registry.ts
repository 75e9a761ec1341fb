import type { ConnectorCatalog } from '../platform/ports.js';
import type { ConnectorFactory } from './contract.js';
import { googleConnectorFactory } from './google/connector.js';
import { m365ConnectorFactory } from './m365/connector.js';
import { salesforceConnectorFactory } from './salesforce/connector.js';
import { simulatedConnectorFactory } from './simulated/connector.js';

/** Every connector Tenantwatch ships, by provider name (`connectApp`'s `provider`). */
export const CONNECTORS: ReadonlyMap<string, ConnectorFactory> = new Map([
  [simulatedConnectorFactory.provider, simulatedConnectorFactory],
  [m365ConnectorFactory.provider, m365ConnectorFactory],
  [salesforceConnectorFactory.provider, salesforceConnectorFactory],
  [googleConnectorFactory.provider, googleConnectorFactory],
]);

export function connectorFactory(provider: string): ConnectorFactory | undefined {
  return CONNECTORS.get(provider);
}

/** The connectors as the platform's {@link ConnectorCatalog} port: what the accounts subgraph checks `connectApp` with. */
export const connectorCatalog: ConnectorCatalog = {
  providers: [...CONNECTORS.keys()],
  types: [...CONNECTORS.values()].map((factory) => ({
    id: factory.provider,
    name: factory.name,
    capabilities: factory.capabilities,
    configFields: factory.configFields,
    requiredPermissions: factory.requiredPermissions,
    documentationUrl: factory.documentationUrl,
  })),
  validateConfig(provider, config) {
    const factory = connectorFactory(provider);
    if (!factory) throw new Error(`no connector named "${provider}"`);
    return factory.validateConfig(config);
  },
  endpointOf(provider, config) {
    const factory = connectorFactory(provider);
    if (!factory) throw new Error(`no connector named "${provider}"`);
    return factory.endpointOf(config as never);
  },
};
