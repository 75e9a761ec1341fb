import { startRetention, type Retention } from '../../platform/retention.js';
import type { EventLogService } from './event-log.service.js';

export interface EventLogRetentionOptions {
  readonly log: EventLogService;
  /** EVENT_LOG_RETENTION_DAYS: entries older than this are deleted. */
  readonly retentionDays: number;
  /** Default one hour. */
  readonly everyMs?: number;
}

/**
 * Prunes the event log on a timer (see platform/retention.ts), keeping `retentionDays` of entries: a
 * subscriber can resume from any cursor younger than that.
 */
export function startEventLogRetention(options: EventLogRetentionOptions): Retention {
  return startRetention({ name: 'event log', prune: (olderThan) => options.log.prune(olderThan), ...options });
}
