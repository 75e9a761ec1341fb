import { PolicyKind } from '../../subgraphs/activities/public.js';
import { keywordSpec, patternSpec, rulesHash, type ContentRuleSpec } from '../data-scan/content-match.js';
import { enabledPolicies, type EvaluationServices } from './enabled.js';

/** The content rules a data scan of one instance applies, and their digest (null when there are none). */
export interface ContentRuleSet {
  readonly specs: readonly ContentRuleSpec[];
  readonly hash: string | null;
}

export const NO_CONTENT_RULES: ContentRuleSet = { specs: [], hash: null };

/**
 * The custom content rules (patterns, keyword lists) of the enabled FILE policies that apply to the
 * instance, as the data scan's workers run them. A policy whose condition does not parse is skipped,
 * as its evaluation is.
 */
export async function contentRulesFor(services: EvaluationServices, instanceId: string): Promise<ContentRuleSet> {
  const policies = await enabledPolicies(services, PolicyKind.FILE, () => null, instanceId);
  const specs = policies.flatMap(({ policy }) => [
    ...policy.contentPatterns.map((p) => patternSpec(policy.id, p)),
    ...policy.keywordLists.map((l) => keywordSpec(policy.id, l)),
  ]);
  return { specs, hash: rulesHash(specs) };
}
