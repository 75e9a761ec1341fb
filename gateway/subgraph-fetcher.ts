import { STATUS_CODES } from 'node:http';
import type { Fetcher, FetcherHeaders, FetcherRequestInit, FetcherResponse } from '@apollo/utils.fetcher';
import { Agent, type Dispatcher } from 'undici';

/**
 * The fetcher of the gateway's requests to the subgraphs: undici's `request` on a keep-alive pool
 * of this gateway's own (not the process's global dispatcher, which tests replace). It replaces
 * @apollo/gateway's default, make-fetch-happen, whose HTTP agent (agent-base) builds an Error and
 * reads its stack on every request to tell HTTP from HTTPS, and whose fetch layers (a cache policy,
 * minipass streams, a WHATWG-like Request) serve nothing here: a subgraph's answers are not cached,
 * not compressed and not redirected. The body is read whole before the response is handed back, so
 * no connection stays taken by a body nobody reads. Like make-fetch-happen as @apollo/gateway
 * configures it: no retries, no limit on connections per subgraph, and no timeout.
 * bench/README.md ("bench:gateway: the subgraph fetcher") has the measurements.
 */
export interface SubgraphFetcher {
  readonly fetch: Fetcher;
  /** Closes the pool's connections. */
  close(): Promise<void>;
}

export function subgraphFetcher(): SubgraphFetcher {
  const agent = new Agent({ headersTimeout: 0, bodyTimeout: 0 });
  return {
    fetch: async (url: string, init?: FetcherRequestInit): Promise<FetcherResponse> => {
      const target = new URL(url);
      const response = await agent.request({
        origin: target.origin,
        path: `${target.pathname}${target.search}`,
        method: (init?.method ?? 'GET') as Dispatcher.HttpMethod,
        headers: init?.headers,
        body: init?.body,
        signal: init?.signal as AbortSignal | undefined,
      });
      const body = Buffer.from(await response.body.arrayBuffer());
      return new BufferedResponse(url, response.statusCode, new ResponseHeaders(response.headers), body);
    },
    close: () => agent.close(),
  };
}

/** A response whose body has been read whole. */
class BufferedResponse implements FetcherResponse {
  readonly redirected = false;
  readonly ok: boolean;
  readonly statusText: string;
  private used = false;

  constructor(
    readonly url: string,
    readonly status: number,
    readonly headers: ResponseHeaders,
    private readonly body: Buffer,
  ) {
    this.ok = status >= 200 && status < 300;
    this.statusText = STATUS_CODES[status] ?? '';
  }

  get bodyUsed(): boolean {
    return this.used;
  }

  private take(): Buffer {
    if (this.used) throw new TypeError('Body is unusable: Body has already been read');
    this.used = true;
    return this.body;
  }

  async arrayBuffer(): Promise<ArrayBuffer> {
    const body = this.take();
    return body.buffer.slice(body.byteOffset, body.byteOffset + body.byteLength) as ArrayBuffer;
  }

  async text(): Promise<string> {
    return this.take().toString('utf8');
  }

  async json(): Promise<unknown> {
    return JSON.parse(this.take().toString('utf8'));
  }

  clone(): FetcherResponse {
    if (this.used) throw new TypeError('Response.clone: Body has already been consumed.');
    return new BufferedResponse(this.url, this.status, new ResponseHeaders(this.headers), this.body);
  }
}

/** A response's headers, names in lower case; a repeated header's values joined with ", " as fetch does. */
class ResponseHeaders implements FetcherHeaders {
  private readonly map = new Map<string, string>();

  constructor(from: Iterable<[string, string]> | Record<string, string | string[] | undefined>) {
    const entries = Symbol.iterator in from ? from : Object.entries(from);
    for (const [name, value] of entries) {
      if (value !== undefined) this.map.set(name.toLowerCase(), Array.isArray(value) ? value.join(', ') : value);
    }
  }

  append(name: string, value: string): void {
    const key = name.toLowerCase();
    const current = this.map.get(key);
    this.map.set(key, current === undefined ? value : `${current}, ${value}`);
  }

  delete(name: string): void {
    this.map.delete(name.toLowerCase());
  }

  get(name: string): string | null {
    return this.map.get(name.toLowerCase()) ?? null;
  }

  has(name: string): boolean {
    return this.map.has(name.toLowerCase());
  }

  set(name: string, value: string): void {
    this.map.set(name.toLowerCase(), value);
  }

  entries(): IterableIterator<[string, string]> {
    return this.map.entries();
  }

  keys(): IterableIterator<string> {
    return this.map.keys();
  }

  values(): IterableIterator<string> {
    return this.map.values();
  }

  [Symbol.iterator](): IterableIterator<[string, string]> {
    return this.map.entries();
  }
}
