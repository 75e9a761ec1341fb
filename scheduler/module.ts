import type { DatabaseOptions } from '../platform/database.js';
import { Migration20261126110000 } from './migrations/Migration20261126110000.js';
import { Migration20261201100000 } from './migrations/Migration20261201100000.js';
import { Migration20261205100000 } from './migrations/Migration20261205100000.js';
import { Migration20261206100000 } from './migrations/Migration20261206100000.js';
import { Migration20261207100000 } from './migrations/Migration20261207100000.js';
import { RateBudgetRow } from './rate-budget.entity.js';
import { WebhookDeliveryRow } from './webhook-delivery.entity.js';
import { WebhookRateRow } from './webhook-rate.entity.js';

/**
 * The scheduler's own tables: its rate budgets, and the webhook receiver's delivery ids and delivery
 * rates. Agenda's job table is the backend's own.
 */
export const schedulerModule = {
  schema: 'scheduler',
  entities: [RateBudgetRow, WebhookDeliveryRow, WebhookRateRow],
  migrations: [
    { name: 'Migration20261126110000', class: Migration20261126110000 },
    { name: 'Migration20261201100000', class: Migration20261201100000 },
    { name: 'Migration20261205100000', class: Migration20261205100000 },
    { name: 'Migration20261206100000', class: Migration20261206100000 },
    { name: 'Migration20261207100000', class: Migration20261207100000 },
  ],
} as const satisfies Omit<DatabaseOptions, 'url'>;
