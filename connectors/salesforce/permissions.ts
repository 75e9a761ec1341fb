import type { Capability } from '../contract.js';

/**
 * The user permissions of the integration user each capability needs, by their API names (the
 * PermissionSet fields without the `Permissions` prefix,
 * https://developer.salesforce.com/docs/atlas.en-us.object_reference.meta/object_reference/sforce_api_objects_permissionset.htm):
 * every inner list must be met by one of its permissions; the first is the least privileged to grant.
 * Every capability also needs API Enabled.
 */
export const REQUIRED_PERMISSIONS: Readonly<Record<Capability, readonly (readonly string[])[]>> = {
  // Users, frozen state, groups; permission sets and their assignments are setup data.
  ACCOUNT_INFO: [['ApiEnabled'], ['ViewSetup', 'ViewAllData', 'ModifyAllData']],
  // LoginHistory of every user needs Manage Users; SetupAuditTrail needs View Setup and Configuration.
  AUDIT_TRAIL: [['ApiEnabled'], ['ManageUsers'], ['ViewSetup', 'ViewAllData', 'ModifyAllData']],
  // Freezing (UserLogin) and resetting passwords.
  ACCOUNT_GOVERNANCE: [['ApiEnabled'], ['ManageUsers']],
  // OauthToken of every user.
  APP_PERMISSIONS: [['ApiEnabled'], ['ManageUsers']],
  APP_PERMISSION_GOVERNANCE: [['ApiEnabled'], ['ManageUsers']],
  // Every file, whoever owns it: Query All Files (or View All Data).
  DATA_SCAN: [['ApiEnabled'], ['QueryAllFiles', 'ViewAllData', 'ModifyAllData']],
  // Deleting, versioning and unsharing files the integration user does not own.
  DATA_GOVERNANCE: [['ApiEnabled'], ['ModifyAllData']],
};

/** Optional: event log files (report exports, file downloads) in the audit trail. */
export const EVENT_LOG_PERMISSION = 'ViewEventLogFiles';

/** Every permission the connector reads from the integration user's permission sets. */
export const PERMISSIONS_READ: readonly string[] = [
  ...new Set([...Object.values(REQUIRED_PERMISSIONS).flatMap((needs) => needs.flat()), EVENT_LOG_PERMISSION]),
].sort();

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
  if (!have.has(EVENT_LOG_PERMISSION)) missing.add(EVENT_LOG_PERMISSION);
  return { capabilities, missing: [...missing] };
}
