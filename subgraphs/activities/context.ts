import { byKeys, loader, type SubgraphContext } from '../../platform/context.js';
import { scopeOf } from '../../platform/scope.js';
import type { Connection, PageRequest } from '../../platform/pagination.js';
import type { Activity } from './activity.entity.js';
import { ActivityService, type ActivityFilter } from './activity.service.js';
import type { Detection, DetectionHistoryEntry } from './detection.entity.js';
import { DetectionService, type DetectionFilter, type DetectionSubject } from './detection.service.js';
import type { EventStream } from './event-stream.js';
import type { GovernanceAction } from './governance-action.entity.js';
import { GovernanceService } from './governance.service.js';
import type { Policy } from './policy.entity.js';
import { PolicyService } from './policy.service.js';

/** The activities subgraph's context: the shared one plus the process's event stream (for subscriptions). */
export interface ActivitiesContext extends SubgraphContext {
  readonly events: EventStream;
  /** Seals alert sinks' signing secrets. */
  readonly credentialsKey: Buffer;
  /** Alert sinks may be on private addresses (CONNECTOR_ALLOW_PRIVATE). */
  readonly allowPrivateEndpoints: boolean;
}

export const services = {
  activity: (ctx: SubgraphContext) => new ActivityService(ctx.em, scopeOf(ctx)),
  policy: (ctx: SubgraphContext) => new PolicyService(ctx.em),
  detection: (ctx: SubgraphContext) => new DetectionService(ctx.em, scopeOf(ctx)),
  governance: (ctx: SubgraphContext) => new GovernanceService(ctx.em, scopeOf(ctx)),
};

/** Per-request batch loaders of the activities subgraph. */
export const loaders = {
  activity: (ctx: SubgraphContext) =>
    loader<string, Activity | null>(ctx, 'activity', async (ids) => byKeys(ids, await services.activity(ctx).byIds(ids), (a) => a.id)),
  policy: (ctx: SubgraphContext) =>
    loader<string, Policy | null>(ctx, 'policy', async (ids) => byKeys(ids, await services.policy(ctx).byIds(ids), (p) => p.id)),
  detection: (ctx: SubgraphContext) =>
    loader<string, Detection | null>(ctx, 'detection', async (ids) => byKeys(ids, await services.detection(ctx).byIds(ids), (d) => d.id)),
  governanceAction: (ctx: SubgraphContext) =>
    loader<string, GovernanceAction | null>(ctx, 'governanceAction', async (ids) =>
      byKeys(ids, await services.governance(ctx).byIds(ids), (g) => g.id),
    ),
  detectionHistory: (ctx: SubgraphContext) =>
    loader<string, DetectionHistoryEntry[]>(ctx, 'detectionHistory', async (ids) => {
      const found = await services.detection(ctx).historyOf(ids);
      return ids.map((id) => found.get(id) ?? []);
    }),
  detectionsOf: (ctx: SubgraphContext, subject: DetectionSubject, filter: DetectionFilter, page: PageRequest) =>
    loader<string, Connection<Detection>>(ctx, `detectionsOf:${subject}:${JSON.stringify([filter, page])}`, async (ids) => {
      const found = await services.detection(ctx).detectionsOf(subject, ids, filter, page);
      return ids.map((id) => found.get(id)!);
    }),
  activitiesOfActor: (ctx: SubgraphContext, filter: ActivityFilter, page: PageRequest) =>
    loader<string, Connection<Activity>>(ctx, `activitiesOfActor:${JSON.stringify([filter, page])}`, async (ids) => {
      const found = await services.activity(ctx).activitiesOfActors(ids, filter, page);
      return ids.map((id) => found.get(id)!);
    }),
};
