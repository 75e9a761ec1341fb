import type { Capability } from '../contract.js';

/** The OAuth scopes the connector asks for (https://developers.google.com/identity/protocols/oauth2/scopes). */
export const SCOPE = {
  user: 'https://www.googleapis.com/auth/admin.directory.user',
  userReadonly: 'https://www.googleapis.com/auth/admin.directory.user.readonly',
  userSecurity: 'https://www.googleapis.com/auth/admin.directory.user.security',
  group: 'https://www.googleapis.com/auth/admin.directory.group',
  groupReadonly: 'https://www.googleapis.com/auth/admin.directory.group.readonly',
  roles: 'https://www.googleapis.com/auth/admin.directory.rolemanagement',
  rolesReadonly: 'https://www.googleapis.com/auth/admin.directory.rolemanagement.readonly',
  audit: 'https://www.googleapis.com/auth/admin.reports.audit.readonly',
  drive: 'https://www.googleapis.com/auth/drive',
  driveReadonly: 'https://www.googleapis.com/auth/drive.readonly',
} as const;

/**
 * The scopes each capability needs: every inner list met by one of its scopes, the first the least
 * privileged to authorize (the README ties each to what it is used for).
 */
export const REQUIRED_SCOPES: Readonly<Record<Capability, readonly (readonly string[])[]>> = {
  // users.list, groups.list and members.list, roleAssignments.list (administrator privileges).
  ACCOUNT_INFO: [
    [SCOPE.userReadonly, SCOPE.user],
    [SCOPE.groupReadonly, SCOPE.group],
    [SCOPE.rolesReadonly, SCOPE.roles],
  ],
  // activities.list of login, admin, drive and token.
  AUDIT_TRAIL: [[SCOPE.audit]],
  // users.update (suspended, changePasswordAtNextLogin) and users.signOut.
  ACCOUNT_GOVERNANCE: [[SCOPE.user], [SCOPE.userSecurity]],
  // tokens.list per user.
  APP_PERMISSIONS: [[SCOPE.userSecurity]],
  // tokens.delete.
  APP_PERMISSION_GOVERNANCE: [[SCOPE.userSecurity]],
  // files.list, permissions, changes, files.get alt=media and files.export, impersonating each user.
  DATA_SCAN: [[SCOPE.driveReadonly, SCOPE.drive]],
  // permissions.delete, files.update (trash, move, new content), files.create (the quarantine folder).
  DATA_GOVERNANCE: [[SCOPE.drive]],
};

/**
 * The scopes a token for each API asks for, as alternatives (most capable first, so that one token
 * serves reads and governance): a token request must name only authorized scopes, so each group
 * contributes the first of its alternatives the delegation grants, and a group with none is left out.
 */
export const SERVICE_SCOPES: Readonly<Record<'directory' | 'reports' | 'drive', readonly (readonly string[])[]>> = {
  directory: [
    [SCOPE.user, SCOPE.userReadonly],
    [SCOPE.groupReadonly, SCOPE.group],
    [SCOPE.rolesReadonly, SCOPE.roles],
    [SCOPE.userSecurity],
  ],
  reports: [[SCOPE.audit]],
  drive: [[SCOPE.drive, SCOPE.driveReadonly]],
};

/** Every scope the connector may ask for, each probed on its own to find what the delegation grants. */
export const ALL_SCOPES: readonly string[] = [...new Set(Object.values(SERVICE_SCOPES).flat(2))];

/** The capabilities `granted` allows, and the scope to authorize for each one it does not. */
export function capabilitiesOf(granted: readonly string[]): { capabilities: Capability[]; missing: string[] } {
  const have = new Set(granted);
  const capabilities: Capability[] = [];
  const missing = new Set<string>();
  for (const [capability, needs] of Object.entries(REQUIRED_SCOPES) as [Capability, readonly (readonly string[])[]][]) {
    const unmet = needs.filter((alternatives) => !alternatives.some((s) => have.has(s)));
    if (unmet.length === 0) capabilities.push(capability);
    for (const alternatives of unmet) missing.add(alternatives[0]!);
  }
  return { capabilities, missing: [...missing] };
}

/** The scopes a token for `service` asks for, given the granted ones (all first choices when nothing is known yet). */
export function scopesFor(service: keyof typeof SERVICE_SCOPES, granted: ReadonlySet<string> | null): string[] {
  return SERVICE_SCOPES[service].flatMap((alternatives) => {
    if (!granted) return [alternatives[0]!];
    const found = alternatives.find((s) => granted.has(s));
    return found ? [found] : [];
  });
}
