import { logger } from '../../platform/logger.js';
import type { EventLogService } from './event-log.service.js';

const DAY_MS = 86_400_000;
/** How often old entries are pruned by default. */
export const PRUNE_EVERY_MS = 3_600_000;

export interface EventLogRetentionOptions {
  readonly log: EventLogService;
  /** EVENT_LOG_RETENTION_DAYS: entries older than this are deleted. */
  readonly retentionDays: number;
  /** Default one hour. */
  readonly everyMs?: number;
}

/** A running retention timer: prune() runs one pass now; stop() ends the timer and waits for a running pass. */
export interface EventLogRetention {
  prune(): Promise<number>;
  stop(): Promise<void>;
}

/**
 * Prunes the event log on a timer (first pass at start), keeping `retentionDays` of entries:
 * a subscriber can resume from any cursor younger than that. The timer is unref'd (it never keeps
 * the process alive); a failed pass is logged and retried at the next tick. Several replicas may
 * prune at once: deleting the same old rows twice is harmless.
 */
export function startEventLogRetention(options: EventLogRetentionOptions): EventLogRetention {
  let running: Promise<number> | undefined;
  let stopped = false;
  const prune = () =>
    (running ??= options.log
      .prune(new Date(Date.now() - options.retentionDays * DAY_MS))
      .then((deleted) => {
        if (deleted > 0) logger.info({ deleted, retentionDays: options.retentionDays }, 'event log pruned');
        return deleted;
      })
      .finally(() => {
        running = undefined;
      }));
  const tick = () => {
    if (!stopped) prune().catch((error: unknown) => logger.error({ err: error }, 'event log pruning failed'));
  };
  const timer = setInterval(tick, options.everyMs ?? PRUNE_EVERY_MS).unref();
  tick();
  return {
    prune,
    stop: async () => {
      stopped = true;
      clearInterval(timer);
      await running?.catch(() => undefined);
    },
  };
}
