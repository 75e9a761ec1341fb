import { ConnectorTypeResolver } from './connector-type.resolver.js';
import { AuditLog } from '../../platform/audit/audit-log.js';
import { startAuditRetention } from '../../platform/audit/retention.js';
import { credentialsKey } from '../../platform/crypto.js';
import { buildFederatedSchema } from '../../platform/federation.js';
import { withGovernance } from '../../platform/governance/request.js';
import type { SubgraphPorts } from '../../platform/ports.js';
import type { SubgraphDefinition } from '../../platform/subgraph.js';
import { instanceDirectory } from './app-instance.service.js';
import { AccountGovernanceResolver } from './account-governance.resolver.js';
import { AccountResolver, GroupResolver } from './account.resolver.js';
import type { Account, Group } from './account.entity.js';
import type { AppInstance } from './app-instance.entity.js';
import { AppInstanceResolver } from './app-instance.resolver.js';
import { AppInstanceLifecycleResolver } from './app-instance-lifecycle.resolver.js';
import { AuditEventResolver } from './audit-event.resolver.js';
import { loaders, type AccountsContext } from './context.js';
import { accountsModule } from './module.js';

/** The accounts subgraph: app instances, accounts and groups; and Tenantwatch's audit log (`auditEvents`, its retention). */
export const accountsSubgraph = (ports: Pick<SubgraphPorts, 'governanceLog' | 'connectors'>): SubgraphDefinition => ({
  name: 'accounts',
  module: accountsModule,
  buildSchema: () =>
    buildFederatedSchema({
      resolvers: [
        AppInstanceResolver,
        AppInstanceLifecycleResolver,
        ConnectorTypeResolver,
        AccountResolver,
        GroupResolver,
        AccountGovernanceResolver,
        AuditEventResolver,
      ],
      referenceResolvers: {
        AppInstance: (ref, ctx: AccountsContext): Promise<AppInstance | null> => loaders.instance(ctx).load(ref.id),
        Account: (ref, ctx: AccountsContext): Promise<Account | null> => loaders.account(ctx).load(ref.id),
        Group: (ref, ctx: AccountsContext): Promise<Group | null> => loaders.group(ctx).load(ref.id),
      },
    }),
  // connectApp's and updateAppInstance's config: every connector's secret fields, a new connector's included.
  auditSecretFields: ports.connectors.types.flatMap((type) => type.configFields.filter((field) => field.secret).map((field) => field.name)),
  start: async ({ db, config }) => {
    const retention = startAuditRetention({ log: new AuditLog(db.knex()), retentionDays: config.AUDIT_RETENTION_DAYS });
    return { stop: () => retention.stop() };
  },
  context: (config) => {
    const key = credentialsKey(config);
    const governance = withGovernance({ governanceLog: ports.governanceLog, instances: instanceDirectory });
    return (base) =>
      ({
        ...governance(base),
        credentialsKey: key,
        connectors: ports.connectors,
        allowPrivateEndpoints: config.CONNECTOR_ALLOW_PRIVATE,
        defaultHeadroomPercent: config.HEADROOM_PERCENT,
      }) satisfies AccountsContext;
  },
});
