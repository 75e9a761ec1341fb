/**
 * The org's daily API request allocation: requests of the last 24 hours, counted in minute buckets
 * (https://developer.salesforce.com/docs/atlas.en-us.salesforce_app_limits_cheatsheet.meta/salesforce_app_limits_cheatsheet/salesforce_app_limits_platform_api.htm).
 */
const MINUTE = 60_000;
const WINDOW = 24 * 60 * MINUTE;

export class DailyQuota {
  /** Minute → requests counted in it, oldest first. */
  private readonly minutes = new Map<number, number>();
  private total = 0;
  private lastMinute = -Infinity;

  constructor(public max: number) {}

  private prune(now: number): void {
    const oldest = Math.floor((now - WINDOW) / MINUTE);
    for (const [minute, count] of this.minutes) {
      if (minute > oldest) break;
      this.minutes.delete(minute);
      this.total -= count;
    }
  }

  used(now: number): number {
    this.prune(now);
    return this.total;
  }

  remaining(now: number): number {
    return Math.max(0, this.max - this.used(now));
  }

  /** Counts `n` requests now. */
  spend(n: number, now: number): void {
    const minute = Math.floor(now / MINUTE);
    // Keep the map in time order: a clock that went back counts in the newest bucket.
    const key = Math.max(minute, this.lastMinute);
    this.lastMinute = key;
    this.minutes.set(key, (this.minutes.get(key) ?? 0) + n);
    this.total += n;
  }

  /** Sets the requests of the last 24 hours to exactly `n` (all counted now). */
  reset(n: number, now: number): void {
    this.minutes.clear();
    this.total = 0;
    this.lastMinute = -Infinity;
    if (n > 0) this.spend(n, now);
  }
}
