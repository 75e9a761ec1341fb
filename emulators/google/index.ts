export { startGoogleEmulator, type GoogleEmulator, type GoogleEmulatorOptions } from './server.js';
export { type GoogleCustomerControl, type GoogleTruth } from './customer.js';
export { type ChannelInfo } from './channels.js';
export { GOOGLE_TOKEN_URL } from './auth.js';
export { ALL_SCOPES, APPLICATIONS, GoogleSpecError, SCOPES, type CustomerSpec } from './spec.js';
export type { GovernanceOperation, GovernanceRecord } from './tenant.js';
