/**
 * A token bucket per tenant: refills continuously at the per-minute rate and holds `burstSeconds`
 * of it, so short bursts pass and a sustained excess gets 429 with Retry-After.
 */

export interface RateDecision {
  readonly allowed: boolean;
  /** The per-minute limit (X-RateLimit-Limit). */
  readonly limit: number;
  /** Whole requests left now (X-RateLimit-Remaining). */
  readonly remaining: number;
  /** When the bucket is full again, epoch seconds (X-RateLimit-Reset). */
  readonly resetAt: number;
  /** Seconds until a request would pass, at least 1 (Retry-After); 0 when allowed. */
  readonly retryAfterSeconds: number;
}

export class TokenBucket {
  private tokens: number;
  private last: number;

  constructor(
    private perMinute: number,
    private burstSeconds: number,
    now: number,
  ) {
    this.tokens = this.capacity;
    this.last = now;
  }

  private get capacity(): number {
    return Math.max(1, (this.perMinute / 60) * this.burstSeconds);
  }

  private get perMs(): number {
    return this.perMinute / 60_000;
  }

  private refill(now: number): void {
    if (now > this.last) this.tokens = Math.min(this.capacity, this.tokens + (now - this.last) * this.perMs);
    this.last = Math.max(this.last, now);
  }

  /** Changes the limit from now on; the tokens already in the bucket stay, up to the new capacity. */
  setLimit(perMinute: number, burstSeconds: number, now: number): void {
    this.refill(now);
    this.perMinute = perMinute;
    this.burstSeconds = burstSeconds;
    this.tokens = Math.min(this.tokens, this.capacity);
  }

  /** Takes one token if there is one. */
  take(now: number): RateDecision {
    this.refill(now);
    const allowed = this.tokens >= 1;
    if (allowed) this.tokens -= 1;
    const retryAfterSeconds = allowed ? 0 : Math.max(1, Math.ceil((1 - this.tokens) / this.perMs / 1000));
    return {
      allowed,
      limit: Math.round(this.perMinute),
      remaining: Math.floor(this.tokens),
      resetAt: Math.ceil((now + (this.capacity - this.tokens) / this.perMs) / 1000),
      retryAfterSeconds,
    };
  }
}
