import type { Capability } from '../contract.js';

/**
 * The application permissions each capability needs: every inner list must be met by one of its
 * permissions (https://learn.microsoft.com/en-us/graph/permissions-reference). The first of each
 * list is the least privileged one to grant.
 */
export const REQUIRED_PERMISSIONS: Readonly<Record<Capability, readonly (readonly string[])[]>> = {
  ACCOUNT_INFO: [
    ['User.Read.All', 'User.ReadWrite.All', 'Directory.Read.All', 'Directory.ReadWrite.All'],
    ['GroupMember.Read.All', 'Group.Read.All', 'Directory.Read.All', 'Directory.ReadWrite.All'],
    ['RoleManagement.Read.Directory', 'Directory.Read.All', 'Directory.ReadWrite.All'],
  ],
  AUDIT_TRAIL: [['AuditLog.Read.All']],
  ACCOUNT_GOVERNANCE: [
    ['User.EnableDisableAccount.All', 'User.ReadWrite.All', 'Directory.ReadWrite.All'],
    ['User-PasswordProfile.ReadWrite.All', 'User.ReadWrite.All', 'Directory.ReadWrite.All'],
    ['User.RevokeSessions.All', 'User.ReadWrite.All', 'Directory.ReadWrite.All'],
  ],
  APP_PERMISSIONS: [
    ['Application.Read.All', 'Directory.Read.All', 'Directory.ReadWrite.All'],
    ['DelegatedPermissionGrant.ReadWrite.All', 'Directory.Read.All', 'Directory.ReadWrite.All'],
  ],
  APP_PERMISSION_GOVERNANCE: [['DelegatedPermissionGrant.ReadWrite.All', 'Directory.ReadWrite.All']],
  DATA_SCAN: [['Files.Read.All', 'Files.ReadWrite.All', 'Sites.Read.All', 'Sites.ReadWrite.All']],
  DATA_GOVERNANCE: [['Files.ReadWrite.All', 'Sites.ReadWrite.All']],
};

/** The capabilities `granted` allows, and the permission to grant for each one it does not. */
export function capabilitiesOf(granted: readonly string[]): { capabilities: Capability[]; missing: string[] } {
  const have = new Set(granted);
  const capabilities: Capability[] = [];
  const missing = new Set<string>();
  for (const [capability, needs] of Object.entries(REQUIRED_PERMISSIONS) as [Capability, readonly (readonly string[])[]][]) {
    const unmet = needs.filter((alternatives) => !alternatives.some((p) => have.has(p)));
    if (unmet.length === 0) capabilities.push(capability);
    for (const alternatives of unmet) missing.add(alternatives[0]!);
  }
  return { capabilities, missing: [...missing] };
}
