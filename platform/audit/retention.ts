import { startRetention, type Retention } from '../retention.js';
import type { AuditLog } from './audit-log.js';

export interface AuditRetentionOptions {
  readonly log: AuditLog;
  /** AUDIT_RETENTION_DAYS: entries older than this are deleted. */
  readonly retentionDays: number;
  /** Default one hour. */
  readonly everyMs?: number;
}

/** Prunes the audit log on a timer, in bounded batches (see AuditLog.prune and platform/retention.ts). */
export function startAuditRetention(options: AuditRetentionOptions): Retention {
  return startRetention({ name: 'audit log', prune: (olderThan) => options.log.prune(olderThan), ...options });
}
