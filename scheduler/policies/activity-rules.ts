import type { Activity, ActivityCondition, EventNarrowing } from '../../subgraphs/activities/public.js';
import { anyGlob, CidrSet, isLiteral } from './match.js';

/** The part of an activity the rules read. */
export type ActivityFacts = Pick<Activity, 'id' | 'category' | 'action' | 'actorId' | 'occurredAt' | 'ipAddress' | 'country' | 'succeeded'>;

/** What a rule needs beyond the activity itself. */
export interface ActivityContext {
  /** Account ids of the actors who are admins. */
  readonly admins: ReadonlySet<string>;
  /** Ids of the activities from a country new for their actor (`ActivityService.fromNewCountry`). */
  readonly newCountry: ReadonlySet<string>;
}

/** An ACTIVITY condition made ready to match many activities. */
export class ActivityRule {
  private readonly categories: ReadonlySet<string> | null;
  private readonly countries: ReadonlySet<string> | null;
  private readonly cidrs: CidrSet | null;

  constructor(readonly condition: ActivityCondition) {
    this.categories = condition.category ? new Set(condition.category) : null;
    this.countries = condition.country?.in
      ? new Set(condition.country.in)
      : condition.country?.notIn
        ? new Set(condition.country.notIn)
        : null;
    this.cidrs = condition.ipInCidr ? new CidrSet(condition.ipInCidr) : null;
  }

  get needsAdmins(): boolean {
    return this.condition.actorIsAdmin !== undefined;
  }

  get needsHistory(): boolean {
    return this.condition.country?.newForActor === true;
  }

  /** The simple parts, for the database to filter history by. */
  get narrowing(): EventNarrowing {
    const c = this.condition;
    return {
      actions: c.action?.every(isLiteral) ? c.action : undefined,
      categories: c.category,
      succeeded: c.succeeded,
    };
  }

  /** Whether one activity matches (the threshold, if any, is counted over matches afterwards). */
  matches(a: ActivityFacts, ctx: ActivityContext): boolean {
    const c = this.condition;
    if (c.action && !anyGlob(c.action, a.action)) return false;
    if (this.categories && !this.categories.has(a.category)) return false;
    if (c.succeeded !== undefined && a.succeeded !== c.succeeded) return false;
    if (c.actorIsAdmin !== undefined && (a.actorId !== null && ctx.admins.has(a.actorId)) !== c.actorIsAdmin) return false;
    if (this.cidrs && !this.cidrs.has(a.ipAddress)) return false;
    if (c.country?.in && !(a.country && this.countries!.has(a.country))) return false;
    if (c.country?.notIn && !(a.country && !this.countries!.has(a.country))) return false;
    if (c.country?.newForActor && !ctx.newCountry.has(a.id)) return false;
    return true;
  }
}

const byTime = (a: ActivityFacts, b: ActivityFacts) =>
  a.occurredAt.getTime() - b.occurredAt.getTime() || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);

/**
 * Splits matches (of one subject) into runs whose consecutive events are at most `gapMs` apart,
 * oldest first: one run is one detection's worth.
 */
export function splitByGap<T extends ActivityFacts>(events: readonly T[], gapMs: number): T[][] {
  const runs: T[][] = [];
  for (const event of [...events].sort(byTime)) {
    const run = runs.at(-1);
    if (run && event.occurredAt.getTime() - run.at(-1)!.occurredAt.getTime() <= gapMs) run.push(event);
    else runs.push([event]);
  }
  return runs;
}

/**
 * The events (of one actor) that lie in some window of `windowMs` holding at least `count` of them,
 * as runs (split where consecutive qualifying events are more than `windowMs` apart). Linear after
 * sorting: each window is found with two pointers and marked with a difference array.
 */
export function thresholdRuns<T extends ActivityFacts>(events: readonly T[], count: number, windowMs: number): T[][] {
  const sorted = [...events].sort(byTime);
  const n = sorted.length;
  const marks = new Array<number>(n + 1).fill(0);
  let j = 0;
  for (let i = 0; i < n; i++) {
    j = Math.max(j, i);
    while (j + 1 < n && sorted[j + 1]!.occurredAt.getTime() - sorted[i]!.occurredAt.getTime() <= windowMs) j++;
    if (j - i + 1 >= count) {
      marks[i]! += 1;
      marks[j + 1]! -= 1;
    }
  }
  const qualifying: T[] = [];
  let depth = 0;
  for (let i = 0; i < n; i++) {
    depth += marks[i]!;
    if (depth > 0) qualifying.push(sorted[i]!);
  }
  return splitByGap(qualifying, windowMs);
}
