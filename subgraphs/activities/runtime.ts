import type { Database } from '../../platform/database.js';
import type { StartedRuntime, SubgraphResources } from '../../platform/subgraph.js';
import type { ActivitiesContext } from './context.js';
import { DetectionService } from './detection.service.js';
import { EventKind } from './event-log.entity.js';
import { startEventLogRetention } from './event-log.retention.js';
import { EventLogService, type LoggedEvent } from './event-log.service.js';
import { EventStream } from './event-stream.js';
import { GovernanceService } from './governance.service.js';

/** The ids of the entities of `kind` that `events` announce, each once. */
const idsOf = (events: readonly LoggedEvent[], kind: EventKind) => [
  ...new Set(events.filter((e) => e.kind === kind).map((e) => e.entityId)),
];

/** Loads what `events` announce: one query per kind, on a fresh EntityManager (nothing is cached across batches). */
async function loadAnnounced(db: Database, events: readonly LoggedEvent[]): Promise<Map<string, unknown>> {
  const em = db.fork();
  const detectionIds = idsOf(events, EventKind.DETECTION);
  const actionIds = idsOf(events, EventKind.GOVERNANCE);
  const [detections, actions] = await Promise.all([
    detectionIds.length > 0 ? new DetectionService(em).byIds(detectionIds) : [],
    actionIds.length > 0 ? new GovernanceService(em).byIds(actionIds) : [],
  ]);
  return new Map<string, unknown>([...detections.map((d) => [d.id, d] as const), ...actions.map((a) => [a.id, a] as const)]);
}

/**
 * What the activities subgraph runs beside its server: the event stream behind its subscriptions
 * (one LISTEN connection) and the event-log retention timer.
 */
export async function startActivitiesRuntime({ db, config, databaseUrl }: SubgraphResources): Promise<StartedRuntime> {
  const log = new EventLogService(db.knex());
  const events = await EventStream.start({
    databaseUrl,
    log,
    queueLimit: config.SUBSCRIPTION_QUEUE_LIMIT,
    load: (batch) => loadAnnounced(db, batch),
  });
  const retention = startEventLogRetention({ log, retentionDays: config.EVENT_LOG_RETENTION_DAYS });
  return {
    subscriptions: true,
    extendContext: (base) => ({ ...base, events }) satisfies Pick<ActivitiesContext, 'events'>,
    stats: () => events.stats(),
    stop: async () => {
      await retention.stop();
      await events.stop();
    },
  };
}
