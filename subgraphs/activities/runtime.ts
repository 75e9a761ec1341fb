import type { Database } from '../../platform/database.js';
import type { StartedRuntime, SubgraphResources } from '../../platform/subgraph.js';
import type { ActivitiesContext } from './context.js';
import { DetectionService } from './detection.service.js';
import { EventKind } from './event-log.entity.js';
import { startEventLogRetention } from './event-log.retention.js';
import { EventLogService, type LoggedEvent } from './event-log.service.js';
import { EventStream, type EventStreamStats } from './event-stream.js';
import { Gauge } from 'prom-client';
import { METRIC_PREFIX } from '../../platform/metrics.js';
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
    metrics: (registry) => {
      const series: [string, string, (stats: EventStreamStats) => number][] = [
        ['event_stream_subscribers', 'Subscriptions served by this subgraph (the gateway’s upstreams)', (s) => s.subscribers],
        ['event_stream_replaying', 'Subscriptions still replaying the log from their cursor', (s) => s.replaying],
        ['event_stream_waiting_events', 'Events queued for subscriptions and not yet sent', (s) => s.waiting],
        [
          'event_stream_behind_events',
          'Log entries announced and not yet read for live fan-out: how far the live reader is behind the log',
          (s) => s.behind,
        ],
        [
          'event_stream_replay_behind_events',
          'Log entries between the furthest-behind replaying subscription and the live reader: how far the slowest upstream is behind',
          (s) => s.replayBehind,
        ],
      ];
      for (const [name, help, read] of series)
        new Gauge({
          name: `${METRIC_PREFIX}${name}`,
          help,
          registers: [registry],
          collect() {
            this.set(read(events.stats()));
          },
        });
    },
    stop: async () => {
      await retention.stop();
      await events.stop();
    },
  };
}
