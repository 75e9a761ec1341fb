import { buildFederatedSchema } from '../../platform/federation.js';
import type { SubgraphContext } from '../../platform/context.js';
import { withGovernance } from '../../platform/governance/request.js';
import type { SubgraphPorts } from '../../platform/ports.js';
import type { SubgraphDefinition } from '../../platform/subgraph.js';
import { FileGovernanceResolver } from './file-governance.resolver.js';
import { fileLoaders, FileOwnerResolver, FileResolver } from './file.resolver.js';
import { filesModule } from './module.js';

/** The files subgraph: files, their sharing and sensitive matches; contributes Account.files. */
export const filesSubgraph = (ports: Pick<SubgraphPorts, 'governanceLog' | 'instances'>): SubgraphDefinition => ({
  name: 'files',
  module: filesModule,
  buildSchema: () =>
    buildFederatedSchema({
      resolvers: [FileResolver, FileOwnerResolver, FileGovernanceResolver],
      referenceResolvers: {
        File: (ref, ctx: SubgraphContext) => fileLoaders.file(ctx).load(ref.id),
        Account: (ref) => ({ id: ref.id }),
      },
    }),
  context: () => withGovernance(ports),
});
