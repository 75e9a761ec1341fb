import { AuditLog, param, type EmuActivity, type EmuEvent } from './audit-log.js';
import { DriveStore, type EmuFile } from './drive-store.js';
import { Rng } from './prng.js';
import { generateDrive } from './generate-drive.js';
import { APPLICATIONS, SCOPES, type ApplicationName, type ResolvedCustomerSpec } from './spec.js';

/** A directory user as the emulator keeps it (the wire shape is admin_directory_v1.Schema$User). */
export interface EmuUser {
  id: string;
  primaryEmail: string;
  givenName: string;
  familyName: string;
  suspended: boolean;
  archived: boolean;
  isAdmin: boolean;
  isDelegatedAdmin: boolean;
  changePasswordAtNextLogin: boolean;
  lastLoginTime: string | null;
  creationTime: string;
  /** Drive's permission id of the user (the same on every file). */
  permissionId: string;
  /** The id of the user's My Drive root folder. */
  rootFolderId: string;
  deleted: boolean;
  /** Sign-outs applied (users.signOut), for the truth. */
  signOuts: number;
}

export interface EmuGroup {
  id: string;
  email: string;
  name: string;
  members: { userId: string; role: 'OWNER' | 'MANAGER' | 'MEMBER' }[];
  permissionId: string;
  deleted: boolean;
}

export interface EmuRole {
  roleId: string;
  roleName: string;
  roleDescription: string;
  isSuperAdminRole: boolean;
  privileges: { privilegeName: string; serviceId: string }[];
}

export interface EmuRoleAssignment {
  roleAssignmentId: string;
  roleId: string;
  assignedTo: string;
}

/** A third-party app users authorized (https://developers.google.com/admin-sdk/directory/reference/rest/v1/tokens). */
export interface EmuApp {
  clientId: string;
  displayText: string;
  nativeApp: boolean;
  scopes: string[];
}

export interface EmuToken {
  userId: string;
  clientId: string;
  displayText: string;
  scopes: string[];
  nativeApp: boolean;
  deleted: boolean;
}

/** What a provider-side action did, as the emulator recorded it: the conformance suite's ground truth. */
export interface GovernanceRecord {
  readonly operation: GovernanceOperation;
  readonly targetId: string;
  readonly at: string;
  /** What the operation set, where it matters (a move: the new parent; a permission delete: the permission id). */
  readonly detail?: string;
}

export type GovernanceOperation =
  | 'user.suspend'
  | 'user.unsuspend'
  | 'user.signOut'
  | 'user.changePasswordAtNextLogin'
  | 'token.delete'
  | 'permission.delete'
  | 'file.trash'
  | 'file.untrash'
  | 'file.move'
  | 'file.content';

const FIRST = ['Ada', 'Ben', 'Chloe', 'Dmitri', 'Elena', 'Farid', 'Grace', 'Hiro', 'Ines', 'Jonas', 'Kemi', 'Lena', 'Mateo', 'Nora'];
const LAST = ['Lovelace', 'Okafor', 'Moreau', 'Ivanov', 'Rossi', 'Haddad', 'Hopper', 'Tanaka', 'Silva', 'Berg', 'Adeyemi', 'Novak'];
const APP_NAMES = ['Acme Mail Merge', 'DocuQuick', 'Calendly-ish', 'Sheetsync', 'Slack-like Chat', 'Backup Buddy', 'FormFiller'];
/** Countries of ordinary sign-ins and of the suspicious ones (ISO 3166-1 alpha-2, as networkInfo.regionCode). */
const HOME_REGIONS = ['US', 'US', 'US', 'GB', 'DE', 'FR'];
const SUSPICIOUS_REGIONS = ['KP', 'IR', 'RU'];

/** Privileges of the system roles the emulator makes (https://developers.google.com/admin-sdk/directory/reference/rest/v1/privileges). */
const ADMIN_SERVICE = '00haapch16h1ysv';
const PRIVILEGES = ['USERS_RETRIEVE', 'USERS_UPDATE', 'USERS_ALL', 'GROUPS_RETRIEVE', 'GROUPS_ALL', 'ROLE_MANAGEMENT', 'REPORTS_RETRIEVE'];

const MS_PER_DAY = 86_400_000;

/** An emulated customer's state: generated from the spec and seed, then changed by API calls and the control knobs. */
export class CustomerState {
  readonly users: EmuUser[] = [];
  readonly usersById = new Map<string, EmuUser>();
  readonly usersByEmail = new Map<string, EmuUser>();
  readonly groups: EmuGroup[] = [];
  readonly groupsById = new Map<string, EmuGroup>();
  readonly roles: EmuRole[];
  readonly roleAssignments: EmuRoleAssignment[] = [];
  readonly apps: EmuApp[] = [];
  readonly tokens: EmuToken[] = [];
  readonly drive: DriveStore;
  readonly audit: AuditLog;
  readonly governance: GovernanceRecord[] = [];
  readonly rng: Rng;

  constructor(
    readonly spec: ResolvedCustomerSpec,
    now: number,
  ) {
    this.rng = new Rng(spec.seed);
    const rng = this.rng;
    this.drive = new DriveStore((groupId) => this.groupsById.get(groupId)?.members.map((m) => m.userId) ?? []);
    this.audit = new AuditLog(spec.seed);
    const created = new Date(now - 500 * MS_PER_DAY).toISOString();
    for (let i = 0; i < spec.users; i++) {
      const givenName = rng.pick(FIRST);
      const familyName = rng.pick(LAST);
      const user: EmuUser = {
        id: rng.numericId(21),
        primaryEmail: `${givenName}.${familyName}${i}@${spec.domain}`.toLowerCase(),
        givenName,
        familyName,
        isAdmin: i < spec.admins,
        isDelegatedAdmin: i >= spec.admins && i < spec.admins + spec.delegatedAdmins,
        // The last users are the suspended and archived ones: the admins stay active.
        suspended: i >= spec.users - spec.suspended - spec.archived,
        archived: i >= spec.users - spec.archived,
        changePasswordAtNextLogin: false,
        lastLoginTime: rng.chance(0.9) ? new Date(now - rng.int(1, 30 * 24) * 3_600_000).toISOString() : null,
        creationTime: created,
        permissionId: rng.digits(20),
        rootFolderId: rng.fileId(),
        deleted: false,
        signOuts: 0,
      };
      this.addUser(user);
    }
    this.roles = [
      { roleName: '_SEED_ADMIN_ROLE', roleDescription: 'Super Admin', isSuperAdminRole: true, privileges: PRIVILEGES },
      {
        roleName: '_USER_MANAGEMENT_ADMIN_ROLE',
        roleDescription: 'User Management Admin',
        isSuperAdminRole: false,
        privileges: PRIVILEGES.slice(0, 3),
      },
      {
        roleName: '_GROUPS_ADMIN_ROLE',
        roleDescription: 'Groups Admin',
        isSuperAdminRole: false,
        privileges: ['USERS_RETRIEVE', 'GROUPS_ALL'],
      },
      { roleName: '_HELP_DESK_ADMIN_ROLE', roleDescription: 'Help Desk Admin', isSuperAdminRole: false, privileges: ['USERS_RETRIEVE'] },
    ].map((r) => ({
      ...r,
      roleId: rng.digits(16),
      privileges: r.privileges.map((privilegeName) => ({ privilegeName, serviceId: ADMIN_SERVICE })),
    }));
    for (const user of this.users) {
      if (!user.isAdmin && !user.isDelegatedAdmin) continue;
      const role = user.isAdmin ? this.roles[0]! : this.roles[1 + (this.roleAssignments.length % 3)]!;
      this.roleAssignments.push({ roleAssignmentId: rng.digits(16), roleId: role.roleId, assignedTo: user.id });
    }
    const active = this.users.filter((u) => !u.suspended && !u.archived);
    for (let g = 0; g < spec.groups; g++) {
      const members = new Map<string, EmuGroup['members'][number]>();
      const size = rng.int(1, Math.max(1, Math.min(25, this.users.length)));
      for (let k = 0; k < size; k++) {
        const user = rng.pick(this.users);
        members.set(user.id, { userId: user.id, role: members.size === 0 ? 'OWNER' : 'MEMBER' });
      }
      const group: EmuGroup = {
        id: rng.groupId(),
        email: `team-${g + 1}@${spec.domain}`,
        name: `Team ${g + 1}`,
        members: [...members.values()],
        permissionId: rng.digits(20),
        deleted: false,
      };
      this.groups.push(group);
      this.groupsById.set(group.id, group);
    }
    for (let a = 0; a < spec.apps; a++) {
      const overPrivileged = a === 0;
      this.apps.push({
        clientId: `${rng.digits(12)}-${rng.chars(32, 'abcdefghijklmnopqrstuvwxyz0123456789')}.apps.googleusercontent.com`,
        displayText: APP_NAMES[a % APP_NAMES.length]! + (a >= APP_NAMES.length ? ` ${a}` : ''),
        nativeApp: a % 4 === 3,
        scopes: overPrivileged
          ? [SCOPES.drive, SCOPES.gmail, 'openid', 'https://www.googleapis.com/auth/userinfo.email']
          : [
              'openid',
              'https://www.googleapis.com/auth/userinfo.email',
              rng.pick([SCOPES.driveReadonly, 'https://www.googleapis.com/auth/calendar.readonly']),
            ],
      });
    }
    for (let t = 0; t < spec.tokens && active.length > 0; t++) {
      const app = this.apps[t % this.apps.length]!;
      const user = active[(t * 7 + rng.int(0, active.length - 1)) % active.length]!;
      if (this.tokens.some((k) => k.userId === user.id && k.clientId === app.clientId)) continue;
      this.tokens.push({
        userId: user.id,
        clientId: app.clientId,
        displayText: app.displayText,
        scopes: [...app.scopes],
        nativeApp: app.nativeApp,
        deleted: false,
      });
    }
    generateDrive(this, now);
    this.backfill(now);
  }

  private addUser(user: EmuUser): void {
    this.users.push(user);
    this.usersById.set(user.id, user);
    this.usersByEmail.set(user.primaryEmail, user);
  }

  /** A live user by id or primary email (the Directory API's userKey). */
  user(key: string): EmuUser | undefined {
    const user = this.usersById.get(key) ?? this.usersByEmail.get(key.toLowerCase());
    return user && !user.deleted ? user : undefined;
  }

  group(key: string): EmuGroup | undefined {
    const group = this.groupsById.get(key) ?? this.groups.find((g) => g.email === key.toLowerCase());
    return group && !group.deleted ? group : undefined;
  }

  /** The administrator privileges the user holds through role assignments. */
  privileges(user: EmuUser): Set<string> {
    const out = new Set<string>();
    for (const a of this.roleAssignments) {
      if (a.assignedTo !== user.id) continue;
      for (const p of this.roles.find((r) => r.roleId === a.roleId)?.privileges ?? []) out.add(p.privilegeName);
    }
    return out;
  }

  record(operation: GovernanceOperation, targetId: string, now: number, detail?: string): void {
    this.governance.push({ operation, targetId, at: new Date(now).toISOString(), ...(detail ? { detail } : {}) });
  }

  // ------------------------------------------------------------------ audit activity

  private backfill(now: number): void {
    const rng = this.rng;
    const spec = this.spec;
    const from = now - spec.backfillDays * MS_PER_DAY;
    const count = Math.round(this.users.length * spec.eventsPerUserPerDay * spec.backfillDays);
    for (let k = 0; k < count; k++) this.addActivity(APPLICATIONS[k % APPLICATIONS.length]!, from + rng.next() * (now - from), now);
    // A burst of failed sign-ins from a suspicious country against one user, then a success from there.
    const target = this.users.find((u) => !u.isAdmin && !u.suspended);
    if (target && spec.backfillDays > 0) {
      const at = now - Math.min(spec.backfillDays * MS_PER_DAY, 6 * 3_600_000);
      for (let k = 0; k < 6; k++) this.addLogin(at + k * 20_000, now, undefined, { user: target, failed: k < 5, region: 'KP' });
    }
  }

  /** An activity of `app` that occurred at `at`, visible after up to the app's latency (or at `visibleAt`). */
  addActivity(app: ApplicationName, at: number, now: number, visibleAt?: number): EmuActivity {
    switch (app) {
      case 'login':
        return this.addLogin(at, now, visibleAt);
      case 'admin':
        return this.addAdmin(at, now, visibleAt);
      case 'drive':
        return this.addDriveEvent(at, now, visibleAt);
      case 'token':
        return this.addTokenEvent(at, now, visibleAt);
    }
  }

  private activity(
    app: ApplicationName,
    at: number,
    _now: number,
    visibleAt: number | undefined,
    actor: EmuUser | null,
    region: string,
    events: EmuEvent[],
  ): EmuActivity {
    const rng = this.rng;
    const latency = this.spec.latencyMs[app];
    return this.audit.add({
      applicationName: app,
      time: Math.floor(at),
      uniqueQualifier: this.audit.nextQualifier(),
      actorId: actor?.id ?? null,
      actorEmail: actor?.primaryEmail ?? '',
      ipAddress: region === 'US' ? `198.51.100.${rng.int(1, 254)}` : `203.0.113.${rng.int(1, 254)}`,
      regionCode: region,
      events,
      // Each activity becomes visible after a random share of its application's latency.
      visibleAt: visibleAt ?? at + rng.next() * latency,
    });
  }

  private someUser(): EmuUser {
    return this.rng.pick(this.users);
  }

  private addLogin(at: number, now: number, visibleAt?: number, fixed?: { user: EmuUser; failed: boolean; region: string }): EmuActivity {
    const rng = this.rng;
    const user = fixed?.user ?? this.someUser();
    const failed = fixed?.failed ?? rng.chance(0.1);
    const region = fixed?.region ?? (rng.chance(0.03) ? rng.pick(SUSPICIOUS_REGIONS) : rng.pick(HOME_REGIONS));
    const suspicious = !HOME_REGIONS.includes(region);
    const events: EmuEvent[] = failed
      ? [
          {
            type: 'login',
            name: 'login_failure',
            parameters: [
              param.str('login_type', 'google_password'),
              param.str('login_failure_type', 'login_failure_invalid_password'),
              param.bool('is_suspicious', suspicious),
            ],
          },
        ]
      : [
          {
            type: 'login',
            name: 'login_success',
            parameters: [param.str('login_type', 'google_password'), param.bool('is_suspicious', suspicious)],
          },
        ];
    return this.activity('login', at, now, visibleAt, user, region, events);
  }

  private addAdmin(at: number, now: number, visibleAt?: number): EmuActivity {
    const rng = this.rng;
    const admins = this.users.filter((u) => u.isAdmin);
    const actor = rng.pick(admins.length ? admins : this.users);
    const target = this.someUser();
    const events: EmuEvent[][] = [
      [{ type: 'USER_SETTINGS', name: 'SUSPEND_USER', parameters: [param.str('USER_EMAIL', target.primaryEmail)] }],
      [{ type: 'USER_SETTINGS', name: 'CHANGE_PASSWORD', parameters: [param.str('USER_EMAIL', target.primaryEmail)] }],
      [
        {
          type: 'DELEGATED_ADMIN_SETTINGS',
          name: 'ASSIGN_ROLE',
          parameters: [param.str('USER_EMAIL', target.primaryEmail), param.str('ROLE_NAME', '_HELP_DESK_ADMIN_ROLE')],
        },
      ],
      [{ type: 'USER_SETTINGS', name: 'CREATE_USER', parameters: [param.str('USER_EMAIL', target.primaryEmail)] }],
    ];
    return this.activity('admin', at, now, visibleAt, actor, 'US', rng.pick(events));
  }

  private addDriveEvent(at: number, now: number, visibleAt?: number): EmuActivity {
    const rng = this.rng;
    const files = this.sampleFiles();
    const user = this.someUser();
    if (files.length === 0) return this.addLogin(at, now, visibleAt);
    const file = rng.pick(files);
    const owner = file.ownerId ? this.usersById.get(file.ownerId) : undefined;
    const name = rng.pick(['view', 'download', 'edit', 'download', 'change_user_access']);
    const parameters = [
      param.bool('primary_event', true),
      param.str('doc_id', file.id),
      param.str('doc_title', file.name),
      param.str('doc_type', docType(file.mimeType)),
      param.str('owner', owner?.primaryEmail ?? ''),
      param.str('visibility', visibility(file, this.spec.domain)),
    ];
    return this.activity('drive', at, now, visibleAt, user, rng.pick(HOME_REGIONS), [
      { type: name === 'change_user_access' ? 'acl_change' : 'access', name, parameters },
    ]);
  }

  private sampleCache: EmuFile[] | null = null;
  private sampleFiles(): EmuFile[] {
    this.sampleCache ??= [...this.drive.files.values()].filter((f) => !f.root && f.mimeType !== 'application/vnd.google-apps.folder');
    return this.sampleCache.filter((f) => !f.deleted);
  }

  private addTokenEvent(at: number, now: number, visibleAt?: number): EmuActivity {
    const rng = this.rng;
    const token = this.tokens.length ? rng.pick(this.tokens) : null;
    const app = token ? this.apps.find((a) => a.clientId === token.clientId)! : rng.pick(this.apps);
    const user = token ? (this.usersById.get(token.userId) ?? this.someUser()) : this.someUser();
    const events: EmuEvent[] = [
      {
        type: 'auth',
        name: 'authorize',
        parameters: [
          param.str('client_id', app.clientId),
          param.str('app_name', app.displayText),
          param.str('client_type', app.nativeApp ? 'NATIVE_DESKTOP' : 'WEB'),
          param.multi('scope', app.scopes),
        ],
      },
    ];
    return this.activity('token', at, now, visibleAt, user, rng.pick(HOME_REGIONS), events);
  }

  /** Activities that happen now and become visible up to `lateMs` later, over the four applications; answers them. */
  lateActivities(count: number, lateMs: number, now: number): EmuActivity[] {
    return Array.from({ length: count }, (_, k) =>
      this.addActivity(APPLICATIONS[k % APPLICATIONS.length]!, now, now, now + this.rng.next() * lateMs),
    );
  }

  /** Activities that occurred `agoMs` ago and become visible only now (beyond the documented lag, as the docs warn can happen). */
  pastActivities(count: number, agoMs: number, now: number): EmuActivity[] {
    return Array.from({ length: count }, (_, k) => this.addActivity(APPLICATIONS[k % APPLICATIONS.length]!, now - agoMs, now, now));
  }
}

function docType(mimeType: string): string {
  if (mimeType === 'application/vnd.google-apps.document') return 'document';
  if (mimeType === 'application/vnd.google-apps.spreadsheet') return 'spreadsheet';
  if (mimeType === 'application/vnd.google-apps.presentation') return 'presentation';
  if (mimeType === 'application/pdf') return 'pdf';
  return 'unknown';
}

/** The Drive audit `visibility` parameter of a file from its permissions. */
export function visibility(file: EmuFile, domain: string): string {
  if (file.permissions.some((p) => p.type === 'anyone')) return 'people_with_link';
  if (file.permissions.some((p) => p.type === 'domain')) return 'shared_internally';
  if (file.permissions.some((p) => p.type === 'user' && p.emailAddress && !p.emailAddress.endsWith(`@${domain}`)))
    return 'shared_externally';
  if (file.permissions.some((p) => p.role !== 'owner')) return 'shared_internally';
  return 'private';
}
