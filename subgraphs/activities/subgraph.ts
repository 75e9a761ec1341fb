import type { SubgraphContext } from '../../platform/context.js';
import { credentialsKey } from '../../platform/crypto.js';
import { buildFederatedSchema } from '../../platform/federation.js';
import { AlertSinkResolver } from './alert-sink.resolver.js';
import type { SubgraphDefinition } from '../../platform/subgraph.js';
import { ActivityResolver, ActorResolver } from './activity.resolver.js';
import { loaders } from './context.js';
import { DetectionResolver } from './detection.resolver.js';
import { GovernanceActionResolver } from './governance-action.resolver.js';
import { activitiesModule } from './module.js';
import { PolicyResolver } from './policy.resolver.js';
import { startActivitiesRuntime } from './runtime.js';
import { SubscriptionResolver } from './subscription.resolver.js';
import { AccountDetectionsResolver, AppPermissionDetectionsResolver, FileDetectionsResolver } from './subject-detections.resolver.js';

/** The activities subgraph: the audit trail, policies, detections and the governance log. */
export const activitiesSubgraph: SubgraphDefinition = {
  name: 'activities',
  module: activitiesModule,
  buildSchema: () =>
    buildFederatedSchema({
      resolvers: [
        ActivityResolver,
        ActorResolver,
        PolicyResolver,
        DetectionResolver,
        GovernanceActionResolver,
        SubscriptionResolver,
        AccountDetectionsResolver,
        FileDetectionsResolver,
        AppPermissionDetectionsResolver,
        AlertSinkResolver,
      ],
      referenceResolvers: {
        Activity: (ref, ctx: SubgraphContext) => loaders.activity(ctx).load(ref.id),
        Detection: (ref, ctx: SubgraphContext) => loaders.detection(ctx).load(ref.id),
        GovernanceAction: (ref, ctx: SubgraphContext) => loaders.governanceAction(ctx).load(ref.id),
        Account: (ref) => ({ id: ref.id }),
        File: (ref) => ({ id: ref.id }),
        AppPermission: (ref) => ({ id: ref.id }),
      },
    }),
  context: (config) => {
    const key = credentialsKey(config);
    return (base) => ({ ...base, credentialsKey: key, allowPrivateEndpoints: config.CONNECTOR_ALLOW_PRIVATE }) as SubgraphContext;
  },
  start: startActivitiesRuntime,
};
