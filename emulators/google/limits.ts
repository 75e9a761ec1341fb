import { GoogleError } from './errors.js';
import type { GoogleApi, ResolvedCustomerSpec } from './spec.js';

/** Requests counted in one minute window, per key. */
class MinuteWindow {
  private window = -1;
  private readonly counts = new Map<string, number>();

  /** Counts a request for `key`; answers whether it stays within `limit`. */
  take(key: string, limit: number, now: number): boolean {
    const window = Math.floor(now / 60_000);
    if (window !== this.window) {
      this.window = window;
      this.counts.clear();
    }
    const used = this.counts.get(key) ?? 0;
    if (used >= limit) return false;
    this.counts.set(key, used + 1);
    return true;
  }
}

/**
 * Per-minute quotas of each API, per project (the service account's Google Cloud project) and per user
 * (the impersonated one), as the Admin SDK and Drive document them
 * (https://developers.google.com/admin-sdk/directory/v1/limits, https://developers.google.com/drive/api/guides/limits):
 * over the per-user quota, 403 `userRateLimitExceeded`; over the project's, 403 `rateLimitExceeded`.
 * `throttleRate` answers a share of requests as other apps spending the project's quota would: Drive's
 * backend with 429 `rateLimitExceeded` ("Additional rate limit checks on the Drive backend might also
 * generate a 429"), the Admin SDK with its 403 `rateLimitExceeded`.
 */
export class Quotas {
  private readonly project = new MinuteWindow();
  private readonly user = new MinuteWindow();

  constructor(private readonly spec: ResolvedCustomerSpec) {}

  /** Counts the request; throws the API's rate-limit error when it is over a quota (or throttled). */
  take(api: GoogleApi, projectId: string, userKey: string, now: number, random: () => number): void {
    const limits = this.spec.limits[api];
    if (!this.user.take(`${api} ${projectId} ${userKey}`, limits.perUser, now)) throw userRateLimitExceeded(api);
    if (!this.project.take(`${api} ${projectId}`, limits.perProject, now)) throw rateLimitExceeded(api, false);
    if (this.spec.throttleRate > 0 && random() < this.spec.throttleRate) throw rateLimitExceeded(api, true);
  }
}

export const userRateLimitExceeded = (api: GoogleApi) =>
  new GoogleError(
    403,
    'userRateLimitExceeded',
    api === 'drive'
      ? 'User Rate Limit Exceeded. Rate of requests for user exceed configured project quota. You may consider re-evaluating expected per-user traffic to the API and adjust project quota limits accordingly.'
      : 'User Rate Limit Exceeded',
    { domain: 'usageLimits', itemMessage: 'User Rate Limit Exceeded' },
  );

export const rateLimitExceeded = (api: GoogleApi, backend: boolean) =>
  api === 'drive' && backend
    ? new GoogleError(429, 'rateLimitExceeded', 'Rate Limit Exceeded', { domain: 'usageLimits' })
    : new GoogleError(403, 'rateLimitExceeded', 'Rate Limit Exceeded', { domain: 'usageLimits' });

/** Whether an error is one of the rate-limit answers (the `throttled` count). */
export const isRateLimit = (error: GoogleError) => error.reason === 'userRateLimitExceeded' || error.reason === 'rateLimitExceeded';
