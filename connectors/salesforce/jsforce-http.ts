import { PassThrough } from 'node:stream';
import { Connection } from 'jsforce';
import { Transport } from 'jsforce/lib/transport.js';
import type { HttpRequest, HttpResponse } from 'jsforce/lib/types/common.js';
import { StreamPromise } from 'jsforce/lib/util/promise.js';
import { PermanentError, type ProviderHttp } from '../contract.js';

type Method = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
const METHODS = new Set<string>(['GET', 'POST', 'PUT', 'PATCH', 'DELETE']);

/**
 * jsforce's transport with every request sent through the scheduler's {@link ProviderHttp} (rate
 * budget, retries, the instance's credentials, the outbound policy) instead of jsforce's own HTTP
 * client. Only URLs on the instance's endpoint are sent; the scheduler adds the Authorization header
 * (jsforce's connection holds no token). A failure is the scheduler's typed ProviderError, which
 * jsforce's HttpApi passes on as it is.
 */
export class ProviderHttpTransport extends Transport {
  constructor(
    private readonly http: ProviderHttp,
    private readonly endpoint: string,
  ) {
    super();
  }

  override httpRequest(request: HttpRequest): StreamPromise<HttpResponse> {
    return StreamPromise.create(() => {
      const stream = new PassThrough();
      const promise = this.send(request).then((response) => {
        stream.end(response.body);
        return response;
      });
      // The error reaches jsforce through the promise; a stream no one reads must not turn it into an
      // unhandled 'error' event, which would end the scheduler process.
      stream.on('error', () => undefined);
      promise.catch((error: unknown) => stream.destroy(error as Error));
      return { stream, promise };
    });
  }

  private async send(request: HttpRequest): Promise<HttpResponse> {
    const url = new URL(request.url, this.endpoint);
    if (url.origin !== new URL(this.endpoint).origin) throw new PermanentError(`refusing a request off the org’s endpoint (${url.origin})`);
    if (!METHODS.has(request.method)) throw new PermanentError(`unsupported method ${request.method}`);
    const contentType = Object.entries(request.headers ?? {}).find(([name]) => name.toLowerCase() === 'content-type')?.[1];
    const body = request.body;
    const bytes = typeof body === 'string' ? Buffer.from(body) : Buffer.isBuffer(body) ? body : null;
    // The scheduler's client puts the endpoint's own path (if any) in front of the path it is given.
    const prefix = new URL(this.endpoint).pathname.replace(/\/$/, '');
    const path = prefix && url.pathname.startsWith(`${prefix}/`) ? url.pathname.slice(prefix.length) : url.pathname;
    const response = await this.http.request({
      method: request.method as Method,
      path: path + url.search,
      ...(bytes ? { rawBody: { contentType: contentType ?? 'application/json', bytes } } : {}),
    });
    const headers: Record<string, string> = {};
    response.headers.forEach((value, name) => (headers[name] = value));
    return { statusCode: response.status, headers, body: response.status === 204 ? '' : response.bytes.toString('utf8') };
  }
}

/** A jsforce connection to the org whose requests go through `http`. */
export function salesforceConnection(http: ProviderHttp, instanceUrl: string, version: string): Connection {
  const connection = new Connection({ instanceUrl, version });
  connection._transport = new ProviderHttpTransport(http, instanceUrl);
  return connection;
}
