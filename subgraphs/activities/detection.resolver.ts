import { Arg, Authorized, Ctx, Field, FieldResolver, ID, InputType, Int, ObjectType, Query, Resolver, Root, Mutation } from 'type-graphql';
import type { SubgraphContext } from '../../platform/context.js';
import { badInput } from '../../platform/errors.js';
import { parseId, parseOptionalId } from '../../platform/ids.js';
import { AFTER_ARG, connectionType, FIRST_ARG, readPage, type Connection } from '../../platform/pagination.js';
import { AppInstanceRef, ref } from '../../platform/references.js';
import { Activity } from './activity.entity.js';
import { loaders, services } from './context.js';
import { Detection, DetectionStatus } from './detection.entity.js';
import { DETECTION_ORDER, type DetectionFilter } from './detection.service.js';
import { Policy, Severity } from './policy.entity.js';
import { Actor, AppPermissionRef, FileRef } from './references.js';

@ObjectType()
export class DetectionConnection extends connectionType(Detection, 'Detection') {}

@InputType('DetectionFilter')
export class DetectionFilterInput {
  @Field(() => ID, { nullable: true })
  instanceId?: string | null;

  @Field(() => Severity, { nullable: true, description: 'This severity or a higher one.' })
  severityAtLeast?: Severity | null;

  @Field(() => DetectionStatus, { nullable: true })
  status?: DetectionStatus | null;

  @Field(() => ID, { nullable: true })
  policyId?: string | null;
}

export function readDetectionFilter(filter: DetectionFilterInput | null | undefined): DetectionFilter {
  if (!filter) return {};
  return {
    instanceId: parseOptionalId(filter.instanceId, 'filter.instanceId'),
    severityAtLeast: filter.severityAtLeast ?? undefined,
    status: filter.status ?? undefined,
    policyId: parseOptionalId(filter.policyId, 'filter.policyId'),
  };
}

@Resolver(() => Detection)
export class DetectionResolver {
  @Query(() => DetectionConnection, { description: 'Detections, newest first.' })
  async detections(
    @Ctx() ctx: SubgraphContext,
    @Arg('filter', () => DetectionFilterInput, { nullable: true }) filter?: DetectionFilterInput | null,
    @Arg('first', () => Int, FIRST_ARG) first?: number | null,
    @Arg('after', () => String, AFTER_ARG) after?: string | null,
  ): Promise<Connection<Detection>> {
    const parsed = readDetectionFilter(filter);
    return services.detection(ctx).list(parsed, readPage({ first, after }, DETECTION_ORDER));
  }

  @Query(() => Detection, { nullable: true })
  async detection(@Arg('id', () => ID) id: string, @Ctx() ctx: SubgraphContext): Promise<Detection | null> {
    return loaders.detection(ctx).load(parseId(id, 'id'));
  }

  @Authorized('analyst')
  @Mutation(() => Detection, { description: 'Dismisses, resolves or reopens a detection.' })
  async setDetectionStatus(
    @Arg('id', () => ID) id: string,
    @Arg('status', () => DetectionStatus) status: DetectionStatus,
    @Ctx() ctx: SubgraphContext,
    @Arg('comment', () => String, { nullable: true }) comment?: string | null,
  ): Promise<Detection> {
    if (comment && comment.length > 2000) throw badInput('comment', 'must be at most 2000 characters');
    const detection = await services.detection(ctx).setStatus(parseId(id, 'id'), status, comment ?? null);
    if (!detection) throw badInput('id', `no detection has id ${id}`);
    return detection;
  }

  @FieldResolver(() => Policy)
  async policy(@Root() detection: Detection, @Ctx() ctx: SubgraphContext): Promise<Policy | null> {
    return loaders.policy(ctx).load(detection.policyId);
  }

  @FieldResolver(() => AppInstanceRef)
  instance(@Root() detection: Detection): AppInstanceRef {
    return ref(detection.instanceId);
  }

  @FieldResolver(() => Actor, { nullable: true })
  account(@Root() detection: Detection): Actor | null {
    return ref(detection.accountId);
  }

  @FieldResolver(() => FileRef, { nullable: true })
  file(@Root() detection: Detection): FileRef | null {
    return ref(detection.fileId);
  }

  @FieldResolver(() => AppPermissionRef, { nullable: true })
  appPermission(@Root() detection: Detection): AppPermissionRef | null {
    return ref(detection.appPermissionId);
  }

  @FieldResolver(() => [Activity], { description: 'The activities that matched, oldest first.' })
  async activities(@Root() detection: Detection, @Ctx() ctx: SubgraphContext): Promise<Activity[]> {
    const found = await loaders.activity(ctx).loadMany(detection.activityIds);
    return found
      .filter((a): a is Activity => a !== null && !(a instanceof Error))
      .sort((a, b) => a.occurredAt.getTime() - b.occurredAt.getTime());
  }
}
