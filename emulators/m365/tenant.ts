import { createHash } from 'node:crypto';
import type * as Graph from '@microsoft/microsoft-graph-types';
import { Rng } from './prng.js';
import type { ResolvedM365Spec } from './spec.js';

/** A directory user as the emulator keeps it (the wire shape is {@link Graph.User}). */
export interface EmuUser {
  id: string;
  displayName: string;
  userPrincipalName: string;
  mail: string;
  userType: 'Member' | 'Guest';
  accountEnabled: boolean;
  forceChangePasswordNextSignIn: boolean;
  signInSessionsValidFromDateTime: string;
  createdDateTime: string;
  deleted: boolean;
  /** The directory's change sequence at the user's last change (users delta). */
  version?: number;
}

export interface EmuGroup {
  id: string;
  displayName: string;
  members: string[];
  deleted: boolean;
}

export interface EmuApp {
  /** The service principal's object id. */
  id: string;
  appId: string;
  displayName: string;
  publisherName: string;
}

export interface EmuGrant {
  id: string;
  clientId: string;
  consentType: 'AllPrincipals' | 'Principal';
  principalId: string | null;
  resourceId: string;
  scope: string;
  deleted: boolean;
}

/** An application permission (an app role of Microsoft Graph) granted to an app's service principal. */
export interface EmuAppRoleAssignment {
  id: string;
  /** The client app's service principal. */
  principalId: string;
  principalDisplayName: string;
  resourceId: string;
  appRoleId: string;
  createdDateTime: string;
  deleted: boolean;
}

/** Microsoft Graph's application permissions the emulator grants to apps, with their app role ids (stable per value). */
export const GRAPH_APP_ROLES = ['User.Read.All', 'Mail.Read', 'Files.ReadWrite.All', 'Sites.Read.All', 'Directory.Read.All'].map(
  (value) => ({ value, id: guidFrom(`graph-app-role:${value}`) }),
);

function guidFrom(seed: string): string {
  const hex = createHash('sha256').update(seed).digest('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-8${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

export interface EmuPermission {
  id: string;
  roles: string[];
  link?: { scope: 'anonymous' | 'organization'; type: 'view' | 'edit' };
  grantedTo?: { id: string | null; email: string; displayName: string };
}

export interface EmuItem {
  id: string;
  driveId: string;
  name: string;
  parentId: string;
  folder: boolean;
  content: Buffer;
  mimeType: string;
  ownerId: string;
  description: string | null;
  permissions: EmuPermission[];
  eTag: number;
  lastModifiedDateTime: string;
  deleted: boolean;
  /** Change counter: delta returns items whose change is after a token's. */
  changedAt: number;
}

export interface EmuDrive {
  id: string;
  name: string;
  rootId: string;
}

export interface EmuSignIn {
  id: string;
  createdDateTime: string;
  userId: string;
  userPrincipalName: string;
  appDisplayName: string;
  ipAddress: string;
  countryOrRegion: string;
  errorCode: number;
  clientAppUsed: string;
  /** Epoch ms when the log starts returning it. */
  visibleAt: number;
}

export interface EmuAudit {
  id: string;
  activityDateTime: string;
  activityDisplayName: string;
  category: string;
  result: 'success' | 'failure';
  initiatedBy: string | null;
  targetId: string | null;
  targetType: string;
  visibleAt: number;
}

/** What a governance call did, as the emulator recorded it: the conformance suite's ground truth. */
export interface GovernanceRecord {
  readonly operation: string;
  readonly targetId: string;
  readonly at: string;
  /** What the operation set, where it matters (a move: the new parent folder's id). */
  readonly detail?: string;
}

const FIRST = [
  'Adele',
  'Alex',
  'Diego',
  'Grady',
  'Henrietta',
  'Isaiah',
  'Johanna',
  'Joni',
  'Lee',
  'Lidia',
  'Lynne',
  'Megan',
  'Miriam',
  'Nestor',
  'Patti',
  'Pradeep',
];
const LAST = [
  'Vance',
  'Wilber',
  'Siciliani',
  'Archie',
  'Mueller',
  'Langer',
  'Lauren',
  'Sherman',
  'Gu',
  'Holloway',
  'Robinson',
  'Bowen',
  'Graham',
  'Wilke',
  'Fernandez',
  'Gupta',
];
const COUNTRIES = ['US', 'US', 'US', 'GB', 'DE', 'FR', 'IN', 'BR', 'JP'];
const APPS = [
  'Contoso Expenses',
  'Fabrikam CRM Sync',
  'Litware Mail Assistant',
  'Tailspin Calendar',
  'Northwind Reports',
  'Proseware Notes',
];
const DELEGATED_SCOPES = ['User.Read', 'openid', 'profile', 'offline_access', 'Calendars.Read', 'Contacts.Read', 'Tasks.ReadWrite'];
const RISKY_SCOPES = ['Mail.ReadWrite', 'Files.ReadWrite.All', 'Mail.Send'];
const AUDIT_ACTIVITIES = [
  ['Add member to group', 'GroupManagement'],
  ['Update user', 'UserManagement'],
  ['Add member to role', 'RoleManagement'],
  ['Consent to application', 'ApplicationManagement'],
  ['Reset user password', 'UserManagement'],
] as const;
const EXTENSIONS = [
  ['docx', 'application/vnd.openxmlformats-officedocument.wordprocessingml.document'],
  ['txt', 'text/plain'],
  ['csv', 'text/csv'],
  ['json', 'application/json'],
] as const;

/** Sensitive data planted in some files: a Luhn-valid card number, a US SSN, an IBAN and an AWS key. */
const PLANTED = [
  'Card on file: 4111 1111 1111 1111 exp 09/29',
  'Employee SSN 078-05-1120 for payroll',
  'Wire to IBAN GB82 WEST 1234 5698 7654 32',
  'aws_access_key_id = AKIAIOSFODNN7EXAMPLE',
];

const MS_PER_DAY = 86_400_000;

/** An emulated tenant's state: generated from the spec and seed, then changed by governance and the admin API. */
export class TenantState {
  readonly users: EmuUser[] = [];
  readonly groups: EmuGroup[] = [];
  readonly adminRole = {
    id: '',
    displayName: 'Global Administrator',
    roleTemplateId: '62e90394-69f5-4237-9190-012177145e10',
    members: [] as string[],
  };
  readonly apps: EmuApp[] = [];
  readonly graphResourceId: string;
  readonly appRoleAssignments: EmuAppRoleAssignment[] = [];
  /** The directory's change sequence: users delta tokens name a point in it. */
  userSeq = 0;
  readonly grants: EmuGrant[] = [];
  readonly drives: EmuDrive[] = [];
  readonly items = new Map<string, EmuItem>();
  readonly signIns: EmuSignIn[] = [];
  readonly audits: EmuAudit[] = [];
  readonly governance: GovernanceRecord[] = [];
  private changeCounter = 0;
  private readonly rng: Rng;

  constructor(
    readonly spec: ResolvedM365Spec,
    now: number,
  ) {
    this.rng = new Rng(spec.seed);
    const rng = this.rng;
    const created = new Date(now - 400 * MS_PER_DAY).toISOString();
    for (let i = 0; i < spec.users + spec.guests; i++) {
      const guest = i >= spec.users;
      const first = rng.pick(FIRST);
      const last = rng.pick(LAST);
      const handle = `${first}.${last}${i}`.toLowerCase();
      const external = `${handle}@partner${i % 3}.example.net`;
      this.users.push({
        id: rng.guid(),
        displayName: `${first} ${last}`,
        userPrincipalName: guest ? `${external.replace('@', '_')}#EXT#@${spec.domain}` : `${handle}@${spec.domain}`,
        mail: guest ? external : `${handle}@${spec.domain}`,
        userType: guest ? 'Guest' : 'Member',
        accountEnabled: guest || !rng.chance(0.05),
        forceChangePasswordNextSignIn: false,
        signInSessionsValidFromDateTime: created,
        createdDateTime: created,
        deleted: false,
      });
    }
    const members = this.users.filter((u) => u.userType === 'Member');
    this.adminRole.id = rng.guid();
    this.adminRole.members = members.slice(0, Math.min(spec.admins, members.length)).map((u) => u.id);
    for (let g = 0; g < spec.groups; g++) {
      const size = rng.int(1, Math.max(1, Math.min(30, members.length)));
      const set = new Set<string>();
      for (let k = 0; k < size; k++) set.add(rng.pick(this.users).id);
      this.groups.push({ id: rng.guid(), displayName: `Team ${g + 1}`, members: [...set], deleted: false });
    }
    this.graphResourceId = rng.guid();
    for (let a = 0; a < spec.apps; a++) {
      this.apps.push({
        id: rng.guid(),
        appId: rng.guid(),
        displayName: APPS[a % APPS.length]! + (a >= APPS.length ? ` ${a}` : ''),
        publisherName: 'Partner Publisher',
      });
    }
    for (let k = 0; k < spec.grants; k++) {
      const app = this.apps[k % this.apps.length]!;
      // The first app is over-privileged: it holds mail and files write scopes for everyone.
      const risky = app === this.apps[0];
      const scopes = new Set(['User.Read', rng.pick(DELEGATED_SCOPES), ...(risky ? RISKY_SCOPES : [])]);
      const allPrincipals = risky && k === 0;
      this.grants.push({
        id: `grant-${rng.guid()}`,
        clientId: app.id,
        consentType: allPrincipals ? 'AllPrincipals' : 'Principal',
        principalId: allPrincipals ? null : rng.pick(members).id,
        resourceId: this.graphResourceId,
        scope: [...scopes].join(' '),
        deleted: false,
      });
    }
    // Application permissions (app-only access, no user involved): the over-privileged app reads every
    // mailbox and writes every file; the next one reads the directory. A generator of its own, so that
    // the rest of the tenant is what the same seed always made.
    const roles = new Rng(spec.seed * 31 + 7);
    const granted: string[][] = [['Files.ReadWrite.All', 'Mail.Read', 'User.Read.All'], ['User.Read.All']];
    for (let a = 0; a < Math.min(spec.appRoleApps, this.apps.length); a++) {
      const app = this.apps[a]!;
      for (const value of granted[a] ?? ['Sites.Read.All']) {
        this.appRoleAssignments.push({
          id: Buffer.from(roles.guid().replaceAll('-', ''), 'hex').toString('base64url') + roles.guid().slice(0, 8),
          principalId: app.id,
          principalDisplayName: app.displayName,
          resourceId: this.graphResourceId,
          appRoleId: GRAPH_APP_ROLES.find((r) => r.value === value)!.id,
          createdDateTime: new Date(now - roles.int(1, 400) * 86_400_000).toISOString(),
          deleted: false,
        });
      }
    }
    this.drives.push(this.newDrive('Documents'), this.newDrive('Finance'));
    for (let f = 0; f < spec.files; f++) {
      const drive = this.drives[f % this.drives.length]!;
      const [ext, mimeType] = rng.pick(EXTENSIONS);
      const owner = rng.pick(members);
      const planted = rng.chance(0.2) ? `\n${rng.pick(PLANTED)}\n` : '';
      const item = this.newItem(
        drive,
        drive.rootId,
        `Report ${f + 1}.${ext}`,
        false,
        Buffer.from(`Quarterly notes ${f}\n${planted}`),
        mimeType,
        owner.id,
        now,
      );
      item.permissions.push({
        id: `p-${rng.guid()}`,
        roles: ['owner'],
        grantedTo: { id: owner.id, email: owner.mail, displayName: owner.displayName },
      });
      const exposure = rng.next();
      if (exposure < 0.1) item.permissions.push({ id: `p-${rng.guid()}`, roles: ['read'], link: { scope: 'anonymous', type: 'view' } });
      else if (exposure < 0.2) {
        const guest = this.users.find((u) => u.userType === 'Guest');
        if (guest)
          item.permissions.push({
            id: `p-${rng.guid()}`,
            roles: ['read'],
            grantedTo: { id: guest.id, email: guest.mail, displayName: guest.displayName },
          });
      } else if (exposure < 0.35)
        item.permissions.push({ id: `p-${rng.guid()}`, roles: ['read'], link: { scope: 'organization', type: 'view' } });
    }
    const from = now - spec.backfillDays * MS_PER_DAY;
    const perDay = spec.signInsPerUserPerDay;
    const count = Math.round(members.length * perDay * spec.backfillDays);
    for (let k = 0; k < count; k++) this.addSignIn(from + rng.next() * (now - from), now);
    for (let k = 0; k < Math.ceil(count / 10); k++) this.addAudit(from + rng.next() * (now - from), now);
  }

  private newDrive(name: string): EmuDrive {
    const id = `b!${this.rng.itemId().slice(2, 30)}`;
    const rootId = this.rng.itemId();
    this.items.set(rootId, {
      id: rootId,
      driveId: id,
      name: 'root',
      parentId: '',
      folder: true,
      content: Buffer.alloc(0),
      mimeType: '',
      ownerId: '',
      description: null,
      permissions: [],
      eTag: 1,
      lastModifiedDateTime: new Date(0).toISOString(),
      deleted: false,
      changedAt: 0,
    });
    return { id, name, rootId };
  }

  newItem(
    drive: EmuDrive,
    parentId: string,
    name: string,
    folder: boolean,
    content: Buffer,
    mimeType: string,
    ownerId: string,
    now: number,
  ): EmuItem {
    const item: EmuItem = {
      id: this.rng.itemId(),
      driveId: drive.id,
      name,
      parentId,
      folder,
      content,
      mimeType,
      ownerId,
      description: null,
      permissions: [],
      eTag: 1,
      lastModifiedDateTime: new Date(now).toISOString(),
      deleted: false,
      changedAt: ++this.changeCounter,
    };
    this.items.set(item.id, item);
    return item;
  }

  /** Marks an item changed (delta returns it again) and bumps its eTag when its content changed. */
  touch(item: EmuItem, now: number, content: boolean): void {
    item.changedAt = ++this.changeCounter;
    item.lastModifiedDateTime = new Date(now).toISOString();
    if (content) item.eTag++;
  }

  get changeMark(): number {
    return this.changeCounter;
  }

  addSignIn(at: number, now: number, visibleAt?: number): EmuSignIn {
    const rng = this.rng;
    const user = rng.pick(this.users.filter((u) => u.userType === 'Member'));
    const failed = rng.chance(0.08);
    const signIn: EmuSignIn = {
      id: rng.guid(),
      createdDateTime: new Date(at).toISOString(),
      userId: user.id,
      userPrincipalName: user.userPrincipalName,
      appDisplayName: rng.pick(['Office 365 Exchange Online', 'Microsoft Teams', 'OneDrive SyncEngine', 'Azure Portal']),
      ipAddress: `203.0.113.${rng.int(1, 254)}`,
      countryOrRegion: rng.pick(COUNTRIES),
      errorCode: failed ? 50126 : 0,
      clientAppUsed: 'Browser',
      visibleAt: visibleAt ?? Math.min(now, at + rng.next() * this.spec.auditLatencyMs),
    };
    this.signIns.push(signIn);
    return signIn;
  }

  addAudit(at: number, now: number, visibleAt?: number, fields: Partial<EmuAudit> = {}): EmuAudit {
    const rng = this.rng;
    const [activityDisplayName, category] = rng.pick(AUDIT_ACTIVITIES);
    const actor = this.adminRole.members.length ? rng.pick(this.adminRole.members) : null;
    const audit: EmuAudit = {
      id: `Directory_${rng.guid()}`,
      activityDateTime: new Date(at).toISOString(),
      activityDisplayName,
      category,
      result: 'success',
      initiatedBy: actor,
      targetId: rng.pick(this.users).id,
      targetType: 'User',
      visibleAt: visibleAt ?? Math.min(now, at + rng.next() * this.spec.auditLatencyMs),
      ...fields,
    };
    this.audits.push(audit);
    return audit;
  }

  /** Live audit records that happen now and become visible up to `lateMs` later, in no order. */
  lateRecords(count: number, lateMs: number, now: number): string[] {
    const ids: string[] = [];
    for (let k = 0; k < count; k++) {
      const visibleAt = now + this.rng.next() * lateMs;
      ids.push(k % 4 === 3 ? this.addAudit(now, now, visibleAt).id : this.addSignIn(now, now, visibleAt).id);
    }
    return ids;
  }

  /** Sign-ins and directory audits that occurred `agoMs` ago and become visible only now (Entra documents latencies up to 24 hours). */
  pastRecords(count: number, agoMs: number, now: number): string[] {
    const ids: string[] = [];
    for (let k = 0; k < count; k++)
      ids.push(k % 4 === 3 ? this.addAudit(now - agoMs, now, now).id : this.addSignIn(now - agoMs, now, now).id);
    return ids;
  }

  record(operation: string, targetId: string, now: number, detail?: string): void {
    this.governance.push({ operation, targetId, at: new Date(now).toISOString(), ...(detail ? { detail } : {}) });
  }

  /** Marks a user changed (created, updated, deleted) for users delta. */
  touchUser(user: EmuUser): void {
    user.version = ++this.userSeq;
  }

  user(id: string): EmuUser | undefined {
    return this.users.find((u) => (u.id === id || u.userPrincipalName.toLowerCase() === id.toLowerCase()) && !u.deleted);
  }

  item(id: string): EmuItem | undefined {
    const item = this.items.get(id);
    return item && !item.deleted ? item : undefined;
  }

  drive(id: string): EmuDrive | undefined {
    return this.drives.find((d) => d.id === id);
  }

  /** The item's path from its drive's root (`/Report 1.docx`, `/Quarantine/x`). */
  pathOf(item: EmuItem): string {
    const parts: string[] = [];
    let parent = this.items.get(item.parentId);
    while (parent && parent.parentId) {
      parts.unshift(parent.name);
      parent = this.items.get(parent.parentId);
    }
    return `/drive/root:${parts.length ? `/${parts.join('/')}` : ''}`;
  }

  /** The `shared` facet's scope from the item's permissions (https://learn.microsoft.com/en-us/graph/api/resources/shared). */
  sharedScope(item: EmuItem): 'anonymous' | 'organization' | 'users' | null {
    const others = item.permissions.filter((p) => !p.roles.includes('owner'));
    if (others.some((p) => p.link?.scope === 'anonymous')) return 'anonymous';
    if (others.some((p) => p.link?.scope === 'organization')) return 'organization';
    if (others.some((p) => p.grantedTo)) return 'users';
    return null;
  }

  contentHash(item: EmuItem): string {
    return createHash('sha1').update(item.content).digest('hex');
  }

  /** A deep copy of everything, deleted things included. */
  truth() {
    return structuredClone({
      tenantId: this.spec.tenantId,
      users: this.users,
      groups: this.groups,
      admins: this.adminRole.members,
      apps: this.apps,
      grants: this.grants,
      appRoleAssignments: this.appRoleAssignments,
      drives: this.drives,
      items: [...this.items.values()]
        .filter((i) => i.parentId)
        .map((i) => ({ ...i, content: undefined, contentHash: this.contentHash(i), path: this.pathOf(i), shared: this.sharedScope(i) })),
      signIns: this.signIns,
      audits: this.audits,
      governance: this.governance,
    });
  }
}

export type M365Truth = ReturnType<TenantState['truth']>;
export type { Graph };
