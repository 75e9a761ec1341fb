import { OrgActivity } from './activity.js';
import { EVENT_TYPES, type LogEvent } from './eventlog.js';
import { OrgState, fileType } from './org.js';
import { PERMISSION_FIELDS } from './schema.js';
import type { Row } from './store.js';

/** Builds an org's directory, files, OAuth tokens and audit history from its spec and seed. */

const DAY = 86_400_000;
const FIRST = [
  'Ada',
  'Ben',
  'Chloe',
  'Dev',
  'Elena',
  'Farid',
  'Grace',
  'Hiro',
  'Ines',
  'Jonas',
  'Kira',
  'Luis',
  'Maya',
  'Noor',
  'Omar',
  'Priya',
];
const LAST = [
  'Adams',
  'Baker',
  'Chen',
  'Diaz',
  'Evans',
  'Fischer',
  'Garcia',
  'Haddad',
  'Ito',
  'Jensen',
  'Kowalski',
  'Lopez',
  'Moreau',
  'Novak',
];
const EXTENSIONS = ['pdf', 'docx', 'xlsx', 'csv', 'txt', 'pptx'] as const;
const THIRD_PARTY_APPS = [
  'Zapier',
  'DocuSign for Salesforce',
  'Slack for Salesforce',
  'Dataloader Partner',
  'Workbench',
  'Salesforce Inspector Reloaded',
];
/** Sensitive data planted in some files: Luhn-valid card numbers, US SSNs, an IBAN. */
const PLANTED = [
  'Card on file: 4111 1111 1111 1111 exp 09/29',
  'Corporate card 5500-0000-0000-0004 for travel',
  'Employee SSN 078-05-1120 for payroll',
  'Contractor SSN 219-09-9999 (W-9)',
  'Wire to IBAN GB82 WEST 1234 5698 7654 32',
];

type Permissions = Partial<Record<(typeof PERMISSION_FIELDS)[number], boolean>>;
const permissionFields = (granted: Permissions) => Object.fromEntries(PERMISSION_FIELDS.map((name) => [name, granted[name] ?? false]));

/** Fills `org` and answers the activity helper it used (the control API makes late and past records with it). */
export function populate(org: OrgState, instanceUrl: string, now: number): OrgActivity {
  const { spec, rng } = org;
  const created = now - 400 * DAY;
  // The Organization record's id is the org id itself.
  org.table('Organization').insert({
    Id: org.organizationId,
    Name: spec.name,
    OrganizationType: 'Enterprise Edition',
    InstanceName: 'EMU1',
    IsSandbox: false,
    CreatedDate: created,
    CreatedById: null,
    LastModifiedDate: created,
    LastModifiedById: null,
    SystemModstamp: created,
  });

  const profiles = new Map<string, Row>();
  const owned = new Map<string, Row>();
  const profile = (name: string, userType: string, granted: Permissions) => {
    const row = org.insert('Profile', { Name: name, Description: null, UserType: userType, ...permissionFields(granted) }, created);
    profiles.set(name, row);
    // Every profile owns a permission set holding its permissions (https://developer.salesforce.com/docs/atlas.en-us.object_reference.meta/object_reference/sforce_api_objects_permissionset.htm).
    const ps = org.insert(
      'PermissionSet',
      {
        Name: `X${row.Id.slice(0, 15)}`,
        Label: `X${row.Id.slice(0, 15)}`,
        IsOwnedByProfile: true,
        ProfileId: row.Id,
        Type: 'Profile',
        ...permissionFields(granted),
      },
      created,
    );
    owned.set(row.Id, ps);
  };
  profile('System Administrator', 'Standard', Object.fromEntries(PERMISSION_FIELDS.map((p) => [p, true])));
  profile('Standard User', 'Standard', { PermissionsApiEnabled: true, PermissionsExportReport: true });
  profile('Marketing User', 'Standard', { PermissionsApiEnabled: true, PermissionsExportReport: true });
  profile('Read Only', 'Standard', { PermissionsApiEnabled: true });
  profile('Customer Community Plus User', 'PowerCustomerSuccess', {});

  const permissionSet = (name: string, granted: Permissions) =>
    org.insert(
      'PermissionSet',
      {
        Name: name,
        Label: name.replaceAll('_', ' '),
        IsOwnedByProfile: false,
        ProfileId: null,
        Type: 'Regular',
        ...permissionFields(granted),
      },
      created,
    );
  const modifyAll = permissionSet('Integration_Modify_All', { PermissionsModifyAllData: true, PermissionsApiEnabled: true });
  const viewAll = permissionSet('Data_Export_Admin', { PermissionsViewAllData: true, PermissionsExportReport: true });
  const userManagers = permissionSet('User_Managers', { PermissionsManageUsers: true, PermissionsViewSetup: true });
  const salesOps = permissionSet('Sales_Ops', {});

  const ceo = org.insert('UserRole', { Name: 'CEO', DeveloperName: 'CEO', ParentRoleId: null }, created);
  const vp = org.insert('UserRole', { Name: 'VP Sales', DeveloperName: 'VP_Sales', ParentRoleId: ceo.Id }, created);
  const rep = org.insert('UserRole', { Name: 'Sales Rep', DeveloperName: 'Sales_Rep', ParentRoleId: vp.Id }, created);
  const marketing = org.insert('UserRole', { Name: 'Marketing', DeveloperName: 'Marketing', ParentRoleId: ceo.Id }, created);
  const roles = [ceo, vp, rep, rep, rep, marketing];

  const users: Row[] = [];
  const addUser = (
    i: number,
    fields: { profile: string; userType: string; username?: string; active: boolean; frozen: boolean; role: Row | null },
  ) => {
    const first = rng.pick(FIRST);
    const last = rng.pick(LAST);
    const handle = `${first}.${last}${i}`.toLowerCase();
    const username = fields.username ?? (fields.userType === 'Standard' ? `${handle}@${spec.domain}` : `${handle}@customer.example.net`);
    const user = org.insert(
      'User',
      {
        Username: username,
        Email: username.includes('@') ? username : `${handle}@${spec.domain}`,
        FirstName: first,
        LastName: last,
        Name: `${first} ${last}`,
        Alias: `${first.slice(0, 1)}${last.slice(0, 4)}`.toLowerCase(),
        IsActive: fields.active,
        ProfileId: profiles.get(fields.profile)!.Id,
        UserRoleId: fields.role?.Id ?? null,
        UserType: fields.userType,
        LastLoginDate: null,
        LastPasswordChangeDate: created,
        TimeZoneSidKey: 'GMT',
      },
      created + i * 60_000,
    );
    org.insert('UserLogin', { UserId: user.Id, IsFrozen: fields.frozen, IsPasswordLocked: false }, created);
    org.insert(
      'PermissionSetAssignment',
      { AssigneeId: user.Id, PermissionSetId: owned.get(String(user.ProfileId))!.Id, IsActive: true },
      created,
    );
    users.push(user);
    return user;
  };
  for (let i = 0; i < spec.users; i++) {
    const admin = i < spec.admins;
    const frozen = !admin && i < spec.admins + spec.frozen;
    const inactive = !admin && !frozen && i < spec.admins + spec.frozen + spec.inactive;
    const name = admin
      ? 'System Administrator'
      : rng.pick(['Standard User', 'Standard User', 'Standard User', 'Marketing User', 'Read Only']);
    addUser(i, {
      profile: name,
      userType: 'Standard',
      active: !inactive,
      frozen,
      role: admin ? ceo : rng.chance(0.8) ? rng.pick(roles) : null,
    });
  }
  for (let i = 0; i < spec.externalUsers; i++)
    addUser(spec.users + i, {
      profile: 'Customer Community Plus User',
      userType: 'PowerCustomerSuccess',
      active: true,
      frozen: false,
      role: null,
    });
  for (const app of spec.connectedApps) {
    const existing = users.find((u) => String(u.Username).toLowerCase() === app.username.toLowerCase());
    const user =
      existing ??
      addUser(users.length, {
        profile: 'System Administrator',
        userType: 'Standard',
        username: app.username,
        active: true,
        frozen: false,
        role: null,
      });
    org.appUsers.set(app.consumerKey, user.Id);
  }
  const internal = users.filter(
    (u) => u.UserType === 'Standard' && u.IsActive && !spec.connectedApps.some((a) => a.username === u.Username),
  );
  const plain = internal.slice(spec.admins);
  const assign = (user: Row | undefined, ps: Row) =>
    user && org.insert('PermissionSetAssignment', { AssigneeId: user.Id, PermissionSetId: ps.Id, IsActive: true }, created);
  assign(plain[0], modifyAll);
  assign(plain[1], viewAll);
  for (const user of plain) {
    if (rng.chance(0.05)) assign(user, userManagers);
    if (rng.chance(0.2)) assign(user, salesOps);
  }

  // Public groups, a role group per role, a queue.
  const groupIds: string[] = [];
  for (let g = 0; g < spec.groups; g++) {
    const group = org.insert(
      'Group',
      { Name: `Team ${g + 1}`, DeveloperName: `Team_${g + 1}`, Type: 'Regular', Email: null, OwnerId: users[0]!.Id },
      created,
    );
    const members = new Set<string>();
    for (let k = rng.int(1, Math.max(1, Math.min(25, internal.length))); k > 0; k--)
      members.add(rng.pick(internal.length ? internal : users).Id);
    if (g > 0 && rng.chance(0.3)) members.add(groupIds[0]!);
    for (const id of members) org.insert('GroupMember', { GroupId: group.Id, UserOrGroupId: id }, created);
    groupIds.push(group.Id);
  }
  for (const role of [ceo, vp, rep, marketing])
    org.insert(
      'Group',
      { Name: '', DeveloperName: String(role.DeveloperName), Type: 'Role', Email: null, OwnerId: org.organizationId },
      created,
    );
  const queue = org.insert(
    'Group',
    { Name: 'Support Queue', DeveloperName: 'Support_Queue', Type: 'Queue', Email: null, OwnerId: users[0]!.Id },
    created,
  );
  for (const user of internal.slice(0, 3)) org.insert('GroupMember', { GroupId: queue.Id, UserOrGroupId: user.Id }, created);

  // Connected apps and the OAuth tokens users granted them (the first app heavily used).
  const apps = THIRD_PARTY_APPS.map((name) => ({ name, menuItem: org.ids.next('AppMenuItem') }));
  for (const app of apps) org.insert('ConnectedApplication', { Name: app.name, OptionsAllowAdminApprovedUsersOnly: false }, created);
  for (const app of spec.connectedApps)
    org.insert('ConnectedApplication', { Name: app.name ?? 'Tenantwatch', OptionsAllowAdminApprovedUsersOnly: app.preAuthorized }, created);
  const grantees = internal.length ? internal : users;
  for (let k = 0; k < spec.oauthTokens; k++) {
    const app = apps[k % apps.length]!;
    const heavy = k % apps.length === 0;
    const at = now - rng.int(30, 400) * DAY;
    org.insert(
      'OauthToken',
      {
        AppName: app.name,
        AppMenuItemId: app.menuItem,
        UserId: rng.pick(grantees).Id,
        UseCount: heavy ? rng.int(150_000, 400_000) : rng.int(1, 500),
        LastUsedDate: heavy ? now - rng.int(1, 60) * 60_000 : now - rng.int(0, 90) * DAY,
        CreatedDate: at,
        DeleteToken: `${rng.hex(12)}...`,
        RequestToken: `${rng.hex(12)}...`,
      },
      at,
    );
  }

  // Files: each with versions, its owner's link, shares with groups, users and external users, and some public links.
  const externals = users.filter((u) => u.UserType !== 'Standard');
  const documents: Row[] = [];
  for (let k = 0; k < spec.files; k++) {
    const owner = rng.pick(grantees);
    const extension = rng.pick(EXTENSIONS);
    const at = now - rng.int(2, 300) * DAY;
    const document = org.insert(
      'ContentDocument',
      {
        Title: `${rng.pick(['Quarterly plan', 'Pricing', 'Customer list', 'Board deck', 'Payroll', 'Roadmap'])} ${k + 1}`,
        Description: null,
        FileType: fileType(extension),
        FileExtension: extension,
        ContentSize: 0,
        OwnerId: owner.Id,
        LatestPublishedVersionId: null,
        ParentId: null,
        PublishStatus: 'R',
        IsArchived: false,
        ArchivedDate: null,
        SharingOption: 'A',
        SharingPrivacy: 'N',
        ContentModifiedDate: at,
      },
      at,
      owner.Id,
    );
    const versions = rng.int(1, 3);
    for (let v = 0; v < versions; v++) {
      const planted = v === versions - 1 && rng.chance(0.25) ? `\n${rng.pick(PLANTED)}\n` : '';
      org.addVersion(
        document,
        Buffer.from(`${String(document.Title)}, version ${v + 1}\nNotes for the team.${planted}`),
        { PathOnClient: `${String(document.Title)}.${extension}` },
        at + v * DAY,
        owner.Id,
      );
    }
    org.insert(
      'ContentDocumentLink',
      { ContentDocumentId: document.Id, LinkedEntityId: owner.Id, ShareType: 'I', Visibility: 'AllUsers', IsDeleted: false },
      at,
    );
    if (groupIds.length && rng.chance(0.4))
      org.insert(
        'ContentDocumentLink',
        { ContentDocumentId: document.Id, LinkedEntityId: rng.pick(groupIds), ShareType: 'V', Visibility: 'AllUsers', IsDeleted: false },
        at,
      );
    if (rng.chance(0.2)) {
      const other = rng.pick(grantees);
      if (other !== owner)
        org.insert(
          'ContentDocumentLink',
          { ContentDocumentId: document.Id, LinkedEntityId: other.Id, ShareType: 'C', Visibility: 'InternalUsers', IsDeleted: false },
          at,
        );
    }
    if (externals.length && rng.chance(0.15))
      org.insert(
        'ContentDocumentLink',
        {
          ContentDocumentId: document.Id,
          LinkedEntityId: rng.pick(externals).Id,
          ShareType: 'V',
          Visibility: 'AllUsers',
          IsDeleted: false,
        },
        at,
      );
    documents.push(document);
  }
  const step = documents.length / Math.max(1, spec.publicLinks);
  for (let k = 0; k < Math.min(spec.publicLinks, documents.length); k++) {
    const document = documents[Math.floor(k * step)]!;
    const expires = rng.chance(0.3);
    const token = rng.hex(16);
    org.insert(
      'ContentDistribution',
      {
        Name: document.Title,
        ContentVersionId: document.LatestPublishedVersionId,
        ContentDocumentId: document.Id,
        OwnerId: document.OwnerId,
        DistributionPublicUrl: `${instanceUrl}/sfc/p/${org.organizationId.slice(0, 15)}/a/${token}`,
        ContentDownloadUrl: `${instanceUrl}/sfc/dist/version/download/?oid=${org.organizationId.slice(0, 15)}&d=${token}`,
        PreferencesAllowViewInBrowser: true,
        PreferencesAllowOriginalDownload: true,
        PreferencesAllowPDFDownload: false,
        PreferencesExpires: expires,
        PreferencesPasswordRequired: false,
        ExpiryDate: expires ? now + rng.int(1, 60) * DAY : null,
        ViewCount: rng.int(0, 40),
        FirstViewDate: null,
        LastViewDate: null,
      },
      now - rng.int(1, 30) * DAY,
      String(document.OwnerId),
    );
  }

  // Audit history of the backfill window.
  const activity = new OrgActivity(org);
  activity.refreshActors();
  const from = now - spec.backfillDays * DAY;
  const latency = spec.auditLatencyMs;
  const visible = (at: number) => Math.min(now, at + rng.next() * latency);
  const logins = Math.round(internal.length * spec.loginsPerUserPerDay * spec.backfillDays);
  if (internal.length) {
    for (let k = 0; k < logins; k++) {
      const at = from + rng.next() * (now - from);
      activity.login(at, now, visible(at));
    }
    for (let k = Math.round(spec.setupChangesPerDay * spec.backfillDays); k > 0; k--) {
      const at = from + rng.next() * (now - from);
      activity.setupChange(at, now, visible(at));
    }
  }
  if (spec.eventLogFiles && internal.length) {
    const perDay = {
      ReportExport: Math.max(2, internal.length / 20),
      ContentTransfer: Math.max(4, spec.files / 5),
      API: Math.max(4, internal.length / 5),
    };
    const events: LogEvent[] = org.logEvents.filter((e) => e.eventType === 'Login');
    for (const type of EVENT_TYPES.filter((t) => t !== 'Login'))
      for (let k = Math.round(perDay[type as keyof typeof perDay] * spec.backfillDays); k > 0; k--)
        events.push(activity.event(type, from + rng.next() * (now - from)));
    activity.writeLogFiles(events, now);
  }
  return activity;
}
