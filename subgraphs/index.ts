import { accountsSubgraph } from './accounts/subgraph.js';
import { activitiesSubgraph } from './activities/subgraph.js';
import { appPermissionsSubgraph } from './app-permissions/subgraph.js';
import { filesSubgraph } from './files/subgraph.js';
import type { SubgraphDefinition } from '../platform/subgraph.js';

/** The four subgraphs, in the order they are composed and started. */
export const SUBGRAPHS: readonly SubgraphDefinition[] = [accountsSubgraph, activitiesSubgraph, filesSubgraph, appPermissionsSubgraph];

export { SUBGRAPH_URL_ENV, type SubgraphName } from '../platform/subgraph-names.js';
