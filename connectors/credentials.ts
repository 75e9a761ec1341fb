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

/** A token as an acquisition answers it: the value, and when to acquire a new one before using it. */
export interface RenewableToken {
  readonly token: string;
  /** Epoch ms after which it is acquired again before use. */
  readonly renewAt: number;
}

/**
 * Access tokens per key (one per scope): each used until its renewal time, acquired once at a time
 * per key (concurrent callers share the acquisition), never cached when the acquisition fails.
 */
export class TokenCache {
  private readonly cache = new Map<string, RenewableToken>();
  private readonly acquiring = new Map<string, Promise<string>>();

  constructor(private readonly now: () => number = Date.now) {}

  get(key: string, acquire: () => Promise<RenewableToken>): Promise<string> {
    const cached = this.cache.get(key);
    if (cached && this.now() < cached.renewAt) return Promise.resolve(cached.token);
    let pending = this.acquiring.get(key);
    if (!pending) {
      pending = acquire()
        .then((token) => {
          this.cache.set(key, token);
          return token.token;
        })
        .finally(() => this.acquiring.delete(key));
      this.acquiring.set(key, pending);
    }
    return pending;
  }

  /** Forgets the key's token: the provider refused it. */
  forget(key: string): void {
    this.cache.delete(key);
  }
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
  private readonly tokens: TokenCache;

  constructor(
    private readonly grant: ClientCredentialsGrant,
    private readonly http: TokenHttp,
    private readonly now: () => number = Date.now,
  ) {
    this.tokens = new TokenCache(now);
  }

  /** Services that share a scope share a token (Graph's directory, audit and files services are one audience). */
  private keyOf(service: string): string {
    return this.grant.scopes?.[service] !== undefined ? service : DEFAULT;
  }

  async headers(service = DEFAULT): Promise<Readonly<Record<string, string>>> {
    const key = this.keyOf(service);
    return { authorization: `Bearer ${await this.tokens.get(key, () => this.request(key))}` };
  }

  invalidate(service = DEFAULT): void {
    this.tokens.forget(this.keyOf(service));
  }

  private async request(service: string): Promise<RenewableToken> {
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
    return { token: body.access_token, renewAt: expiresAt - margin };
  }
}
