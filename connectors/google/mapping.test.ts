import { describe, expect, it } from 'vitest';
import { WebhookRejectedError } from '../contract.js';
import { channelToken } from './channels.js';
import { validateGoogleConfig } from './config.js';
import { googleConnectorFactory } from './connector.js';
import { compact, MAX_DISTINCT_FEEDS, parsePositions, positionOf } from './feeds.js';
import { sharingOf, splitGrantId, toEvents, toFile, toGrant, toUser } from './mapping.js';

const DOMAINS = new Set(['acme.example.com']);
const config = validateGoogleConfig({
  serviceAccountKey: {
    client_email: 'tw@acme.iam.gserviceaccount.com',
    client_id: '104857600000000000001',
    private_key: '-----BEGIN PRIVATE KEY-----\nMIIB\n-----END PRIVATE KEY-----\n',
  },
  adminSubject: 'admin@acme.example.com',
  webhookSecret: 'a-webhook-secret-of-32-characters',
});

describe('Google records in Tenantwatch’s terms', () => {
  it('maps Directory users: archived, suspended, admins and their roles, a password to change', () => {
    const user = { id: '1', primaryEmail: 'ada@acme.example.com', name: { fullName: 'Ada L' } };
    expect(toUser({ ...user, isAdmin: true }, ['Groups Admin'])).toEqual({
      externalId: '1',
      email: 'ada@acme.example.com',
      displayName: 'Ada L',
      status: 'ACTIVE',
      isAdmin: true,
      privileges: ['Super Admin', 'Groups Admin'],
      passwordResetRequired: undefined,
    });
    expect(toUser({ ...user, suspended: true, changePasswordAtNextLogin: true })).toMatchObject({
      status: 'SUSPENDED',
      isAdmin: false,
      passwordResetRequired: true,
    });
    // An archived user is also suspended in the API; archived wins.
    expect(toUser({ ...user, suspended: true, archived: true }).status).toBe('DISABLED');
    expect(toUser({ ...user, isDelegatedAdmin: true }, ['Help Desk Admin'])).toMatchObject({
      isAdmin: true,
      privileges: ['Delegated Admin', 'Help Desk Admin'],
    });
  });

  it('maps a user’s token to a grant named by user and client', () => {
    const grant = toGrant('42', { clientId: '123-abc.apps.googleusercontent.com', displayText: 'Sheetsync', scopes: ['openid'] });
    expect(grant).toMatchObject({
      externalId: '42/123-abc.apps.googleusercontent.com',
      appName: 'Sheetsync',
      userExternalId: '42',
      scopes: ['openid'],
    });
    expect(splitGrantId(grant.externalId)).toEqual({ userId: '42', clientId: '123-abc.apps.googleusercontent.com' });
    expect(() => splitGrantId('nouser')).toThrow('is not a Google Workspace grant id');
  });

  it('maps each event of an activity with a stable id: sign-ins, admin actions, Drive and token events', () => {
    const id = { time: '2026-12-05T10:00:00.123Z', uniqueQualifier: '-8412', applicationName: 'login', customerId: 'C1' };
    const login = toEvents({
      id,
      actor: { profileId: '7', email: 'ada@acme.example.com' },
      ipAddress: '203.0.113.9',
      networkInfo: { regionCode: 'KP' },
      events: [
        { type: 'login', name: 'login_failure', parameters: [{ name: 'login_type', value: 'google_password' }] },
        { type: 'login', name: 'login_success' },
      ],
    });
    expect(login.map((e) => [e.externalId, e.action, e.succeeded, e.category, e.country, e.actorExternalId])).toEqual([
      ['2026-12-05T10:00:00.123Z/-8412/0', 'user.login.failed', false, 'SIGN_IN', 'KP', '7'],
      ['2026-12-05T10:00:00.123Z/-8412/1', 'user.login', true, 'SIGN_IN', 'KP', '7'],
    ]);
    const [admin] = toEvents({
      id: { ...id, applicationName: 'admin' },
      events: [{ type: 'USER_SETTINGS', name: 'SUSPEND_USER', parameters: [{ name: 'USER_EMAIL', value: 'bo@acme.example.com' }] }],
    });
    expect(admin).toMatchObject({ category: 'ADMIN', action: 'admin.user.suspend', targetType: 'user', targetId: 'bo@acme.example.com' });
    const drive = toEvents({
      id: { ...id, applicationName: 'drive' },
      events: [
        {
          name: 'download',
          parameters: [
            { name: 'doc_id', value: 'F1' },
            { name: 'doc_title', value: 'Payroll' },
          ],
        },
        {
          name: 'change_document_visibility',
          parameters: [
            { name: 'doc_id', value: 'F1' },
            { name: 'visibility', value: 'people_with_link' },
          ],
        },
        { name: 'some_new_event', parameters: [] },
      ],
    });
    expect(drive.map((e) => [e.action, e.fileExternalId])).toEqual([
      ['file.download', 'F1'],
      ['file.share.anonymous', 'F1'],
      ['file.some_new_event', null],
    ]);
    const [token] = toEvents({
      id: { ...id, applicationName: 'token' },
      events: [
        {
          name: 'authorize',
          parameters: [
            { name: 'app_name', value: 'Sheetsync' },
            { name: 'scope', multiValue: ['openid'] },
          ],
        },
      ],
    });
    expect(token).toMatchObject({ category: 'USER', action: 'app.authorize', targetType: 'app', targetId: 'Sheetsync' });
  });

  it('reads sharing from permissions: anyone → PUBLIC, outside the domains → EXTERNAL, the domain → INTERNAL', () => {
    const owner = { type: 'user', role: 'owner', emailAddress: 'ada@acme.example.com' };
    const colleague = { type: 'user', role: 'writer', emailAddress: 'Bo@acme.example.com' };
    expect(sharingOf([owner], DOMAINS)).toEqual({ sharing: 'PRIVATE', collaborators: [] });
    expect(sharingOf([owner, colleague], DOMAINS)).toEqual({ sharing: 'PRIVATE', collaborators: ['bo@acme.example.com'] });
    expect(sharingOf([owner, { type: 'domain', role: 'reader', domain: 'acme.example.com' }], DOMAINS).sharing).toBe('INTERNAL');
    expect(sharingOf([owner, { type: 'domain', role: 'reader', domain: 'partner.example.net' }], DOMAINS).sharing).toBe('EXTERNAL');
    expect(sharingOf([owner, { type: 'group', role: 'reader', emailAddress: 'ext@gmail.com' }], DOMAINS).sharing).toBe('EXTERNAL');
    expect(
      sharingOf(
        [owner, colleague, { type: 'user', role: 'reader', emailAddress: 'x@gmail.com' }, { type: 'anyone', role: 'reader' }],
        DOMAINS,
      ).sharing,
    ).toBe('PUBLIC');
  });

  it('maps a Drive file; a Docs Editors file’s version stands for its content', () => {
    const context = { permissions: [], domains: DOMAINS, ownerExternalId: '7', folder: 'My Drive', quarantined: false };
    expect(
      toFile(
        { id: 'F', name: 'a.txt', mimeType: 'text/plain', size: '41', md5Checksum: 'abc', modifiedTime: '2026-01-01T00:00:00Z' },
        context,
      ),
    ).toMatchObject({
      externalId: 'F',
      path: '/My Drive/a.txt',
      sizeBytes: 41,
      ownerExternalId: '7',
      contentVersion: 'abc',
      trashed: false,
    });
    const doc = toFile({ id: 'D', name: 'Plan', mimeType: 'application/vnd.google-apps.document', version: '12', trashed: true }, context);
    expect(doc.contentVersion).toBe('v12:');
    expect(doc.trashed).toBe(true);
  });
});

describe('the change cursor over many feeds', () => {
  it('keeps the common position once and the others by feed', () => {
    const positions = compact(
      new Map([
        ['u:1', '50'],
        ['u:2', '50'],
        ['u:3', '61'],
        ['d:9', '50'],
      ]),
    )!;
    expect(positions).toEqual({ v: 1, b: '50', x: { 'u:3': '61' } });
    expect(positionOf(positions, 'u:2')).toBe('50');
    expect(positionOf(positions, 'u:3')).toBe('61');
    expect(parsePositions(JSON.stringify(positions))).toEqual(positions);
    expect(() => parsePositions('{"v":2}')).toThrow('not one this connector made');
  });

  it('is not kept past its bound (the scan then lists every file)', () => {
    const distinct = new Map(Array.from({ length: MAX_DISTINCT_FEEDS + 2 }, (_, i) => [`u:${i}`, String(i)]));
    expect(compact(distinct)).toBeNull();
    const within = new Map(Array.from({ length: MAX_DISTINCT_FEEDS + 1 }, (_, i) => [`u:${i}`, String(i)]));
    expect(JSON.stringify(compact(within)).length).toBeLessThan(MAX_DISTINCT_FEEDS * 40);
  });
});

describe('throttling and push notifications', () => {
  const connector = googleConnectorFactory.create(config, { request: () => Promise.reject(new Error('no HTTP in this test')) });
  const body = (reason: string, code = 403) =>
    Buffer.from(JSON.stringify({ error: { code, errors: [{ domain: 'usageLimits', reason }], message: reason } }));

  it('reads 429 and 403 rate-limit bodies as throttling, backing off more with each one in a row', () => {
    const headers = new Headers();
    const first = connector.parseThrottle({ status: 403, headers, bytes: body('userRateLimitExceeded') });
    const second = connector.parseThrottle({ status: 429, headers, bytes: body('rateLimitExceeded', 429) });
    const third = connector.parseThrottle({ status: 403, headers, bytes: body('rateLimitExceeded') });
    expect([first.throttled, second.throttled, third.throttled]).toEqual([true, true, true]);
    expect(first.retryAfterMs).toBeGreaterThanOrEqual(1000);
    expect(first.retryAfterMs).toBeLessThan(2000);
    expect(second.retryAfterMs).toBeGreaterThanOrEqual(2000);
    expect(third.retryAfterMs).toBeGreaterThanOrEqual(4000);
    // A 403 for a missing permission is not throttling; a success resets the backoff.
    expect(connector.parseThrottle({ status: 403, headers, bytes: body('insufficientPermissions') }).throttled).toBe(false);
    connector.parseThrottle({ status: 200, headers, bytes: Buffer.from('{}') });
    expect(connector.parseThrottle({ status: 429, headers, bytes: Buffer.alloc(0) }).retryAfterMs).toBeLessThan(2000);
  });

  const notification = (headers: Record<string, string>) => ({
    headers: new Headers({
      'x-goog-channel-id': 'tw-u-12345-0123456789ab',
      'x-goog-channel-token': channelToken(config),
      'x-goog-message-number': '7',
      'x-goog-resource-state': 'change',
      'x-goog-channel-expiration': new Date(Date.now() + 3_600_000).toUTCString(),
      ...headers,
    }),
    rawBody: Buffer.alloc(0),
  });

  it('answers a change of a channel’s feed, keyed by channel and message number; a sync message says nothing', () => {
    const verified = connector.verifyWebhook(notification({}));
    expect(verified.deliveryId).toBe('goog:tw-u-12345-0123456789ab:7');
    expect(verified.notices).toEqual([{ kind: 'files.changed', externalId: 'u:12345' }]);
    expect(verified.expiresAt.getTime()).toBeGreaterThan(Date.now());
    expect(connector.verifyWebhook(notification({ 'x-goog-resource-state': 'sync', 'x-goog-message-number': '1' })).notices).toEqual([]);
  });

  it('refuses a notification without the instance’s channel token', () => {
    expect(() => connector.verifyWebhook(notification({ 'x-goog-channel-token': 'guess' }))).toThrow(WebhookRejectedError);
    const { headers } = notification({});
    headers.delete('x-goog-channel-token');
    expect(() => connector.verifyWebhook({ headers, rawBody: Buffer.alloc(0) })).toThrow('wrong channel token');
    expect(() => connector.verifyWebhook(notification({ 'x-goog-message-number': 'x' }))).toThrow('X-Goog-Message-Number');
    // The token is derived from the secret, not the secret itself.
    expect(channelToken(config)).not.toContain('a-webhook-secret');
  });
});
