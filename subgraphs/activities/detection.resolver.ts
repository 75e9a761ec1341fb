import { Arg, Authorized, Ctx, Field, FieldResolver, ID, InputType, Int, ObjectType, Query, Resolver, Root, Mutation } from 'type-graphql';
import type { SubgraphContext } from '../../platform/context.js';
import { badInput } from '../../platform/errors.js';
import { parseId, parseOptionalId } from '../../platform/ids.js';
import { AFTER_ARG, connectionType, FIRST_ARG, readPage, type Connection } from '../../platform/pagination.js';
import { AppInstanceRef, ref } from '../../platform/references.js';
import { Activity } from './activity.entity.js';
import { loaders, services } from './context.js';
import { Detection, DetectionHistoryEntry, DetectionStatus } from './detection.entity.js';
import { DETECTION_ORDER, type DetectionFilter } from './detection.service.js';
import { Policy, Severity } from './policy.entity.js';
import { Actor, AppPermissionRef, FileRef } from './references.js';

@ObjectType({ description: 'A page of detections, with where it starts and ends and how many match in all.' })
export class DetectionConnection extends connectionType(Detection, 'Detection', 'detections') {}

@InputType('DetectionFilter', { description: 'Which detections to list; every field given must match (none: every detection).' })
export class DetectionFilterInput {
  @Field(() => ID, { nullable: true, description: 'Detections in this app instance.' })
  instanceId?: string | null;

  @Field(() => Severity, { nullable: true, description: 'This severity or a higher one.' })
  severityAtLeast?: Severity | null;

  @Field(() => DetectionStatus, { nullable: true, description: 'Detections with this status.' })
  status?: DetectionStatus | null;

  @Field(() => ID, { nullable: true, description: 'Detections this policy raised.' })
  policyId?: string | null;

  @Field(() => String, { nullable: true, description: 'Assigned to this one (exactly as written); "" for unassigned detections.' })
  assignee?: string | null;
}

export function readDetectionFilter(filter: DetectionFilterInput | null | undefined, argument = 'filter'): DetectionFilter {
  if (!filter) return {};
  if (filter.assignee && filter.assignee.length > MAX_ASSIGNEE)
    throw badInput(`${argument}.assignee`, `must be at most ${MAX_ASSIGNEE} characters`);
  return {
    instanceId: parseOptionalId(filter.instanceId, `${argument}.instanceId`),
    severityAtLeast: filter.severityAtLeast ?? undefined,
    status: filter.status ?? undefined,
    policyId: parseOptionalId(filter.policyId, `${argument}.policyId`),
    ...(filter.assignee === null || filter.assignee === undefined ? {} : { assignee: filter.assignee === '' ? null : filter.assignee }),
  };
}

const MAX_ASSIGNEE = 200;
const MAX_COMMENT = 2000;
/** Detections one bulk status change may name. */
const MAX_BULK = 500;

function readComment(comment: string | null | undefined): string | null {
  if (comment && comment.length > MAX_COMMENT) throw badInput('comment', `must be at most ${MAX_COMMENT} characters`);
  return comment || null;
}

/** Answers the detections found, or refuses naming the first unknown id. */
function found(detections: readonly (Detection | null)[], ids: readonly string[], argument: (i: number) => string): Detection[] {
  const missing = detections.findIndex((d) => d === null);
  if (missing >= 0) throw badInput(argument(missing), `no detection has id ${ids[missing]}`);
  return detections as Detection[];
}

@Resolver(() => Detection)
export class DetectionResolver {
  @Query(() => DetectionConnection, { description: 'Detections, newest first.' })
  async detections(
    @Ctx() ctx: SubgraphContext,
    @Arg('filter', () => DetectionFilterInput, { nullable: true, description: 'Which detections; absent: all of them.' })
    filter?: DetectionFilterInput | null,
    @Arg('first', () => Int, FIRST_ARG) first?: number | null,
    @Arg('after', () => String, AFTER_ARG) after?: string | null,
  ): Promise<Connection<Detection>> {
    const parsed = readDetectionFilter(filter);
    return services.detection(ctx).list(parsed, readPage({ first, after }, DETECTION_ORDER));
  }

  @Query(() => Detection, { nullable: true, description: 'One detection by id; null when none has it.' })
  async detection(
    @Arg('id', () => ID, { description: "The detection's id." }) id: string,
    @Ctx() ctx: SubgraphContext,
  ): Promise<Detection | null> {
    return loaders.detection(ctx).load(parseId(id, 'id'));
  }

  @Authorized('analyst')
  @Mutation(() => Detection, {
    description: 'Dismisses, resolves or reopens a detection, recorded in its history with the comment. Role: analyst or higher.',
  })
  async setDetectionStatus(
    @Arg('id', () => ID, { description: 'The detection.' }) id: string,
    @Arg('status', () => DetectionStatus, { description: 'Its new status.' }) status: DetectionStatus,
    @Ctx() ctx: SubgraphContext,
    @Arg('comment', () => String, { nullable: true, description: 'Why (at most 2,000 characters).' }) comment?: string | null,
  ): Promise<Detection> {
    const ids = [parseId(id, 'id')];
    const triage = { actor: ctx.principal.subject, comment: readComment(comment) };
    return found(await services.detection(ctx).setStatus(ids, status, triage), ids, () => 'id')[0]!;
  }

  @Authorized('analyst')
  @Mutation(() => [Detection], {
    description:
      'Sets the status of up to 500 detections at once (in one transaction: an unknown id changes none), each change in its history; answers them in the order given. Role: analyst or higher.',
  })
  async setDetectionsStatus(
    @Arg('ids', () => [ID], { description: 'The detections (1 to 500).' }) ids: string[],
    @Arg('status', () => DetectionStatus, { description: 'Their new status.' }) status: DetectionStatus,
    @Ctx() ctx: SubgraphContext,
    @Arg('comment', () => String, { nullable: true, description: 'Why (at most 2,000 characters).' }) comment?: string | null,
  ): Promise<Detection[]> {
    if (ids.length === 0 || ids.length > MAX_BULK) throw badInput('ids', `must name 1 to ${MAX_BULK} detections, got ${ids.length}`);
    const parsed = ids.map((id, i) => parseId(id, `ids.${i}`));
    const triage = { actor: ctx.principal.subject, comment: readComment(comment) };
    return found(await services.detection(ctx).setStatus(parsed, status, triage), parsed, (i) => `ids.${i}`);
  }

  @Authorized('analyst')
  @Mutation(() => Detection, {
    description: 'Assigns a detection to someone (null: to nobody), recorded in its history. Role: analyst or higher.',
  })
  async assignDetection(
    @Arg('id', () => ID, { description: 'The detection.' }) id: string,
    @Arg('assignee', () => String, {
      nullable: true,
      description: 'Who handles it (a name or an email, at most 200 characters); null unassigns it.',
    })
    assignee: string | null,
    @Ctx() ctx: SubgraphContext,
    @Arg('comment', () => String, { nullable: true, description: 'Why (at most 2,000 characters).' }) comment?: string | null,
  ): Promise<Detection> {
    const who = assignee?.trim() || null;
    if (who && who.length > MAX_ASSIGNEE) throw badInput('assignee', `must be at most ${MAX_ASSIGNEE} characters`);
    const ids = [parseId(id, 'id')];
    const triage = { actor: ctx.principal.subject, comment: readComment(comment) };
    return found(await services.detection(ctx).assign(ids, who, triage), ids, () => 'id')[0]!;
  }

  @FieldResolver(() => [DetectionHistoryEntry], {
    description: 'Who raised it and every change of its status or assignee since, oldest first.',
  })
  async history(@Root() detection: Detection, @Ctx() ctx: SubgraphContext): Promise<DetectionHistoryEntry[]> {
    return loaders.detectionHistory(ctx).load(detection.id);
  }

  @FieldResolver(() => Policy, { description: 'The policy that raised it.' })
  async policy(@Root() detection: Detection, @Ctx() ctx: SubgraphContext): Promise<Policy | null> {
    return loaders.policy(ctx).load(detection.policyId);
  }

  @FieldResolver(() => AppInstanceRef, {
    nullable: true,
    description: 'The app instance it is about. Null only while the accounts subgraph cannot be reached (the error names it).',
  })
  instance(@Root() detection: Detection): AppInstanceRef {
    return ref(detection.instanceId);
  }

  @FieldResolver(() => Actor, {
    nullable: true,
    description:
      "The account it is about: the actor (ACTIVITY), the file's owner (FILE) or the app's first grantor (APP_PERMISSION); null when unknown.",
  })
  account(@Root() detection: Detection): Actor | null {
    return ref(detection.accountId);
  }

  @FieldResolver(() => FileRef, { nullable: true, description: 'The file it is about (FILE policies); null otherwise.' })
  file(@Root() detection: Detection): FileRef | null {
    return ref(detection.fileId);
  }

  @FieldResolver(() => AppPermissionRef, {
    nullable: true,
    description: "One of the app's matching grants (APP_PERMISSION policies); null otherwise.",
  })
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
