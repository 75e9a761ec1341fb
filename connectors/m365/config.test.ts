import { describe, expect, it } from 'vitest';
import { hostsOf, validateM365Config } from './config.js';
import { capabilitiesOf } from './permissions.js';
import { m365ConnectorFactory } from './connector.js';

const TENANT = '8a6d3c1e-2b4f-4e5a-9c7d-1e2f3a4b5c6d';
const CLIENT = '3f9b7d2a-6c4e-4a1b-8d5f-0e9c8b7a6d5e';

describe('the Microsoft 365 config', () => {
  it('fills the defaults and picks the national cloud hosts', () => {
    const config = validateM365Config({ tenantId: TENANT, clientId: CLIENT, clientSecret: 's' });
    expect(config).toMatchObject({ cloud: 'global', quarantineFolder: 'Tenantwatch Quarantine', rateLimitPerMinute: 1200 });
    expect(hostsOf(config)).toEqual({
      authorityHost: 'https://login.microsoftonline.com',
      graphEndpoint: 'https://graph.microsoft.com',
      managementEndpoint: 'https://manage.office.com',
    });
    expect(hostsOf(validateM365Config({ tenantId: TENANT, clientId: CLIENT, clientSecret: 's', cloud: 'usgov' })).managementEndpoint).toBe(
      'https://manage.office365.us',
    );
    // The reference names no Management Activity API host for the China cloud: file activity is read only with one given.
    expect(
      hostsOf(validateM365Config({ tenantId: TENANT, clientId: CLIENT, clientSecret: 's', cloud: 'china' })).managementEndpoint,
    ).toBeNull();
    expect(hostsOf(validateM365Config({ tenantId: TENANT, clientId: CLIENT, clientSecret: 's', cloud: 'usgov' })).graphEndpoint).toBe(
      'https://graph.microsoft.us',
    );
    const explicit = validateM365Config({
      tenantId: TENANT,
      clientId: CLIENT,
      clientSecret: 's',
      authorityHost: 'http://127.0.0.1:9/',
      graphEndpoint: 'http://127.0.0.1:9',
    });
    expect(hostsOf(explicit)).toEqual({
      authorityHost: 'http://127.0.0.1:9',
      graphEndpoint: 'http://127.0.0.1:9',
      managementEndpoint: null,
    });
    expect(m365ConnectorFactory.endpointOf(explicit)).toBe('http://127.0.0.1:9');
    expect(m365ConnectorFactory.serviceEndpointsOf!(explicit)).toEqual({});
    const withFeed = validateM365Config({ ...explicit, managementEndpoint: 'http://127.0.0.1:9/manage/' });
    expect(m365ConnectorFactory.serviceEndpointsOf!(withFeed)).toEqual({ activity: 'http://127.0.0.1:9/manage' });
  });

  it('names the bad field', () => {
    const base = { tenantId: TENANT, clientId: CLIENT, clientSecret: 's' };
    const cases: [unknown, string][] = [
      [{ ...base, tenantId: 'contoso' }, 'config.tenantId: must be the directory (tenant) id, a GUID'],
      [{ clientId: CLIENT, clientSecret: 's' }, 'config.tenantId: required: the directory (tenant) id, a GUID'],
      [{ tenantId: TENANT, clientId: CLIENT }, 'config.clientSecret: give a client secret or a certificate (exactly one)'],
      [
        { ...base, certificate: { certificatePem: 'x', privateKeyPem: 'y' } },
        'config.certificate.certificatePem: must be a PEM certificate',
      ],
      [{ ...base, cloud: 'mars' }, 'config.cloud: must be global, usgov or china'],
      [{ ...base, authorityHost: 'http://x' }, 'config.graphEndpoint: give authorityHost and graphEndpoint together'],
      [{ ...base, clientState: 'short' }, 'config.clientState: must be 16 to 128 characters'],
      [{ ...base, quarantineFolder: 'a/b' }, 'config.quarantineFolder: must be a folder name without / \\ : * ? " < > |'],
      [
        { ...base, secret: 'x' },
        'config.secret: unknown field; accepted: tenantId, clientId, clientSecret, certificate, cloud, authorityHost, graphEndpoint, managementEndpoint, publisherIdentifier, quarantineFolder, clientState, rateLimitPerMinute',
      ],
      ['x', 'config: must be an object { tenantId, clientId, clientSecret (or certificate), cloud?, quarantineFolder?, clientState? }'],
    ];
    for (const [config, message] of cases) expect(() => validateM365Config(config), JSON.stringify(config)).toThrow(new Error(message));
  });
});

describe('capabilities from the granted application permissions', () => {
  it('enables exactly what the permissions allow and names the permission to grant for the rest', () => {
    expect(capabilitiesOf(['User.Read.All', 'GroupMember.Read.All', 'RoleManagement.Read.Directory', 'AuditLog.Read.All'])).toEqual({
      capabilities: ['ACCOUNT_INFO', 'AUDIT_TRAIL'],
      missing: [
        'User.EnableDisableAccount.All',
        'User-PasswordProfile.ReadWrite.All',
        'User.RevokeSessions.All',
        'Application.Read.All',
        'DelegatedPermissionGrant.ReadWrite.All',
        'Files.Read.All',
        'Files.ReadWrite.All',
      ],
    });
    expect(capabilitiesOf(['Directory.ReadWrite.All', 'AuditLog.Read.All', 'Files.ReadWrite.All']).capabilities).toEqual([
      'ACCOUNT_INFO',
      'AUDIT_TRAIL',
      'ACCOUNT_GOVERNANCE',
      'APP_PERMISSIONS',
      'APP_PERMISSION_GOVERNANCE',
      'DATA_SCAN',
      'DATA_GOVERNANCE',
    ]);
  });
});

describe('change notifications and throttle signals', () => {
  const config = { tenantId: TENANT, clientId: CLIENT, clientSecret: 's', clientState: 'the-client-state-value' };
  const connector = m365ConnectorFactory.create(config, { request: () => Promise.reject(new Error('unused')) });
  const delivery = (value: unknown) => ({ headers: new Headers(), rawBody: Buffer.from(JSON.stringify({ value })) });

  it('accepts notifications carrying the clientState as a read of the drive’s change feed, each delivery its own', () => {
    const body = [{ subscriptionId: 's1', clientState: 'the-client-state-value', changeType: 'updated', resource: '/drives/b!abc/root' }];
    const verified = connector.verifyWebhook(delivery(body), new Date('2026-01-01T00:00:00Z'));
    expect(verified.notices).toEqual([{ kind: 'files.changed', externalId: 'b!abc' }]);
    expect(verified.deliveryId).toMatch(/^graph:[0-9a-f-]{36}$/);
    // Two changes in one drive send the same bytes: the second is not a replay.
    expect(connector.verifyWebhook(delivery(body)).deliveryId).not.toBe(verified.deliveryId);
    expect(verified.expiresAt.toISOString()).toBe('2026-01-01T00:01:00.000Z');
  });

  it("reads every drive's change feed on a missed lifecycle notification, which names no drive", () => {
    const missed = [
      {
        subscriptionId: 's1',
        clientState: 'the-client-state-value',
        lifecycleEvent: 'missed',
        subscriptionExpirationDateTime: '2026-01-02T00:00:00Z',
      },
    ];
    expect(connector.verifyWebhook(delivery(missed)).notices).toEqual([{ kind: 'files.changed', externalId: '*' }]);
  });

  it('refuses a wrong or missing clientState, and a body that is no notification', () => {
    expect(() => connector.verifyWebhook(delivery([{ clientState: 'guess', resource: '/drives/b!abc/root' }]))).toThrow(
      'a notification carries a wrong clientState',
    );
    expect(() => connector.verifyWebhook(delivery([{ resource: '/drives/b!abc/root' }]))).toThrow(
      'a notification carries a wrong clientState',
    );
    expect(() => connector.verifyWebhook({ headers: new Headers(), rawBody: Buffer.from('not json') })).toThrow(
      'the body is not a JSON change notification',
    );
    expect(() => connector.verifyWebhook(delivery([]))).toThrow('the body holds no notification');
    const without = m365ConnectorFactory.create(
      { ...config, clientState: undefined },
      { request: () => Promise.reject(new Error('unused')) },
    );
    expect(() => without.verifyWebhook(delivery([{ clientState: 'x' }]))).toThrow('the instance has no clientState configured');
  });

  it('reads 429 and 503 with Retry-After, and the RateLimit headers of OneDrive and SharePoint', () => {
    expect(connector.parseThrottle({ status: 429, headers: new Headers({ 'retry-after': '7' }) })).toEqual({
      throttled: true,
      retryAfterMs: 7000,
    });
    expect(connector.parseThrottle({ status: 429, headers: new Headers() })).toEqual({ throttled: true, retryAfterMs: 1000 });
    expect(connector.parseThrottle({ status: 503, headers: new Headers({ 'retry-after': '2' }) })).toEqual({
      throttled: true,
      retryAfterMs: 2000,
    });
    const signal = connector.parseThrottle({
      status: 200,
      headers: new Headers({ 'ratelimit-limit': '100', 'ratelimit-remaining': '3', 'ratelimit-reset': '5' }),
    });
    expect(signal).toMatchObject({ throttled: false, remaining: 3, limit: 100 });
    expect(signal.resetAt).toBeGreaterThan(Date.now());
  });
});

describe('the Microsoft 365 throttle signals', () => {
  const connector = m365ConnectorFactory.create(validateM365Config({ tenantId: TENANT, clientId: CLIENT, clientSecret: 's' }), {
    request: () => Promise.reject(new Error('no requests here')),
  });
  it('reads OneDrive and SharePoint’s RateLimit headers as a window, and 429 with Retry-After as throttled', () => {
    const before = Date.now();
    const near = connector.parseThrottle({
      status: 200,
      headers: new Headers({ 'ratelimit-limit': '1200', 'ratelimit-remaining': '120', 'ratelimit-reset': '5' }),
    });
    expect(near).toMatchObject({ throttled: false, window: true, remaining: 120, limit: 1200 });
    expect(near.resetAt! - before).toBeGreaterThanOrEqual(5000);
    expect(connector.parseThrottle({ status: 200, headers: new Headers() })).toEqual({ throttled: false });
    expect(connector.parseThrottle({ status: 429, headers: new Headers({ 'retry-after': '7' }) })).toEqual({
      throttled: true,
      retryAfterMs: 7000,
    });
  });
});
