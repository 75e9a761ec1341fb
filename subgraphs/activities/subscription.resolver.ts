import { Arg, Authorized, Field, ObjectType, Resolver, Root, Subscription, type SubscribeResolverData } from 'type-graphql';
import { inScope, scopeOf } from '../../platform/scope.js';
import { parseEventCursor } from '../../platform/event-cursor.js';
import type { ActivitiesContext } from './context.js';
import { badInput } from '../../platform/errors.js';
import { Detection, DetectionChange } from './detection.entity.js';
import { DetectionFilterInput, readDetectionFilter } from './detection.resolver.js';
import type { DetectionFilter } from './detection.service.js';
import { EventKind } from './event-log.entity.js';
import type { LoggedEvent } from './event-log.service.js';
import type { DeliveredEvent } from './event-subscriber.js';
import { GovernanceAction } from './governance-action.entity.js';
import { GovernanceFilterInput, readGovernanceFilter } from './governance-action.resolver.js';
import type { GovernanceFilter } from './governance.service.js';
import { SEVERITY_ORDER, type Severity } from './policy.entity.js';

const CURSOR_DOC = 'Pass as `after` to resume right after this event.';
const AFTER_DOC =
  'The cursor of the last event received: the events since then are replayed in order, then live ones follow, none lost. Without it, live events from now on.';

@ObjectType({ description: 'A detection raised, extended, triaged or assigned, with the cursor to resume after it.' })
export class DetectionEvent {
  @Field({ description: CURSOR_DOC })
  cursor!: string;

  @Field(() => DetectionChange, { description: 'What happened to it.' })
  change!: DetectionChange;

  @Field(() => Detection, { description: 'The detection as it is now.' })
  detection!: Detection;
}

/** A log entry's change (entries written before changes were named: RAISED). */
export function changeOf(event: Pick<LoggedEvent, 'attributes'>): DetectionChange {
  const change = String(event.attributes.change ?? 'raised').toUpperCase();
  return (Object.values(DetectionChange) as string[]).includes(change) ? (change as DetectionChange) : DetectionChange.RAISED;
}

@ObjectType({ description: 'A governance action that ended (SUCCEEDED or FAILED), with the cursor to resume after it.' })
export class GovernanceEvent {
  @Field({ description: CURSOR_DOC })
  cursor!: string;

  @Field(() => GovernanceAction, { description: 'The action as it is now.' })
  action!: GovernanceAction;
}

/** Whether a detection's log entry matches `filter` (on the attributes recorded when it was raised). */
export const matchesDetection =
  (filter: DetectionFilter, changes?: readonly DetectionChange[]) =>
  (event: LoggedEvent): boolean => {
    const { severity, status, policyId } = event.attributes;
    if (changes !== undefined && !changes.includes(changeOf(event))) return false;
    if (filter.assignee !== undefined) return false;
    if (filter.instanceId !== undefined && event.instanceId !== filter.instanceId) return false;
    if (filter.status !== undefined && status !== filter.status) return false;
    if (filter.policyId !== undefined && policyId !== filter.policyId) return false;
    if (filter.severityAtLeast === undefined) return true;
    return SEVERITY_ORDER.indexOf(severity as Severity) >= SEVERITY_ORDER.indexOf(filter.severityAtLeast);
  };

/** A stream's detection filter: `assignee` is not recorded with events, so it cannot select them. */
function readStreamFilter(filter: DetectionFilterInput | null | undefined): DetectionFilter {
  const parsed = readDetectionFilter(filter);
  if (parsed.assignee !== undefined) throw badInput('filter.assignee', 'cannot select live events; filter the detections query instead');
  return parsed;
}

function readChanges(changes: readonly DetectionChange[] | null | undefined): readonly DetectionChange[] | undefined {
  if (changes === null || changes === undefined) return undefined;
  if (changes.length === 0) throw badInput('changes', 'must name at least one change (leave it out for all of them)');
  return changes;
}

/** Whether a governance action's log entry matches `filter`. */
export const matchesGovernance =
  (filter: GovernanceFilter) =>
  (event: LoggedEvent): boolean =>
    (filter.instanceId === undefined || event.instanceId === filter.instanceId) &&
    (filter.type === undefined || event.attributes.type === filter.type) &&
    (filter.status === undefined || event.attributes.status === filter.status);

/** A stream's matcher kept to the subscriber's instances (its token's `instances` claim). */
function withinScopeOf(context: ActivitiesContext, matches: (event: LoggedEvent) => boolean): (event: LoggedEvent) => boolean {
  const scope = scopeOf(context);
  return scope === null ? matches : (event) => inScope(scope, event.instanceId) && matches(event);
}

interface StreamArgs<F> {
  readonly filter?: F | null;
  readonly after?: string | null;
  readonly changes?: DetectionChange[] | null;
}
type SubscribeData<F> = SubscribeResolverData<unknown, StreamArgs<F>, ActivitiesContext>;

/**
 * The live streams, fed by the event log (see EventStream). A subscriber that falls more than
 * SUBSCRIPTION_QUEUE_LIMIT events behind ends with SUBSCRIBER_TOO_SLOW and resumes with `after`.
 */
@Resolver()
export class SubscriptionResolver {
  @Authorized('analyst')
  @Subscription(() => DetectionEvent, {
    subscribe: ({ args, context }: SubscribeData<DetectionFilterInput>) =>
      context.events.subscribe<Detection>(
        EventKind.DETECTION,
        withinScopeOf(context, matchesDetection(readStreamFilter(args.filter), readChanges(args.changes))),
        parseEventCursor(args.after),
      ),
    description: 'Detections as they are raised, extended, triaged and assigned (`change` says which). Role: analyst or higher.',
  })
  detectionRaised(
    @Root() event: DeliveredEvent<Detection>,
    @Arg('filter', () => DetectionFilterInput, {
      nullable: true,
      description: 'Which detections (as they were at each event: its severity, status, policy, instance; not `assignee`).',
    })
    _filter?: DetectionFilterInput | null,
    @Arg('after', () => String, { nullable: true, description: AFTER_DOC }) _after?: string | null,
    @Arg('changes', () => [DetectionChange], { nullable: true, description: 'Only these changes (default: all of them).' })
    _changes?: DetectionChange[] | null,
  ): DetectionEvent {
    return { cursor: event.cursor, change: changeOf(event), detection: event.entity };
  }

  @Authorized('analyst')
  @Subscription(() => GovernanceEvent, {
    subscribe: ({ args, context }: SubscribeData<GovernanceFilterInput>) =>
      context.events.subscribe<GovernanceAction>(
        EventKind.GOVERNANCE,
        withinScopeOf(context, matchesGovernance(readGovernanceFilter(args.filter))),
        parseEventCursor(args.after),
      ),
    description: 'Governance actions as they end, SUCCEEDED or FAILED (dry runs never do). Role: analyst or higher.',
  })
  governanceResult(
    @Root() event: DeliveredEvent<GovernanceAction>,
    @Arg('filter', () => GovernanceFilterInput, {
      nullable: true,
      description: 'Which actions (as each event left them); absent: all of them.',
    })
    _filter?: GovernanceFilterInput | null,
    @Arg('after', () => String, { nullable: true, description: AFTER_DOC }) _after?: string | null,
  ): GovernanceEvent {
    return { cursor: event.cursor, action: event.entity };
  }
}
