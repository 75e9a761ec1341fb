import { ActivityGenerator } from './activity.js';
import { AuditLog } from './audit-log.js';
import { DriveStore } from './drive-store.js';
import { Rng } from './prng.js';
import { generateDrive } from './generate-drive.js';
import { SCOPES, type ResolvedCustomerSpec } from './spec.js';

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
  private readonly tokensByUser = new Map<string, EmuToken[]>();
  readonly drive: DriveStore;
  readonly audit: AuditLog;
  readonly governance: GovernanceRecord[] = [];
  readonly rng: Rng;
  readonly activity: ActivityGenerator;

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
    const granted = new Set<string>();
    for (let t = 0; t < spec.tokens && active.length > 0; t++) {
      const app = this.apps[t % this.apps.length]!;
      const user = active[(t * 7 + rng.int(0, active.length - 1)) % active.length]!;
      if (granted.has(`${user.id}/${app.clientId}`)) continue;
      granted.add(`${user.id}/${app.clientId}`);
      this.tokens.push({
        userId: user.id,
        clientId: app.clientId,
        displayText: app.displayText,
        scopes: [...app.scopes],
        nativeApp: app.nativeApp,
        deleted: false,
      });
    }
    for (const t of this.tokens) (this.tokensByUser.get(t.userId) ?? this.tokensByUser.set(t.userId, []).get(t.userId)!).push(t);
    generateDrive(this, now);
    this.activity = new ActivityGenerator(this);
    this.activity.backfill(now);
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

  /** The user's live OAuth tokens (the Directory API's tokens.list). */
  tokensOf(userId: string): EmuToken[] {
    return (this.tokensByUser.get(userId) ?? []).filter((t) => !t.deleted);
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
}
