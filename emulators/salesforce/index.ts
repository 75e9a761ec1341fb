export { startSalesforceEmulator, type SalesforceEmulator, type SalesforceEmulatorOptions } from './server.js';
export type { OrgUpdate, SalesforceOrgControl, SalesforceTruth } from './control.js';
export type { GovernanceRecord } from './org.js';
export type { OrgStats } from './runtime.js';
export { SalesforceSpecError, type SalesforceOrgSpec } from './spec.js';
