import { createPrivateKey, randomUUID } from 'node:crypto';
import { SignJWT } from 'jose';
import { CredentialError, TransientError, type ConnectorCredentials, type TokenHttp } from '../contract.js';
import { TokenCache, type RenewableToken } from '../credentials.js';
import type { SalesforceConfig } from './config.js';

/**
 * Salesforce answers no lifetime with its access tokens: a token lives as long as the session
 * timeout of the integration user's profile or the connected app (15 minutes at the shortest,
 * https://help.salesforce.com/s/articleView?id=sf.admin_sessions.htm). A token is used for that
 * shortest timeout, so a request never meets an expired session; a 401 before that (a timeout
 * an admin shortened, a revoked session) makes the scheduler ask for a new one.
 */
const TOKEN_USE_MS = 14 * 60_000;
/** The assertion's lifetime: Salesforce accepts an `exp` at most three minutes ahead. */
const ASSERTION_LIFETIME_S = 180;

/** Who the token stands for, from the token answer's `id` (the identity URL, `…/id/<org id>/<user id>`). */
export interface SalesforceIdentity {
  readonly organizationId: string | null;
  readonly userId: string | null;
}

/**
 * Access tokens for the integration user of a connected app, from the org's OAuth 2.0 token endpoint:
 * the JWT bearer flow (an RS256 assertion signed with the connected app's certificate key, iss =
 * consumer key, sub = username, aud = the login URL:
 * https://help.salesforce.com/s/articleView?id=sf.remoteaccess_oauth_jwt_flow.htm) or the client
 * credentials flow on the My Domain URL
 * (https://help.salesforce.com/s/articleView?id=sf.remoteaccess_oauth_client_credentials_flow.htm).
 * Requests go through Tenantwatch's token client (the outbound policy and CONNECTOR_CA_FILE apply). A
 * refusal is a CredentialError with the HTTP status and the OAuth error code, never Salesforce's description.
 */
export class SalesforceCredentials implements ConnectorCredentials {
  private readonly tokens = new TokenCache();
  private last: SalesforceIdentity = { organizationId: null, userId: null };

  constructor(
    private readonly config: SalesforceConfig,
    private readonly http: TokenHttp,
  ) {}

  async headers(): Promise<Readonly<Record<string, string>>> {
    return { authorization: `Bearer ${await this.tokens.get('default', () => this.request())}` };
  }

  invalidate(): void {
    this.tokens.forget('default');
  }

  /** The org and user of the last token acquired (after a first {@link headers}). */
  identity(): SalesforceIdentity {
    return this.last;
  }

  /** The token endpoint of the configured flow. */
  tokenUrl(): string {
    return `${this.config.consumerSecret ? this.config.instanceUrl : this.config.loginUrl}/services/oauth2/token`;
  }

  private async assertion(): Promise<string> {
    const now = Math.floor(Date.now() / 1000);
    return new SignJWT({})
      .setProtectedHeader({ alg: 'RS256' })
      .setIssuer(this.config.consumerKey)
      .setSubject(this.config.username!)
      .setAudience(this.config.loginUrl)
      .setIssuedAt(now)
      .setExpirationTime(now + ASSERTION_LIFETIME_S)
      .setJti(randomUUID())
      .sign(createPrivateKey(this.config.privateKeyPem!));
  }

  private async request(): Promise<RenewableToken> {
    const { config } = this;
    const form: Record<string, string> = config.consumerSecret
      ? { grant_type: 'client_credentials', client_id: config.consumerKey, client_secret: config.consumerSecret }
      : { grant_type: 'urn:ietf:params:oauth:grant-type:jwt-bearer', assertion: await this.assertion() };
    const requested = Date.now();
    const answer = await this.http.postForm(this.tokenUrl(), form);
    const body = (typeof answer.body === 'object' && answer.body !== null ? answer.body : {}) as Record<string, unknown>;
    if (answer.status >= 500) throw new TransientError(`The identity provider answered HTTP ${answer.status}`, answer.status);
    if (answer.status !== 200 || typeof body.access_token !== 'string') {
      const code = typeof body.error === 'string' ? `: ${body.error.slice(0, 60)}` : '';
      throw new CredentialError(`The identity provider refused to issue an access token (HTTP ${answer.status}${code})`, 401);
    }
    const ids = typeof body.id === 'string' ? /\/id\/([^/]+)\/([^/?#]+)/.exec(body.id) : null;
    this.last = { organizationId: ids?.[1] ?? null, userId: ids?.[2] ?? null };
    return { token: body.access_token, renewAt: requested + TOKEN_USE_MS };
  }
}

export function salesforceCredentials(config: SalesforceConfig, tokens: TokenHttp): SalesforceCredentials {
  return new SalesforceCredentials(config, tokens);
}
