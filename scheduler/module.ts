import type { DatabaseOptions } from '../platform/database.js';
import { Migration20261126110000 } from './migrations/Migration20261126110000.js';
import { RateBudgetRow } from './rate-budget.entity.js';

/** The scheduler's own tables (its rate budgets); Agenda's job table is the backend's own. */
export const schedulerModule = {
  schema: 'scheduler',
  entities: [RateBudgetRow],
  migrations: [{ name: 'Migration20261126110000', class: Migration20261126110000 }],
} as const satisfies Omit<DatabaseOptions, 'url'>;
