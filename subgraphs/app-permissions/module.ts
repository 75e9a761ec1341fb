import type { DatabaseOptions } from '../../platform/database.js';
import { AppPermission } from './app-permission.entity.js';
import { Migration20261126000200 } from './migrations/Migration20261126000200.js';
import { Migration20261126100200 } from './migrations/Migration20261126100200.js';

/** The app-permissions module's tables: its PostgreSQL schema, entities and committed migrations. */
export const appPermissionsModule = {
  schema: 'app_permissions',
  entities: [AppPermission],
  migrations: [
    { name: 'Migration20261126000200', class: Migration20261126000200 },
    { name: 'Migration20261126100200', class: Migration20261126100200 },
  ],
} as const satisfies Omit<DatabaseOptions, 'url'>;
