import type { DatabaseOptions } from '../../platform/database.js';
import { File } from './file.entity.js';
import { Migration20261126000100 } from './migrations/Migration20261126000100.js';
import { Migration20261126100100 } from './migrations/Migration20261126100100.js';
import { Migration20261208000100 } from './migrations/Migration20261208000100.js';
import { Migration20261210000100 } from './migrations/Migration20261210000100.js';

/** The files module's tables: its PostgreSQL schema, entities and committed migrations. */
export const filesModule = {
  schema: 'files',
  entities: [File],
  migrations: [
    { name: 'Migration20261126000100', class: Migration20261126000100 },
    { name: 'Migration20261126100100', class: Migration20261126100100 },
    { name: 'Migration20261208000100', class: Migration20261208000100 },
    { name: 'Migration20261210000100', class: Migration20261210000100 },
  ],
} as const satisfies Omit<DatabaseOptions, 'url'>;
