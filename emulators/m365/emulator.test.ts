import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { startM365Emulator, type M365Emulator, type M365TenantSpec } from './index.js';

const TENANT = '6f0b3c2e-1d2a-4b5c-9d8e-7f6a5b4c3d2e';
const CLIENT = { clientId: 'app-1', clientSecret: 'app-1-secret-value' };
const stops: (() => Promise<void>)[] = [];
afterEach(async () => {
  await Promise.all(stops.splice(0).map((stop) => stop()));
});

class Clock {
  t = Date.parse('2026-06-01T12:00:00Z');
  now = () => this.t;
}

async function emulator(spec: Partial<M365TenantSpec> = {}, clock?: Clock): Promise<M365Emulator> {
  const emu = await startM365Emulator({
    tenants: [{ tenantId: TENANT, users: 25, files: 20, clients: [CLIENT], ...spec }],
    clock: clock?.now,
  });
  stops.push(() => emu.stop());
  return emu;
}

async function token(emu: M365Emulator, form: Record<string, string> = {}) {
  const response = await fetch(`${emu.authorityHost}/${TENANT}/oauth2/v2.0/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      grant_type: 'client_credentials',
      scope: 'https://graph.microsoft.com/.default',
      client_id: CLIENT.clientId,
      client_secret: CLIENT.clientSecret,
      ...form,
    }),
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

async function graph<T = Record<string, unknown>>(emu: M365Emulator, bearer: string, path: string, init: RequestInit = {}) {
  const response = await fetch(path.startsWith('http') ? path : `${emu.graphEndpoint}/v1.0${path}`, {
    ...init,
    redirect: 'manual',
    headers: { authorization: `Bearer ${bearer}`, ...(init.headers as Record<string, string>) },
  });
  const text = await response.text();
  return { status: response.status, headers: response.headers, body: (text ? JSON.parse(text) : null) as T };
}

const claims = (jwt: string) => JSON.parse(Buffer.from(jwt.split('.')[1]!, 'base64url').toString('utf8')) as Record<string, unknown>;

describe('the Microsoft 365 emulator', () => {
  it('issues client-credentials tokens whose roles claim lists the consented permissions, and refuses bad clients as Entra does', async () => {
    const emu = await emulator({ clients: [{ ...CLIENT, roles: ['User.Read.All'] }] });
    const ok = await token(emu);
    expect(ok.status).toBe(200);
    expect(ok.body).toMatchObject({ token_type: 'Bearer', expires_in: 3599 });
    expect(claims(ok.body.access_token as string)).toMatchObject({ tid: TENANT, appid: 'app-1', roles: ['User.Read.All'] });
    expect(await token(emu, { client_secret: 'wrong-secret-value' })).toMatchObject({ status: 401, body: { error: 'invalid_client' } });
    expect(await token(emu, { client_id: 'nobody' })).toMatchObject({ status: 400, body: { error: 'unauthorized_client' } });
    expect(await token(emu, { scope: 'User.Read' })).toMatchObject({ status: 400, body: { error: 'invalid_scope' } });
    const bearer = ok.body.access_token as string;
    expect((await graph(emu, bearer, '/users')).status).toBe(200);
    expect(await graph(emu, bearer, '/auditLogs/signIns')).toMatchObject({
      status: 403,
      body: { error: { code: 'Authorization_RequestDenied' } },
    });
  });

  it('refuses an expired token and every token issued before an expiry from the admin API', async () => {
    const clock = new Clock();
    const emu = await emulator({ tokenLifetimeSeconds: 60 }, clock);
    const bearer = (await token(emu)).body.access_token as string;
    expect((await graph(emu, bearer, '/organization')).status).toBe(200);
    clock.t += 60_000;
    expect(await graph(emu, bearer, '/organization')).toMatchObject({
      status: 401,
      body: { error: { code: 'InvalidAuthenticationToken' } },
    });
    const fresh = (await token(emu)).body.access_token as string;
    emu.tenant(TENANT).expireTokens();
    clock.t += 1000;
    expect((await graph(emu, fresh, '/organization')).status).toBe(401);
    expect((await graph(emu, (await token(emu)).body.access_token as string, '/organization')).status).toBe(200);
  });

  it('pages users with @odata.nextLink to exactly the directory, and filters audit logs by time window', async () => {
    const emu = await emulator({ users: 23, guests: 2 });
    const bearer = (await token(emu)).body.access_token as string;
    const ids: string[] = [];
    let next: string | undefined = '/users?$top=7';
    while (next) {
      const page: { body: { value: { id: string }[]; '@odata.nextLink'?: string } } = await graph(emu, bearer, next);
      ids.push(...page.body.value.map((u) => u.id));
      next = page.body['@odata.nextLink'];
    }
    expect(ids.sort()).toEqual(
      emu
        .tenant(TENANT)
        .truth()
        .users.map((u) => u.id)
        .sort(),
    );
    const truth = emu.tenant(TENANT).truth();
    const middle = truth.signIns.map((s) => s.createdDateTime).sort()[Math.floor(truth.signIns.length / 2)]!;
    const later = await graph<{ value: { createdDateTime: string }[] }>(
      emu,
      bearer,
      `/auditLogs/signIns?$filter=${encodeURIComponent(`createdDateTime ge ${middle}`)}`,
    );
    expect(later.body.value.length).toBe(truth.signIns.filter((s) => s.createdDateTime >= middle).length);
    expect(later.body.value.every((s) => s.createdDateTime >= middle)).toBe(true);
  });

  it('lists a drive by delta, then answers only what changed after the deltaLink, deletions as the deleted facet', async () => {
    const emu = await emulator({ files: 12 });
    const bearer = (await token(emu)).body.access_token as string;
    const { body: drives } = await graph<{ value: { id: string }[] }>(emu, bearer, '/sites/root/drives');
    const drive = drives.value[0]!.id;
    let link = `/drives/${drive}/root/delta?$top=4`;
    const seen: string[] = [];
    let deltaLink = '';
    for (;;) {
      const { body } = await graph<{ value: { id: string; file?: unknown }[]; '@odata.nextLink'?: string; '@odata.deltaLink'?: string }>(
        emu,
        bearer,
        link,
      );
      seen.push(...body.value.filter((i) => i.file).map((i) => i.id));
      if (body['@odata.nextLink']) link = body['@odata.nextLink'];
      else {
        deltaLink = body['@odata.deltaLink']!;
        break;
      }
    }
    const files = emu
      .tenant(TENANT)
      .truth()
      .items.filter((i) => i.driveId === drive && !i.folder);
    expect(seen.sort()).toEqual(files.map((f) => f.id).sort());
    emu.tenant(TENANT).changeFile(files[0]!.id);
    emu.tenant(TENANT).remove('file', files[1]!.id);
    const { body: changes } = await graph<{ value: { id: string; deleted?: unknown }[] }>(emu, bearer, deltaLink);
    expect(changes.value.map((c) => [c.id, Boolean(c.deleted)]).sort()).toEqual(
      [
        [files[0]!.id, false],
        [files[1]!.id, true],
      ].sort(),
    );
  });

  it('throttles a service over its limit with 429 and Retry-After while the others still answer', async () => {
    const emu = await emulator({ limits: { audit: 12 } });
    const bearer = (await token(emu)).body.access_token as string;
    const statuses: number[] = [];
    for (let i = 0; i < 4; i++) statuses.push((await graph(emu, bearer, '/auditLogs/directoryAudits')).status);
    const throttled = await graph(emu, bearer, '/auditLogs/directoryAudits');
    expect(statuses.filter((s) => s === 200).length).toBe(2);
    expect(throttled.status).toBe(429);
    expect(Number(throttled.headers.get('retry-after'))).toBeGreaterThan(0);
    expect((await graph(emu, bearer, '/users')).status).toBe(200);
  });

  it('counts the files service per minute window and says what is left with RateLimit headers from 80 % of it', async () => {
    const clock = new Clock();
    clock.t = Date.parse('2026-12-01T12:00:10Z');
    const emu = await emulator({ limits: { files: 50 } }, clock);
    const bearer = (await token(emu)).body.access_token as string;
    const drive = emu.tenant(TENANT).truth().drives[0]!.id;
    const heads: Headers[] = [];
    for (let i = 0; i < 50; i++) {
      const answer = await graph(emu, bearer, `/drives/${drive}/root`);
      expect(answer.status).toBe(200);
      heads.push(answer.headers);
    }
    expect(heads.slice(0, 40).every((h) => h.get('ratelimit-remaining') === null)).toBe(true);
    expect(heads[45]!.get('ratelimit-limit')).toBe('50');
    expect(heads[45]!.get('ratelimit-remaining')).toBe('4');
    // 50 seconds to the end of the minute window.
    expect(heads[45]!.get('ratelimit-reset')).toBe('50');
    const throttled = await graph(emu, bearer, `/drives/${drive}/root`);
    expect(throttled.status).toBe(429);
    expect(throttled.headers.get('retry-after')).toBe('50');
    clock.t += 50_000;
    expect((await graph(emu, bearer, `/drives/${drive}/root`)).status).toBe(200);
  });

  it('creates a drive subscription only after the validation handshake, then notifies with the clientState', async () => {
    const emu = await emulator();
    const bearer = (await token(emu)).body.access_token as string;
    const received: unknown[] = [];
    let echo = true;
    const receiver = http.createServer((req, res) => {
      const url = new URL(req.url ?? '/', 'http://x');
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        const validation = url.searchParams.get('validationToken');
        if (validation) {
          res.writeHead(200, { 'content-type': 'text/plain' });
          res.end(echo ? validation : 'nope');
          return;
        }
        received.push(JSON.parse(body));
        res.writeHead(202).end();
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    stops.push(() => new Promise((resolve) => receiver.close(() => resolve())));
    const notificationUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`;
    const drive = emu.tenant(TENANT).truth().drives[0]!.id;
    const create = (expires: number) =>
      graph<{ id: string }>(emu, bearer, '/subscriptions', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          changeType: 'updated',
          resource: `/drives/${drive}/root`,
          notificationUrl,
          clientState: 'secret-state',
          expirationDateTime: new Date(Date.now() + expires).toISOString(),
        }),
      });
    echo = false;
    expect((await create(3_600_000)).body).toMatchObject({ error: { code: 'ValidationError' } });
    echo = true;
    expect((await create(43_000 * 60_000)).status).toBe(400);
    const created = await create(3_600_000);
    expect(created.status).toBe(201);
    const file = emu
      .tenant(TENANT)
      .truth()
      .items.find((i) => i.driveId === drive && !i.folder)!;
    emu.tenant(TENANT).changeFile(file.id);
    const deadline = Date.now() + 5000;
    while (received.length === 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10));
    expect(received[0]).toMatchObject({
      value: [{ subscriptionId: created.body.id, clientState: 'secret-state', changeType: 'updated', resource: `/drives/${drive}/root` }],
    });
  });
});

describe('the admin API', () => {
  it('answers bad input with 400 and what was wrong, never a 500', async () => {
    const emu = await emulator();
    const patch = (body: string) => fetch(`${emu.url}/admin/tenants/${TENANT}`, { method: 'PATCH', body });
    const notJson = await patch('{not json');
    expect(notJson.status).toBe(400);
    const bad = await patch(JSON.stringify({ throttleRate: 2 }));
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: { message: string } }).error.message).toMatch(/^tenant\.throttleRate: /);
    expect((await patch(JSON.stringify({ throttleRate: 0.5 }))).status).toBe(200);
  });
});
