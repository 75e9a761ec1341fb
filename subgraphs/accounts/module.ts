import type { DatabaseOptions } from '../../platform/database.js';
import { Account, Group, GroupMembership } from './account.entity.js';
import { ApiUsageMinute, AppInstance, ScanState } from './app-instance.entity.js';
import { Migration20261126000000 } from './migrations/Migration20261126000000.js';
import { Migration20261126100000 } from './migrations/Migration20261126100000.js';
import { Migration20261205000000 } from './migrations/Migration20261205000000.js';
import { Migration20261206000000 } from './migrations/Migration20261206000000.js';
import { Migration20261207000000 } from './migrations/Migration20261207000000.js';
import { Migration20261209000000 } from './migrations/Migration20261209000000.js';

/** The accounts module's tables: its PostgreSQL schema, entities and committed migrations. */
export const accountsModule = {
  schema: 'accounts',
  entities: [AppInstance, ScanState, ApiUsageMinute, Account, Group, GroupMembership],
  migrations: [
    { name: 'Migration20261126000000', class: Migration20261126000000 },
    { name: 'Migration20261126100000', class: Migration20261126100000 },
    { name: 'Migration20261205000000', class: Migration20261205000000 },
    { name: 'Migration20261206000000', class: Migration20261206000000 },
    { name: 'Migration20261207000000', class: Migration20261207000000 },
    { name: 'Migration20261209000000', class: Migration20261209000000 },
  ],
} as const satisfies Omit<DatabaseOptions, 'url'>;
