import { generateKeyPairSync, createSign } from 'node:crypto';
import { admin } from '@googleapis/admin';
import { JWT } from 'google-auth-library';
import { afterEach, describe, expect, it } from 'vitest';
import { GOOGLE_TOKEN_URL, SCOPES, startGoogleEmulator, type CustomerSpec, type GoogleEmulator } from './index.js';

const CUSTOMER = 'C03az79cb';
const DOMAIN = 'acme.example.com';
const SA = { clientEmail: 'tenantwatch@acme-project.iam.gserviceaccount.com', clientId: '104857600000000000001' };
const keys = generateKeyPairSync('rsa', { modulusLength: 2048 });
const PRIVATE_KEY = keys.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
const PUBLIC_KEY = keys.publicKey.export({ type: 'spki', format: 'pem' }).toString();
const other = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();

const stops: (() => Promise<void>)[] = [];
afterEach(async () => {
  await Promise.all(stops.splice(0).map((stop) => stop()));
});

class Clock {
  t = Date.parse('2026-06-01T12:00:00Z');
  now = () => this.t;
}

async function emulator(
  spec: Partial<CustomerSpec> = {},
  options: { clock?: Clock; allowHttpWebhooks?: boolean } = {},
): Promise<GoogleEmulator> {
  const emu = await startGoogleEmulator({
    customers: [
      {
        customerId: CUSTOMER,
        domain: DOMAIN,
        users: 30,
        files: 40,
        serviceAccounts: [{ ...SA, publicKeyPem: PUBLIC_KEY }],
        latencyMs: { login: 0, admin: 0, drive: 0, token: 0 },
        ...spec,
      },
    ],
    clock: options.clock?.now,
    allowHttpWebhooks: options.allowHttpWebhooks,
  });
  stops.push(() => emu.stop());
  return emu;
}

const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

/** A service account's JWT assertion (https://developers.google.com/identity/protocols/oauth2/service-account#httprest). */
function assertion(claims: Record<string, unknown>, key = PRIVATE_KEY): string {
  const now = Math.floor(Date.now() / 1000);
  const body = `${b64({ alg: 'RS256', typ: 'JWT' })}.${b64({ iss: SA.clientEmail, aud: GOOGLE_TOKEN_URL, iat: now, exp: now + 3600, ...claims })}`;
  return `${body}.${createSign('RSA-SHA256').update(body).sign(key).toString('base64url')}`;
}

async function token(emu: GoogleEmulator, claims: Record<string, unknown>, key?: string) {
  const response = await fetch(emu.tokenUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'urn:ietf:params:oauth:grant-type:jwt-bearer', assertion: assertion(claims, key) }),
  });
  return { status: response.status, body: (await response.json()) as Record<string, string> };
}

const adminEmail = (emu: GoogleEmulator) =>
  emu
    .customer(CUSTOMER)
    .truth()
    .users.find((u) => u.isAdmin)!.primaryEmail;

async function bearer(emu: GoogleEmulator, scopes: string[], sub = adminEmail(emu)): Promise<string> {
  const { status, body } = await token(emu, { scope: scopes.join(' '), sub });
  expect(status).toBe(200);
  return body.access_token!;
}

async function api<T = Record<string, unknown>>(emu: GoogleEmulator, accessToken: string, path: string, init: RequestInit = {}) {
  const response = await fetch(path.startsWith('http') ? path : `${emu.url}${path}`, {
    ...init,
    headers: { authorization: `Bearer ${accessToken}`, ...(init.headers as Record<string, string>) },
  });
  const text = await response.text();
  const isJson = (response.headers.get('content-type') ?? '').includes('json');
  return { status: response.status, headers: response.headers, text, body: (isJson && text ? JSON.parse(text) : null) as T };
}

describe('the Google Workspace emulator', () => {
  it('issues delegated tokens to google-auth-library’s JWT client, which the googleapis Directory client then uses', async () => {
    const emu = await emulator();
    const jwt = new JWT({ email: SA.clientEmail, key: PRIVATE_KEY, scopes: [SCOPES.userReadonly], subject: adminEmail(emu) });
    // Google's token URL is fixed in the library: the test points its transporter at the emulator.
    jwt.transporter.interceptors.request.add({
      resolved: async (config) => ({ ...config, url: new URL(String(config.url).replace('https://oauth2.googleapis.com', emu.url)) }),
    });
    const credentials = await jwt.authorize();
    expect(credentials.access_token).toMatch(/^ya29\./);
    expect(credentials.expiry_date! - Date.now()).toBeGreaterThan(3_500_000);
    const directory = admin({ version: 'directory_v1', auth: jwt, rootUrl: emu.rootUrl });
    const users: string[] = [];
    let pageToken: string | undefined;
    do {
      const page = await directory.users.list({ customer: 'my_customer', maxResults: 7, pageToken });
      users.push(...(page.data.users ?? []).map((u) => u.id!));
      pageToken = page.data.nextPageToken ?? undefined;
    } while (pageToken);
    expect(users.sort()).toEqual(
      emu
        .customer(CUSTOMER)
        .truth()
        .users.map((u) => u.id)
        .sort(),
    );
  });

  it('refuses assertions and delegations as Google’s token endpoint documents', async () => {
    const emu = await emulator({ serviceAccounts: [{ ...SA, publicKeyPem: PUBLIC_KEY, scopes: [SCOPES.userReadonly] }] });
    const sub = adminEmail(emu);
    const truth = emu.customer(CUSTOMER).truth();
    const suspended = truth.users.find((u) => u.suspended)!.primaryEmail;
    expect(await token(emu, { scope: SCOPES.userReadonly, sub }, other)).toMatchObject({
      status: 400,
      body: { error: 'invalid_grant', error_description: 'Invalid JWT Signature.' },
    });
    const now = Math.floor(Date.now() / 1000);
    expect(await token(emu, { scope: SCOPES.userReadonly, sub, iat: now, exp: now + 7200 })).toMatchObject({
      status: 400,
      body: { error: 'invalid_grant', error_description: expect.stringContaining('Token must be a short-lived token (60 minutes)') },
    });
    expect(await token(emu, { scope: `${SCOPES.userReadonly} ${SCOPES.drive}`, sub })).toMatchObject({
      status: 401,
      body: { error: 'unauthorized_client', error_description: expect.stringContaining('not authorized for any of the scopes requested') },
    });
    expect(await token(emu, { scope: SCOPES.userReadonly, sub: suspended })).toMatchObject({
      status: 400,
      body: { error: 'invalid_grant' },
    });
    expect(await token(emu, { scope: SCOPES.userReadonly, sub: `nobody@${DOMAIN}` })).toMatchObject({
      status: 400,
      body: { error: 'invalid_grant' },
    });
    expect(await token(emu, { scope: '', sub })).toMatchObject({ status: 400, body: { error: 'invalid_scope' } });
    emu.customer(CUSTOMER).refuseTokens(true);
    expect(await token(emu, { scope: SCOPES.userReadonly, sub })).toMatchObject({ status: 401, body: { error: 'unauthorized_client' } });
    emu.customer(CUSTOMER).refuseTokens(false);
    const ok = await token(emu, { scope: SCOPES.userReadonly, sub });
    expect(ok).toMatchObject({ status: 200, body: { token_type: 'Bearer', expires_in: 3599 } });
    const info = await fetch(`${emu.url}/tokeninfo?access_token=${ok.body.access_token}`).then((r) => r.json());
    expect(info).toMatchObject({ azp: SA.clientId, scope: SCOPES.userReadonly, email: sub });
  });

  it('answers 401 to expired and revoked tokens, 403 to a missing scope and to a user who is no administrator', async () => {
    const clock = new Clock();
    const emu = await emulator({ tokenLifetimeSeconds: 60 }, { clock });
    const truth = emu.customer(CUSTOMER).truth();
    // The assertion is signed with real time; the emulator's clock is set to it.
    clock.t = Date.now();
    const readonly = await bearer(emu, [SCOPES.userReadonly]);
    expect((await api(emu, readonly, '/admin/directory/v1/users?customer=my_customer')).status).toBe(200);
    const denied = await api<{ error: { code: number; errors: { reason: string }[]; status: string } }>(
      emu,
      readonly,
      `/admin/directory/v1/users/${truth.users[5]!.id}/signOut`,
      { method: 'POST' },
    );
    expect(denied.status).toBe(403);
    expect(denied.body.error).toMatchObject({ code: 403, status: 'PERMISSION_DENIED', errors: [{ reason: 'insufficientPermissions' }] });
    expect(denied.headers.get('www-authenticate')).toContain('insufficient_scope');
    const plain = truth.users.find((u) => !u.isAdmin && !u.isDelegatedAdmin && !u.suspended)!;
    const userToken = await bearer(emu, [SCOPES.userReadonly], plain.primaryEmail);
    expect(await api(emu, userToken, '/admin/directory/v1/users?customer=my_customer')).toMatchObject({
      status: 403,
      body: { error: { errors: [{ reason: 'forbidden' }] } },
    });
    clock.t += 60_000;
    const expired = await api(emu, readonly, '/admin/directory/v1/users?customer=my_customer');
    expect(expired).toMatchObject({
      status: 401,
      body: { error: { code: 401, status: 'UNAUTHENTICATED', errors: [{ reason: 'authError' }] } },
    });
    clock.t = Date.now();
    const fresh = await bearer(emu, [SCOPES.userReadonly]);
    emu.customer(CUSTOMER).expireTokens();
    expect((await api(emu, fresh, '/admin/directory/v1/users?customer=my_customer')).status).toBe(401);
  });
});
