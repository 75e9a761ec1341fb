import {
  CredentialError,
  CursorExpiredError,
  EndpointRefusedError,
  PermanentError,
  ThrottledError,
  TransientError,
  type ConnectorCredentials,
  type Priority,
  type ProviderHttp,
  type ProviderRequest,
  type ProviderResponse,
  type ProviderResponseHead,
  type ThrottleSignal,
} from '../connectors/contract.js';
import type { Dispatcher } from 'undici';
import { logger } from '../platform/logger.js';
import { outboundRefusalOf } from '../platform/outbound.js';
import { backoffDelay, sleep } from '../platform/retry.js';
import type { RateBudget } from './budget.js';
import type { UsageRecorder } from './usage.js';

/** What the client tells its observer (the scheduler's metrics) of every attempt. */
export interface ProviderMetrics {
  /** One attempt's answer: its HTTP status (`none`: no answer), and whether the provider throttled it. */
  response(instanceId: string, status: number | 'none', throttled: boolean): void;
}

export interface ProviderHttpOptions {
  readonly instanceId: string;
  readonly endpoint: string;
  /** Endpoints of services that have their own (the factory's serviceEndpointsOf). */
  readonly serviceEndpoints?: Readonly<Record<string, string>>;
  /** Authenticate every request; asked before each attempt, invalidated once per request on a 401. */
  readonly credentials: ConnectorCredentials;
  readonly priority: Priority;
  readonly budget: RateBudget;
  /** The provider services with a budget of their own (the connector's `limits.services`); others spend the instance's. Set once the connector exists. */
  budgetServices?: ReadonlySet<string>;
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
  /** The outbound policy's connection pool (platform/outbound.ts); Node's default without one. */
  readonly dispatcher?: Dispatcher;
  readonly signal?: AbortSignal;
  readonly metrics?: ProviderMetrics;
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

  set budgetServices(services: ReadonlySet<string>) {
    this.options.budgetServices = services;
  }

  async request(request: ProviderRequest): Promise<ProviderResponse> {
    const { budget, instanceId, priority, usage } = this.options;
    const maxAttempts = this.options.maxAttempts ?? 8;
    let lastError: Error | undefined;
    // A 401 may mean the access token expired since it was cached: one fresh token per request, then it is final.
    let reauthorized = false;
    // The budget this request spends: its service's, when the provider throttles that service on its own.
    const bucket = request.service && this.options.budgetServices?.has(request.service) ? request.service : '';
    for (let attempt = 1; attempt <= maxAttempts; attempt++) {
      this.options.signal?.throwIfAborted();
      const auth = await this.options.credentials.headers(request.service, request.subject);
      await budget.acquire(instanceId, priority, bucket);
      let response: Response;
      try {
        response = await fetch(this.url(request), {
          dispatcher: this.options.dispatcher,
          method: request.method,
          headers: {
            ...auth,
            ...(request.rawBody
              ? { 'content-type': request.rawBody.contentType }
              : request.body !== undefined
                ? { 'content-type': 'application/json' }
                : {}),
          },
          body: request.rawBody ? request.rawBody.bytes : request.body !== undefined ? JSON.stringify(request.body) : undefined,
          signal: this.options.signal
            ? AbortSignal.any([AbortSignal.timeout(this.options.timeoutMs ?? 30_000), this.options.signal])
            : AbortSignal.timeout(this.options.timeoutMs ?? 30_000),
        });
      } catch (error) {
        usage.record(instanceId, false);
        this.options.metrics?.response(instanceId, 'none', false);
        this.options.signal?.throwIfAborted();
        const refusal = outboundRefusalOf(error);
        if (refusal) throw new EndpointRefusedError(`The endpoint is refused: ${refusal.message}`);
        const cause = (error as { cause?: { code?: unknown } }).cause?.code;
        logger.info({ instanceId, method: request.method, path: request.path, err: error }, 'provider unreachable');
        lastError = new TransientError(`The provider could not be reached${typeof cause === 'string' ? ` (${cause})` : ''}`);
        if (this.options.retryTransient === false) throw lastError;
        await sleep(this.backoff(attempt), this.options.signal);
        continue;
      }
      const bytes = Buffer.from(await response.arrayBuffer().catch(() => new ArrayBuffer(0)));
      const signal = this.options.parseThrottle?.({ status: response.status, headers: response.headers, bytes }) ?? {
        throttled: response.status === 429,
      };
      usage.record(instanceId, signal.throttled, signal.daily);
      this.options.metrics?.response(instanceId, response.status, signal.throttled);
      await budget.observe(instanceId, signal, undefined, bucket);
      if (response.ok && !signal.throttled)
        return { status: response.status, headers: response.headers, bytes, body: parseBody(response.headers, bytes) };
      // The provider's own words go to the log only: what users see says what failed in ours.
      const status = response.status;
      const logged = { instanceId, method: request.method, path: request.path, status, detail: providerMessage(bytes) };
      if (signal.throttled) {
        logger.debug(logged, 'provider throttled a request');
        lastError = new ThrottledError(`The provider throttled the request (HTTP ${status})`, signal.retryAfterMs ?? 1000, status);
        continue; // the budget now blocks the instance until Retry-After
      }
      if (status >= 500 || status === 408) {
        logger.debug(logged, 'provider failed a request');
        lastError = new TransientError(`The provider answered HTTP ${status}`, status);
        if (this.options.retryTransient === false) throw lastError;
        await sleep(this.backoff(attempt), this.options.signal);
        continue;
      }
      if (status === 401 && !reauthorized) {
        logger.debug(logged, 'provider refused the access token; acquiring a new one');
        this.options.credentials.invalidate(request.service, request.subject);
        reauthorized = true;
        continue;
      }
      logger.warn(logged, 'provider refused a request');
      if (status === 401) throw new CredentialError('The provider refused the credentials (HTTP 401)', 401);
      if (status === 403) throw new CredentialError('The credentials lack a permission the connector needs (HTTP 403)', 403);
      if (status === 410) throw new CursorExpiredError("The provider's change feed no longer knows this position (HTTP 410)", 410);
      throw new PermanentError(`The provider refused the request${REFUSAL[status] ?? ''} (HTTP ${status})`, status);
    }
    throw lastError ?? new TransientError('No request was made to the provider');
  }

  private url(request: ProviderRequest): string {
    // The path may carry a query of its own (a provider's next-page link, e.g. Graph's `@odata.nextLink`).
    const [path = '', search] = request.path.split(/\?(.*)/s, 2);
    const endpoint = (request.service && this.options.serviceEndpoints?.[request.service]) || this.options.endpoint;
    const url = new URL(path, endpoint.endsWith('/') ? endpoint : `${endpoint}/`);
    if (path.startsWith('/')) url.pathname = new URL(endpoint).pathname.replace(/\/$/, '') + path;
    if (search !== undefined) url.search = search;
    for (const [key, value] of Object.entries(request.query ?? {})) if (value !== undefined) url.searchParams.set(key, String(value));
    return url.toString();
  }

  private backoff(attempt: number): number {
    return backoffDelay({ initialMs: this.options.backoffMs ?? 250, maxMs: 30_000, jitter: 0.5 }, attempt);
  }
}

/** How a refusal reads, by HTTP status. */
const REFUSAL: Readonly<Record<number, string>> = {
  400: ' as invalid',
  404: ': it has no such item',
  405: ' as not allowed',
  409: ' as conflicting with its state',
  412: ' as out of date',
  413: ' as too large',
  422: ' as invalid',
};

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
