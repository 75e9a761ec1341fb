import { connectorCatalog } from '../connectors/registry.js';
import type { SubgraphPorts } from '../platform/ports.js';
import type { SubgraphDefinition } from '../platform/subgraph.js';
import { instanceDirectory } from './accounts/public.js';
import { accountsSubgraph } from './accounts/subgraph.js';
import { GovernanceService } from './activities/public.js';
import { activitiesSubgraph } from './activities/subgraph.js';
import { appPermissionsSubgraph } from './app-permissions/subgraph.js';
import { filesSubgraph } from './files/subgraph.js';

/**
 * Where the subgraphs are composed: the one place that wires each platform port to the module that
 * implements it. A subgraph never imports another; it takes the ports its definition names.
 */
export const SUBGRAPH_PORTS: SubgraphPorts = {
  governanceLog: (em) => new GovernanceService(em),
  instances: instanceDirectory,
  connectors: connectorCatalog,
};

/** The four subgraphs, in the order they are composed and started. */
export const SUBGRAPHS: readonly SubgraphDefinition[] = [
  accountsSubgraph(SUBGRAPH_PORTS),
  activitiesSubgraph,
  filesSubgraph(SUBGRAPH_PORTS),
  appPermissionsSubgraph(SUBGRAPH_PORTS),
];
