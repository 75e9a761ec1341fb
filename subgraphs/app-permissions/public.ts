/**
 * The app-permissions subgraph's public surface: what the scheduler and the process that composes
 * the subgraphs may use of it. Nothing else in this folder may be imported from outside it.
 */
export { appPermissionsModule } from './module.js';
export { AppPermissionService, type AppPermissionRecord } from './app-permission.service.js';
export type { AppPermission } from './app-permission.entity.js';
export { purgeInstance } from './purge.js';
