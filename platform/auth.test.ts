import { once } from 'node:events';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { buildSchema, graphql, type ExecutionResult } from 'graphql';
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWTPayload } from 'jose';
import type { AuthCheckerFn } from 'type-graphql';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import {
  authChecker,
  createTokenVerifier,
  isGatewaySecret,
  MissingSecretsError,
  requireProductionSecrets,
  resolveJwtSecret,
  ROLES,
  signToken,
  type AuthContext,
  type Role,
} from './auth.js';
import { loadConfig } from './config.js';

const SECRET = 'a-test-secret-that-is-at-least-32-characters';
const hs256Key = new TextEncoder().encode(SECRET);
const hs256Config = loadConfig({ AUTH_JWT_SECRET: SECRET });

const tempDirs: string[] = [];
function tempDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tenantwatch-auth-'));
  tempDirs.push(dir);
  return dir;
}
afterAll(() => {
  for (const dir of tempDirs) fs.rmSync(dir, { recursive: true, force: true });
});

interface SignOptions {
  readonly key?: CryptoKey | Uint8Array;
  readonly alg?: string;
  readonly kid?: string;
  readonly issuer?: string;
  readonly audience?: string;
  /** Seconds since the epoch; default five minutes from now. */
  readonly expiresAt?: number;
}

/** Signs `claims` as a token the verifier would accept, unless an option says otherwise. */
function sign(claims: JWTPayload, options: SignOptions = {}): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  const { key = hs256Key, alg = 'HS256', kid, issuer = 'tenantwatch', audience = 'tenantwatch-api', expiresAt = now + 300 } = options;
  return new SignJWT(claims)
    .setProtectedHeader({ alg, ...(kid ? { kid } : {}) })
    .setSubject('user-1')
    .setIssuer(issuer)
    .setAudience(audience)
    .setIssuedAt(Math.min(now, expiresAt - 60))
    .setExpirationTime(expiresAt)
    .sign(key);
}

const UNAUTHENTICATED = { extensions: { code: 'UNAUTHENTICATED', http: { status: 401 } } };

describe('createTokenVerifier with an HS256 secret', () => {
  const verify = createTokenVerifier(hs256Config);

  it('answers the subject, the highest role and the expiry', async () => {
    const expiresAt = Math.floor(Date.now() / 1000) + 600;
    const token = await sign({ roles: ['viewer', 'responder', 'analyst'] }, { expiresAt });
    await expect(verify(`Bearer ${token}`)).resolves.toEqual({ subject: 'user-1', role: 'responder', expiresAt });
  });

  it.each(ROLES)('reads roles given as the string %j', async (role) => {
    const principal = await verify(`Bearer ${await sign({ roles: role })}`);
    expect(principal.role).toBe(role);
  });

  it('ignores unknown roles next to a known one, and accepts a lower-case bearer scheme', async () => {
    const token = await sign({ roles: ['superuser', 'analyst'] });
    await expect(verify(`bearer   ${token}`)).resolves.toMatchObject({ role: 'analyst' });
  });

  it('refuses a missing header', async () => {
    await expect(verify(undefined)).rejects.toMatchObject({
      ...UNAUTHENTICATED,
      message: expect.stringContaining('Missing Authorization header'),
    });
    await expect(verify('')).rejects.toMatchObject(UNAUTHENTICATED);
  });

  it.each(['Basic dXNlcjpwYXNz', 'Bearer', 'Bearer a b', 'Token abc.def.ghi'])('refuses the non-Bearer header %j', async (header) => {
    await expect(verify(header)).rejects.toMatchObject({
      ...UNAUTHENTICATED,
      message: expect.stringContaining('Malformed Authorization header'),
    });
  });

  it('refuses a token signed with another secret', async () => {
    const token = await sign({ roles: ['admin'] }, { key: new TextEncoder().encode(`${SECRET}-but-another-one`) });
    await expect(verify(`Bearer ${token}`)).rejects.toMatchObject({
      ...UNAUTHENTICATED,
      message: 'Token rejected: invalid signature or format',
    });
  });

  it('refuses a token that is not a JWT', async () => {
    await expect(verify('Bearer not.a.jwt')).rejects.toMatchObject(UNAUTHENTICATED);
  });

  describe('remembering verified tokens', () => {
    afterEach(() => vi.useRealTimers());

    it('answers a remembered token until its expiry, then refuses it as expired', async () => {
      vi.useFakeTimers({ toFake: ['Date'] });
      const now = Date.now();
      const token = await sign({ roles: ['admin'] }, { expiresAt: Math.floor(now / 1000) + 5 });
      const fresh = createTokenVerifier(hs256Config);
      await expect(fresh(`Bearer ${token}`)).resolves.toMatchObject({ role: 'admin' });
      vi.setSystemTime(now + 2_000);
      await expect(fresh(`Bearer ${token}`)).resolves.toMatchObject({ role: 'admin' });
      vi.setSystemTime(now + 6_000);
      await expect(fresh(`Bearer ${token}`)).rejects.toMatchObject({ ...UNAUTHENTICATED, message: 'Token expired' });
    });
  });

  it('refuses a token without exp, saying that it must carry an expiry', async () => {
    const token = await new SignJWT({ roles: ['admin'] })
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject('user-1')
      .setIssuer('tenantwatch')
      .setAudience('tenantwatch-api')
      .setIssuedAt()
      .sign(hs256Key);
    await expect(verify(`Bearer ${token}`)).rejects.toMatchObject({
      ...UNAUTHENTICATED,
      message: 'Token rejected: a token must carry an expiry (the "exp" claim); sign one that expires',
    });
  });

  it('refuses an expired token', async () => {
    const token = await sign({ roles: ['admin'] }, { expiresAt: Math.floor(Date.now() / 1000) - 60 });
    await expect(verify(`Bearer ${token}`)).rejects.toMatchObject({ ...UNAUTHENTICATED, message: 'Token expired' });
  });

  it('refuses a token from another issuer', async () => {
    const token = await sign({ roles: ['admin'] }, { issuer: 'someone-else' });
    await expect(verify(`Bearer ${token}`)).rejects.toMatchObject({
      ...UNAUTHENTICATED,
      message: expect.stringMatching(/^Token rejected: .*"iss"/),
    });
  });

  it('refuses a token for another audience', async () => {
    const token = await sign({ roles: ['admin'] }, { audience: 'another-api' });
    await expect(verify(`Bearer ${token}`)).rejects.toMatchObject({
      ...UNAUTHENTICATED,
      message: expect.stringMatching(/^Token rejected: .*"aud"/),
    });
  });

  it.each([
    ['no roles claim', {}],
    ['an unknown role', { roles: 'superuser' }],
    ['only unknown roles', { roles: ['root', 'owner'] }],
    ['an empty list', { roles: [] }],
    ['a role of the wrong type', { roles: 3 }],
  ])('refuses a token with %s', async (_case, claims) => {
    const token = await sign(claims);
    await expect(verify(`Bearer ${token}`)).rejects.toMatchObject({
      ...UNAUTHENTICATED,
      message: expect.stringContaining('no valid "roles" claim'),
    });
  });
});

describe('createTokenVerifier with a JWKS URL', () => {
  let server: http.Server;
  let privateKey: CryptoKey;
  let verify: ReturnType<typeof createTokenVerifier>;
  let jwksRequests = 0;

  beforeAll(async () => {
    const pair = await generateKeyPair('RS256');
    privateKey = pair.privateKey;
    const publicJwk = { ...(await exportJWK(pair.publicKey)), kid: 'test-key-1', alg: 'RS256', use: 'sig' };
    server = http.createServer((_req, res) => {
      jwksRequests += 1;
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ keys: [publicJwk] }));
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const { port } = server.address() as AddressInfo;
    verify = createTokenVerifier(loadConfig({ AUTH_JWKS_URL: `http://127.0.0.1:${port}/.well-known/jwks.json` }));
  });
  afterAll(async () => {
    server.closeAllConnections();
    server.close();
    await once(server, 'close');
  });

  it('accepts a token signed by the published key', async () => {
    const token = await sign({ roles: ['admin'] }, { key: privateKey, alg: 'RS256', kid: 'test-key-1' });
    await expect(verify(`Bearer ${token}`)).resolves.toMatchObject({ subject: 'user-1', role: 'admin' });
    expect(jwksRequests).toBeGreaterThanOrEqual(1);
  });

  it('refuses a token signed by another key under the same key id', async () => {
    const other = await generateKeyPair('RS256');
    const token = await sign({ roles: ['admin'] }, { key: other.privateKey, alg: 'RS256', kid: 'test-key-1' });
    await expect(verify(`Bearer ${token}`)).rejects.toMatchObject({
      ...UNAUTHENTICATED,
      message: 'Token rejected: invalid signature or format',
    });
  });

  it('refuses an HS256 token, even one signed with a secret', async () => {
    const token = await sign({ roles: ['admin'] }, { kid: 'test-key-1' });
    await expect(verify(`Bearer ${token}`)).rejects.toMatchObject(UNAUTHENTICATED);
  });

  it('still checks expiry and audience', async () => {
    const expired = await sign(
      { roles: ['admin'] },
      { key: privateKey, alg: 'RS256', kid: 'test-key-1', expiresAt: Math.floor(Date.now() / 1000) - 60 },
    );
    await expect(verify(`Bearer ${expired}`)).rejects.toMatchObject({ ...UNAUTHENTICATED, message: 'Token expired' });
    const elsewhere = await sign({ roles: ['admin'] }, { key: privateKey, alg: 'RS256', kid: 'test-key-1', audience: 'another-api' });
    await expect(verify(`Bearer ${elsewhere}`)).rejects.toMatchObject(UNAUTHENTICATED);
  });
});

describe('resolveJwtSecret', () => {
  it('uses AUTH_JWT_SECRET when set, writing nothing', () => {
    const dir = tempDir();
    const secret = resolveJwtSecret(loadConfig({ AUTH_JWT_SECRET: SECRET, DATA_DIR: dir }));
    expect(new TextDecoder().decode(secret)).toBe(SECRET);
    expect(fs.readdirSync(dir)).toEqual([]);
  });

  it('answers undefined when a JWKS URL is configured', () => {
    expect(resolveJwtSecret(loadConfig({ AUTH_JWKS_URL: 'https://issuer.example/jwks.json', DATA_DIR: tempDir() }))).toBeUndefined();
  });

  it('generates a development secret once into DATA_DIR and reuses it across restarts', async () => {
    const dir = path.join(tempDir(), 'fresh');
    const first = resolveJwtSecret(loadConfig({ DATA_DIR: dir }));
    const file = path.join(dir, 'jwt-secret');
    expect(new TextDecoder().decode(first)).toBe(fs.readFileSync(file, 'utf8'));
    expect(first!.length).toBeGreaterThanOrEqual(32);
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);

    const again = resolveJwtSecret(loadConfig({ DATA_DIR: dir }));
    expect(again).toEqual(first);

    const token = await signToken(loadConfig({ DATA_DIR: dir }), { role: 'responder' });
    await expect(createTokenVerifier(loadConfig({ DATA_DIR: dir }))(`Bearer ${token}`)).resolves.toMatchObject({
      subject: 'dev-responder',
      role: 'responder',
    });
    await expect(createTokenVerifier(loadConfig({ DATA_DIR: tempDir() }))(`Bearer ${token}`)).rejects.toMatchObject(UNAUTHENTICATED);
  });

  it('refuses to generate a secret in production, writing nothing', () => {
    const dir = tempDir();
    expect(() => resolveJwtSecret(loadConfig({ NODE_ENV: 'production', DATA_DIR: dir }))).toThrow(MissingSecretsError);
    expect(() => resolveJwtSecret(loadConfig({ NODE_ENV: 'production', DATA_DIR: dir }))).toThrow(
      /AUTH_JWT_SECRET must be set in production[^]*or AUTH_JWKS_URL/,
    );
    expect(fs.readdirSync(dir)).toEqual([]);
  });
});

describe('requireProductionSecrets', () => {
  const production = (env: Record<string, string> = {}) => loadConfig({ NODE_ENV: 'production', ...env });
  const missing = (run: () => void) => {
    try {
      run();
      return [];
    } catch (error) {
      return (error as MissingSecretsError).missing;
    }
  };

  it('names every missing variable at once, and only those the process needs', () => {
    expect(missing(() => requireProductionSecrets(production(), { tokens: true, credentials: true }))).toEqual([
      'AUTH_JWT_SECRET',
      'CREDENTIALS_KEY',
    ]);
    expect(() => requireProductionSecrets(production(), { tokens: true, credentials: true })).toThrow(
      /^AUTH_JWT_SECRET and CREDENTIALS_KEY must be set in production/,
    );
    expect(missing(() => requireProductionSecrets(production(), { tokens: true }))).toEqual(['AUTH_JWT_SECRET']);
    expect(missing(() => requireProductionSecrets(production(), { credentials: true }))).toEqual(['CREDENTIALS_KEY']);
  });

  it('accepts AUTH_JWKS_URL instead of AUTH_JWT_SECRET, and asks nothing outside production', () => {
    expect(() =>
      requireProductionSecrets(production({ AUTH_JWKS_URL: 'https://issuer.example/jwks.json', CREDENTIALS_KEY: 'ab'.repeat(32) }), {
        tokens: true,
        credentials: true,
      }),
    ).not.toThrow();
    expect(() => requireProductionSecrets(loadConfig({}), { tokens: true, credentials: true })).not.toThrow();
  });
});

describe('isGatewaySecret', () => {
  it('accepts exactly the secret', () => {
    expect(isGatewaySecret(SECRET, SECRET)).toBe(true);
    for (const other of [`${SECRET}x`, SECRET.slice(1), '', undefined, ['a'], 42]) expect(isGatewaySecret(SECRET, other)).toBe(false);
  });
});

describe('signToken', () => {
  it('signs a 12-hour development token the verifier accepts', async () => {
    const token = await signToken(hs256Config, { role: 'admin' });
    const principal = await createTokenVerifier(hs256Config)(`Bearer ${token}`);
    expect(principal).toMatchObject({ subject: 'dev-admin', role: 'admin' });
    expect(principal.expiresAt - Date.now() / 1000).toBeCloseTo(12 * 3600, -2);
  });

  it('refuses when only a JWKS URL is configured', async () => {
    await expect(signToken(loadConfig({ AUTH_JWKS_URL: 'https://issuer.example/jwks.json' }), { role: 'viewer' })).rejects.toThrow(
      /HS256 secret/,
    );
  });
});

describe('authChecker', () => {
  const schema = buildSchema('type Query { accounts: Int } type Mutation { connectApp: Int }');
  // Declared as type-graphql's AuthChecker union (function or class); auth.ts exports the function form.
  const check = authChecker as AuthCheckerFn<AuthContext, Role>;

  /** Runs `document` as `role`, every field guarded by `@Authorized(...required)`. */
  function runAs(role: Role, required: Role[], document: string): Promise<ExecutionResult> {
    return graphql({
      schema,
      source: document,
      contextValue: { principal: { subject: 'user-1', role } },
      fieldResolver: async (root, args, context, info) => ((await check({ root, args, context, info }, required)) ? 1 : null),
    }) as Promise<ExecutionResult>;
  }

  const pairs = ROLES.flatMap((role) => ROLES.map((required) => [role, required] as const));
  const allowed = pairs.filter(([role, required]) => ROLES.indexOf(role) >= ROLES.indexOf(required));
  const refused = pairs.filter(([role, required]) => ROLES.indexOf(role) < ROLES.indexOf(required));

  it('orders the roles viewer < analyst < responder < admin', () => {
    expect(ROLES).toEqual(['viewer', 'analyst', 'responder', 'admin']);
    expect(allowed).toHaveLength(10);
  });

  it.each(allowed)('lets %s call a field that needs %s', async (role, required) => {
    await expect(runAs(role, [required], 'mutation { connectApp }')).resolves.toEqual({ data: { connectApp: 1 } });
  });

  it.each(refused)('refuses %s a field that needs %s with FORBIDDEN', async (role, required) => {
    const result = await runAs(role, [required], 'mutation { connectApp }');
    expect(result.data).toEqual({ connectApp: null });
    expect(result.errors).toHaveLength(1);
    expect(result.errors![0]!.extensions).toEqual({ code: 'FORBIDDEN' });
  });

  it('names the field, the role it needs and the role the token has', async () => {
    const result = await runAs('analyst', ['admin'], 'mutation { connectApp }');
    expect(result.errors![0]!.message).toBe('"Mutation.connectApp" needs role admin or higher; the token has analyst');
  });

  it('lets any valid role through a plain @Authorized()', async () => {
    await expect(runAs('viewer', [], '{ accounts }')).resolves.toEqual({ data: { accounts: 1 } });
  });
});
