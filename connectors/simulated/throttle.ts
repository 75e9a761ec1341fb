import type { ProviderResponseHead, ThrottleSignal } from '../contract.js';

/** Reads the simulator's throttle signals: 429 + Retry-After, and X-RateLimit-Limit/Remaining/Reset. */

function numberHeader(headers: Headers, name: string): number | undefined {
  const raw = headers.get(name);
  if (raw === null || raw.trim() === '') return undefined;
  const value = Number(raw);
  return Number.isFinite(value) ? value : undefined;
}

/** Retry-After in ms: delta seconds or an HTTP date (RFC 9110 §10.2.3); undefined when absent or unreadable. */
export function retryAfterMs(value: string | null, now: number): number | undefined {
  if (value === null || value.trim() === '') return undefined;
  if (/^\d+$/.test(value.trim())) return Number(value.trim()) * 1000;
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

/** The throttle signal of a response; without Retry-After a 429 waits until X-RateLimit-Reset. */
export function parseSimulatorThrottle(response: ProviderResponseHead, now = Date.now()): ThrottleSignal {
  const { status, headers } = response;
  const throttled = status === 429;
  const reset = numberHeader(headers, 'x-ratelimit-reset');
  const resetAt = reset === undefined ? undefined : reset * 1000;
  let wait = retryAfterMs(headers.get('retry-after'), now);
  if (throttled && wait === undefined && resetAt !== undefined) wait = Math.max(0, resetAt - now);
  const signal: { -readonly [K in keyof ThrottleSignal]: ThrottleSignal[K] } = { throttled };
  if (wait !== undefined) signal.retryAfterMs = wait;
  const remaining = numberHeader(headers, 'x-ratelimit-remaining');
  if (remaining !== undefined) signal.remaining = remaining;
  const limit = numberHeader(headers, 'x-ratelimit-limit');
  if (limit !== undefined) signal.limit = limit;
  if (resetAt !== undefined) signal.resetAt = resetAt;
  return signal;
}
