import { logger } from './logger.js';

const DAY_MS = 86_400_000;
/** How often old entries are pruned by default. */
export const PRUNE_EVERY_MS = 3_600_000;

export interface RetentionOptions {
  /** What is pruned, as log lines name it (e.g. "event log"). */
  readonly name: string;
  /** Deletes the entries older than `olderThan`, in bounded batches; answers how many. */
  readonly prune: (olderThan: Date) => Promise<number>;
  /** Entries older than this many days are deleted. */
  readonly retentionDays: number;
  /** Default one hour. */
  readonly everyMs?: number;
}

/** A running retention timer: prune() runs one pass now; stop() ends the timer and waits for a running pass. */
export interface Retention {
  prune(): Promise<number>;
  stop(): Promise<void>;
}

/**
 * Prunes on a timer (first pass at start), keeping `retentionDays` of entries. Passes never overlap;
 * the timer is unref'd (it never keeps the process alive); a failed pass is logged and retried at the
 * next tick. Several replicas may prune at once: deleting the same old rows twice is harmless.
 */
export function startRetention(options: RetentionOptions): Retention {
  let running: Promise<number> | undefined;
  let stopped = false;
  const prune = () =>
    (running ??= options
      .prune(new Date(Date.now() - options.retentionDays * DAY_MS))
      .then((deleted) => {
        if (deleted > 0) logger.info({ deleted, retentionDays: options.retentionDays }, `${options.name} pruned`);
        return deleted;
      })
      .finally(() => {
        running = undefined;
      }));
  const tick = () => {
    if (!stopped) prune().catch((error: unknown) => logger.error({ err: error }, `${options.name} pruning failed`));
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
