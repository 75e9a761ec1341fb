import { createHash, createSign, generateKeyPairSync } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Readable } from 'node:stream';
import { admin } from '@googleapis/admin';
import { drive as driveClient } from '@googleapis/drive';
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

/** google-auth-library's JWT client for the service account, its token requests pointed at the emulator (Google's token URL is fixed in the library). */
function jwtClient(emu: GoogleEmulator, scopes: string[], subject: string): JWT {
  const jwt = new JWT({ email: SA.clientEmail, key: PRIVATE_KEY, scopes, subject });
  jwt.transporter.interceptors.request.add({
    resolved: async (config) => ({ ...config, url: new URL(String(config.url).replace('https://oauth2.googleapis.com', emu.url)) }),
  });
  return jwt;
}

describe('the Google Workspace emulator', () => {
  it('issues delegated tokens to google-auth-library’s JWT client, which the googleapis Directory client then uses', async () => {
    const emu = await emulator();
    const jwt = jwtClient(emu, [SCOPES.userReadonly], adminEmail(emu));
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

  it('pages the Reports API newest first, hides activities until their lag has passed, and refuses a bad time', async () => {
    const clock = new Clock();
    const emu = await emulator({ latencyMs: { login: 60_000, admin: 0, drive: 0, token: 0 }, backfillDays: 1 }, { clock });
    clock.t = Date.now();
    const audit = await bearer(emu, [SCOPES.audit]);
    const control = emu.customer(CUSTOMER);
    const late = control.lateEvents(4, 60_000);
    const past = control.pastEvents(4, 3 * 3_600_000);
    const read = async (app: string, extra = '') => {
      const seen: { id: { time: string; uniqueQualifier: string } }[] = [];
      let next = `/admin/reports/v1/activity/users/all/applications/${app}?maxResults=9${extra}`;
      for (;;) {
        const page = await api<{ items?: (typeof seen)[number][]; nextPageToken?: string }>(emu, audit, next);
        expect(page.status).toBe(200);
        seen.push(...(page.body.items ?? []));
        if (!page.body.nextPageToken) return seen;
        next = `/admin/reports/v1/activity/users/all/applications/${app}?maxResults=9${extra}&pageToken=${page.body.nextPageToken}`;
      }
    };
    const logins = await read('login');
    const times = logins.map((a) => Date.parse(a.id.time));
    expect(times).toEqual([...times].sort((a, b) => b - a));
    const visible = (ids: string[]) => ids.filter((id) => logins.some((a) => a.id.uniqueQualifier === id));
    // lateEvents spreads over login, admin, drive and token: the first is a login, late up to a minute.
    expect(visible(past)).toEqual([past[0]]);
    const truth = control.truth();
    expect(logins.length).toBe(truth.activities.filter((a) => a.applicationName === 'login' && a.visible).length);
    expect(visible(late)).toEqual([]);
    clock.t += 60_000;
    expect((await read('login')).some((a) => a.id.uniqueQualifier === late[0])).toBe(true);
    const start = new Date(clock.t - 3_600_000).toISOString();
    expect((await read('admin', `&startTime=${start}`)).every((a) => Date.parse(a.id.time) >= Date.parse(start))).toBe(true);
    expect(await api(emu, audit, '/admin/reports/v1/activity/users/all/applications/login?startTime=yesterday')).toMatchObject({
      status: 400,
      body: { error: { errors: [{ reason: 'invalid', location: 'startTime' }] } },
    });
    expect((await api(emu, audit, '/admin/reports/v1/activity/users/all/applications/login?pageToken=forged')).status).toBe(400);
  });

  it('lists a user’s My Drive by pages, exports Google Docs as text and refuses to download them, as Drive documents', async () => {
    const emu = await emulator({ files: 60, oversizeDocs: 1 });
    const truth = emu.customer(CUSTOMER).truth();
    const owner = truth.users.find((u) => u.isAdmin)!;
    const drive = await bearer(emu, [SCOPES.driveReadonly], owner.primaryEmail);
    const ids: string[] = [];
    let next: string | undefined = '';
    do {
      const page: { status: number; body: { files: { id: string }[]; nextPageToken?: string } } = await api(
        emu,
        drive,
        `/drive/v3/files?pageSize=3&q=${encodeURIComponent("'me' in owners and trashed = false")}${next ? `&pageToken=${next}` : ''}`,
      );
      expect(page.status).toBe(200);
      ids.push(...page.body.files.map((f) => f.id));
      next = page.body.nextPageToken;
    } while (next);
    const owned = truth.files.filter((f) => f.ownerId === owner.id && !f.trashed);
    expect(ids.sort()).toEqual(owned.map((f) => f.id).sort());
    expect(await api(emu, drive, '/drive/v3/files?pageSize=1001')).toMatchObject({
      status: 400,
      body: { error: { errors: [{ location: 'pageSize' }] } },
    });
    expect(await api(emu, drive, `/drive/v3/files?q=${encodeURIComponent('owner is me')}`)).toMatchObject({
      status: 400,
      body: { error: { errors: [{ location: 'q' }] } },
    });
    const doc = truth.files.find(
      (f) => f.mimeType === 'application/vnd.google-apps.document' && f.planted.length && f.ownerId === owner.id,
    );
    const anyDoc =
      doc ?? truth.files.find((f) => f.mimeType === 'application/vnd.google-apps.document' && f.ownerId === owner.id && f.size < 1000)!;
    const exported = await api(emu, drive, `/drive/v3/files/${anyDoc.id}/export?mimeType=text/plain`);
    expect(exported.status).toBe(200);
    expect(exported.text).toContain(anyDoc.name);
    if (doc?.planted.includes('credit_card')) expect(exported.text).toMatch(/\d{4} \d{4} \d{4} \d{4}/);
    expect(await api(emu, drive, `/drive/v3/files/${anyDoc.id}?alt=media`)).toMatchObject({
      status: 403,
      body: { error: { errors: [{ reason: 'fileNotDownloadable' }] } },
    });
    expect(await api(emu, drive, `/drive/v3/files/${anyDoc.id}/export?mimeType=application/zip`)).toMatchObject({ status: 400 });
    const oversize = truth.files.find((f) => f.size > 10 * 1024 * 1024)!;
    const big = await bearer(emu, [SCOPES.driveReadonly], truth.users.find((u) => u.id === oversize.ownerId)!.primaryEmail);
    expect(await api(emu, big, `/drive/v3/files/${oversize.id}/export?mimeType=text/plain`)).toMatchObject({
      status: 403,
      body: { error: { errors: [{ reason: 'exportSizeLimitExceeded' }] } },
    });
    const binary = owned.find((f) => !f.googleDoc && !f.folder)!;
    const media = await fetch(`${emu.url}/drive/v3/files/${binary.id}?alt=media`, { headers: { authorization: `Bearer ${drive}` } });
    expect(
      createHash('md5')
        .update(Buffer.from(await media.arrayBuffer()))
        .digest('hex'),
    ).toBe(binary.md5Checksum);
    const meta = await api<Record<string, unknown>>(
      emu,
      drive,
      `/drive/v3/files/${binary.id}?fields=id,md5Checksum,owners(emailAddress),permissions(type,role)`,
    );
    expect(meta.body).toMatchObject({ id: binary.id, md5Checksum: binary.md5Checksum, owners: [{ emailAddress: owner.primaryEmail }] });
    expect(Object.keys(meta.body).sort()).toEqual(['id', 'md5Checksum', 'owners', 'permissions']);
    expect(await api(emu, drive, '/drive/v3/about')).toMatchObject({ status: 400, body: { error: { errors: [{ reason: 'required' }] } } });
  });

  it('feeds changes by page token and pushes a sync and a change message to a real webhook receiver', async () => {
    const emu = await emulator({}, { allowHttpWebhooks: true });
    const received: Record<string, string>[] = [];
    let wake = () => {};
    const receiver = http.createServer((req, res) => {
      received.push(
        Object.fromEntries(
          Object.entries(req.headers)
            .filter(([k]) => k.startsWith('x-goog-'))
            .map(([k, v]) => [k, String(v)]),
        ),
      );
      req.resume();
      res.writeHead(200).end();
      wake();
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    stops.push(() => new Promise((resolve) => receiver.close(() => resolve())));
    // Resolves when the receiver has `count` notifications (checked at each one), or fails after 5 s.
    const messages = (count: number) =>
      new Promise<Record<string, string>[]>((resolve, reject) => {
        const deadline = setTimeout(() => reject(new Error(`waited for ${count} notifications, got ${received.length}`)), 5000);
        wake = () => {
          if (received.length < count) return;
          clearTimeout(deadline);
          resolve(received);
        };
        wake();
      });
    const control = emu.customer(CUSTOMER);
    const owner = control.truth().users.find((u) => u.isAdmin)!;
    const drive = await bearer(emu, [SCOPES.drive], owner.primaryEmail);
    const { body: start } = await api<{ startPageToken: string }>(emu, drive, '/drive/v3/changes/startPageToken');
    const address = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`;
    const watch = await api<{ id: string; resourceId: string; expiration: string }>(
      emu,
      drive,
      `/drive/v3/changes/watch?pageToken=${start.startPageToken}`,
      {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          id: 'channel-1',
          type: 'web_hook',
          address,
          token: 'channel-secret',
          expiration: String(Date.now() + 30 * 86_400_000),
        }),
      },
    );
    expect(watch.status).toBe(200);
    // Longer than a week is cut to a week for the changes resource.
    expect(Number(watch.body.expiration)).toBeLessThanOrEqual(Date.now() + 604_800_000);
    const [sync] = await messages(1);
    expect(sync).toMatchObject({
      'x-goog-channel-id': 'channel-1',
      'x-goog-channel-token': 'channel-secret',
      'x-goog-resource-id': watch.body.resourceId,
      'x-goog-resource-state': 'sync',
      'x-goog-message-number': '1',
    });
    const file = control.truth().files.find((f) => f.ownerId === owner.id && !f.folder)!;
    control.changeFile(file.id);
    const [, change] = await messages(2);
    expect(change).toMatchObject({ 'x-goog-channel-id': 'channel-1', 'x-goog-resource-state': 'change', 'x-goog-message-number': '2' });
    expect(new Date(change!['x-goog-channel-expiration']!).getTime()).toBe(Math.floor(Number(watch.body.expiration) / 1000) * 1000);
    const list = await api<{
      changes: { fileId: string; removed: boolean; file?: { id: string } }[];
      newStartPageToken?: string;
      nextPageToken?: string;
    }>(emu, drive, `/drive/v3/changes?pageToken=${start.startPageToken}`);
    expect(list.body.changes).toEqual([
      expect.objectContaining({ fileId: file.id, removed: false, file: expect.objectContaining({ id: file.id }) }),
    ]);
    expect(Number(list.body.newStartPageToken)).toBeGreaterThan(Number(start.startPageToken));
    control.remove('file', file.id);
    const after = await api<typeof list.body>(emu, drive, `/drive/v3/changes?pageToken=${list.body.newStartPageToken}`);
    expect(after.body.changes).toEqual([expect.objectContaining({ fileId: file.id, removed: true })]);
    expect(await api(emu, drive, '/drive/v3/changes?pageToken=not-a-token')).toMatchObject({
      status: 400,
      body: { error: { errors: [{ reason: 'invalid', location: 'pageToken' }] } },
    });
    expect(
      await api(emu, drive, `/drive/v3/changes/watch?pageToken=${start.startPageToken}`, {
        method: 'POST',
        body: JSON.stringify({ id: 'channel-1', type: 'web_hook', address }),
      }),
    ).toMatchObject({ status: 400, body: { error: { errors: [{ reason: 'channelIdNotUnique' }] } } });
    expect(control.channels()).toHaveLength(1);
    const stop = await api(emu, drive, '/drive/v3/channels/stop', {
      method: 'POST',
      body: JSON.stringify({ id: 'channel-1', resourceId: watch.body.resourceId }),
    });
    expect(stop.status).toBe(204);
    expect(control.channels()).toHaveLength(0);
  });

  it('records every governance action it applied, and refuses removing a file’s owner', async () => {
    const emu = await emulator({ files: 200, tokens: 20 });
    const control = emu.customer(CUSTOMER);
    const truth = control.truth();
    const owner = truth.users.find((u) => u.isAdmin)!;
    const target = truth.users.find((u) => !u.isAdmin && !u.suspended && !u.archived)!;
    const directory = await bearer(emu, [SCOPES.user, SCOPES.userSecurity]);
    const patch = await api<{ suspended: boolean }>(emu, directory, `/admin/directory/v1/users/${target.primaryEmail}`, {
      method: 'PATCH',
      body: JSON.stringify({ suspended: true, changePasswordAtNextLogin: true }),
    });
    expect(patch).toMatchObject({ status: 200, body: { suspended: true, changePasswordAtNextLogin: true } });
    expect((await api(emu, directory, `/admin/directory/v1/users/${target.id}/signOut`, { method: 'POST' })).status).toBe(204);
    const token = truth.tokens[0]!;
    const tokens = await api<{ items: { clientId: string; scopes: string[] }[] }>(
      emu,
      directory,
      `/admin/directory/v1/users/${token.userId}/tokens`,
    );
    expect(tokens.body.items.map((t) => t.clientId)).toContain(token.clientId);
    expect(
      (
        await api(emu, directory, `/admin/directory/v1/users/${token.userId}/tokens/${encodeURIComponent(token.clientId)}`, {
          method: 'DELETE',
        })
      ).status,
    ).toBe(204);
    expect(
      (await api(emu, directory, `/admin/directory/v1/users/${token.userId}/tokens/${encodeURIComponent(token.clientId)}`)).status,
    ).toBe(404);
    const drive = await bearer(emu, [SCOPES.drive], owner.primaryEmail);
    const mine = truth.files.filter((f) => f.ownerId === owner.id && !f.folder);
    const shared = mine.find((f) => f.permissions.length > 1) ?? mine[0]!;
    const ownerPermission = shared.permissions.find((p) => p.role === 'owner')!;
    expect(await api(emu, drive, `/drive/v3/files/${shared.id}/permissions/${ownerPermission.id}`, { method: 'DELETE' })).toMatchObject({
      status: 403,
      body: { error: { errors: [{ reason: 'cannotRemoveOwner' }] } },
    });
    const other = shared.permissions.find((p) => p.role !== 'owner');
    if (other)
      expect((await api(emu, drive, `/drive/v3/files/${shared.id}/permissions/${other.id}`, { method: 'DELETE' })).status).toBe(204);
    const trash = await api<{ trashed: boolean }>(emu, drive, `/drive/v3/files/${mine[1]!.id}?fields=id,trashed`, {
      method: 'PATCH',
      body: JSON.stringify({ trashed: true }),
    });
    expect(trash.body).toEqual({ id: mine[1]!.id, trashed: true });
    const folder = await api<{ id: string }>(emu, drive, '/drive/v3/files', {
      method: 'POST',
      body: JSON.stringify({ name: 'Quarantine', mimeType: 'application/vnd.google-apps.folder' }),
    });
    expect(folder.status).toBe(200);
    const moved = await api<{ parents: string[] }>(
      emu,
      drive,
      `/drive/v3/files/${mine[2]!.id}?addParents=${folder.body.id}&removeParents=${mine[2]!.parentId}&fields=parents`,
      {
        method: 'PATCH',
        body: '{}',
      },
    );
    expect(moved.body.parents).toEqual([folder.body.id]);
    const content = await api(emu, drive, `/upload/drive/v3/files/${mine[3]!.id}?uploadType=media`, {
      method: 'PATCH',
      body: 'replaced content',
    });
    expect(content.status).toBe(200);
    const records = control.truth().governance.map((g) => [g.operation, g.targetId, g.detail ?? null]);
    expect(records).toEqual([
      ['user.suspend', target.id, null],
      ['user.changePasswordAtNextLogin', target.id, null],
      ['user.signOut', target.id, null],
      ['token.delete', `${token.userId}/${token.clientId}`, null],
      ...(other ? [['permission.delete', shared.id, other.id]] : []),
      ['file.trash', mine[1]!.id, null],
      ['file.move', mine[2]!.id, folder.body.id],
      ['file.content', mine[3]!.id, null],
    ]);
    const after = control.truth();
    expect(after.users.find((u) => u.id === target.id)).toMatchObject({ suspended: true, changePasswordAtNextLogin: true, signOuts: 1 });
    expect(after.files.find((f) => f.id === mine[3]!.id)!.md5Checksum).toBe(createHash('md5').update('replaced content').digest('hex'));
  });

  it('answers over-quota and throttled requests with each API’s rate-limit error and counts them', async () => {
    const emu = await emulator({ limits: { directory: { perProject: 1000, perUser: 3 }, drive: { perProject: 1000, perUser: 1000 } } });
    const control = emu.customer(CUSTOMER);
    const directory = await bearer(emu, [SCOPES.userReadonly, SCOPES.driveReadonly]);
    for (let k = 0; k < 3; k++) expect((await api(emu, directory, '/admin/directory/v1/users?customer=my_customer')).status).toBe(200);
    expect(await api(emu, directory, '/admin/directory/v1/users?customer=my_customer')).toMatchObject({
      status: 403,
      body: { error: { code: 403, errors: [{ domain: 'usageLimits', reason: 'userRateLimitExceeded' }] } },
    });
    control.setThrottleRate(1);
    expect(await api(emu, directory, '/drive/v3/files')).toMatchObject({
      status: 429,
      body: { error: { code: 429, status: 'RESOURCE_EXHAUSTED', errors: [{ domain: 'usageLimits', reason: 'rateLimitExceeded' }] } },
    });
    control.setThrottleRate(0);
    expect((await api(emu, directory, '/drive/v3/files')).status).toBe(200);
    expect(control.throttled()).toBe(2);
    expect(control.stats().requests['drive drive.files.list']).toEqual({ '200': 1, '429': 1 });
  });

  it('serves the googleapis Drive client: listing, export, a multipart upload from a stream, a permission removed', async () => {
    const emu = await emulator({ files: 120 });
    const control = emu.customer(CUSTOMER);
    const owner = control.truth().users.find((u) => u.isAdmin)!;
    const client = driveClient({ version: 'v3', auth: jwtClient(emu, [SCOPES.drive], owner.primaryEmail), rootUrl: emu.rootUrl });
    const listed = await client.files.list({
      q: "'me' in owners and trashed = false",
      pageSize: 1000,
      fields: 'files(id,name,mimeType,size,permissions(id,type,role))',
    });
    const files = listed.data.files ?? [];
    expect(files.length).toBe(control.truth().files.filter((f) => f.ownerId === owner.id && !f.trashed).length);
    const doc = files.find(
      (f) => f.mimeType === 'application/vnd.google-apps.spreadsheet' || f.mimeType === 'application/vnd.google-apps.document',
    )!;
    const format = doc.mimeType === 'application/vnd.google-apps.spreadsheet' ? 'text/csv' : 'text/plain';
    const exported = await client.files.export({ fileId: doc.id!, mimeType: format }, { responseType: 'text' });
    expect(String(exported.data)).toContain(doc.name!.replace(/\.\w+$/, '').split(' ')[0]);
    const binary = files.find((f) => !f.mimeType!.startsWith('application/vnd.google-apps.'))!;
    const updated = await client.files.update(
      {
        fileId: binary.id!,
        requestBody: { description: 'replaced by a test' },
        media: { mimeType: 'text/plain', body: Readable.from([Buffer.from('first line\r\n'), Buffer.from('second line')]) },
        fields: 'id,description,md5Checksum,version',
      },
      // googleapis-common rewrites a global rootUrl into `url` but not into `mediaUrl`: uploads need it per call.
      { rootUrl: emu.rootUrl },
    );
    expect(updated.data).toMatchObject({
      id: binary.id,
      description: 'replaced by a test',
      md5Checksum: createHash('md5').update('first line\r\nsecond line').digest('hex'),
    });
    const shared = files.find((f) => (f.permissions ?? []).some((p) => p.role !== 'owner'));
    if (shared) {
      const permission = shared.permissions!.find((p) => p.role !== 'owner')!;
      await client.permissions.delete({ fileId: shared.id!, permissionId: permission.id! });
      const after = await client.permissions.list({ fileId: shared.id! });
      expect(after.data.permissions!.map((p) => p.id)).not.toContain(permission.id);
    }
    await expect(client.files.get({ fileId: doc.id!, alt: 'media' })).rejects.toMatchObject({ status: 403 });
  });

  it('hosts several customers, each with its own domain: a token’s subject picks one and reaches no other', async () => {
    const emu = await startGoogleEmulator({
      customers: [
        { customerId: CUSTOMER, domain: DOMAIN, users: 8, files: 5, serviceAccounts: [{ ...SA, publicKeyPem: PUBLIC_KEY }] },
        {
          customerId: 'C05other1',
          domain: 'other.example.org',
          users: 6,
          files: 5,
          seed: 2,
          serviceAccounts: [{ ...SA, publicKeyPem: PUBLIC_KEY }],
        },
      ],
    });
    stops.push(() => emu.stop());
    const otherAdmin = emu
      .customer('C05other1')
      .truth()
      .users.find((u) => u.isAdmin)!;
    expect(otherAdmin.primaryEmail.endsWith('@other.example.org')).toBe(true);
    const other = await bearer(emu, [SCOPES.userReadonly], otherAdmin.primaryEmail);
    const users = await api<{ users: { customerId: string }[] }>(emu, other, '/admin/directory/v1/users?customer=my_customer');
    expect(users.body.users.map((u) => u.customerId)).toEqual(Array(6).fill('C05other1'));
    expect((await api(emu, other, `/admin/directory/v1/users?customer=${CUSTOMER}`)).status).toBe(403);
    expect((await api(emu, other, `/admin/directory/v1/users?domain=${DOMAIN}`)).status).toBe(403);
    expect((await api(emu, other, '/admin/directory/v1/users/%E0%A4%A')).status).toBe(400);
  });
});
