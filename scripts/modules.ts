import { accountsModule } from '../subgraphs/accounts/module.js';

/** Every module that owns a PostgreSQL schema, by subgraph name. */
export const MODULES = {
  accounts: accountsModule,
} as const;
