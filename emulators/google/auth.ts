import { createPublicKey, createVerify, randomBytes } from 'node:crypto';
import { ALL_SCOPES, type ResolvedCustomerSpec } from './spec.js';
import type { CustomerState, EmuUser } from './tenant.js';

/** Google's token endpoint: the documented `aud` of every assertion (https://developers.google.com/identity/protocols/oauth2/service-account#authorizingrequests). */
export const GOOGLE_TOKEN_URL = 'https://oauth2.googleapis.com/token';
const JWT_BEARER = 'urn:ietf:params:oauth:grant-type:jwt-bearer';
/** An assertion may live at most an hour: "The expiration time of the assertion ... maximum of 1 hour after the issued time". */
const MAX_ASSERTION_SECONDS = 3600;
/** Clock skew tolerated on `iat` (the docs ask clients to allow for it; the figure is the emulator's). */
const SKEW_SECONDS = 300;

/** What the token endpoint needs of a customer. */
export interface TokenIssuer {
  readonly spec: ResolvedCustomerSpec;
  readonly state: CustomerState;
  /** Tokens carry the generation they were issued in; expiring tokens starts a new one. */
  readonly generation: number;
  /** Delegation revoked: every token request for this customer is refused `unauthorized_client`. */
  readonly refusing: boolean;
  countToken(status: number): void;
}

/** An issued access token, bound to its subject, client and scopes. */
export interface AccessToken {
  readonly value: string;
  readonly customerId: string;
  /** The impersonated user (null: the service account itself, no `sub`). */
  readonly userId: string | null;
  readonly email: string;
  readonly clientId: string;
  readonly clientEmail: string;
  readonly scopes: readonly string[];
  readonly expiresAt: number;
  readonly generation: number;
}

/** A refusal of the token endpoint: RFC 6749's `{ error, error_description }` with Google's texts. */
export class OAuthError extends Error {
  constructor(
    readonly status: number,
    readonly error: string,
    readonly description: string,
  ) {
    super(description);
  }
}

const UNAUTHORIZED_CLIENT = () =>
  new OAuthError(
    401,
    'unauthorized_client',
    'Client is unauthorized to retrieve access tokens using this method, or client not authorized for any of the scopes requested.',
  );
const SHORT_LIVED = () =>
  new OAuthError(
    400,
    'invalid_grant',
    'Invalid JWT: Token must be a short-lived token (60 minutes) and in a reasonable timeframe. Check your iat and exp values in the JWT claim.',
  );

const decode = (part: string): Record<string, unknown> => {
  const value = JSON.parse(Buffer.from(part, 'base64url').toString('utf8')) as unknown;
  if (!value || typeof value !== 'object' || Array.isArray(value)) throw new Error('not an object');
  return value as Record<string, unknown>;
};

/**
 * The OAuth 2.0 token endpoint for service accounts (JWT bearer grant) and the tokens it issued
 * (https://developers.google.com/identity/protocols/oauth2/service-account).
 */
export class TokenService {
  private readonly tokens = new Map<string, AccessToken>();

  constructor(
    private readonly customers: () => Iterable<TokenIssuer>,
    private readonly clock: () => number,
  ) {}

  /** Answers a token request's form, or throws an OAuthError. `ownTokenUrl` is accepted as `aud` besides Google's. */
  issue(form: URLSearchParams, ownTokenUrl: string): { access_token: string; expires_in: number; token_type: 'Bearer' } {
    if (form.get('grant_type') !== JWT_BEARER)
      throw new OAuthError(400, 'unsupported_grant_type', `Invalid grant_type: ${form.get('grant_type') ?? ''}`);
    const assertion = form.get('assertion');
    if (!assertion) throw new OAuthError(400, 'invalid_request', 'Missing required parameter: assertion');
    const [head, body, signature] = assertion.split('.');
    let header: Record<string, unknown>;
    let claims: Record<string, unknown>;
    try {
      if (!head || !body || !signature) throw new Error('not a JWT');
      header = decode(head);
      claims = decode(body);
    } catch {
      throw new OAuthError(400, 'invalid_grant', 'Invalid JWT Signature.');
    }
    const account = this.findServiceAccount(String(claims.iss ?? ''));
    if (!account) throw new OAuthError(400, 'invalid_grant', 'Invalid grant: account not found');
    if (header.alg !== 'RS256' || !this.verify(`${head}.${body}`, signature!, account.publicKeyPem))
      throw new OAuthError(400, 'invalid_grant', 'Invalid JWT Signature.');
    if (claims.aud !== GOOGLE_TOKEN_URL && claims.aud !== ownTokenUrl)
      throw new OAuthError(400, 'invalid_grant', `Invalid JWT: Failed audience check. The expected audience is ${GOOGLE_TOKEN_URL}.`);
    const now = this.clock() / 1000;
    const { iat, exp } = claims;
    if (
      typeof iat !== 'number' ||
      typeof exp !== 'number' ||
      exp <= iat ||
      exp - iat > MAX_ASSERTION_SECONDS ||
      iat > now + SKEW_SECONDS ||
      exp <= now
    )
      throw SHORT_LIVED();
    const scopes = typeof claims.scope === 'string' ? claims.scope.split(/\s+/).filter(Boolean) : [];
    if (scopes.length === 0) throw new OAuthError(400, 'invalid_scope', 'Empty or missing scope not allowed.');
    if (scopes.some((s) => !ALL_SCOPES.includes(s) && !EXTRA_SCOPES.has(s)))
      throw new OAuthError(400, 'invalid_scope', 'Invalid OAuth scope or ID token audience provided.');
    const sub = typeof claims.sub === 'string' ? claims.sub : typeof claims.prn === 'string' ? claims.prn : null;
    const { customer, user } = this.delegate(account, sub, scopes);
    const value = `ya29.${randomBytes(96).toString('base64url')}`;
    const lifetime = customer.spec.tokenLifetimeSeconds;
    this.tokens.set(value, {
      value,
      customerId: customer.spec.customerId,
      userId: user?.id ?? null,
      email: user?.primaryEmail ?? account.clientEmail,
      clientId: account.clientId,
      clientEmail: account.clientEmail,
      scopes,
      expiresAt: this.clock() + lifetime * 1000,
      generation: customer.generation,
    });
    customer.countToken(200);
    return { access_token: value, expires_in: lifetime, token_type: 'Bearer' };
  }

  /**
   * Domain-wide delegation (https://support.google.com/a/answer/162106): the subject is an active user
   * of a hosted customer, and the customer authorized the service account's client id for every scope.
   * Without a subject the token acts as the service account itself (in its first customer).
   */
  private delegate(
    account: ResolvedCustomerSpec['serviceAccounts'][number],
    sub: string | null,
    scopes: readonly string[],
  ): { customer: TokenIssuer; user: EmuUser | null } {
    if (sub === null) {
      const home = [...this.customers()].find((c) => c.spec.serviceAccounts.some((s) => s.clientEmail === account.clientEmail))!;
      if (home.refusing) throw UNAUTHORIZED_CLIENT();
      return { customer: home, user: null };
    }
    if (!/^[^@\s]+@[^@\s]+$/.test(sub)) throw new OAuthError(400, 'invalid_grant', 'Not a valid email.');
    const domain = sub.slice(sub.indexOf('@') + 1).toLowerCase();
    const customer = [...this.customers()].find((c) => c.spec.domain === domain);
    if (!customer) throw new OAuthError(400, 'invalid_grant', 'Invalid email or User ID');
    const delegation = customer.spec.serviceAccounts.find((s) => s.clientId === account.clientId);
    if (!delegation || customer.refusing || scopes.some((s) => !delegation.scopes.includes(s))) {
      customer.countToken(401);
      throw UNAUTHORIZED_CLIENT();
    }
    const user = customer.state.user(sub);
    if (!user || user.suspended || user.archived) {
      customer.countToken(400);
      throw new OAuthError(400, 'invalid_grant', 'Invalid email or User ID');
    }
    return { customer, user };
  }

  private findServiceAccount(clientEmail: string) {
    for (const c of this.customers()) {
      const account = c.spec.serviceAccounts.find((s) => s.clientEmail === clientEmail);
      if (account) return account;
    }
    return undefined;
  }

  private verify(signed: string, signature: string, publicKeyPem: string): boolean {
    try {
      return createVerify('RSA-SHA256').update(signed).verify(createPublicKey(publicKeyPem), Buffer.from(signature, 'base64url'));
    } catch {
      return false;
    }
  }

  /** A live token: unknown, expired and pre-expiry (generation) tokens are undefined. */
  lookup(value: string, generationOf: (customerId: string) => number | undefined): AccessToken | undefined {
    const token = this.tokens.get(value);
    if (!token) return undefined;
    if (token.expiresAt <= this.clock() || generationOf(token.customerId) !== token.generation) {
      this.tokens.delete(value);
      return undefined;
    }
    return token;
  }
}

/** Scopes Google grants to sign-in clients that the emulator accepts in a request but no route needs. */
const EXTRA_SCOPES = new Set(['openid', 'email', 'profile', 'https://www.googleapis.com/auth/userinfo.email']);
