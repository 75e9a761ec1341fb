export { startM365Emulator, type M365Emulator, type M365EmulatorOptions, type M365Service, type M365TenantControl } from './server.js';
export { GRAPH_PERMISSIONS, MANAGEMENT_PERMISSIONS, M365SpecError, type GraphPermission, type M365TenantSpec } from './spec.js';
export type { M365Truth } from './server.js';
