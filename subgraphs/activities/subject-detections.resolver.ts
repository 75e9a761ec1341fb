import { Arg, Ctx, FieldResolver, Int, Resolver, Root } from 'type-graphql';
import type { SubgraphContext } from '../../platform/context.js';
import { AFTER_ARG, FIRST_ARG, readPage, type Connection } from '../../platform/pagination.js';
import { loaders } from './context.js';
import type { Detection } from './detection.entity.js';
import { DetectionConnection, DetectionFilterInput, readDetectionFilter } from './detection.resolver.js';
import { DETECTION_ORDER, type DetectionSubject } from './detection.service.js';
import { Actor, AppPermissionRef, FileRef } from './references.js';

/** One page of a subject's detections, batched over the subjects of one level of a query. */
function detectionsOf(
  ctx: SubgraphContext,
  subject: DetectionSubject,
  id: string,
  filter: DetectionFilterInput | null | undefined,
  first: number | null | undefined,
  after: string | null | undefined,
): Promise<Connection<Detection>> {
  return loaders.detectionsOf(ctx, subject, readDetectionFilter(filter), readPage({ first, after }, DETECTION_ORDER)).load(id);
}

const DESCRIPTION = 'Detections about it, newest first. Null only while the activities subgraph cannot be reached (the error names it).';

@Resolver(() => Actor)
export class AccountDetectionsResolver {
  @FieldResolver(() => DetectionConnection, { nullable: true, description: DESCRIPTION })
  detections(
    @Root() account: Actor,
    @Ctx() ctx: SubgraphContext,
    @Arg('filter', () => DetectionFilterInput, { nullable: true, description: 'Which of them.' }) filter?: DetectionFilterInput | null,
    @Arg('first', () => Int, FIRST_ARG) first?: number | null,
    @Arg('after', () => String, AFTER_ARG) after?: string | null,
  ): Promise<Connection<Detection>> {
    return detectionsOf(ctx, 'account_id', account.id, filter, first, after);
  }
}

@Resolver(() => FileRef)
export class FileDetectionsResolver {
  @FieldResolver(() => DetectionConnection, { nullable: true, description: DESCRIPTION })
  detections(
    @Root() file: FileRef,
    @Ctx() ctx: SubgraphContext,
    @Arg('filter', () => DetectionFilterInput, { nullable: true, description: 'Which of them.' }) filter?: DetectionFilterInput | null,
    @Arg('first', () => Int, FIRST_ARG) first?: number | null,
    @Arg('after', () => String, AFTER_ARG) after?: string | null,
  ): Promise<Connection<Detection>> {
    return detectionsOf(ctx, 'file_id', file.id, filter, first, after);
  }
}

@Resolver(() => AppPermissionRef)
export class AppPermissionDetectionsResolver {
  @FieldResolver(() => DetectionConnection, { nullable: true, description: DESCRIPTION })
  detections(
    @Root() grant: AppPermissionRef,
    @Ctx() ctx: SubgraphContext,
    @Arg('filter', () => DetectionFilterInput, { nullable: true, description: 'Which of them.' }) filter?: DetectionFilterInput | null,
    @Arg('first', () => Int, FIRST_ARG) first?: number | null,
    @Arg('after', () => String, AFTER_ARG) after?: string | null,
  ): Promise<Connection<Detection>> {
    return detectionsOf(ctx, 'app_permission_id', grant.id, filter, first, after);
  }
}
