import { CredentialError, type ConnectorCredentials, type TokenHttp } from './contract.js';

/** A fixed API token: nothing to acquire or refresh; a 401 is final. */
export class StaticTokenCredentials implements ConnectorCredentials {
  constructor(private readonly token: string) {}

  async headers(): Promise<Readonly<Record<string, string>>> {
    return { authorization: `Bearer ${this.token}` };
  }

  invalidate(): void {
    // A fixed token cannot be renewed: the request's second 401 ends it as a CredentialError.
  }
}

/** How an OAuth 2.0 client-credentials grant is asked for, per service (one token per audience). */
export interface ClientCredentialsGrant {
  /** The token endpoint, e.g. `https://login.microsoftonline.com/<tenant>/oauth2/v2.0/token`. */
  readonly tokenUrl: string;
  readonly clientId: string;
  /** The client's authentication: a secret, or a signed JWT assertion made fresh per request (certificates). */
  readonly clientAuth: { readonly secret: string } | { readonly assertion: () => Promise<string> };
  /** The `scope` parameter per service (`https://graph.microsoft.com/.default`); none when the provider takes no scope. */
  readonly scopes?: Readonly<Record<string, string>>;
}

interface CachedToken {
  readonly token: string;
  /** Epoch ms when the provider stops accepting it. */
  readonly expiresAt: number;
  /** Epoch ms after which it is refreshed before use. */
  readonly refreshAt: number;
}

/** The default service's key in the cache and the scopes. */
const DEFAULT = 'default';

/**
 * OAuth 2.0 client credentials (RFC 6749 §4.4): one access token per service, acquired on first use,
 * refreshed when a fifth of its lifetime (at most 5 minutes) is left or when the provider refused it,
 * and shared by concurrent requests (one acquisition at a time per service). A refused grant throws
 * {@link CredentialError} saying so with the status and the OAuth error code, never the identity
 * provider's description (which the caller logs).
 */
export class ClientCredentialsTokens implements ConnectorCredentials {
  private readonly cache = new Map<string, CachedToken>();
  private readonly acquiring = new Map<string, Promise<CachedToken>>();

  constructor(
    private readonly grant: ClientCredentialsGrant,
    private readonly http: TokenHttp,
    private readonly now: () => number = Date.now,
  ) {}

  /** Services that share a scope share a token (Graph's directory, audit and files services are one audience). */
  private keyOf(service: string): string {
    return this.grant.scopes?.[service] !== undefined ? service : DEFAULT;
  }

  async headers(service = DEFAULT): Promise<Readonly<Record<string, string>>> {
    const key = this.keyOf(service);
    const cached = this.cache.get(key);
    const token = cached && this.now() < cached.refreshAt ? cached : await this.acquire(key);
    return { authorization: `Bearer ${token.token}` };
  }

  invalidate(service = DEFAULT): void {
    this.cache.delete(this.keyOf(service));
  }

  private acquire(service: string): Promise<CachedToken> {
    let pending = this.acquiring.get(service);
    if (!pending) {
      pending = this.request(service).finally(() => this.acquiring.delete(service));
      this.acquiring.set(service, pending);
    }
    return pending;
  }

  private async request(service: string): Promise<CachedToken> {
    const { grant } = this;
    const scope = grant.scopes?.[service] ?? grant.scopes?.[DEFAULT];
    const auth: Record<string, string> =
      'secret' in grant.clientAuth
        ? { client_secret: grant.clientAuth.secret }
        : {
            client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
            client_assertion: await grant.clientAuth.assertion(),
          };
    const requested = this.now();
    const answer = await this.http.postForm(grant.tokenUrl, {
      grant_type: 'client_credentials',
      client_id: grant.clientId,
      ...auth,
      ...(scope ? { scope } : {}),
    });
    const body = (typeof answer.body === 'object' && answer.body !== null ? answer.body : {}) as Record<string, unknown>;
    if (answer.status !== 200 || typeof body.access_token !== 'string') {
      const code = typeof body.error === 'string' ? `: ${body.error}` : '';
      throw new CredentialError(`The identity provider refused to issue an access token (HTTP ${answer.status}${code})`, 401);
    }
    const lifetimeMs = (typeof body.expires_in === 'number' ? body.expires_in : Number(body.expires_in ?? 3600)) * 1000;
    const expiresAt = requested + (Number.isFinite(lifetimeMs) && lifetimeMs > 0 ? lifetimeMs : 3_600_000);
    const margin = Math.min(300_000, (expiresAt - requested) / 5);
    const token = { token: body.access_token, expiresAt, refreshAt: expiresAt - margin };
    this.cache.set(service, token);
    return token;
  }
}
