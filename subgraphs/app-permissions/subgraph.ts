import { AppPermissionGovernanceResolver } from './app-permission-governance.resolver.js';
import { buildFederatedSchema } from '../../platform/federation.js';
import type { SubgraphContext } from '../../platform/context.js';
import { withGovernance } from '../../platform/governance/request.js';
import type { SubgraphPorts } from '../../platform/ports.js';
import type { SubgraphDefinition } from '../../platform/subgraph.js';
import { appPermissionLoaders, AppPermissionResolver, GrantorResolver } from './app-permission.resolver.js';
import { appPermissionsModule } from './module.js';
import { AppResolver } from './app.resolver.js';

/** The app-permissions subgraph: OAuth grants of third-party apps; contributes Account.appPermissions. */
export const appPermissionsSubgraph = (ports: Pick<SubgraphPorts, 'governanceLog' | 'instances'>): SubgraphDefinition => ({
  name: 'app-permissions',
  module: appPermissionsModule,
  buildSchema: () =>
    buildFederatedSchema({
      resolvers: [AppPermissionResolver, GrantorResolver, AppPermissionGovernanceResolver, AppResolver],
      referenceResolvers: {
        AppPermission: (ref, ctx: SubgraphContext) => appPermissionLoaders.grant(ctx).load(ref.id),
        Account: (ref) => ({ id: ref.id }),
      },
    }),
  context: () => withGovernance(ports),
});
