import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { ApiError } from './api-error.js';
import type { Reply } from './router.js';
import type { Tenant } from './tenant.js';

/** Issued access tokens live at most this many per tenant: the oldest go first (a client that asks in a loop cannot grow memory). */
const MAX_LIVE_TOKENS_PER_TENANT = 1000;
/** Largest token request body (a form of a few fields). */
const MAX_FORM_BYTES = 16_384;

interface Issued {
  readonly tenant: Tenant;
  expiresAt: number;
}

/** What a bearer token is to the simulator: a tenant's, an expired one, or nothing it knows. */
export type TokenLookup = { readonly tenant: Tenant } | { readonly expired: true } | undefined;

/**
 * The simulator's identity provider: `POST /oauth/token` with the client-credentials grant (RFC 6749
 * §4.4, client authentication in the form body as §2.3.1 allows) issues opaque access tokens that
 * expire after the tenant's `oauth.tokenLifetimeSeconds`; errors are RFC 6749 §5.2 JSON
 * (`invalid_request`, `invalid_client`, `unsupported_grant_type`).
 */
export class AccessTokens {
  private readonly issued = new Map<string, Issued>();

  constructor(private readonly tenants: () => Iterable<Tenant>) {}

  /** The tenant a bearer token selects, or that it expired. */
  lookup(token: string, now: number): TokenLookup {
    const issued = this.issued.get(token);
    if (!issued) return undefined;
    if (issued.expiresAt <= now) {
      this.issued.delete(token);
      return { expired: true };
    }
    return { tenant: issued.tenant };
  }

  /** Expires every token issued to `tenant` now (as a revoked grant does); answers how many. */
  expireAll(tenant: Tenant): number {
    let count = 0;
    for (const [token, issued] of this.issued) {
      if (issued.tenant !== tenant) continue;
      this.issued.delete(token);
      count++;
    }
    return count;
  }

  /** Answers a token request. */
  async grant(req: IncomingMessage, now: number): Promise<Reply> {
    if (req.method !== 'POST') throw oauthError(405, 'invalid_request', 'the token endpoint takes POST');
    const type = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
    if (type !== 'application/x-www-form-urlencoded') {
      throw oauthError(400, 'invalid_request', 'the body must be application/x-www-form-urlencoded');
    }
    const form = await readForm(req);
    const grantType = form.get('grant_type');
    const clientId = form.get('client_id');
    const clientSecret = form.get('client_secret');
    if (!grantType) throw oauthError(400, 'invalid_request', 'grant_type is required');
    if (grantType !== 'client_credentials') throw oauthError(400, 'unsupported_grant_type', `grant_type ${grantType} is not supported`);
    if (!clientId || !clientSecret) throw oauthError(400, 'invalid_request', 'client_id and client_secret are required');
    const tenant = [...this.tenants()].find((t) => t.state.spec.oauth?.clientId === clientId);
    const expected = tenant?.state.spec.oauth?.clientSecret;
    if (!tenant || expected === undefined || !sameSecret(clientSecret, expected)) {
      throw oauthError(401, 'invalid_client', 'client authentication failed');
    }
    const lifetime = tenant.state.spec.oauth!.tokenLifetimeSeconds;
    const token = `sat_${randomBytes(24).toString('base64url')}`;
    this.prune(tenant, now);
    this.issued.set(token, { tenant, expiresAt: now + lifetime * 1000 });
    return {
      status: 200,
      json: { access_token: token, token_type: 'Bearer', expires_in: lifetime },
      headers: { 'cache-control': 'no-store' },
    };
  }

  /** Drops expired tokens, and the tenant's oldest live ones beyond the cap. */
  private prune(tenant: Tenant, now: number): void {
    let live = 0;
    for (const [token, issued] of this.issued) {
      if (issued.expiresAt <= now) this.issued.delete(token);
      else if (issued.tenant === tenant) live++;
    }
    for (const [token, issued] of this.issued) {
      if (live < MAX_LIVE_TOKENS_PER_TENANT) break;
      if (issued.tenant !== tenant) continue;
      this.issued.delete(token);
      live--;
    }
  }
}

function sameSecret(given: string, expected: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

function oauthError(status: number, code: string, description: string): ApiError {
  return new ApiError(status, code, description, status === 401 ? { 'www-authenticate': 'Basic realm="simulator"' } : {});
}

/** A token endpoint's error as RFC 6749 §5.2 writes it: `{ error, error_description }`. */
export function oauthErrorReply(error: unknown): Reply | undefined {
  if (!(error instanceof ApiError)) return undefined;
  return {
    status: error.status,
    json: { error: error.code, error_description: error.message },
    headers: { ...error.headers, 'cache-control': 'no-store' },
  };
}

async function readForm(req: IncomingMessage): Promise<URLSearchParams> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_FORM_BYTES) throw oauthError(413, 'invalid_request', `the body is over ${MAX_FORM_BYTES} bytes`);
    chunks.push(chunk);
  }
  return new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
}
