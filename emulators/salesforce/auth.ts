import { createHmac, createPublicKey, createVerify, randomBytes, timingSafeEqual } from 'node:crypto';
import { OAuthError } from './errors.js';
import type { ConnectedAppSpec } from './spec.js';

/**
 * OAuth 2.0 for server-to-server integration: the JWT bearer flow
 * (https://help.salesforce.com/s/articleView?id=sf.remoteaccess_oauth_jwt_flow.htm) and the client
 * credentials flow (https://help.salesforce.com/s/articleView?id=sf.remoteaccess_oauth_client_credentials_flow.htm),
 * errors as https://help.salesforce.com/s/articleView?id=sf.remoteaccess_oauth_flow_errors.htm lists them.
 */

/** An access token's session: whose it is, and when it was last used (sessions time out after inactivity). */
export interface Session {
  readonly token: string;
  readonly organizationId: string;
  readonly userId: string;
  readonly consumerKey: string;
  lastActivity: number;
}

/** What the token endpoint needs to know of an org. */
export interface TokenIssuer {
  readonly organizationId: string;
  readonly instanceUrl: string;
  app(consumerKey: string): ConnectedAppSpec | undefined;
  /** The active/frozen state of a user by username, or undefined when there is none. */
  user(username: string): { readonly id: string; readonly active: boolean; readonly frozen: boolean } | undefined;
  /** The integration user of an app (the client credentials flow's "run as" user). */
  runAs(app: ConnectedAppSpec): { readonly id: string; readonly active: boolean; readonly frozen: boolean } | undefined;
  /** Whether new tokens are refused (the certificate or secret rotated behind the integration's back). */
  readonly refusing: boolean;
  open(userId: string, consumerKey: string, now: number): Session;
}

/** Audiences the JWT bearer flow accepts: Salesforce's login hosts, and the emulator's stand-ins for them. */
const LOGIN_AUDIENCES = ['https://login.salesforce.com', 'https://test.salesforce.com'];
/** "The expiration time of the assertion within 3 minutes", with a minute of clock skew. */
const MAX_ASSERTION_LIFETIME_MS = 3 * 60_000 + 60_000;

export const newAccessToken = (organizationId: string) => `${organizationId.slice(0, 15)}!AQ${randomBytes(48).toString('base64url')}`;

function decodeSegment(segment: string | undefined): Record<string, unknown> | null {
  if (!segment) return null;
  try {
    const value: unknown = JSON.parse(Buffer.from(segment, 'base64url').toString('utf8'));
    return value && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

const invalidAssertion = () => new OAuthError(400, 'invalid_grant', 'invalid assertion');

function verifySignature(signingInput: string, signature: string, certificatePem: string): boolean {
  try {
    return createVerify('RSA-SHA256').update(signingInput).verify(createPublicKey(certificatePem), Buffer.from(signature, 'base64url'));
  } catch {
    return false;
  }
}

export interface TokenAnswer {
  readonly session: Session;
  readonly body: Record<string, string>;
}

/**
 * The JWT bearer flow: an RS256 assertion signed with the key of the app's certificate, `iss` the
 * consumer key, `sub` the username, `aud` the login URL, `exp` within 3 minutes. No refresh token.
 * `issuers` are the orgs reachable at the URL posted to (one org on its My Domain URL; every org on
 * the generic login URL, as login.salesforce.com serves every org).
 */
export function jwtBearer(
  assertion: string,
  issuers: readonly TokenIssuer[],
  audiences: readonly string[],
  idBase: string,
  now: number,
): TokenAnswer {
  const [head, payload, signature] = assertion.split('.');
  const header = decodeSegment(head);
  const claims = decodeSegment(payload);
  if (!header || !claims || !signature || assertion.split('.').length !== 3) throw invalidAssertion();
  if (header.alg !== 'RS256') throw invalidAssertion();
  const iss = typeof claims.iss === 'string' ? claims.iss : '';
  const issuer = issuers.find((i) => i.app(iss));
  const app = issuer?.app(iss);
  if (!issuer || !app) throw new OAuthError(400, 'invalid_client_id', 'client identifier invalid');
  if (!app.certificatePem || issuer.refusing || !verifySignature(`${head}.${payload}`, signature, app.certificatePem))
    throw invalidAssertion();
  const aud = Array.isArray(claims.aud) ? claims.aud : [claims.aud];
  if (!aud.some((a) => typeof a === 'string' && [...LOGIN_AUDIENCES, ...audiences].includes(a.replace(/\/$/, ''))))
    throw new OAuthError(400, 'invalid_grant', 'audience is invalid');
  if (typeof claims.exp !== 'number') throw invalidAssertion();
  if (claims.exp * 1000 <= now) throw new OAuthError(400, 'invalid_grant', 'expired authorization code');
  if (claims.exp * 1000 > now + MAX_ASSERTION_LIFETIME_MS) throw invalidAssertion();
  const user = typeof claims.sub === 'string' ? issuer.user(claims.sub) : undefined;
  if (!user || !app.preAuthorized || user.id !== issuer.runAs(app)?.id)
    throw new OAuthError(400, 'invalid_grant', "user hasn't approved this consumer");
  if (!user.active) throw new OAuthError(400, 'inactive_user', 'user is inactive');
  if (user.frozen) throw new OAuthError(400, 'invalid_grant', 'authentication failure');
  const session = issuer.open(user.id, app.consumerKey, now);
  return {
    session,
    body: {
      access_token: session.token,
      scope: app.scopes.join(' '),
      instance_url: issuer.instanceUrl,
      id: `${idBase}/id/${issuer.organizationId}/${user.id}`,
      token_type: 'Bearer',
    },
  };
}

function sameSecret(given: string, expected: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

/** The client credentials flow on the org's My Domain URL: the consumer key and secret for a token of the app's "run as" user. */
export function clientCredentials(clientId: string, clientSecret: string, issuer: TokenIssuer, now: number): TokenAnswer {
  const app = issuer.app(clientId);
  if (!app) throw new OAuthError(400, 'invalid_client_id', 'client identifier invalid');
  if (!app.consumerSecret || issuer.refusing || !sameSecret(clientSecret, app.consumerSecret))
    throw new OAuthError(400, 'invalid_client', 'invalid client credentials');
  if (!(app.clientCredentials ?? true)) throw new OAuthError(400, 'invalid_grant', 'no client credentials user enabled');
  const user = issuer.runAs(app);
  if (!user) throw new OAuthError(400, 'invalid_grant', 'no client credentials user enabled');
  if (!user.active) throw new OAuthError(400, 'inactive_user', 'user is inactive');
  if (user.frozen) throw new OAuthError(400, 'invalid_grant', 'authentication failure');
  const session = issuer.open(user.id, app.consumerKey, now);
  const id = `${issuer.instanceUrl}/id/${issuer.organizationId}/${user.id}`;
  const issuedAt = String(now);
  return {
    session,
    body: {
      access_token: session.token,
      signature: createHmac('sha256', app.consumerSecret)
        .update(id + issuedAt)
        .digest('base64'),
      scope: app.scopes.join(' '),
      instance_url: issuer.instanceUrl,
      id,
      token_type: 'Bearer',
      issued_at: issuedAt,
    },
  };
}
