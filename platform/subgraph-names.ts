/** The subgraphs' names in the supergraph. */
export type SubgraphName = 'accounts' | 'activities' | 'files' | 'app-permissions';

/** The env variable that points the gateway at a subgraph run elsewhere (docker compose). */
export const SUBGRAPH_URL_ENV: Record<SubgraphName, 'ACCOUNTS_URL' | 'ACTIVITIES_URL' | 'FILES_URL' | 'APP_PERMISSIONS_URL'> = {
  accounts: 'ACCOUNTS_URL',
  activities: 'ACTIVITIES_URL',
  files: 'FILES_URL',
  'app-permissions': 'APP_PERMISSIONS_URL',
};
