import { registerEnumType } from 'type-graphql';

/** Where an app instance stands in its life: the connect steps, then connected, in error or disconnected. */
export const ConnectionStatus = {
  CONNECTING: 'CONNECTING',
  SCANNING_PERMISSIONS: 'SCANNING_PERMISSIONS',
  INITIAL_SCAN: 'INITIAL_SCAN',
  CONNECTED: 'CONNECTED',
  DEGRADED: 'DEGRADED',
  ERROR: 'ERROR',
  DISCONNECTED: 'DISCONNECTED',
} as const;
export type ConnectionStatus = (typeof ConnectionStatus)[keyof typeof ConnectionStatus];
registerEnumType(ConnectionStatus, {
  name: 'ConnectionStatus',
  description: 'Where an app instance stands: the connect steps (CONNECTING to INITIAL_SCAN), then CONNECTED, ERROR or DISCONNECTED.',
  valuesConfig: {
    CONNECTING: { description: 'Stored by connectApp; waiting for the scheduler to take it up.' },
    SCANNING_PERMISSIONS: {
      description: 'Checking the credentials and the permissions granted at the provider (retried while the provider cannot be reached).',
    },
    INITIAL_SCAN: { description: 'The first scans run, users first; statusMessage names the kinds still running.' },
    CONNECTED: { description: 'The initial scans are done; periodic scans keep the data current.' },
    DEGRADED: { description: 'Reserved for an instance that works only in part; Tenantwatch does not set it yet.' },
    ERROR: {
      description: 'Stopped: the provider refused the credentials or endpoint, or they cannot read users; statusMessage says why.',
    },
    DISCONNECTED: { description: 'Disconnected by an administrator (disconnectApp): no more scans or governance; its data is kept.' },
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
