import { afterEach, describe, expect, it } from 'vitest';
import type { Truth } from './model.js';
import { wireEvent, wireFile, wireGrant, wireGroup, wireMember, wireUser } from './serialize.js';
import { call, ManualClock, readAll, simulator, smallTenant } from './test-support.js';

const stops: (() => Promise<void>)[] = [];
const track = (stop: () => Promise<void>) => stops.push(stop);
afterEach(async () => {
  await Promise.all(stops.splice(0).map((stop) => stop()));
});

const TOKEN = 'acme-test-token';
const ALL_TIME = 'from=2000-01-01T00:00:00Z&to=2100-01-01T00:00:00Z';
const byId = <T extends { id: string }>(items: readonly T[]) => [...items].sort((a, b) => (a.id < b.id ? -1 : 1));

describe('the tenant API', () => {
  it('refuses a missing or unknown token with 401 invalid_token', async () => {
    const sim = await simulator(track);
    const missing = await call<{ error: string; message: string }>(sim.url, '/api/v1/users', null);
    expect(missing.status).toBe(401);
    expect(missing.body).toEqual({ error: 'invalid_token', message: 'missing Authorization: Bearer <token>' });
    const wrong = await call<{ error: string }>(sim.url, '/api/v1/users', 'not-the-token');
    expect(wrong.status).toBe(401);
    expect(wrong.body.error).toBe('invalid_token');
    expect((await call(sim.url, '/api/v1/me', TOKEN)).status).toBe(200);
  });

  it('pages through every list to exactly the ground truth', async () => {
    const sim = await simulator(track, { tenants: [smallTenant({ users: 45, files: 33, grants: 27, groups: 4 })] });
    const truth = sim.tenant('acme').truth();
    const limit = 7; // forces several pages everywhere
    expect(await readAll(sim.url, '/api/v1/users', TOKEN, limit)).toEqual(byId(truth.users).map(wireUser));
    expect(await readAll(sim.url, '/api/v1/groups', TOKEN, limit)).toEqual(byId(truth.groups).map(wireGroup));
    for (const group of truth.groups) {
      const members = truth.memberships.filter((m) => m.groupId === group.id).sort((a, b) => (a.userId < b.userId ? -1 : 1));
      expect(await readAll(sim.url, `/api/v1/groups/${group.id}/members`, TOKEN, limit)).toEqual(members.map(wireMember));
    }
    expect(await readAll(sim.url, '/api/v1/oauth-grants', TOKEN, limit)).toEqual(byId(truth.grants).map(wireGrant));
    expect(await readAll(sim.url, '/api/v1/files', TOKEN, limit)).toEqual(byId(truth.files).map(wireFile));
    const events = await readAll<{ id: string }>(sim.url, `/api/v1/audit/events?${ALL_TIME}`, TOKEN, 50);
    expect(byId(events)).toEqual(byId(truth.events).map(wireEvent));
  });

  it('answers single records, file content with its type, and 404 not_found for unknown ids', async () => {
    const sim = await simulator(track);
    const truth = sim.tenant('acme').truth();
    const [user, file, grant] = [truth.users[3]!, truth.files[5]!, truth.grants[2]!];
    expect((await call(sim.url, `/api/v1/users/${user.id}`, TOKEN)).body).toEqual(wireUser(user));
    expect((await call(sim.url, `/api/v1/files/${file.id}`, TOKEN)).body).toEqual(wireFile(file));
    expect((await call(sim.url, `/api/v1/oauth-grants/${grant.id}`, TOKEN)).body).toEqual(wireGrant(grant));
    const content = await fetch(`${sim.url}/api/v1/files/${file.id}/content`, { headers: { authorization: `Bearer ${TOKEN}` } });
    expect(content.headers.get('content-type')).toBe(file.mimeType);
    expect(await content.text()).toBe(file.content);
    for (const path of [
      '/api/v1/users/usr_nope',
      '/api/v1/files/fil_nope/content',
      '/api/v1/oauth-grants/gnt_nope',
      '/api/v1/groups/grp_nope/members',
    ]) {
      const answer = await call<{ error: string; message: string }>(sim.url, path, TOKEN);
      expect(answer.status, path).toBe(404);
      expect(answer.body.error).toBe('not_found');
      expect(answer.body.message).toMatch(/not found/);
    }
  });

  it('refuses a page larger than maxPageSize, and a bad limit or page token, with 400 and a message', async () => {
    const sim = await simulator(track, { tenants: [smallTenant({ maxPageSize: 20 })] });
    const tooBig = await call<{ error: string; message: string }>(sim.url, '/api/v1/users?limit=21', TOKEN);
    expect(tooBig.status).toBe(400);
    expect(tooBig.body.message).toBe('limit: at most 20 per page, got 21');
    expect((await call(sim.url, '/api/v1/users?limit=20', TOKEN)).status).toBe(200);
    expect((await call(sim.url, '/api/v1/users?limit=0', TOKEN)).status).toBe(400);
    const badToken = await call<{ error: string }>(sim.url, '/api/v1/users?pageToken=garbage', TOKEN);
    expect([badToken.status, badToken.body.error]).toEqual([400, 'invalid_page_token']);
    const usersPage = await call<{ nextPageToken: string }>(sim.url, '/api/v1/users?limit=2', TOKEN);
    const crossed = await call(sim.url, `/api/v1/files?pageToken=${usersPage.body.nextPageToken}`, TOKEN);
    expect(crossed.status).toBe(400);
    const noWindow = await call<{ message: string }>(sim.url, '/api/v1/audit/events', TOKEN);
    expect([noWindow.status, noWindow.body.message]).toEqual([400, 'from: required, an ISO 8601 time such as 2024-05-01T00:00:00Z']);
    await sim.tenant('acme').update({ maxPageSize: 5 });
    expect((await call(sim.url, '/api/v1/users?limit=6', TOKEN)).status).toBe(400);
  });

  it('answers 403 insufficient_scope for a permission the token lacks, and /me lists what it has', async () => {
    const sim = await simulator(track, { tenants: [smallTenant({ permissions: ['users.read', 'groups.read'] })] });
    const me = await call<{ tenantId: string; permissions: string[] }>(sim.url, '/api/v1/me', TOKEN);
    expect(me.body).toMatchObject({ tenantId: 'acme', permissions: ['users.read', 'groups.read'] });
    const files = await call<{ error: string; message: string }>(sim.url, '/api/v1/files', TOKEN);
    expect([files.status, files.body.error, files.body.message]).toEqual([
      403,
      'insufficient_scope',
      'this token lacks the files.read permission',
    ]);
  });

  it('gives two simulators with the same seed and clock the same truth, and tenants with another token their own data', async () => {
    const clock = new ManualClock();
    const a = await simulator(track, { clock: clock.now });
    const b = await simulator(track, { clock: clock.now });
    expect(b.tenant('acme').truth()).toEqual(a.tenant('acme').truth());
    a.addTenant(smallTenant({ id: 'globex', token: 'globex-test-token', seed: 8 }));
    const globex = await call<{ items: { id: string }[] }>(a.url, '/api/v1/users?limit=200', 'globex-test-token');
    const acme = await call<{ items: { id: string }[] }>(a.url, '/api/v1/users?limit=200', TOKEN);
    expect(globex.body.items.map((u) => u.id)).not.toEqual(acme.body.items.map((u) => u.id));
    expect(() => a.addTenant(smallTenant({ id: 'other', token: TOKEN }))).toThrow(/tenant\.token: already used/);
  });
});

describe('the admin API', () => {
  it('shows truth and stats, adds tenants, generates activity, deletes records and changes settings', async () => {
    const sim = await simulator(track);
    const truth = (await call<Truth>(sim.url, '/admin/tenants/acme/truth', null)).body;
    expect(truth.users).toHaveLength(30);

    const added = await call<{ id: string; token: string; endpoint: string }>(sim.url, '/admin/tenants', null, {
      method: 'POST',
      body: smallTenant({ id: 'initech', token: 'initech-token', users: 5 }),
    });
    expect(added.status).toBe(201);
    expect(added.body).toMatchObject({ id: 'initech', endpoint: sim.url });
    expect((await readAll(sim.url, '/api/v1/users', 'initech-token', 50)).length).toBe(5);
    const bad = await call<{ message: string }>(sim.url, '/admin/tenants', null, { method: 'POST', body: { id: 'x' } });
    expect(bad.status).toBe(400);
    expect(bad.body.message).toMatch(/tenant\.token/);

    const activity = await call<{ items: { id: string }[] }>(sim.url, '/admin/tenants/acme/activity', null, {
      method: 'POST',
      body: { count: 25 },
    });
    expect(activity.body.items).toHaveLength(25);
    expect(sim.tenant('acme').truth().events.length).toBeGreaterThanOrEqual(truth.events.length + 25);

    const victim = truth.users[4]!;
    const deleted = await call(sim.url, '/admin/tenants/acme/delete', null, {
      method: 'POST',
      body: { kind: 'user', externalId: victim.id },
    });
    expect(deleted.status).toBe(200);
    const users = await readAll<{ id: string }>(sim.url, '/api/v1/users', TOKEN, 50);
    expect(users.map((u) => u.id)).not.toContain(victim.id);
    expect((await call(sim.url, `/api/v1/users/${victim.id}`, TOKEN)).status).toBe(404);
    expect(
      sim
        .tenant('acme')
        .truth()
        .users.find((u) => u.id === victim.id)!.deleted,
    ).toBe(true);
    const file = truth.files[0]!;
    await call(sim.url, '/admin/tenants/acme/delete', null, { method: 'POST', body: { kind: 'file', externalId: file.id } });
    expect((await readAll<{ id: string }>(sim.url, '/api/v1/files', TOKEN, 50)).map((f) => f.id)).not.toContain(file.id);

    const patched = await call<{ rateLimitPerMinute: number; faults: { errorRate: number; slowMs: number } }>(
      sim.url,
      '/admin/tenants/acme',
      null,
      { method: 'PATCH', body: { rateLimitPerMinute: 120, faults: { errorRate: 0.1 } } },
    );
    expect(patched.body).toMatchObject({ rateLimitPerMinute: 120, faults: { errorRate: 0.1, slowMs: 1000 } });
    const badPatch = await call<{ message: string }>(sim.url, '/admin/tenants/acme', null, {
      method: 'PATCH',
      body: { rateLimitPerMinute: -1 },
    });
    expect(badPatch.status).toBe(400);
    expect(badPatch.body.message).toMatch(/^patch\.rateLimitPerMinute:/);

    expect((await call(sim.url, '/admin/tenants/nope/truth', null)).status).toBe(404);
    const stats = (await call<{ routes: Record<string, { statuses: Record<string, number> }> }>(sim.url, '/admin/tenants/acme/stats', null))
      .body;
    expect(stats.routes['GET /api/v1/users']!.statuses['200']).toBeGreaterThan(0);
    expect(stats.routes['GET /api/v1/users/:id']!.statuses['404']).toBe(1);
  });
});
