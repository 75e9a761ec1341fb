import {
  CredentialError,
  CursorExpiredError,
  PermanentError,
  ThrottledError,
  TransientError,
  type Priority,
  type ProviderHttp,
  type ProviderRequest,
  type ProviderResponse,
  type ProviderResponseHead,
  type ThrottleSignal,
} from '../connectors/contract.js';
import { backoffDelay, sleep } from '../platform/retry.js';
import type { RateBudget } from './budget.js';
import type { UsageRecorder } from './usage.js';

export interface ProviderHttpOptions {
  readonly instanceId: string;
  readonly endpoint: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly priority: Priority;
  readonly budget: RateBudget;
  readonly usage: UsageRecorder;
  /** Reads the provider's throttle signals (the connector's parseThrottle); set once the connector exists. */
  parseThrottle?: (response: ProviderResponseHead) => ThrottleSignal;
  /** Attempts per request before a throttled or transient failure is thrown (default 8). */
  readonly maxAttempts?: number;
  /**
   * Retry 5xx, timeouts and dropped connections here (default true). Governance turns it off: the
   * provider may have acted on a request whose answer was lost, so its job checks the provider's
   * state before trying again. Throttled answers (nothing was done) are always retried here.
   */
  readonly retryTransient?: boolean;
  /** Per-request timeout (default 30 s). */
  readonly timeoutMs?: number;
  /** First backoff for transient failures (default 250 ms, doubling, capped at 30 s). */
  readonly backoffMs?: number;
  readonly signal?: AbortSignal;
}

/**
 * The scheduler's HTTP client for one instance at one priority: every request first spends the
 * instance's shared rate budget; throttled answers block the instance for Retry-After; 5xx,
 * timeouts and dropped connections are retried with exponential backoff and jitter; everything
 * else is a typed {@link ProviderError} carrying the provider's own message.
 */
export class BudgetedProviderHttp implements ProviderHttp {
  constructor(private readonly options: ProviderHttpOptions) {}

  set parseThrottle(parse: (response: ProviderResponseHead) => ThrottleSignal) {
    this.options.parseThrottle = parse;
  }

  async request(request: ProviderRequest): Promise<ProviderResponse> {
    const { budget, instanceId, priority, usage } = this.options;
    const maxAttempts = this.options.maxAttempts ?? 8;
    let lastError: Error | undefined;
    for (let attempt = 1; attempt <= maxAttempts; attempt++) {
      this.options.signal?.throwIfAborted();
      await budget.acquire(instanceId, priority);
      let response: Response;
      try {
        response = await fetch(this.url(request), {
          method: request.method,
          headers: { ...this.options.headers, ...(request.body !== undefined ? { 'content-type': 'application/json' } : {}) },
          body: request.body !== undefined ? JSON.stringify(request.body) : undefined,
          signal: this.options.signal
            ? AbortSignal.any([AbortSignal.timeout(this.options.timeoutMs ?? 30_000), this.options.signal])
            : AbortSignal.timeout(this.options.timeoutMs ?? 30_000),
        });
      } catch (error) {
        usage.record(instanceId, false);
        this.options.signal?.throwIfAborted();
        lastError = new TransientError(`${request.method} ${request.path}: ${(error as Error).message}`);
        if (this.options.retryTransient === false) throw lastError;
        await sleep(this.backoff(attempt), this.options.signal);
        continue;
      }
      const bytes = Buffer.from(await response.arrayBuffer().catch(() => new ArrayBuffer(0)));
      const signal = this.options.parseThrottle?.({ status: response.status, headers: response.headers }) ?? {
        throttled: response.status === 429,
      };
      usage.record(instanceId, signal.throttled);
      await budget.observe(instanceId, signal);
      if (response.ok && !signal.throttled)
        return { status: response.status, headers: response.headers, bytes, body: parseBody(response.headers, bytes) };
      const message = providerMessage(bytes) ?? `${response.status} ${response.statusText}`;
      if (signal.throttled) {
        lastError = new ThrottledError(
          `${request.method} ${request.path}: throttled (${message})`,
          signal.retryAfterMs ?? 1000,
          response.status,
        );
        continue; // the budget now blocks the instance until Retry-After
      }
      if (response.status >= 500 || response.status === 408) {
        lastError = new TransientError(`${request.method} ${request.path}: ${message}`, response.status);
        if (this.options.retryTransient === false) throw lastError;
        await sleep(this.backoff(attempt), this.options.signal);
        continue;
      }
      if (response.status === 401) throw new CredentialError(`The provider refused the credentials: ${message}`, 401);
      if (response.status === 403) throw new CredentialError(`The credentials lack a permission: ${message}`, 403);
      if (response.status === 410) throw new CursorExpiredError(`${request.path}: ${message}`, 410);
      throw new PermanentError(message, response.status);
    }
    throw lastError ?? new TransientError(`${request.method} ${request.path}: no attempt made`);
  }

  private url(request: ProviderRequest): string {
    const url = new URL(request.path, this.options.endpoint.endsWith('/') ? this.options.endpoint : `${this.options.endpoint}/`);
    if (request.path.startsWith('/')) url.pathname = new URL(this.options.endpoint).pathname.replace(/\/$/, '') + request.path;
    for (const [key, value] of Object.entries(request.query ?? {})) if (value !== undefined) url.searchParams.set(key, String(value));
    return url.toString();
  }

  private backoff(attempt: number): number {
    return backoffDelay({ initialMs: this.options.backoffMs ?? 250, maxMs: 30_000, jitter: 0.5 }, attempt);
  }
}

function parseBody(headers: Headers, bytes: Buffer): unknown {
  if (!(headers.get('content-type') ?? '').includes('json')) return bytes;
  try {
    return JSON.parse(bytes.toString('utf8'));
  } catch {
    return bytes;
  }
}

/** The provider's own words from an error body (`message`, `error_description`, `error`). */
function providerMessage(bytes: Buffer): string | undefined {
  try {
    const body = JSON.parse(bytes.toString('utf8')) as Record<string, unknown>;
    const found = body.message ?? body.error_description ?? body.error;
    return typeof found === 'string' ? found : undefined;
  } catch {
    return bytes.length > 0 && bytes.length < 500 ? bytes.toString('utf8') : undefined;
  }
}
