import { afterEach, describe, expect, it } from 'vitest';
import { CredentialError, ThrottledError, type Connector, type Page, type PageToken } from '../contract.js';
import { simulatedConnectorFactory as factory } from './connector.js';
import { directHttp } from './direct-http.js';
import type { Simulator } from './server.js';
import { ManualClock, simulator, smallTenant } from './test-support.js';

const stops: (() => Promise<void>)[] = [];
const track = (stop: () => Promise<void>) => stops.push(stop);
afterEach(async () => {
  await Promise.all(stops.splice(0).map((stop) => stop()));
});

const TOKEN = 'acme-test-token';

function connect(sim: Simulator, extra: Record<string, unknown> = {}): Connector {
  const config = factory.validateConfig({ endpoint: sim.url, token: TOKEN, ...extra });
  return factory.create(config, directHttp(factory, config));
}

async function drain<T>(read: (page: PageToken | null) => Promise<Page<T>>): Promise<T[]> {
  const all: T[] = [];
  let page: PageToken | null = null;
  do {
    const answer: Page<T> = await read(page);
    all.push(...answer.items);
    page = answer.next;
  } while (page);
  return all;
}

describe('simulatedConnectorFactory', () => {
  it('declares the simulated provider with all seven capabilities', () => {
    expect(factory.provider).toBe('simulated');
    expect([...factory.capabilities].sort()).toEqual([
      'ACCOUNT_GOVERNANCE',
      'ACCOUNT_INFO',
      'APP_PERMISSIONS',
      'APP_PERMISSION_GOVERNANCE',
      'AUDIT_TRAIL',
      'DATA_GOVERNANCE',
      'DATA_SCAN',
    ]);
  });

  it('validates the config, naming the bad field', async () => {
    const ok = factory.validateConfig({ endpoint: 'http://127.0.0.1:4900/', token: 't', webhookSecret: 's' });
    expect(ok).toEqual({ endpoint: 'http://127.0.0.1:4900', token: 't', webhookSecret: 's' });
    expect(factory.endpointOf(ok)).toBe('http://127.0.0.1:4900');
    const unused = () => Promise.reject(new Error('unused'));
    await expect(factory.credentials(ok, { postForm: unused, send: unused }).headers()).resolves.toEqual({
      authorization: 'Bearer t',
    });
    const cases: [unknown, string][] = [
      [{ endpoint: 'ftp://x', token: 't' }, 'config.endpoint: must be an http(s) URL'],
      [{ endpoint: 'not a url', token: 't' }, 'config.endpoint: must be an http(s) URL'],
      [{ token: 't' }, 'config.endpoint: must be an http(s) URL'],
      [{ endpoint: 'https://sim.example.com' }, 'config.token: required: the tenant API token, or clientId and clientSecret'],
      [
        { endpoint: 'https://sim.example.com', token: 't', clientId: 'c', clientSecret: 's' },
        'config.token: give the API token or clientId and clientSecret, not both',
      ],
      [
        { endpoint: 'https://sim.example.com', clientId: 'c' },
        'config.clientSecret: required with the other: an OAuth client is clientId and clientSecret',
      ],
      [{ endpoint: 'https://sim.example.com', token: '' }, 'config.token: must be a non-empty string (the tenant API token)'],
      [{ endpoint: 'https://sim.example.com', token: 't', webhookSecret: 5 }, 'config.webhookSecret: must be a non-empty string'],
      [{ endpoint: 'https://sim.example.com', token: 't', rateLimitPerMinute: 0 }, 'config.rateLimitPerMinute: must be a positive number'],
      [
        { endpoint: 'https://sim.example.com', token: 't', tokne: 'x' },
        'config.tokne: unknown field; accepted: endpoint, token, clientId, clientSecret, webhookSecret, rateLimitPerMinute, maxPageSize',
      ],
      [[1], 'config: must be an object { endpoint, token (or clientId and clientSecret), webhookSecret? }'],
      [null, 'config: must be an object { endpoint, token (or clientId and clientSecret), webhookSecret? }'],
    ];
    for (const [config, message] of cases) expect(() => factory.validateConfig(config), JSON.stringify(config)).toThrow(new Error(message));
  });

  it('takes its limits from the config (600 per minute and 200 per page by default)', () => {
    const http = { request: () => Promise.reject(new Error('unused')) };
    expect(factory.create({ endpoint: 'http://x', token: 't' }, http).limits).toEqual({ requestsPerMinute: 600, maxPageSize: 200 });
    expect(factory.create({ endpoint: 'http://x', token: 't', rateLimitPerMinute: 120, maxPageSize: 50 }, http).limits).toEqual({
      requestsPerMinute: 120,
      maxPageSize: 50,
    });
  });

  it('reads throttle signals from 429, Retry-After and the X-RateLimit headers', () => {
    const connector = factory.create({ endpoint: 'http://x', token: 't' }, { request: () => Promise.reject(new Error('unused')) });
    const headers = new Headers({
      'retry-after': '3',
      'x-ratelimit-limit': '60',
      'x-ratelimit-remaining': '0',
      'x-ratelimit-reset': '1800000000',
    });
    expect(connector.parseThrottle({ status: 429, headers })).toEqual({
      throttled: true,
      retryAfterMs: 3000,
      limit: 60,
      remaining: 0,
      resetAt: 1_800_000_000_000,
    });
    expect(
      connector.parseThrottle({ status: 200, headers: new Headers({ 'x-ratelimit-limit': '600', 'x-ratelimit-remaining': '42' }) }),
    ).toEqual({ throttled: false, limit: 600, remaining: 42 });
    const noRetryAfter = connector.parseThrottle({
      status: 429,
      headers: new Headers({ 'x-ratelimit-reset': String(Math.ceil(Date.now() / 1000) + 10) }),
    });
    expect(noRetryAfter.retryAfterMs).toBeGreaterThan(8000);
    expect(noRetryAfter.retryAfterMs).toBeLessThanOrEqual(11_000);
  });
});

describe('the simulated connector against the simulator', () => {
  it('verifies the token and maps permissions to capabilities, reporting what is missing', async () => {
    const sim = await simulator(track, {
      tenants: [
        smallTenant(),
        smallTenant({ id: 'narrow', token: 'narrow-token', permissions: ['users.read', 'groups.read', 'audit.read', 'files.read'] }),
      ],
    });
    expect(await connect(sim).verify()).toEqual({
      grantedPermissions: [
        'users.read',
        'users.write',
        'groups.read',
        'audit.read',
        'files.read',
        'files.write',
        'grants.read',
        'grants.write',
      ],
      capabilities: [
        'ACCOUNT_INFO',
        'AUDIT_TRAIL',
        'ACCOUNT_GOVERNANCE',
        'APP_PERMISSIONS',
        'APP_PERMISSION_GOVERNANCE',
        'DATA_SCAN',
        'DATA_GOVERNANCE',
      ],
      missingPermissions: [],
      tenantId: 'acme',
      tenantName: 'Acme',
    });
    const narrow = await connect(sim, { token: 'narrow-token' }).verify();
    expect(narrow.capabilities).toEqual(['ACCOUNT_INFO', 'AUDIT_TRAIL', 'DATA_SCAN']);
    expect(narrow.missingPermissions).toEqual(['files.write', 'grants.read', 'grants.write', 'users.write']);
    await expect(connect(sim, { token: 'wrong-token' }).verify()).rejects.toBeInstanceOf(CredentialError);
    await expect(connect(sim, { token: 'narrow-token' }).listGrants(null)).rejects.toMatchObject({ name: 'CredentialError', status: 403 });
  });

  it('reads users, groups, members, grants, files, events, content and changes, matching the truth', async () => {
    const clock = new ManualClock();
    const sim = await simulator(track, { clock: clock.now, tenants: [smallTenant({ maxPageSize: 10 })] });
    const connector = connect(sim, { maxPageSize: 10 });
    const truth = sim.tenant('acme').truth();

    const users = await drain((p) => connector.listUsers(p));
    expect(users).toHaveLength(truth.users.length);
    const admin = truth.users.find((u) => u.isAdmin)!;
    expect(users.find((u) => u.externalId === admin.id)).toEqual({
      externalId: admin.id,
      email: admin.email,
      displayName: admin.displayName,
      status: admin.status,
      isAdmin: true,
      privileges: admin.privileges,
      passwordResetRequired: false,
      sessionsRevokedAt: null,
    });
    expect(
      users
        .filter((u) => u.status === 'SUSPENDED')
        .map((u) => u.externalId)
        .sort(),
    ).toEqual(
      truth.users
        .filter((u) => u.status === 'SUSPENDED')
        .map((u) => u.id)
        .sort(),
    );

    const groups = await drain((p) => connector.listGroups(p));
    expect(groups.map((g) => g.externalId).sort()).toEqual(truth.groups.map((g) => g.id).sort());
    const members = await drain((p) => connector.listGroupMembers(truth.groups[0]!.id, p));
    expect(members.sort()).toEqual(
      truth.memberships
        .filter((m) => m.groupId === truth.groups[0]!.id)
        .map((m) => m.userId)
        .sort(),
    );

    const grants = await drain((p) => connector.listGrants(p));
    const grant = truth.grants[0]!;
    expect(grants.find((g) => g.externalId === grant.id)).toEqual({
      externalId: grant.id,
      appName: grant.appName,
      clientId: grant.clientId,
      publisher: grant.publisher,
      scopes: grant.scopes,
      userExternalId: grant.userId,
      grantedAt: grant.grantedAt,
      lastUsedAt: grant.lastUsedAt,
      revoked: false,
    });

    const files = await drain((p) => connector.listFiles(p));
    expect(files).toHaveLength(truth.files.length);
    const file = truth.files.find((f) => f.sharing === 'EXTERNAL')!;
    expect(files.find((f) => f.externalId === file.id)).toEqual({
      externalId: file.id,
      name: file.name,
      path: file.path,
      mimeType: file.mimeType,
      sizeBytes: Buffer.byteLength(file.content),
      ownerExternalId: file.ownerId,
      sharing: 'EXTERNAL',
      collaborators: file.collaborators,
      trashed: file.trashed,
      quarantined: false,
      modifiedAt: file.modifiedAt,
      contentVersion: file.etag,
    });
    expect(await connector.downloadFile(file.id)).toEqual({ bytes: Buffer.from(file.content), mimeType: file.mimeType });

    const window = { from: new Date(clock.now() - 3 * 86_400_000), to: new Date(clock.now()) };
    const events = await drain((p) => connector.readAuditEvents(window, p));
    expect(events.map((e) => e.externalId).sort()).toEqual(truth.events.map((e) => e.id).sort());
    const download = truth.events.find((e) => e.action === 'file.download')!;
    expect(events.find((e) => e.externalId === download.id)).toMatchObject({
      category: 'USER',
      action: 'file.download',
      actorExternalId: download.actorId,
      occurredAt: download.occurredAt,
      ipAddress: download.ip,
      country: download.country,
      userAgent: download.userAgent,
      succeeded: true,
      targetType: 'file',
      targetId: download.targetId,
      fileExternalId: download.targetId,
    });
    const failed = truth.events.find((e) => !e.succeeded)!;
    expect(events.find((e) => e.externalId === failed.id)).toMatchObject({ succeeded: false, category: 'SIGN_IN', fileExternalId: null });

    const start = await connector.readFileChanges(null, null);
    expect(start).toEqual({ changes: [], next: null, deltaCursor: expect.any(String) });
    for (const f of truth.files.slice(0, 12)) sim.tenant('acme').touchFile(f.id);
    sim.tenant('acme').delete('file', truth.files[12]!.id);
    const changes = [];
    let page = await connector.readFileChanges(start.deltaCursor, null);
    changes.push(...page.changes);
    while (page.next) {
      page = await connector.readFileChanges(start.deltaCursor, page.next);
      changes.push(...page.changes);
    }
    expect(page.deltaCursor).toEqual(expect.any(String));
    expect(changes).toHaveLength(13);
    expect(changes.filter((c) => c.kind === 'upsert')).toHaveLength(12);
    expect(changes.find((c) => c.kind === 'deleted')).toEqual({ kind: 'deleted', externalId: truth.files[12]!.id });
  });

  it('reports a 429 as ThrottledError with the Retry-After wait (directHttp does not retry)', async () => {
    const clock = new ManualClock();
    const sim = await simulator(track, { clock: clock.now, tenants: [smallTenant({ rateLimitPerMinute: 60, burstSeconds: 1 })] });
    const connector = connect(sim);
    await connector.verify();
    const error = await connector.verify().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ThrottledError);
    expect(error).toMatchObject({ status: 429, retryAfterMs: 1000 });
  });
});
