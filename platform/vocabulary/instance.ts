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
registerEnumType(ConnectionStatus, { name: 'ConnectionStatus' });

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
registerEnumType(AppCapability, { name: 'AppCapability' });
