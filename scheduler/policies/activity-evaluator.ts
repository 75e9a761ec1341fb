import { type Activity, NEW_COUNTRY_BASELINE, PolicyKind } from '../../subgraphs/activities/public.js';
import { ActivityRule, splitByGap, thresholdRuns, type ActivityContext } from './activity-rules.js';
import {
  distinct,
  emptyTally,
  enabledPolicies,
  groupBy,
  matchHeader,
  recordMatch,
  type Enabled,
  type EvaluationServices,
  type Tally,
} from './enabled.js';

/** Pending activities evaluated per round. */
const BATCH = 1000;

/**
 * ACTIVITY policies. Most are evaluated page by page on what the scan just stored. Policies on where an
 * actor has been (`country.newForActor`) wait until the scan's whole time window is stored: the audit
 * trail is read newest first, so an earlier sign-in from the same country may still be on a later
 * page, and judging early would call a usual place new.
 */
export class ActivityEvaluator {
  constructor(private readonly services: EvaluationServices) {}

  /**
   * Evaluates the instance's activities awaiting evaluation (what the scan just stored, and whatever a
   * crash left behind), then marks them evaluated.
   */
  async evaluatePending(instanceId: string): Promise<Tally> {
    const tally = emptyTally();
    for (;;) {
      const pending = await this.services.activities().pendingEvaluation(instanceId, BATCH);
      if (pending.length === 0) return tally;
      const policies = (await this.policies(instanceId)).filter((p) => !p.rule.needsHistory);
      await this.evaluate(instanceId, policies, pending, new Set(pending.map((a) => a.id)), 'fetch', tally);
      await this.services.activities().markEvaluated(pending.map((a) => a.id));
      if (pending.length < BATCH) return tally;
    }
  }

  /**
   * Evaluates the history-dependent policies over a time window that is now completely stored (run it
   * before the scan's watermark moves past `to`, so that a crash repeats it). Matches already recorded
   * (from an overlapping window) are recorded once.
   */
  async evaluateWindow(instanceId: string, from: Date, to: Date): Promise<Tally> {
    const tally = emptyTally();
    for (const p of (await this.policies(instanceId)).filter((q) => q.rule.needsHistory)) {
      const lookBack = (p.rule.condition.threshold?.windowMinutes ?? 0) * 60_000;
      const candidates = await this.services
        .activities()
        .eventsBetween(instanceId, null, new Date(from.getTime() - lookBack), to, p.rule.narrowing);
      const fresh = new Set(candidates.filter((a) => a.occurredAt.getTime() >= from.getTime()).map((a) => a.id));
      await this.evaluate(instanceId, [p], candidates, fresh, 'given', tally);
    }
    return tally;
  }

  private policies(instanceId: string): Promise<Enabled<ActivityRule>[]> {
    return enabledPolicies(this.services, PolicyKind.ACTIVITY, (c) => new ActivityRule(c), instanceId);
  }

  /**
   * Matches `candidates` against `policies` and records one match per subject and run. `fresh`: the
   * candidates this evaluation is for (a threshold run must hold one); `history`: whether a threshold
   * needs the stored neighbours fetched ('fetch') or `candidates` already holds them ('given').
   */
  private async evaluate(
    instanceId: string,
    policies: readonly Enabled<ActivityRule>[],
    candidates: readonly Activity[],
    fresh: ReadonlySet<string>,
    history: 'fetch' | 'given',
    tally: Tally,
  ): Promise<void> {
    if (policies.length === 0 || candidates.length === 0) return;
    const accounts = new Map(
      (await this.services.accounts().accountsByIds(distinct(candidates.map((a) => a.actorId)))).map((a) => [a.id, a]),
    );
    const ctx: ActivityContext = {
      admins: new Set([...accounts.values()].filter((a) => a.isAdmin).map((a) => a.id)),
      newCountry: policies.some((p) => p.rule.needsHistory) ? await this.newCountry(candidates) : new Set(),
    };
    const subjectOf = (a: Activity) =>
      a.actorId ? `account:${a.actorId}` : a.actorExternalId ? `actor:${a.actorExternalId}` : `instance:${instanceId}`;
    const who = (a: Activity) => {
      const account = a.actorId ? accounts.get(a.actorId) : undefined;
      return account?.email ?? account?.displayName ?? a.actorExternalId ?? 'an unknown actor';
    };
    for (const p of policies) {
      const matched = candidates.filter((a) => p.rule.matches(a, ctx));
      if (matched.length === 0) continue;
      const threshold = p.rule.condition.threshold;
      const runs = threshold
        ? await this.thresholdRuns(instanceId, p, matched, ctx, history)
        : [...groupBy(matched, subjectOf).values()].flatMap((events) => splitByGap(events, p.windowMs));
      for (const run of runs.filter((r) => r.some((a) => fresh.has(a.id)))) {
        const first = run[0]!;
        const actions = distinct(run.map((a) => a.action));
        const countries = distinct(run.map((a) => a.country));
        const within = threshold ? ` (at least ${threshold.count} within ${threshold.windowMinutes} minutes)` : '';
        await recordMatch(
          this.services,
          {
            ...matchHeader(p, instanceId, subjectOf(first)),
            description: `${actions.join(', ')} by ${who(first)}${countries.length ? ` from ${countries.join(', ')}` : ''}${within}`,
            accountId: first.actorId,
            activityIds: run.map((a) => a.id),
            observations: run.map((a) => a.id),
            firstSeenAt: first.occurredAt,
            lastSeenAt: run.at(-1)!.occurredAt,
            evidence: {
              actor: who(first),
              actions,
              countries,
              ipAddresses: distinct(run.map((a) => a.ipAddress)),
              targets: distinct(run.map((a) => (a.targetId ? `${a.targetType ?? 'object'}:${a.targetId}` : null))),
              ...(threshold ? { threshold } : {}),
            },
            accumulate: ['actions', 'countries', 'ipAddresses', 'targets'],
          },
          tally,
        );
      }
    }
  }

  /** Ids of the candidates from a country new for their actor (see `country.newForActor`). */
  private async newCountry(candidates: readonly Activity[]): Promise<Set<string>> {
    const activities = this.services.activities();
    const firsts = await activities.fromNewCountry(
      candidates.map((a) => a.id),
      NEW_COUNTRY_BASELINE,
    );
    const found = candidates.filter((a) => firsts.has(a.id));
    const usual = await activities.usualCountries(distinct(found.map((a) => a.actorId)));
    return new Set(found.filter((a) => usual.get(a.actorId!) !== a.country).map((a) => a.id));
  }

  /** Per actor, the runs of at least `threshold.count` matches within the threshold window (counted over stored neighbours too). */
  private async thresholdRuns(
    instanceId: string,
    p: Enabled<ActivityRule>,
    matched: readonly Activity[],
    ctx: ActivityContext,
    history: 'fetch' | 'given',
  ): Promise<Activity[][]> {
    const { count, windowMinutes } = p.rule.condition.threshold!;
    const windowMs = windowMinutes * 60_000;
    // Thresholds count per actor: events without a known actor cannot be attributed.
    let events = matched.filter((a) => a.actorId !== null);
    if (events.length === 0) return [];
    if (history === 'fetch') {
      const times = events.map((a) => a.occurredAt.getTime());
      const from = new Date(Math.min(...times) - windowMs);
      const to = new Date(Math.max(...times) + windowMs);
      const stored = await this.services
        .activities()
        .eventsBetween(instanceId, distinct(events.map((a) => a.actorId)), from, to, p.rule.narrowing);
      events = [...new Map([...stored, ...events].map((a) => [a.id, a])).values()].filter((a) => p.rule.matches(a, ctx));
    }
    return [...groupBy(events, (a) => a.actorId!).values()].flatMap((mine) => thresholdRuns(mine, count, windowMs));
  }
}
