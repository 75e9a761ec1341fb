import {
  CredentialError,
  CursorExpiredError,
  PermanentError,
  ThrottledError,
  TransientError,
  type ConnectorConfig,
  type ConnectorFactory,
  type ProviderHttp,
  type ProviderRequest,
  type ProviderResponse,
  type TokenHttp,
} from '../contract.js';
import { retryAfterMs } from './throttle.js';

/** Token requests over plain fetch (tests only). */
export const plainTokenHttp: TokenHttp = {
  async postForm(url, form) {
    const { status, body } = await plainTokenHttp.send('POST', url, {
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams(form).toString(),
    });
    return { status, body };
  },
  async send(method, url, init = {}) {
    const response = await fetch(url, { method, headers: init.headers, body: init.body });
    const text = await response.text();
    const headers = Object.fromEntries(response.headers);
    try {
      return { status: response.status, headers, body: JSON.parse(text) as unknown };
    } catch {
      return { status: response.status, headers, body: text };
    }
  },
};

/**
 * A ProviderHttp over plain fetch, for tests only: base URL and auth headers from the factory, JSON
 * parsed, failures typed, NO retries and NO rate budget (the scheduler's client brings those).
 */
export function directHttp(factory: ConnectorFactory, config: ConnectorConfig): ProviderHttp {
  const endpoint = factory.endpointOf(config).replace(/\/+$/, '');
  const serviceEndpoints = factory.serviceEndpointsOf?.(config) ?? {};
  const credentials = factory.credentials(config, plainTokenHttp);
  return {
    async request(request: ProviderRequest): Promise<ProviderResponse> {
      const base = (request.service && serviceEndpoints[request.service]?.replace(/\/+$/, '')) || endpoint;
      const url = new URL(base + request.path);
      for (const [key, value] of Object.entries(request.query ?? {})) if (value !== undefined) url.searchParams.set(key, String(value));
      const what = `${request.method} ${request.path}`;
      let response: Response;
      try {
        response = await fetch(url, {
          method: request.method,
          headers: {
            ...(await credentials.headers(request.service)),
            ...(request.rawBody
              ? { 'content-type': request.rawBody.contentType }
              : request.body === undefined
                ? {}
                : { 'content-type': 'application/json' }),
          },
          body: request.rawBody ? request.rawBody.bytes : request.body === undefined ? undefined : JSON.stringify(request.body),
        });
      } catch (error) {
        throw new TransientError(`${what}: ${(error as Error).message}`);
      }
      let bytes: Buffer;
      try {
        bytes = Buffer.from(await response.arrayBuffer());
      } catch (error) {
        throw new TransientError(`${what}: ${(error as Error).message}`, response.status);
      }
      const isJson = (response.headers.get('content-type') ?? '').includes('json');
      let body: unknown = bytes;
      if (isJson) {
        try {
          body = JSON.parse(bytes.toString('utf8'));
        } catch {
          body = bytes;
        }
      }
      if (response.ok) return { status: response.status, headers: response.headers, body, bytes };
      const said =
        typeof body === 'object' && body !== null && 'message' in body
          ? String((body as { message: unknown }).message)
          : response.statusText;
      const message = `${what}: ${response.status} ${said}`;
      if (response.status === 401 || response.status === 403) throw new CredentialError(message, response.status);
      if (response.status === 410) throw new CursorExpiredError(message, 410);
      if (response.status === 429) throw new ThrottledError(message, retryAfterMs(response.headers.get('retry-after'), Date.now()) ?? 1000);
      if (response.status >= 500) throw new TransientError(message, response.status);
      throw new PermanentError(message, response.status);
    },
  };
}
