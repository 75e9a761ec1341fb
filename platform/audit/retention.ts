import { logger } from '../logger.js';
import type { AuditLog } from './audit-log.js';

const DAY_MS = 86_400_000;
/** How often old audit entries are pruned by default. */
export const AUDIT_PRUNE_EVERY_MS = 3_600_000;

export interface AuditRetentionOptions {
  readonly log: AuditLog;
  /** AUDIT_RETENTION_DAYS: entries older than this are deleted. */
  readonly retentionDays: number;
  /** Default one hour. */
  readonly everyMs?: number;
}

/** A running retention timer: prune() runs one pass now; stop() ends the timer and waits for a running pass. */
export interface AuditRetention {
  prune(): Promise<number>;
  stop(): Promise<void>;
}

/**
 * Prunes the audit log on a timer (first pass at start), keeping `retentionDays` of entries, in
 * bounded batches (see AuditLog.prune). The timer is unref'd; a failed pass is logged and retried at
 * the next tick. Several replicas may prune at once: deleting the same old rows twice is harmless.
 */
export function startAuditRetention(options: AuditRetentionOptions): AuditRetention {
  let running: Promise<number> | undefined;
  let stopped = false;
  const prune = () =>
    (running ??= options.log
      .prune(new Date(Date.now() - options.retentionDays * DAY_MS))
      .then((deleted) => {
        if (deleted > 0) logger.info({ deleted, retentionDays: options.retentionDays }, 'audit log pruned');
        return deleted;
      })
      .finally(() => {
        running = undefined;
      }));
  const tick = () => {
    if (!stopped) prune().catch((error: unknown) => logger.error({ err: error }, 'audit log pruning failed'));
  };
  const timer = setInterval(tick, options.everyMs ?? AUDIT_PRUNE_EVERY_MS).unref();
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
