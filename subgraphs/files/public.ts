/**
 * The files subgraph's public surface: what the scheduler and the process that composes the
 * subgraphs may use of it. Nothing else in this folder may be imported from outside it.
 */
export { filesModule } from './module.js';
export { FileService, type FileRecord } from './file.service.js';
export type { ContentRuleMatch, File, SensitiveMatch } from './file.entity.js';
export { purgeInstance } from './purge.js';
