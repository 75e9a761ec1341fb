import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { createRemoteJWKSet, errors as joseErrors, jwtVerify, SignJWT, type JWTVerifyGetKey } from 'jose';
import type { AuthChecker } from 'type-graphql';
import { ConfigError, type Config } from './config.js';
import { appError, ErrorCode, unauthenticated } from './errors.js';
import { isId } from './ids.js';

/** Roles from API.md, lowest first: each includes what the ones before it may do. */
export const ROLES = ['viewer', 'analyst', 'responder', 'admin'] as const;
export type Role = (typeof ROLES)[number];

/**
 * Who is calling: the token's subject, its highest role, when it expires (seconds since the epoch) and,
 * when its `instances` claim lists some, the only app instances it may see and act on.
 */
export interface Principal {
  readonly subject: string;
  readonly role: Role;
  readonly expiresAt: number;
  /** The app instances' ids from the token's `instances` claim; absent: every instance. */
  readonly instances?: readonly string[];
}

/** At most this many instance ids in a token's `instances` claim. */
export const MAX_SCOPED_INSTANCES = 1_000;

/**
 * The `instances` claim: absent (every instance) or a non-empty array of instance ids (UUIDs), at
 * most {@link MAX_SCOPED_INSTANCES}. Throws UNAUTHENTICATED saying what is wrong with it.
 */
function readInstancesClaim(claim: unknown): readonly string[] | undefined {
  if (claim === undefined) return undefined;
  const wrong = (why: string) => unauthenticated(`Token rejected: its "instances" claim ${why}`, true);
  if (!Array.isArray(claim)) throw wrong('must be an array of app instance ids');
  if (claim.length === 0) throw wrong('lists no instance (leave it out for every instance)');
  if (claim.length > MAX_SCOPED_INSTANCES) throw wrong(`lists more than ${MAX_SCOPED_INSTANCES} instances`);
  const bad = claim.findIndex((id) => !isId(id));
  if (bad >= 0) throw wrong(`holds something that is not an instance id at index ${bad}`);
  return [...new Set((claim as string[]).map((id) => id.toLowerCase()))];
}

export function isRole(value: unknown): value is Role {
  return typeof value === 'string' && (ROLES as readonly string[]).includes(value);
}

export function roleAtLeast(principal: Principal, required: Role): boolean {
  return ROLES.indexOf(principal.role) >= ROLES.indexOf(required);
}

/** What a process needs configured in production, where no development secret is generated. */
export interface SecretNeeds {
  /** Verifies or signs tokens: AUTH_JWT_SECRET, or AUTH_JWKS_URL. */
  readonly tokens?: boolean;
  /** Seals or opens app credentials: CREDENTIALS_KEY. */
  readonly credentials?: boolean;
}

/** What each secret is, for the message that asks for it. */
const HOW_TO_SET: Readonly<Record<string, string>> = {
  AUTH_JWT_SECRET: 'the HS256 secret tokens are signed with, at least 32 characters (openssl rand -base64 48); or AUTH_JWKS_URL',
  CREDENTIALS_KEY: 'the AES-256 key for app credentials at rest, 64 hex characters (openssl rand -hex 32)',
};

/** Raised in production when secrets a process needs are not configured; `missing` names their variables. */
export class MissingSecretsError extends ConfigError {
  constructor(readonly missing: readonly string[]) {
    super(
      [
        `${missing.join(' and ')} must be set in production (NODE_ENV=production generates no development secrets):`,
        ...missing.map((variable) => `  ${variable}: ${HOW_TO_SET[variable]}`),
      ].join('\n'),
    );
  }
}

/**
 * In production, throws a {@link MissingSecretsError} naming every variable that `needs` calls for
 * and that is not set; does nothing elsewhere (development secrets are generated into DATA_DIR).
 * Every entry point calls it right after reading the config, before it opens or listens on anything.
 */
export function requireProductionSecrets(config: Config, needs: SecretNeeds): void {
  if (config.NODE_ENV !== 'production') return;
  const missing = [
    ...(needs.tokens && !config.AUTH_JWT_SECRET && !config.AUTH_JWKS_URL ? ['AUTH_JWT_SECRET'] : []),
    ...(needs.credentials && !config.CREDENTIALS_KEY ? ['CREDENTIALS_KEY'] : []),
  ];
  if (missing.length > 0) throw new MissingSecretsError(missing);
}

/**
 * The HS256 secret: AUTH_JWT_SECRET when set; otherwise, outside production, one generated once into
 * `<DATA_DIR>/jwt-secret` and reused on every start (in production: a {@link MissingSecretsError},
 * nothing written). Returns undefined when a JWKS URL is configured.
 */
export function resolveJwtSecret(config: Config): Uint8Array | undefined {
  if (config.AUTH_JWKS_URL) return undefined;
  if (config.AUTH_JWT_SECRET) return new TextEncoder().encode(config.AUTH_JWT_SECRET);
  requireProductionSecrets(config, { tokens: true });
  const file = path.join(config.dataDir, 'jwt-secret');
  fs.mkdirSync(config.dataDir, { recursive: true });
  try {
    fs.writeFileSync(file, randomBytes(48).toString('base64url'), { flag: 'wx', mode: 0o600 });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  }
  return new TextEncoder().encode(fs.readFileSync(file, 'utf8').trim());
}

export type TokenVerifier = (authorization: string | undefined) => Promise<Principal>;

/** Tokens whose verification a verifier remembers, at most; the oldest is forgotten first. */
export const VERIFIED_TOKENS_KEPT = 1_000;
/** How long a verification is remembered, at most (and never past the token's expiry). */
export const VERIFIED_TOKEN_MS = 60_000;

/**
 * Verifies `Authorization: Bearer <jwt>` with jose: signature (HS256 secret or the JWKS), issuer,
 * audience and expiry; a token without `exp` is refused, whoever signed it (it would never expire).
 * Throws UNAUTHENTICATED saying what was wrong; never FORBIDDEN.
 *
 * A token that passed is remembered (exactly that string: any other is verified) for
 * VERIFIED_TOKEN_MS, never past its `exp`: the gateway forwards one caller's token with every
 * subgraph fetch, and each subscription event completed with entity fetches would otherwise pay
 * a signature check per fetch. A remembered verification outlives neither the token nor, by more
 * than a minute, the check it stands for.
 */
export function createTokenVerifier(config: Config): TokenVerifier {
  const secret = resolveJwtSecret(config);
  const jwks: JWTVerifyGetKey | undefined = config.AUTH_JWKS_URL ? createRemoteJWKSet(new URL(config.AUTH_JWKS_URL)) : undefined;
  const options = { issuer: config.AUTH_JWT_ISSUER, audience: config.AUTH_JWT_AUDIENCE };
  const verified = new Map<string, { readonly principal: Principal; readonly until: number }>();
  return async (authorization) => {
    if (!authorization) throw unauthenticated('Missing Authorization header: send "Authorization: Bearer <token>"', false);
    const match = /^Bearer\s+(\S+)$/i.exec(authorization.trim());
    if (!match) throw unauthenticated('Malformed Authorization header: expected "Bearer <token>"', true);
    const token = match[1]!;
    const remembered = verified.get(token);
    if (remembered) {
      if (Date.now() < remembered.until) return remembered.principal;
      verified.delete(token);
    }
    const principal = await verifyToken(token);
    const until = Math.min(Date.now() + VERIFIED_TOKEN_MS, principal.expiresAt * 1000);
    if (verified.size >= VERIFIED_TOKENS_KEPT) verified.delete(verified.keys().next().value!);
    verified.set(token, { principal, until });
    return principal;
  };

  async function verifyToken(token: string): Promise<Principal> {
    try {
      const { payload } = secret
        ? await jwtVerify(token, secret, { ...options, algorithms: ['HS256'] })
        : await jwtVerify(token, jwks!, options);
      if (typeof payload.exp !== 'number')
        throw unauthenticated('Token rejected: a token must carry an expiry (the "exp" claim); sign one that expires', true);
      const claimed = Array.isArray(payload.roles) ? payload.roles : [payload.roles];
      const roles = claimed.filter(isRole);
      if (roles.length === 0) throw unauthenticated(`Token has no valid "roles" claim (expected one of ${ROLES.join(', ')})`, true);
      const role = roles.reduce((a, b) => (ROLES.indexOf(b) > ROLES.indexOf(a) ? b : a));
      const instances = readInstancesClaim(payload.instances);
      return { subject: payload.sub ?? 'unknown', role, expiresAt: payload.exp, ...(instances ? { instances } : {}) };
    } catch (error) {
      if (error instanceof joseErrors.JWTExpired) throw unauthenticated('Token expired', true);
      if (error instanceof joseErrors.JWTClaimValidationFailed) {
        throw unauthenticated(`Token rejected: ${error.message}`, true);
      }
      if (error instanceof joseErrors.JOSEError) throw unauthenticated('Token rejected: invalid signature or format', true);
      throw error;
    }
  }
}

/**
 * Signs a token for `role` with the configured HS256 secret; it always expires (default 12 h; a
 * duration like "1h" or seconds since the epoch). `instances` limits it to those app instances.
 * Throws a TypeError for a lifetime jose cannot read.
 */
export async function signToken(
  config: Config,
  {
    role,
    subject = `dev-${role}`,
    expiresIn = '12h',
    instances,
  }: { role: Role; subject?: string; expiresIn?: string | number; instances?: readonly string[] },
): Promise<string> {
  const secret = resolveJwtSecret(config);
  if (!secret) throw new Error('Tokens can only be signed with an HS256 secret (AUTH_JWKS_URL is set)');
  return new SignJWT({ roles: [role], ...(instances ? { instances: [...instances] } : {}) })
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject(subject)
    .setIssuer(config.AUTH_JWT_ISSUER)
    .setAudience(config.AUTH_JWT_AUDIENCE)
    .setIssuedAt()
    .setExpirationTime(expiresIn)
    .sign(secret);
}

/** The header on the gateway's HTTP requests to the subgraphs that carries GATEWAY_SHARED_SECRET. */
export const GATEWAY_SECRET_HEADER = 'x-tenantwatch-gateway-secret';
/** The `connection_init` payload field that carries it on the gateway's graphql-ws upstreams. */
export const GATEWAY_SECRET_PARAM = 'gatewaySecret';
/** Why a subgraph refuses a request without it (HTTP 401, websocket close 4401). */
export const GATEWAY_ONLY = 'Unauthorized: this subgraph answers only the gateway (gateway secret missing or wrong)';

/**
 * True when `presented` is the shared secret. Compares SHA-256 digests with timingSafeEqual, so
 * neither the content nor the length of the secret shows in how long a refusal takes.
 */
export function isGatewaySecret(expected: string, presented: unknown): boolean {
  if (typeof presented !== 'string') return false;
  const digest = (text: string) => createHash('sha256').update(text).digest();
  return timingSafeEqual(digest(expected), digest(presented));
}

/** What every subgraph resolver sees of the caller. */
export interface AuthContext {
  readonly principal: Principal;
}

/**
 * type-graphql auth checker: `@Authorized('admin')` needs that role or a higher one; a plain
 * `@Authorized()` needs any valid role. Throws FORBIDDEN naming the role it lacks.
 */
export const authChecker: AuthChecker<AuthContext, Role> = ({ context, info }, roles) => {
  const required = roles[0] ?? 'viewer';
  if (roleAtLeast(context.principal, required)) return true;
  throw appError(
    ErrorCode.FORBIDDEN,
    `"${info.parentType.name}.${info.fieldName}" needs role ${required} or higher; the token has ${context.principal.role}`,
  );
};
