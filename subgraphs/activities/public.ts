/**
 * The activities subgraph's public surface: what the scheduler and the process that composes the
 * subgraphs may use of it (its tables' module, its services, the policy condition schema and their
 * record types). Nothing else in this folder may be imported from outside it.
 */
export { activitiesModule } from './module.js';
export { ActivityService, type ActivityRecord, type EventNarrowing } from './activity.service.js';
export { DetectionService, type DetectionDraft, type DetectionMatch } from './detection.service.js';
export { GovernanceService } from './governance.service.js';
export { PolicyService, policyApplies, type PolicyDefinition } from './policy.service.js';
export { EventLogService, EVENT_LOG_CHANNEL } from './event-log.service.js';
export { AlertSinkService, type SinkForDelivery } from './alert-sink.service.js';
export { AlertDeliveryStatus, type AlertSink } from './alert-sink.entity.js';
export { alertBody, alertSignature } from './alert-format.js';
export { changeOf } from './subscription.resolver.js';
export {
  DEFAULT_WINDOW_MINUTES,
  NEW_COUNTRY_BASELINE,
  parseCidr,
  parsePolicyCondition,
  type ActivityCondition,
  type AppPermissionCondition,
  type FileCondition,
  type PolicyCondition,
} from './policy-condition.js';
export { PolicyKind, Severity, SEVERITY_ORDER, type Policy } from './policy.entity.js';
export { hasContentRules, type ContentPattern, type KeywordList } from './content-rules.js';
export { DetectionStatus, type Detection } from './detection.entity.js';
export type { Activity } from './activity.entity.js';
export { purgeInstance, governanceReferences, type InstanceGovernanceReferences } from './purge.js';
