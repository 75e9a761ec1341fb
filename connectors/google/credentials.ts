import { JWT } from 'google-auth-library';
import { CredentialError, PermanentError, ProviderError, TransientError, type ConnectorCredentials, type TokenHttp } from '../contract.js';
import { TokenCache, type RenewableToken } from '../credentials.js';
import { GOOGLE_ENDPOINTS, type GoogleConfig } from './config.js';
import { ALL_SCOPES, scopesFor, SERVICE_SCOPES } from './scopes.js';

/** A token used until this long before it expires (at most a fifth of its life). */
const RENEW_BEFORE_MS = 300_000;
/** How long the scopes found granted are trusted before they are probed again (an admin may authorize more). */
const GRANTED_TTL_MS = 3_600_000;

export type GoogleService = keyof typeof SERVICE_SCOPES;
const isService = (service: string | undefined): service is GoogleService => service !== undefined && service in SERVICE_SCOPES;

/** A user Google refuses to issue a token for (suspended, archived, deleted): that user's problem, not the instance's. */
export class SubjectUnavailableError extends PermanentError {
  constructor(readonly subject: string) {
    super(`Google refused to issue a token acting as ${subject}: the user cannot be impersonated (suspended or deleted)`, 400);
  }
}

/** The ProviderError a failure carries (gaxios wraps what a fetch implementation throws), if any. */
export function providerErrorIn(error: unknown): ProviderError | undefined {
  for (let e: unknown = error, depth = 0; e && depth < 5; depth++) {
    if (e instanceof ProviderError) return e;
    e = (e as { cause?: unknown }).cause ?? (e as { error?: unknown }).error;
  }
  return undefined;
}

/**
 * The fetch google-auth-library's token requests go through: Tenantwatch's token client (the outbound
 * policy and CONNECTOR_CA_FILE apply). Google's token URL, which the library posts to whatever the
 * key says, is replaced by the configured one (an emulator's, a proxy's).
 */
export function tokenFetch(tokens: TokenHttp, tokenUrl: string): typeof fetch {
  return async (input, init) => {
    const target = String(input instanceof Request ? input.url : input);
    const url = target === GOOGLE_ENDPOINTS.tokenUrl ? tokenUrl : target;
    const headers: Record<string, string> = {};
    new Headers(init?.headers).forEach((value, name) => (headers[name] = value));
    const method = (init?.method ?? 'GET').toUpperCase() === 'POST' ? 'POST' : 'GET';
    const answer = await tokens.send(method, url, {
      headers,
      body: init?.body === undefined || init.body === null ? undefined : String(init.body),
    });
    const text = typeof answer.body === 'string' ? answer.body : JSON.stringify(answer.body);
    return new Response(text, { status: answer.status, headers: { 'content-type': 'application/json' } });
  };
}

/**
 * Access tokens for a service account with domain-wide delegation
 * (https://developers.google.com/identity/protocols/oauth2/service-account#delegatingauthority), from
 * google-auth-library's JWT client: an RS256 assertion naming the user it acts as (`sub`: the admin
 * subject for the Admin SDK, each user for their own Drive) and the scopes of one API. One token per
 * (API, user), renewed five minutes before it expires, one acquisition at a time each. A token request
 * must name only authorized scopes: when one naming all of an API's is refused, each scope is asked for
 * alone to find the ones the delegation grants, and tokens then name those. A refusal is a
 * CredentialError with the HTTP status and the OAuth error code (never Google's description), except
 * a user who cannot be impersonated (suspended, deleted: `invalid_grant`), which is that user's problem,
 * not the instance's: a PermanentError.
 */
export class GoogleCredentials implements ConnectorCredentials {
  private readonly tokens = new TokenCache();
  private granted: { scopes: Set<string>; at: number } | null = null;
  private probing?: Promise<Set<string>>;
  private readonly fetch: typeof fetch;

  constructor(
    private readonly config: GoogleConfig,
    http: TokenHttp,
  ) {
    this.fetch = tokenFetch(http, config.tokenUrl);
  }

  async headers(service?: string, subject?: string): Promise<Readonly<Record<string, string>>> {
    const api: GoogleService = isService(service) ? service : 'directory';
    const user = subject ?? this.config.adminSubject;
    const token = await this.tokens.get(`${api} ${user}`, () => this.acquire(api, user));
    return { authorization: `Bearer ${token}` };
  }

  invalidate(service?: string, subject?: string): void {
    const api: GoogleService = isService(service) ? service : 'directory';
    this.tokens.forget(`${api} ${subject ?? this.config.adminSubject}`);
  }

  /** The scopes the delegation grants the service account, each probed with a token request of its own (for `verify`). */
  async grantedScopes(fresh = false): Promise<Set<string>> {
    if (!fresh && this.granted && Date.now() - this.granted.at < GRANTED_TTL_MS) return this.granted.scopes;
    this.probing ??= (async () => {
      try {
        const results = await Promise.all(
          ALL_SCOPES.map(async (scope) => {
            try {
              await this.request([scope], this.config.adminSubject);
              return scope;
            } catch (error) {
              if (error instanceof CredentialError) return null;
              throw error;
            }
          }),
        );
        const scopes = new Set(results.filter((s): s is string => s !== null));
        // Nothing granted (a refused delegation) is not remembered: the next request asks again.
        this.granted = scopes.size > 0 ? { scopes, at: Date.now() } : null;
        return scopes;
      } finally {
        this.probing = undefined;
      }
    })();
    return this.probing;
  }

  private async acquire(service: GoogleService, subject: string): Promise<RenewableToken> {
    const known = this.granted && Date.now() - this.granted.at < GRANTED_TTL_MS ? this.granted.scopes : null;
    try {
      return await this.request(scopesFor(service, known), subject);
    } catch (error) {
      if (!(error instanceof CredentialError) || known) throw error;
    }
    // Refused with every first choice: ask for what is granted, scope by scope.
    const scopes = scopesFor(service, await this.grantedScopes());
    if (scopes.length === 0)
      throw new CredentialError(
        `The identity provider refused to issue an access token (HTTP 401: unauthorized_client for every ${service} scope)`,
        401,
      );
    return this.request(scopes, subject);
  }

  private async request(scopes: readonly string[], subject: string): Promise<RenewableToken> {
    const key = this.config.serviceAccountKey;
    const client = new JWT({
      email: key.client_email,
      key: key.private_key,
      scopes: [...scopes],
      subject,
      transporterOptions: { fetchImplementation: this.fetch, retry: false },
    });
    let credentials;
    try {
      credentials = await client.authorize();
    } catch (error) {
      throw failure(error, subject, subject === this.config.adminSubject);
    }
    if (!credentials.access_token) throw new CredentialError('The identity provider answered without an access token', 401);
    const now = Date.now();
    const expires = credentials.expiry_date ?? now + 3_600_000;
    return { token: credentials.access_token, renewAt: expires - Math.min(RENEW_BEFORE_MS, (expires - now) / 5) };
  }
}

/** A failed token request in Tenantwatch's words. */
function failure(error: unknown, subject: string, admin: boolean): Error {
  const carried = providerErrorIn(error);
  if (carried) return carried;
  const response = (error as { response?: { status?: number; data?: unknown } }).response;
  if (!response?.status) return new TransientError('The identity provider could not be reached');
  const status = response.status;
  if (status >= 500 || status === 429) return new TransientError(`The identity provider answered HTTP ${status}`, status);
  const data = (typeof response.data === 'object' && response.data !== null ? response.data : {}) as Record<string, unknown>;
  const code = typeof data.error === 'string' ? data.error : 'refused';
  const description = typeof data.error_description === 'string' ? data.error_description : '';
  // "Invalid email or User ID": the user is suspended, archived or gone; the delegation itself is fine.
  if (code === 'invalid_grant' && /email or user id|not a valid email/i.test(description)) {
    if (admin)
      return new CredentialError(
        `The identity provider refused to issue an access token acting as the admin subject (HTTP ${status}: ${code})`,
        401,
      );
    return new SubjectUnavailableError(subject);
  }
  return new CredentialError(`The identity provider refused to issue an access token (HTTP ${status}: ${code})`, 401);
}

export function googleCredentials(config: GoogleConfig, tokens: TokenHttp): GoogleCredentials {
  return new GoogleCredentials(config, tokens);
}
