import { GraphQLJSON } from 'graphql-scalars';
import { Arg, Authorized, Ctx, Field, FieldResolver, ID, InputType, Mutation, ObjectType, Query, Resolver, Root } from 'type-graphql';
import { badInput } from '../../platform/errors.js';
import { endpointRefusal } from '../../platform/outbound.js';
import type { ConnectorCatalog } from '../../platform/ports.js';
import { parseId } from '../../platform/ids.js';
import { inScope, requireEveryInstance, scopeOf } from '../../platform/scope.js';
import { ApiUsage, AppInstance, ChangeNotificationMode, ChangeNotifications, ScanKind, ScanState } from './app-instance.entity.js';
import { instanceService, loaders, type AccountsContext } from './context.js';
import { AppCapability, ConnectionStatus } from '../../platform/vocabulary/instance.js';

@InputType({ description: 'A new app instance to connect.' })
export class ConnectAppInput {
  @Field({ description: 'The connector: one of `connectorTypes { id }`, e.g. "m365" or "simulated".' })
  provider!: string;

  @Field({ description: 'A name for the instance (1 to 200 characters), e.g. "Contoso Microsoft 365".' })
  name!: string;

  @Field(() => GraphQLJSON, {
    description: "Endpoint and credentials, the fields of the connector's `configFields`; stored encrypted, never returned.",
  })
  config!: unknown;
}

/** Checks connectApp's input at the edge (the connector checks its own config); throws BAD_USER_INPUT naming the bad field. */
function readConnectInput(input: ConnectAppInput, connectors: ConnectorCatalog, allowPrivate: boolean) {
  if (!connectors.providers.includes(input.provider))
    throw badInput('input.provider', `no connector named "${input.provider.slice(0, 40)}"; known: ${connectors.providers.join(', ')}`);
  const name = input.name.trim();
  if (name.length === 0 || name.length > 200) throw badInput('input.name', 'must be 1 to 200 characters');
  if (typeof input.config !== 'object' || input.config === null || Array.isArray(input.config)) {
    throw badInput('input.config', 'must be a JSON object with the endpoint and credentials');
  }
  let config: Record<string, unknown>;
  try {
    config = { ...connectors.validateConfig(input.provider, input.config) };
  } catch (error) {
    throw badInput('input.config', (error as Error).message);
  }
  // The connection-time check is the real guard (a name may resolve anywhere later); this one answers at once.
  const refusal = endpointRefusal(connectors.endpointOf(input.provider, config), allowPrivate);
  if (refusal) throw badInput('input.config.endpoint', refusal);
  return { provider: input.provider, name, config };
}

@ObjectType({ description: 'A permission to grant at the provider, and the capability it enables.' })
export class MissingPermission {
  @Field(() => AppCapability, { description: 'The capability it would enable.' })
  capability!: AppCapability;

  @Field({ description: "The permission to grant, by the provider's name." })
  permission!: string;
}

@Resolver(() => AppInstance)
export class AppInstanceResolver {
  @Query(() => [AppInstance], { description: 'Every app instance connected and not deleted (disconnected ones included), oldest first.' })
  async appInstances(@Ctx() ctx: AccountsContext): Promise<AppInstance[]> {
    return instanceService(ctx).list();
  }

  @Query(() => AppInstance, { nullable: true, description: 'One app instance by id; null when none has it.' })
  async appInstance(
    @Arg('id', () => ID, { description: "The instance's id." }) id: string,
    @Ctx() ctx: AccountsContext,
  ): Promise<AppInstance | null> {
    return loaders.instance(ctx).load(parseId(id, 'id'));
  }

  @Authorized('admin')
  @Mutation(() => AppInstance, {
    description: 'Stores a new instance (credentials encrypted) and starts connecting it: watch `status`. Role: admin.',
  })
  async connectApp(
    @Arg('input', () => ConnectAppInput, { description: 'The connector, a name and its config.' }) input: ConnectAppInput,
    @Ctx() ctx: AccountsContext,
  ): Promise<AppInstance> {
    requireEveryInstance(ctx, 'Connecting an app instance');
    return instanceService(ctx).connect(readConnectInput(input, ctx.connectors, ctx.allowPrivateEndpoints));
  }

  @Authorized('admin')
  @Mutation(() => AppInstance, { description: 'Disconnects the instance: its scans and governance stop, its data is kept. Role: admin.' })
  async disconnectApp(
    @Arg('id', () => ID, { description: "The instance's id." }) id: string,
    @Ctx() ctx: AccountsContext,
  ): Promise<AppInstance> {
    const instanceId = parseId(id, 'id');
    const instance = inScope(scopeOf(ctx), instanceId) ? await instanceService(ctx).disconnect(instanceId) : null;
    if (!instance) throw badInput('id', `no app instance has id ${id}`);
    if (instance.status === ConnectionStatus.DELETED) throw badInput('id', `app instance ${id} was deleted`);
    return instance;
  }

  @Authorized('admin')
  @Mutation(() => ScanState, {
    description:
      'Queues a scan of one kind for the instance now (refused for a disconnected one); answers its state: QUEUED, or RUNNING when a run is under way. Role: admin.',
  })
  async requestScan(
    @Arg('instanceId', () => ID, { description: "The instance's id." }) instanceId: string,
    @Arg('kind', () => ScanKind, { description: 'Which scan.' }) kind: ScanKind,
    @Ctx() ctx: AccountsContext,
  ): Promise<ScanState> {
    const instance = await loaders.instance(ctx).load(parseId(instanceId, 'instanceId'));
    if (!instance) throw badInput('instanceId', `no app instance has id ${instanceId}`);
    if (instance.status === ConnectionStatus.DISCONNECTED)
      throw badInput('instanceId', `instance ${instanceId} is disconnected; reconnect it (reconnectApp) to scan it`);
    if (instance.status === ConnectionStatus.DELETED) throw badInput('instanceId', `instance ${instanceId} was deleted`);
    return instanceService(ctx).requestScan(instance.id, kind);
  }

  @FieldResolver(() => [ScanState], { description: 'The state of each kind of scan, one per ScanKind (kinds never run show as IDLE).' })
  async scans(@Root() instance: AppInstance, @Ctx() ctx: AccountsContext): Promise<ScanState[]> {
    return loaders.scans(ctx).load(instance.id);
  }

  @FieldResolver(() => [MissingPermission], {
    description: 'For each capability the connector has but this instance lacks, the permission to grant at the provider to enable it.',
  })
  missingPermissions(@Root() instance: AppInstance, @Ctx() ctx: AccountsContext): MissingPermission[] {
    const type = ctx.connectors.types.find((t) => t.id === instance.provider);
    if (!type) return [];
    const granted = new Set(instance.grantedPermissions);
    return type.capabilities
      .filter((capability) => !instance.capabilities.includes(capability))
      .flatMap((capability) =>
        (type.requiredPermissions[capability] ?? [])
          .filter((anyOf) => !anyOf.some((p) => granted.has(p)))
          .map((anyOf) => ({ capability, permission: anyOf[0]! })),
      );
  }

  @FieldResolver(() => ChangeNotifications, {
    description: 'Whether the provider pushes changes to Tenantwatch, and the subscriptions that carry them.',
  })
  changeNotifications(@Root() instance: AppInstance): ChangeNotifications {
    return {
      mode: instance.notificationMode ?? ChangeNotificationMode.POLLING,
      subscriptions: instance.notificationSubscriptions,
      renewAt: instance.notificationsRenewAt,
      syncedAt: instance.notificationsSyncedAt,
      lastError: instance.notificationsError,
    };
  }

  @FieldResolver(() => ApiUsage, {
    description: "Tenantwatch's use of the provider's API for this instance over the last hour, and its limits.",
  })
  async apiUsage(@Root() instance: AppInstance, @Ctx() ctx: AccountsContext): Promise<ApiUsage> {
    return loaders.usage(ctx).load(instance);
  }
}
