import {
  DEFAULT_WINDOW_MINUTES,
  type DetectionMatch,
  hasContentRules,
  parsePolicyCondition,
  policyApplies,
  type Policy,
  type PolicyCondition,
  PolicyKind,
} from '../../subgraphs/activities/public.js';
import type { ModuleServices } from '../services.js';
import { autoGovern, type AutoGovernanceServices } from './auto-governance.js';
import { logger } from '../../platform/logger.js';

/**
 * The services evaluation reads and writes through (the scheduler's runtime has them all; each call
 * may fork). Policies' `autoGovernance` needs the governance log and the instance directory too;
 * without them no action is requested.
 */
export type EvaluationServices = Pick<ModuleServices, 'policies' | 'detections' | 'activities' | 'accounts' | 'files' | 'grants'> &
  Partial<Pick<ModuleServices, 'governance' | 'instanceDirectory'>>;

/** How many detections one evaluation raised and extended. */
export interface Tally {
  raised: number;
  extended: number;
}

export const emptyTally = (): Tally => ({ raised: 0, extended: 0 });

/** A policy whose condition parsed, with its rule and detection-grouping window. */
export interface Enabled<R> {
  readonly policy: Policy;
  readonly rule: R;
  readonly windowMinutes: number;
  readonly windowMs: number;
}

export type ConditionOf<K extends PolicyKind> = Extract<PolicyCondition, { kind: K }>['condition'];

/**
 * The enabled policies of `kind` that apply to the instance (their scope names none, it, or its
 * provider) and whose stored conditions parse, each with its rule. A condition that no longer parses
 * (written before a schema change) is skipped with a warning, never fatal.
 */
export async function enabledPolicies<K extends PolicyKind, R>(
  services: EvaluationServices,
  kind: K,
  rule: (condition: ConditionOf<K>, policy: Policy) => R,
  instanceId: string,
): Promise<Enabled<R>[]> {
  const out: Enabled<R>[] = [];
  const policies = await services.policies().enabledOfKind(kind);
  // The instance's provider is read only when a policy is scoped by provider.
  const provider = policies.some((p) => p.providers.length > 0)
    ? ((await services.instanceDirectory?.().governanceView(instanceId))?.provider ?? null)
    : null;
  for (const policy of policies) {
    if (!policyApplies(policy, instanceId, provider)) continue;
    const parsed = parsePolicyCondition(kind, policy.condition, { contentRules: hasContentRules(policy) });
    if (!parsed.ok) {
      logger.warn({ policyId: policy.id, field: parsed.field, reason: parsed.message }, 'policy skipped: its condition does not parse');
      continue;
    }
    const condition = parsed.value.condition as ConditionOf<K>;
    const windowMinutes = condition.windowMinutes ?? DEFAULT_WINDOW_MINUTES[kind];
    out.push({ policy, rule: rule(condition, policy), windowMinutes, windowMs: windowMinutes * 60_000 });
  }
  return out;
}

/** The parts of a match every kind shares: who raised it and about what. */
export function matchHeader(p: Enabled<unknown>, instanceId: string, subjectKey: string) {
  return {
    policyId: p.policy.id,
    severity: p.policy.severity,
    title: p.policy.name,
    instanceId,
    subjectKey,
    windowMinutes: p.windowMinutes,
  };
}

/**
 * Records a match through {@link DetectionService.raiseOrExtend} and counts what it did; a newly
 * raised detection gets its policy's `autoGovernance` actions requested.
 */
export async function recordMatch(services: EvaluationServices, match: DetectionMatch, tally: Tally): Promise<void> {
  const result = await services.detections().raiseOrExtend(match);
  if (result.outcome === 'unchanged') return;
  if (result.outcome === 'raised') tally.raised += 1;
  else tally.extended += 1;
  if (!services.governance || !services.instanceDirectory) return;
  const [policy] = await services.policies().byIds([match.policyId]);
  if (!policy || policy.autoGovernance.length === 0) return;
  // An app policy's matches are grants (its observations): each new grant of the app is governed as
  // it is seen, also when the app's detection is only extended, so that a ban keeps the app out.
  if (policy.kind === PolicyKind.APP_PERMISSION)
    await autoGovern(services as AutoGovernanceServices, policy, result.detection, result.fresh);
  else if (result.outcome === 'raised') await autoGovern(services as AutoGovernanceServices, policy, result.detection);
}

export const distinct = <T>(values: readonly (T | null | undefined)[]): T[] => [
  ...new Set(values.filter((v): v is T => v !== null && v !== undefined)),
];

export function groupBy<T>(items: readonly T[], key: (item: T) => string): Map<string, T[]> {
  const out = new Map<string, T[]>();
  for (const item of items) {
    const k = key(item);
    const group = out.get(k);
    if (group) group.push(item);
    else out.set(k, [item]);
  }
  return out;
}
