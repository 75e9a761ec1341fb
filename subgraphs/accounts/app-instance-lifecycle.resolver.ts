import { GraphQLJSON } from 'graphql-scalars';
import { Arg, Authorized, Ctx, Field, Float, ID, InputType, Int, Mutation, Resolver } from 'type-graphql';
import { badInput } from '../../platform/errors.js';
import { parseId } from '../../platform/ids.js';
import { logger } from '../../platform/logger.js';
import { endpointRefusal } from '../../platform/outbound.js';
import { ConnectionStatus } from '../../platform/vocabulary/instance.js';
import { AppInstance } from './app-instance.entity.js';
import { RECONNECTABLE, type InstanceUpdate } from './app-instance.service.js';
import { inScope, scopeOf } from '../../platform/scope.js';
import { instanceService, loaders, type AccountsContext } from './context.js';

/** The largest per-instance request limit an administrator may set (requests per minute). */
const MAX_LIMIT_PER_MINUTE = 1_000_000;
/** The headroom bounds, as HEADROOM_PERCENT's (platform/config.ts). */
const MAX_HEADROOM_PERCENT = 90;

@InputType({ description: 'What updateAppInstance changes; a field left out stays as it is.' })
export class UpdateAppInstanceInput {
  @Field(() => String, { nullable: true, description: 'A new name (1 to 200 characters).' })
  name?: string | null;

  @Field(() => GraphQLJSON, {
    nullable: true,
    description:
      'Config fields to change (e.g. new credentials), merged over the stored config and checked by the connector; stored encrypted, never returned. On a connecting, connected or degraded instance a change checks the credentials and granted permissions again (status CONNECTING), and its scans go on from where they were; an instance in ERROR or DISCONNECTED keeps its status until reconnectApp.',
  })
  config?: unknown;

  @Field(() => Int, {
    nullable: true,
    description: `Requests per minute Tenantwatch may send the provider for this instance (1 to ${MAX_LIMIT_PER_MINUTE}), instead of the provider's documented limit; null goes back to the provider's. The headroom is left unused of it.`,
  })
  limitPerMinute?: number | null;

  @Field(() => Float, {
    nullable: true,
    description: `Share of the limit left unused for this instance, in percent (0 to ${MAX_HEADROOM_PERCENT}); null goes back to the deployment's HEADROOM_PERCENT.`,
  })
  headroomPercent?: number | null;
}

/** An instance by id for a lifecycle mutation: unknown and deleted ones are refused, naming the argument. */
async function instanceFor(ctx: AccountsContext, id: string): Promise<AppInstance> {
  const instance = await loaders.instance(ctx).load(parseId(id, 'id'));
  if (!instance) throw badInput('id', `no app instance has id ${id}`);
  if (instance.status === ConnectionStatus.DELETED) throw badInput('id', `app instance ${id} was deleted`);
  return instance;
}

/** Checks updateAppInstance's input at the edge; throws BAD_USER_INPUT naming the bad field. */
async function readUpdate(ctx: AccountsContext, instance: AppInstance, input: UpdateAppInstanceInput): Promise<InstanceUpdate> {
  const update: { -readonly [K in keyof InstanceUpdate]: InstanceUpdate[K] } = {};
  if (input.name !== undefined) {
    const name = input.name?.trim() ?? '';
    if (name.length === 0 || name.length > 200) throw badInput('input.name', 'must be 1 to 200 characters');
    update.name = name;
  }
  if (input.config !== undefined) {
    if (typeof input.config !== 'object' || input.config === null || Array.isArray(input.config))
      throw badInput('input.config', 'must be a JSON object of the config fields to change (e.g. the credentials)');
    const stored = (await instanceService(ctx).readConfig(instance.id)) ?? {};
    let config: Record<string, unknown>;
    try {
      config = { ...ctx.connectors.validateConfig(instance.provider, { ...stored, ...(input.config as Record<string, unknown>) }) };
    } catch (error) {
      throw badInput('input.config', (error as Error).message);
    }
    const refusal = endpointRefusal(ctx.connectors.endpointOf(instance.provider, config), ctx.allowPrivateEndpoints);
    if (refusal) throw badInput('input.config.endpoint', refusal);
    update.config = config;
  }
  if (input.limitPerMinute !== undefined) {
    const limit = input.limitPerMinute;
    if (limit !== null && (!Number.isInteger(limit) || limit < 1 || limit > MAX_LIMIT_PER_MINUTE))
      throw badInput(
        'input.limitPerMinute',
        `must be a whole number of requests per minute from 1 to ${MAX_LIMIT_PER_MINUTE}, or null for the provider's documented limit`,
      );
    update.limitPerMinute = limit;
  }
  if (input.headroomPercent !== undefined) {
    const headroom = input.headroomPercent;
    if (headroom !== null && !(headroom >= 0 && headroom <= MAX_HEADROOM_PERCENT))
      throw badInput('input.headroomPercent', `must be a percentage from 0 to ${MAX_HEADROOM_PERCENT}, or null for HEADROOM_PERCENT`);
    update.headroomPercent = headroom;
  }
  if (Object.keys(update).length === 0)
    throw badInput('input', 'names nothing to change: give name, config, limitPerMinute or headroomPercent');
  return update;
}

/** What an administrator does to an instance after connecting it: update, reconnect, delete. */
@Resolver(() => AppInstance)
export class AppInstanceLifecycleResolver {
  @Authorized('admin')
  @Mutation(() => AppInstance, {
    description:
      "Changes an instance's name, config (merged, checked by its connector, never returned), request limit or headroom; a new config on a connecting, connected or degraded instance checks its credentials and permissions again. Refused for a deleted instance. Role: admin.",
  })
  async updateAppInstance(
    @Arg('id', () => ID, { description: "The instance's id." }) id: string,
    @Arg('input', () => UpdateAppInstanceInput, { description: 'What to change.' }) input: UpdateAppInstanceInput,
    @Ctx() ctx: AccountsContext,
  ): Promise<AppInstance> {
    const instance = await instanceFor(ctx, id);
    const update = await readUpdate(ctx, instance, input);
    const updated = await instanceService(ctx).update(instance.id, update);
    if (!updated) throw badInput('id', `app instance ${id} was deleted`);
    logger.info({ subject: ctx.principal.subject, instanceId: instance.id, changed: Object.keys(update) }, 'app instance updated');
    return updated;
  }

  @Authorized('admin')
  @Mutation(() => AppInstance, {
    description:
      'Connects an instance in ERROR, DISCONNECTED or DEGRADED again: its credentials and granted permissions are checked, its scans go on from where they stopped, and its periodic scans are scheduled again. Refused in any other status. Role: admin.',
  })
  async reconnectApp(
    @Arg('id', () => ID, { description: "The instance's id." }) id: string,
    @Ctx() ctx: AccountsContext,
  ): Promise<AppInstance> {
    const instance = await instanceFor(ctx, id);
    const reconnected = await instanceService(ctx).reconnect(instance.id);
    if (!reconnected)
      throw badInput(
        'id',
        `app instance ${id} is ${instance.status}: reconnectApp takes an instance in ${RECONNECTABLE.join(', ')}${
          instance.status === ConnectionStatus.CONNECTED ? ' (it is connected already)' : ' (it is connecting now; watch its status)'
        }`,
      );
    logger.info({ subject: ctx.principal.subject, instanceId: instance.id, from: instance.status }, 'app instance reconnected');
    return reconnected;
  }

  @Authorized('admin')
  @Mutation(() => AppInstance, {
    description:
      'Deletes an instance: its scans and jobs stop, its change subscriptions at the provider are removed, its credentials are forgotten and its data (accounts, groups, activities, detections, files, app permissions) is purged in the background. Its governance log is kept, with the accounts, files, app permissions and detections it names: the instance stays as a DELETED tombstone, found by appInstance(id) but not listed by appInstances. Deleting it again answers the tombstone. Role: admin.',
  })
  async deleteAppInstance(
    @Arg('id', () => ID, { description: "The instance's id." }) id: string,
    @Ctx() ctx: AccountsContext,
  ): Promise<AppInstance> {
    const instanceId = parseId(id, 'id');
    const deleted = inScope(scopeOf(ctx), instanceId) ? await instanceService(ctx).delete(instanceId) : null;
    if (!deleted) throw badInput('id', `no app instance has id ${id}`);
    logger.info({ subject: ctx.principal.subject, instanceId: deleted.id }, 'app instance deleted');
    return deleted;
  }
}
