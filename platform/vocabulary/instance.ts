import { registerEnumType } from 'type-graphql';

/** Where an app instance stands in its life: the connect steps, then connected (in full or in part), in error, disconnected or deleted. */
export const ConnectionStatus = {
  CONNECTING: 'CONNECTING',
  SCANNING_PERMISSIONS: 'SCANNING_PERMISSIONS',
  INITIAL_SCAN: 'INITIAL_SCAN',
  CONNECTED: 'CONNECTED',
  DEGRADED: 'DEGRADED',
  ERROR: 'ERROR',
  DISCONNECTED: 'DISCONNECTED',
  DELETED: 'DELETED',
} as const;
export type ConnectionStatus = (typeof ConnectionStatus)[keyof typeof ConnectionStatus];
registerEnumType(ConnectionStatus, {
  name: 'ConnectionStatus',
  description:
    'Where an app instance stands: the connect steps (CONNECTING to INITIAL_SCAN), then CONNECTED (DEGRADED when only in part), ERROR, DISCONNECTED or DELETED.',
  valuesConfig: {
    CONNECTING: { description: 'Stored by connectApp; waiting for the scheduler to take it up.' },
    SCANNING_PERMISSIONS: {
      description: 'Checking the credentials and the permissions granted at the provider (retried while the provider cannot be reached).',
    },
    INITIAL_SCAN: { description: 'The first scans run, users first; statusMessage names the kinds still running.' },
    CONNECTED: { description: 'The initial scans are done; periodic scans keep the data current.' },
    DEGRADED: {
      description:
        'Connected, but a whole kind of scan is refused by the provider (a permission withdrawn): statusMessage names it; the other scans go on, and it is CONNECTED again once that kind works.',
    },
    ERROR: {
      description:
        'Stopped: the provider refused the credentials or endpoint, they cannot read users, or every kind of scan is refused; statusMessage says why. Fix the config (updateAppInstance), then reconnectApp.',
    },
    DISCONNECTED: {
      description:
        'Disconnected by an administrator (disconnectApp): no more scans or governance; its data is kept (reconnectApp resumes it).',
    },
    DELETED: {
      description:
        'Deleted by an administrator (deleteAppInstance): its credentials and data are gone (purged in the background); kept only so that its governance log still names it, and left out of appInstances.',
    },
  },
});

/** What a connector can do with the permissions its instance was granted. */
export const AppCapability = {
  ACCOUNT_INFO: 'ACCOUNT_INFO',
  AUDIT_TRAIL: 'AUDIT_TRAIL',
  ACCOUNT_GOVERNANCE: 'ACCOUNT_GOVERNANCE',
  APP_PERMISSIONS: 'APP_PERMISSIONS',
  APP_PERMISSION_GOVERNANCE: 'APP_PERMISSION_GOVERNANCE',
  DATA_SCAN: 'DATA_SCAN',
  DATA_GOVERNANCE: 'DATA_GOVERNANCE',
} as const;
export type AppCapability = (typeof AppCapability)[keyof typeof AppCapability];
registerEnumType(AppCapability, {
  name: 'AppCapability',
  description: 'Something a connector can do for an instance, once the permissions it needs are granted at the provider.',
  valuesConfig: {
    ACCOUNT_INFO: { description: 'Read users and groups (the USERS and GROUPS scans); every instance needs it.' },
    AUDIT_TRAIL: { description: 'Read the audit log (the ACTIVITIES and LATE_ACTIVITIES scans).' },
    ACCOUNT_GOVERNANCE: { description: 'Suspend and unsuspend accounts and require a password reset.' },
    APP_PERMISSIONS: { description: 'Read the OAuth grants of third-party apps (the APP_PERMISSIONS scan).' },
    APP_PERMISSION_GOVERNANCE: { description: 'Revoke OAuth grants (revokeAppPermission, revokeApp).' },
    DATA_SCAN: { description: 'List files with their sharing and read their content for sensitive data (the FILES and DATA scans).' },
    DATA_GOVERNANCE: { description: 'Quarantine, restore, trash and overwrite files and remove their external sharing.' },
  },
});
