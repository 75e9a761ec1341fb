import { logger } from '../platform/logger.js';

/** A daily quota as the provider reported it (ThrottleSignal.daily). */
export interface ReportedDailyQuota {
  readonly used: number;
  readonly limit: number;
}

/** Where usage lands: the accounts module's AppInstanceService.recordApiUsage. */
export type UsageSink = (instanceId: string, requests: number, throttled: number, at: Date, daily?: ReportedDailyQuota) => Promise<void>;

interface Pending {
  requests: number;
  throttled: number;
  daily?: ReportedDailyQuota;
}

/**
 * Counts provider requests per instance in memory and writes them once a second (and on flush), so
 * that `AppInstance.apiUsage` is fed without one database write per provider request.
 */
export class UsageRecorder {
  private pending = new Map<string, Pending>();
  private readonly timer: NodeJS.Timeout;
  private flushing: Promise<void> = Promise.resolve();

  constructor(
    private readonly sink: UsageSink,
    intervalMs = 1000,
  ) {
    this.timer = setInterval(() => void this.flush(), intervalMs);
    this.timer.unref();
  }

  /** Counts one request (`daily`: the quota its answer reported, the latest kept). A request that got no answer counts too. */
  record(instanceId: string, throttled: boolean, daily?: ReportedDailyQuota): void {
    const entry = this.pending.get(instanceId) ?? { requests: 0, throttled: 0 };
    entry.requests += 1;
    if (throttled) entry.throttled += 1;
    if (daily) entry.daily = daily;
    this.pending.set(instanceId, entry);
  }

  /** Writes what was counted so far; errors are logged, the counts kept for the next try. */
  flush(): Promise<void> {
    this.flushing = this.flushing.then(async () => {
      const batch = this.pending;
      this.pending = new Map();
      const at = new Date();
      for (const [instanceId, { requests, throttled, daily }] of batch) {
        try {
          await this.sink(instanceId, requests, throttled, at, daily);
        } catch (error) {
          logger.warn({ err: error, instanceId }, 'could not record API usage; will retry');
          const entry = this.pending.get(instanceId) ?? { requests: 0, throttled: 0 };
          const latest = entry.daily ?? daily;
          this.pending.set(instanceId, {
            requests: entry.requests + requests,
            throttled: entry.throttled + throttled,
            ...(latest ? { daily: latest } : {}),
          });
        }
      }
    });
    return this.flushing;
  }

  async close(): Promise<void> {
    clearInterval(this.timer);
    await this.flush();
  }
}
