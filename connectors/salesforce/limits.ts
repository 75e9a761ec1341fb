import type { ProviderResponseHead, ThrottleSignal } from '../contract.js';

/**
 * Salesforce's limits as its answers report them
 * (https://developer.salesforce.com/docs/atlas.en-us.salesforce_app_limits_cheatsheet.meta/salesforce_app_limits_cheatsheet/salesforce_app_limits_platform_api.htm,
 * https://developer.salesforce.com/docs/atlas.en-us.api_rest.meta/api_rest/headers_api_usage.htm):
 * - every REST answer carries `Sforce-Limit-Info: api-usage=<used>/<limit>`, the org's requests over
 *   the rolling 24 hours (every integration's, not only Tenantwatch's) and its daily limit;
 * - past the daily limit, requests are refused with 403 and `REQUEST_LIMIT_EXCEEDED`
 *   ("TotalRequests Limit exceeded."): the quota is spent until older requests leave the 24 hours;
 * - past the concurrent long-running request limit (25 requests running over 20 seconds in a
 *   production org), with the same error code and another message ("ConcurrentPerOrgLongTxn
 *   Limit exceeded."): a short wait is enough.
 */

/** How long to wait after a refusal for concurrency: long-running requests last at least 20 seconds, some end sooner. */
export const CONCURRENCY_RETRY_MS = 5_000;

/** `api-usage=<used>/<limit>` from a `Sforce-Limit-Info` header (other parts, such as `per-app-api-usage`, are skipped). */
export function apiUsageOf(header: string | null): { used: number; limit: number } | undefined {
  const m = /(?:^|[\s,;])api-usage=(\d+)\/(\d+)/.exec(header ?? '');
  if (!m) return undefined;
  const used = Number(m[1]);
  const limit = Number(m[2]);
  return Number.isSafeInteger(used) && Number.isSafeInteger(limit) && limit > 0 ? { used, limit } : undefined;
}

/** The `errorCode` and `message` of a Salesforce error body (`[{ message, errorCode }]`), when it is one. */
export function errorOf(bytes: Buffer | undefined): { errorCode: string; message: string } | undefined {
  if (!bytes || bytes.length === 0 || bytes.length > 64_000) return undefined;
  try {
    const body: unknown = JSON.parse(bytes.toString('utf8'));
    const first = (Array.isArray(body) ? body[0] : body) as { errorCode?: unknown; message?: unknown } | undefined;
    return typeof first?.errorCode === 'string'
      ? { errorCode: first.errorCode, message: typeof first.message === 'string' ? first.message : '' }
      : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Reads Salesforce's throttle signals: the daily quota from `Sforce-Limit-Info` on every answer; a
 * spent daily quota (403 REQUEST_LIMIT_EXCEEDED, TotalRequests) as throttled with `used = limit`,
 * which pauses the instance's requests until the quota refills; the concurrency limit (the same code,
 * another message) as throttled for a few seconds; 429 and 503 with Retry-After as throttled.
 * `knownLimit` is the daily limit when the refusal carries no header (the last one seen, or the config's).
 */
export function parseSalesforceThrottle(response: ProviderResponseHead, knownLimit: number): ThrottleSignal {
  const daily = apiUsageOf(response.headers.get('sforce-limit-info'));
  const error = response.status === 403 ? errorOf(response.bytes) : undefined;
  if (error?.errorCode === 'REQUEST_LIMIT_EXCEEDED') {
    // Not the daily quota: a throttled answer carrying `daily` is read as the quota spent (the budget
    // empties its day for hours), so the header this refusal carries is left to the next answers.
    if (/concurrent/i.test(error.message)) return { throttled: true, retryAfterMs: CONCURRENCY_RETRY_MS };
    const limit = daily?.limit ?? knownLimit;
    return { throttled: true, retryAfterMs: 60_000, daily: { used: Math.max(limit, daily?.used ?? 0), limit } };
  }
  const retryAfter = Number(response.headers.get('retry-after'));
  const throttled = response.status === 429 || (response.status === 503 && response.headers.has('retry-after'));
  return {
    throttled,
    ...(throttled ? { retryAfterMs: Number.isFinite(retryAfter) && retryAfter > 0 ? retryAfter * 1000 : 1000 } : {}),
    ...(daily ? { daily } : {}),
  };
}
