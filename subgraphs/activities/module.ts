import type { DatabaseOptions } from '../../platform/database.js';
import { Activity } from './activity.entity.js';
import { ActivityEvaluationQueueRow, AlertDeliveryRow, AlertSinkRow, DetectionHistoryRow } from './rows.entity.js';
import { Detection } from './detection.entity.js';
import { EventLogEntry } from './event-log.entity.js';
import { GovernanceAction } from './governance-action.entity.js';
import { Migration20261126000300 } from './migrations/Migration20261126000300.js';
import { Migration20261126100300 } from './migrations/Migration20261126100300.js';
import { Migration20261126120000 } from './migrations/Migration20261126120000.js';
import { Migration20261127090000 } from './migrations/Migration20261127090000.js';
import { Migration20261127120000 } from './migrations/Migration20261127120000.js';
import { Migration20261207200000 } from './migrations/Migration20261207200000.js';
import { Migration20261207300000 } from './migrations/Migration20261207300000.js';
import { Migration20261207400000 } from './migrations/Migration20261207400000.js';
import { Migration20261207500000 } from './migrations/Migration20261207500000.js';
import { Migration20261209000300 } from './migrations/Migration20261209000300.js';
import { Migration20261210000300 } from './migrations/Migration20261210000300.js';
import { Migration20261211000300 } from './migrations/Migration20261211000300.js';
import { Migration20261212000000 } from './migrations/Migration20261212000000.js';
import { Policy } from './policy.entity.js';

/** The activities module's tables: its PostgreSQL schema, entities and committed migrations. */
export const activitiesModule = {
  schema: 'activities',
  entities: [
    Activity,
    Policy,
    Detection,
    GovernanceAction,
    EventLogEntry,
    AlertSinkRow,
    AlertDeliveryRow,
    DetectionHistoryRow,
    ActivityEvaluationQueueRow,
  ],
  migrations: [
    { name: 'Migration20261126000300', class: Migration20261126000300 },
    { name: 'Migration20261126100300', class: Migration20261126100300 },
    { name: 'Migration20261126120000', class: Migration20261126120000 },
    { name: 'Migration20261127090000', class: Migration20261127090000 },
    { name: 'Migration20261127120000', class: Migration20261127120000 },
    { name: 'Migration20261207200000', class: Migration20261207200000 },
    { name: 'Migration20261207300000', class: Migration20261207300000 },
    { name: 'Migration20261207400000', class: Migration20261207400000 },
    { name: 'Migration20261207500000', class: Migration20261207500000 },
    { name: 'Migration20261209000300', class: Migration20261209000300 },
    { name: 'Migration20261210000300', class: Migration20261210000300 },
    { name: 'Migration20261211000300', class: Migration20261211000300 },
    { name: 'Migration20261212000000', class: Migration20261212000000 },
  ],
} as const satisfies Omit<DatabaseOptions, 'url'>;
