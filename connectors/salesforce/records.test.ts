import { describe, expect, it } from 'vitest';
import {
  eventLogEvent,
  isoOf,
  loginEvent,
  privilegesOf,
  setupEvent,
  sharingOf,
  soqlId,
  soqlString,
  toFile,
  toGrant,
  toUser,
} from './records.js';

const USER = {
  Id: '005000000000001AAA',
  Username: 'ana@acme.com',
  Email: 'ana@acme.com',
  Name: 'Ana',
  IsActive: true,
  UserType: 'Standard',
};

describe('Salesforce records in Tenantwatch’s terms', () => {
  it('maps users: frozen is SUSPENDED, inactive DISABLED; privileges from permission sets, the profile and role named', () => {
    const admin = toUser({ ...USER, Profile: { Name: 'System Administrator' }, UserRole: { Name: 'CEO' } }, false, [
      'Modify All Data',
      'View All Data',
      'Modify All Data',
    ]);
    expect(admin).toEqual({
      externalId: USER.Id,
      email: 'ana@acme.com',
      displayName: 'Ana',
      status: 'ACTIVE',
      isAdmin: true,
      privileges: ['Modify All Data', 'View All Data', 'profile:System Administrator', 'role:CEO'],
    });
    expect(toUser(USER, true, ['View All Data'])).toMatchObject({ status: 'SUSPENDED', isAdmin: false, privileges: ['View All Data'] });
    expect(toUser({ ...USER, IsActive: false }, true, []).status).toBe('DISABLED');
    expect(
      toUser({ ...USER, UserType: 'PowerCustomerSuccess', Email: null, Name: null }, false, [], { passwordResetRequired: true }),
    ).toMatchObject({
      email: null,
      displayName: 'ana@acme.com',
      privileges: ['external'],
      passwordResetRequired: true,
    });
    expect(privilegesOf({ Id: '0PS1', PermissionsManageUsers: true, PermissionsViewAllData: false, PermissionsAuthorApex: null })).toEqual([
      'Manage Users',
    ]);
  });

  it('maps OAuth tokens: the app by its menu item or name, no scopes (Salesforce names none)', () => {
    expect(
      toGrant({
        Id: '0CQ000000000001',
        AppName: 'Dataloader',
        AppMenuItemId: '0Dz000000000001',
        UserId: USER.Id,
        UseCount: 4,
        LastUsedDate: '2026-12-01T10:00:00.000+0000',
        CreatedDate: '2026-11-01T09:30:00.000+0000',
      }),
    ).toEqual({
      externalId: '0CQ000000000001',
      appName: 'Dataloader',
      clientId: '0Dz000000000001',
      publisher: null,
      scopes: [],
      userExternalId: USER.Id,
      grantedAt: '2026-11-01T09:30:00.000Z',
      lastUsedAt: '2026-12-01T10:00:00.000Z',
      revoked: false,
    });
    expect(toGrant({ Id: '0CQ000000000002', AppName: 'Slack' }).clientId).toBe('app:Slack');
  });

  it('maps sign-ins with their country, setup changes, and event log rows (report exports, file downloads)', () => {
    const login = loginEvent({
      Id: '0Ya000000000001',
      UserId: USER.Id,
      LoginTime: '2026-12-05T08:00:01.000+0000',
      SourceIp: '203.0.113.9',
      Status: 'Invalid Password',
      Browser: 'Chrome 120',
      Platform: 'Mac OSX',
      Application: 'Browser',
      LoginGeo: { CountryIso: 'FR' },
    });
    expect(login).toMatchObject({
      category: 'SIGN_IN',
      action: 'user.login.failed',
      occurredAt: '2026-12-05T08:00:01.000Z',
      ipAddress: '203.0.113.9',
      country: 'FR',
      succeeded: false,
      userAgent: 'Chrome 120 / Mac OSX',
    });
    expect(loginEvent({ Id: '0Ya2', LoginTime: '2026-12-05T08:00:01Z', Status: 'Success', SourceIp: 'Salesforce.com IP' })).toMatchObject({
      action: 'user.login',
      succeeded: true,
      ipAddress: null,
      country: null,
    });
    expect(
      setupEvent({
        Id: '0Ym1',
        Action: 'PermSetAssign',
        Section: 'Manage Users',
        CreatedDate: '2026-12-05T08:00:00.000+0000',
        CreatedById: USER.Id,
      }),
    ).toMatchObject({
      category: 'ADMIN',
      action: 'admin.perm_set_assign',
      targetType: 'manage_users',
      actorExternalId: USER.Id,
    });
    const download = eventLogEvent('ContentTransfer', {
      REQUEST_ID: '4exLFFQZ1',
      TIMESTAMP: '20261205080102.123',
      USER_ID_DERIVED: USER.Id,
      TRANSACTION_TYPE: 'VersionDownloadAction',
      DOCUMENT_ID_DERIVED: '069000000000001AAA',
      CLIENT_IP: '198.51.100.4',
    });
    expect(download).toMatchObject({
      externalId: 'elf:ContentTransfer:4exLFFQZ1',
      action: 'file.download',
      occurredAt: '2026-12-05T08:01:02.123Z',
      fileExternalId: '069000000000001AAA',
      actorExternalId: USER.Id,
      ipAddress: '198.51.100.4',
    });
    expect(
      eventLogEvent('ReportExport', {
        REQUEST_ID: 'r1',
        TIMESTAMP_DERIVED: '2026-12-05T08:01:02.000Z',
        REPORT_ID_DERIVED: '00O000000000001',
      }),
    ).toMatchObject({ action: 'report.export', targetId: '00O000000000001' });
    expect(eventLogEvent('ReportExport', { REQUEST_ID: 'r1' })).toBeNull();
    // Without a request id, the same row always gets the same id.
    const row = { TIMESTAMP: '20261205080102', USER_ID: USER.Id };
    expect(eventLogEvent('ReportExport', row)!.externalId).toBe(eventLogEvent('ReportExport', { ...row })!.externalId);
  });

  it('derives a file’s sharing from its links and public links', () => {
    const doc = {
      Id: '069000000000001',
      Title: 'Plan',
      FileExtension: 'pdf',
      ContentSize: 10,
      OwnerId: USER.Id,
      LatestPublishedVersionId: '068000000000001',
      SystemModstamp: '2026-12-05T08:00:00.000+0000',
    };
    const owner = { Id: '06A1', ContentDocumentId: doc.Id, LinkedEntityId: USER.Id, ShareType: 'I', Visibility: 'AllUsers' };
    const colleague = {
      Id: '06A2',
      ContentDocumentId: doc.Id,
      LinkedEntityId: '005000000000002',
      ShareType: 'V',
      Visibility: 'InternalUsers',
    };
    const partner = { Id: '06A3', ContentDocumentId: doc.Id, LinkedEntityId: '005000000000003', ShareType: 'V', Visibility: 'AllUsers' };
    const link = { Id: '05D1', ContentDocumentId: doc.Id, DistributionPublicUrl: 'https://acme.my.salesforce.com/sfc/p/x' };
    const none = new Set<string>();
    expect(sharingOf(doc, [owner], [], none)).toEqual({ sharing: 'PRIVATE', collaborators: [] });
    expect(sharingOf(doc, [owner, colleague], [], none)).toEqual({ sharing: 'INTERNAL', collaborators: ['005000000000002'] });
    expect(sharingOf(doc, [owner, { ...colleague, Visibility: 'AllUsers' }], [], none).sharing).toBe('EXTERNAL');
    expect(sharingOf(doc, [owner, { ...partner, Visibility: 'InternalUsers' }], [], new Set(['005000000000003'])).sharing).toBe('EXTERNAL');
    expect(sharingOf(doc, [owner], [link], none).sharing).toBe('PUBLIC');
    expect(sharingOf(doc, [owner], [{ ...link, PreferencesExpires: true, ExpiryDate: '2020-01-01T00:00:00.000+0000' }], none).sharing).toBe(
      'PRIVATE',
    );
    expect(toFile(doc, [owner, colleague], [link], none)).toEqual({
      externalId: doc.Id,
      name: 'Plan.pdf',
      path: '/Plan.pdf',
      mimeType: 'application/pdf',
      sizeBytes: 10,
      ownerExternalId: USER.Id,
      sharing: 'PUBLIC',
      collaborators: ['005000000000002'],
      trashed: false,
      quarantined: false,
      modifiedAt: '2026-12-05T08:00:00.000Z',
      contentVersion: '068000000000001',
    });
  });

  it('writes SOQL literals safely', () => {
    expect(soqlString("O'Brien \\ co")).toBe("'O\\'Brien \\\\ co'");
    expect(soqlId('005000000000001AAA')).toBe("'005000000000001AAA'");
    expect(() => soqlId("005' OR Id != '")).toThrow(/not a Salesforce id/);
    expect(isoOf('2026-12-05T08:00:00.000+0100')).toBe('2026-12-05T07:00:00.000Z');
    expect(isoOf('garbage')).toBeNull();
  });
});
