import { accountsSubgraph } from './accounts/subgraph.js';
import { activitiesSubgraph } from './activities/subgraph.js';
import { appPermissionsSubgraph } from './app-permissions/subgraph.js';
import { filesSubgraph } from './files/subgraph.js';
import type { SubgraphDefinition } from './shared/subgraph.js';

/** The four subgraphs, in the order they are composed and started. */
export const SUBGRAPHS: readonly SubgraphDefinition[] = [accountsSubgraph, activitiesSubgraph, filesSubgraph, appPermissionsSubgraph];

export type SubgraphName = 'accounts' | 'activities' | 'files' | 'app-permissions';

/** The env variable that points the gateway at a subgraph run elsewhere (docker compose). */
export const SUBGRAPH_URL_ENV: Record<SubgraphName, 'ACCOUNTS_URL' | 'ACTIVITIES_URL' | 'FILES_URL' | 'APP_PERMISSIONS_URL'> = {
  accounts: 'ACCOUNTS_URL',
  activities: 'ACTIVITIES_URL',
  files: 'FILES_URL',
  'app-permissions': 'APP_PERMISSIONS_URL',
};
