/**
 * The accounts subgraph's public surface: what the scheduler and the process that composes the
 * subgraphs may use of it (its tables' module, its services and their record types). Nothing else
 * in this folder may be imported from outside it.
 */
export { accountsModule } from './module.js';
export { AccountService, type AccountRecord, type GroupRecord } from './account.service.js';
export { AppInstanceService, instanceDirectory, type ConnectRequest } from './app-instance.service.js';
export type { Account, Group } from './account.entity.js';
export { ChangeNotificationMode, ScanKind, ScanRunState, type AppInstance, type ScanState } from './app-instance.entity.js';
export { purgeInstance } from './purge.js';
