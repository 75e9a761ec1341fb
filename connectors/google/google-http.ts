import { Readable } from 'node:stream';
import { admin, type admin_directory_v1, type admin_reports_v1 } from '@googleapis/admin';
import { drive, type drive_v3 } from '@googleapis/drive';
import { PermanentError, type ProviderHttp } from '../contract.js';
import type { GoogleConfig } from './config.js';
import { providerErrorIn, type GoogleService } from './credentials.js';

/** The origin the clients name when no rootUrl reaches them (an upload's `mediaUrl`). */
const GOOGLE_ORIGIN: Record<GoogleService, string> = {
  directory: 'https://admin.googleapis.com',
  reports: 'https://admin.googleapis.com',
  drive: 'https://www.googleapis.com',
};

/** The endpoint each API is served from (the discovery documents' rootUrl, or the config's). */
export function endpointsOf(config: GoogleConfig): Record<GoogleService, string> {
  return { directory: config.adminEndpoint, reports: config.adminEndpoint, drive: config.driveEndpoint };
}

async function bodyOf(body: RequestInit['body']): Promise<Buffer | null> {
  if (body === undefined || body === null) return null;
  if (typeof body === 'string') return Buffer.from(body);
  if (Buffer.isBuffer(body)) return body;
  if (body instanceof ArrayBuffer) return Buffer.from(body);
  if (ArrayBuffer.isView(body)) return Buffer.from(body.buffer, body.byteOffset, body.byteLength);
  if (body instanceof URLSearchParams) return Buffer.from(body.toString());
  if (body instanceof Readable || typeof (body as AsyncIterable<unknown>)[Symbol.asyncIterator] === 'function') {
    const chunks: Buffer[] = [];
    for await (const chunk of body as AsyncIterable<Buffer | string>) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
    return Buffer.concat(chunks);
  }
  return Buffer.from(await new Response(body).arrayBuffer());
}

/**
 * The fetch the googleapis clients (gaxios) use: every request goes through the scheduler's
 * {@link ProviderHttp} (rate budget of its API, retries, credentials for `subject`, outbound policy),
 * never the clients' own HTTP. A URL off the API's endpoint is refused, never followed.
 */
export function providerFetch(http: ProviderHttp, endpoint: string, service: GoogleService, subject: string | undefined): typeof fetch {
  const base = new URL(endpoint);
  const prefix = base.pathname.replace(/\/$/, '');
  return async (input, init) => {
    let url = new URL(String(input instanceof Request ? input.url : input));
    // googleapis-common puts a client's rootUrl into a method's `url` but not into its `mediaUrl`:
    // uploads name Google's own origin, which stands for the API's configured endpoint.
    if (url.origin === GOOGLE_ORIGIN[service] && url.origin !== base.origin) url = new URL(`${prefix}${url.pathname}${url.search}`, base);
    if (url.origin !== base.origin || !url.pathname.startsWith(`${prefix}/`))
      throw new PermanentError(`refusing a request off the ${service} endpoint: ${url.origin}`);
    const headers = new Headers(init?.headers);
    const method = (init?.method ?? 'GET').toUpperCase() as 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
    const bytes = await bodyOf(init?.body);
    const contentType = headers.get('content-type') ?? 'application/octet-stream';
    const response = await http.request({
      service,
      ...(subject ? { subject } : {}),
      method,
      path: url.pathname.slice(prefix.length) + url.search,
      ...(bytes && bytes.length > 0
        ? contentType.startsWith('application/json')
          ? { body: JSON.parse(bytes.toString('utf8')) as unknown }
          : { rawBody: { contentType, bytes } }
        : {}),
    });
    return new Response(response.status === 204 || response.bytes.length === 0 ? null : new Uint8Array(response.bytes), {
      status: response.status,
      headers: response.headers,
    });
  };
}

/**
 * The googleapis clients of one instance, one per (API, acting user), each on {@link providerFetch};
 * gaxios' own retries are off (the scheduler retries). {@link call} rethrows the scheduler's typed
 * failures that gaxios wraps.
 */
export class GoogleApis {
  private readonly drives = new Map<string, drive_v3.Drive>();
  private directoryClient?: admin_directory_v1.Admin;
  private reportsClient?: admin_reports_v1.Admin;
  private readonly endpoints: Record<GoogleService, string>;

  constructor(
    private readonly http: ProviderHttp,
    config: GoogleConfig,
  ) {
    this.endpoints = endpointsOf(config);
  }

  private options(service: GoogleService, subject?: string) {
    const endpoint = this.endpoints[service];
    return { rootUrl: `${endpoint}/`, fetchImplementation: providerFetch(this.http, endpoint, service, subject), retry: false };
  }

  /** The Directory API, as the admin subject. */
  directory(): admin_directory_v1.Admin {
    this.directoryClient ??= admin({ version: 'directory_v1', ...this.options('directory') });
    return this.directoryClient;
  }

  /** The Reports API, as the admin subject. */
  reports(): admin_reports_v1.Admin {
    this.reportsClient ??= admin({ version: 'reports_v1', ...this.options('reports') });
    return this.reportsClient;
  }

  /** Drive v3, acting as `subject` (a user's email; the admin subject when omitted). */
  drive(subject?: string): drive_v3.Drive {
    const key = subject ?? '';
    let client = this.drives.get(key);
    if (!client) {
      client = drive({ version: 'v3', ...this.options('drive', subject) });
      this.drives.set(key, client);
    }
    return client;
  }

  /** Runs a client call and answers its data; a failure of the scheduler's HTTP client comes out as the ProviderError it was. */
  async call<T>(request: Promise<{ data: T }>): Promise<T> {
    try {
      return (await request).data;
    } catch (error) {
      throw providerErrorIn(error) ?? error;
    }
  }
}

/** Whether a failure is the provider's "not found". */
export const isNotFound = (error: unknown) => (error as { status?: number }).status === 404;
