import { Arg, Authorized, Ctx, Field, FieldResolver, ID, InputType, Int, Mutation, Query, Resolver, Root } from 'type-graphql';
import { requireEveryInstance } from '../../platform/scope.js';
import { badInput } from '../../platform/errors.js';
import { parseId, parseOptionalId } from '../../platform/ids.js';
import { endpointRefusal } from '../../platform/outbound.js';
import { AlertDelivery, AlertFormat, AlertSink, AlertSinkWithSecret } from './alert-sink.entity.js';
import { AlertSinkService, type AlertSinkDefinition } from './alert-sink.service.js';
import type { ActivitiesContext } from './context.js';
import { DetectionChange } from './detection.entity.js';
import { Severity } from './policy.entity.js';

@InputType({ description: 'An alert sink: where detection events go, and which.' })
export class AlertSinkInput {
  @Field({ description: 'A name for people (1 to 200 characters).' })
  name!: string;

  @Field({
    description: 'Where events are POSTed: https (http only where CONNECTOR_ALLOW_PRIVATE allows private endpoints, as in development).',
  })
  url!: string;

  @Field(() => AlertFormat, { nullable: true, description: 'JSON (default) or CEF.' })
  format?: AlertFormat | null;

  @Field(() => Severity, { nullable: true, description: 'Detections of this severity or a higher one.' })
  severityAtLeast?: Severity | null;

  @Field(() => ID, { nullable: true, description: 'Detections of this instance only.' })
  instanceId?: string | null;

  @Field(() => ID, { nullable: true, description: 'Detections of this policy only.' })
  policyId?: string | null;

  @Field(() => [DetectionChange], { nullable: true, description: 'These changes only (default: every change).' })
  changes?: DetectionChange[] | null;

  @Field(() => Boolean, { nullable: true, description: 'Default true.' })
  enabled?: boolean | null;
}

/** Alert sinks export every instance's detections: a caller scoped to some instances is refused them. */
const service = (ctx: ActivitiesContext) => {
  requireEveryInstance(ctx, 'An alert sink');
  return new AlertSinkService(ctx.em.getKnex(), ctx.credentialsKey);
};

/** Checks a sink definition at the edge; throws BAD_USER_INPUT naming the field. */
function readSinkInput(input: AlertSinkInput, allowPrivate: boolean): AlertSinkDefinition {
  const name = input.name.trim();
  if (name.length === 0 || name.length > 200) throw badInput('input.name', 'must be 1 to 200 characters');
  let url: URL;
  try {
    url = new URL(input.url);
  } catch {
    throw badInput('input.url', 'must be an absolute https URL');
  }
  if (input.url.length > 2000) throw badInput('input.url', 'must be at most 2000 characters');
  if (url.protocol !== 'https:' && !(allowPrivate && url.protocol === 'http:'))
    throw badInput('input.url', allowPrivate ? 'must be an http(s) URL' : 'must be an https URL');
  if (url.username || url.password) throw badInput('input.url', 'must not carry credentials: the signature authenticates deliveries');
  const refusal = endpointRefusal(url.toString(), allowPrivate);
  if (refusal) throw badInput('input.url', refusal);
  const changes = [...new Set(input.changes ?? [])];
  return {
    name,
    url: url.toString(),
    format: input.format ?? AlertFormat.JSON,
    severityAtLeast: input.severityAtLeast ?? null,
    instanceId: parseOptionalId(input.instanceId, 'input.instanceId') ?? null,
    policyId: parseOptionalId(input.policyId, 'input.policyId') ?? null,
    changes,
    enabled: input.enabled ?? true,
  };
}

/** Alert export: admins manage sinks; the scheduler delivers to them (scheduler/alert-delivery.ts). */
@Resolver(() => AlertSink)
export class AlertSinkResolver {
  @Authorized('admin')
  @Query(() => [AlertSink], { description: 'Every alert sink, oldest first (admin).' })
  alertSinks(@Ctx() ctx: ActivitiesContext): Promise<AlertSink[]> {
    return service(ctx).list();
  }

  @Authorized('admin')
  @Mutation(() => AlertSinkWithSecret, {
    description:
      'Creates an alert sink that receives matching detection events from now on; answers its signing secret, shown this once (admin).',
  })
  createAlertSink(
    @Arg('input', () => AlertSinkInput, { description: 'The sink’s definition.' }) input: AlertSinkInput,
    @Ctx() ctx: ActivitiesContext,
  ): Promise<AlertSinkWithSecret> {
    return service(ctx).create(readSinkInput(input, ctx.allowPrivateEndpoints));
  }

  @Authorized('admin')
  @Mutation(() => AlertSink, { description: 'Replaces a sink’s definition; its place in the event log and its secret stay (admin).' })
  async updateAlertSink(
    @Arg('id', () => ID, { description: 'The sink.' }) id: string,
    @Arg('input', () => AlertSinkInput, { description: 'Its new definition.' }) input: AlertSinkInput,
    @Ctx() ctx: ActivitiesContext,
  ): Promise<AlertSink> {
    const sink = await service(ctx).update(parseId(id, 'id'), readSinkInput(input, ctx.allowPrivateEndpoints));
    if (!sink) throw badInput('id', `no alert sink has id ${id}`);
    return sink;
  }

  @Authorized('admin')
  @Mutation(() => AlertSinkWithSecret, { description: 'Makes a new signing secret for the sink; the old one stops at once (admin).' })
  async rotateAlertSinkSecret(
    @Arg('id', () => ID, { description: 'The sink.' }) id: string,
    @Ctx() ctx: ActivitiesContext,
  ): Promise<AlertSinkWithSecret> {
    const rotated = await service(ctx).rotateSecret(parseId(id, 'id'));
    if (!rotated) throw badInput('id', `no alert sink has id ${id}`);
    return rotated;
  }

  @Authorized('admin')
  @Mutation(() => Boolean, { description: 'Deletes a sink and its delivery log; answers whether it existed (admin).' })
  deleteAlertSink(@Arg('id', () => ID, { description: 'The sink.' }) id: string, @Ctx() ctx: ActivitiesContext): Promise<boolean> {
    return service(ctx).delete(parseId(id, 'id'));
  }

  @FieldResolver(() => Int, {
    description: 'Detection events after its cursor, still to go or to be skipped by its filter (counted up to 10,000).',
  })
  lag(@Root() sink: AlertSink, @Ctx() ctx: ActivitiesContext): Promise<number> {
    return service(ctx).lag(sink);
  }

  @FieldResolver(() => [AlertDelivery], { description: 'Its deliveries, newest first.' })
  deliveries(
    @Root() sink: AlertSink,
    @Ctx() ctx: ActivitiesContext,
    @Arg('first', () => Int, { defaultValue: 50, description: 'How many, 1 to 500 (default 50).' }) first: number,
  ): Promise<AlertDelivery[]> {
    if (!Number.isInteger(first) || first < 1 || first > 500) throw badInput('first', `must be between 1 and 500, got ${first}`);
    return service(ctx).deliveries(sink.id, first);
  }
}
