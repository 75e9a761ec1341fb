import type { DatabaseOptions } from '../database.js';
import { AuditEvent } from './audit-event.entity.js';
import { Migration20261210000000 } from './migrations/Migration20261210000000.js';

/** The audit log's PostgreSQL schema. */
export const AUDIT_SCHEMA = 'audit';

/**
 * The audit log's table: written by every subgraph (mutations) and the gateway (refused
 * authentications) through {@link AuditLog}, read by the accounts subgraph's `auditEvents`.
 */
export const auditModule = {
  schema: AUDIT_SCHEMA,
  entities: [AuditEvent],
  migrations: [{ name: 'Migration20261210000000', class: Migration20261210000000 }],
} as const satisfies Omit<DatabaseOptions, 'url'>;
