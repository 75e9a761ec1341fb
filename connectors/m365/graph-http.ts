import { randomUUID } from 'node:crypto';
import { Client, GraphClientError, type Context, type Middleware } from '@microsoft/microsoft-graph-client';
import { ProviderError, type ProviderHttp } from '../contract.js';

/** The Graph services Tenantwatch spends budgets on, by the path they serve. */
export type GraphService = 'directory' | 'audit' | 'files';

export function serviceOf(path: string): GraphService {
  if (/^\/v1\.0\/(drives|sites|users\/[^/]+\/drive)/.test(path)) return 'files';
  if (path.startsWith('/v1.0/auditLogs')) return 'audit';
  return 'directory';
}

/** The header of the stand-in answer that carries a failure of the scheduler's HTTP client through the Graph client. */
const FAILURE_HEADER = 'x-tenantwatch-failure';

/**
 * The Graph client's last middleware: every request goes through the scheduler's {@link ProviderHttp}
 * (rate budget, retries, credentials, outbound policy) instead of the client's own fetch. Absolute
 * URLs (`@odata.nextLink`, `@odata.deltaLink`) must be on the instance's Graph endpoint.
 */
class ProviderHttpMiddleware implements Middleware {
  /** Failures by id, until {@link GraphHttp.call} takes them back (the Graph client wraps what a middleware throws, losing its type). */
  readonly failures = new Map<string, ProviderError>();

  constructor(
    private readonly http: ProviderHttp,
    private readonly endpoint: string,
  ) {}

  async execute(context: Context): Promise<void> {
    const url = new URL(typeof context.request === 'string' ? context.request : context.request.url);
    if (url.origin !== new URL(this.endpoint).origin) throw new GraphClientError(`refusing a link off the Graph endpoint: ${url.origin}`);
    const path = url.pathname + url.search;
    const options = context.options ?? {};
    const method = (options.method ?? 'GET').toUpperCase() as 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
    const headers = new Headers(options.headers as ConstructorParameters<typeof Headers>[0]);
    const body = options.body;
    const raw = Buffer.isBuffer(body) ? body : body instanceof ArrayBuffer ? Buffer.from(body) : null;
    try {
      const response = await this.http.request({
        service: serviceOf(url.pathname),
        method,
        path,
        ...(raw
          ? { rawBody: { contentType: headers.get('content-type') ?? 'application/octet-stream', bytes: raw } }
          : typeof body === 'string'
            ? { body: JSON.parse(body) as unknown }
            : {}),
      });
      context.response = new Response(response.status === 204 ? null : new Uint8Array(response.bytes), {
        status: response.status,
        headers: response.headers,
      });
    } catch (error) {
      if (!(error instanceof ProviderError)) throw error;
      // Answered as a failed response the Graph client turns into a GraphError carrying our header.
      const id = randomUUID();
      this.failures.set(id, error);
      context.response = new Response(JSON.stringify({ error: { code: 'tenantwatchProviderFailure', message: error.message } }), {
        status: error.status && error.status >= 400 ? error.status : 599,
        headers: { 'content-type': 'application/json', [FAILURE_HEADER]: id },
      });
    }
  }
}

/** A Graph client whose requests go through `http`, and the way to call it that rethrows the scheduler's typed failures. */
export class GraphHttp {
  readonly client: Client;
  private readonly middleware: ProviderHttpMiddleware;

  constructor(http: ProviderHttp, graphEndpoint: string) {
    this.middleware = new ProviderHttpMiddleware(http, graphEndpoint);
    this.client = Client.initWithMiddleware({
      middleware: this.middleware,
      baseUrl: `${graphEndpoint}/`,
      defaultVersion: 'v1.0',
      customHosts: new Set([new URL(graphEndpoint).hostname]),
    });
  }

  /** Runs a Graph client call; a failure of the scheduler's HTTP client comes out as the ProviderError it was (throttled, refused, transient...). */
  async call<T>(call: (client: Client) => Promise<T>): Promise<T> {
    try {
      return await call(this.client);
    } catch (error) {
      const headers = (error as { headers?: Headers }).headers;
      const id = headers instanceof Headers ? headers.get(FAILURE_HEADER) : null;
      const failure = id ? this.middleware.failures.get(id) : undefined;
      if (id) this.middleware.failures.delete(id);
      if (failure) throw failure;
      throw error;
    }
  }
}
