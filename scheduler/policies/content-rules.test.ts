import { describe, expect, it } from 'vitest';
import { type FileCondition, parsePolicyCondition, PolicyKind } from '../../subgraphs/activities/public.js';
import { fileObservation, FileRule, type FileFacts } from './asset-rules.js';
import { SharingLevel } from '../../platform/vocabulary/sharing.js';

/** FILE policies' content rules in the pure half of evaluation: matching a file on its stored rule counts. */

const file = (over: Partial<FileFacts> = {}): FileFacts => ({
  id: 'f1',
  name: 'plan.txt',
  path: '/Shared/plan.txt',
  ownerId: 'ann',
  sharing: SharingLevel.EXTERNAL,
  collaborators: [],
  trashed: false,
  sensitiveMatches: [],
  ...over,
});

const policy = {
  id: 'p1',
  contentPatterns: [{ name: 'ids', regex: 'EMP-\\d{6}', caseSensitive: true, minCount: 3 }],
  keywordLists: [{ name: 'words', words: ['falcon'], caseSensitive: false, wholeWord: true, minCount: 1 }],
};

function rule(value: unknown, rules = policy): FileRule {
  const parsed = parsePolicyCondition(PolicyKind.FILE, value, { contentRules: true });
  if (!parsed.ok) throw new Error(`${parsed.field}: ${parsed.message}`);
  return new FileRule(parsed.value.condition as FileCondition, rules);
}

const counts = (...m: [policyId: string, rule: string, count: number][]) =>
  m.map(([policyId, r, count]) => ({ policyId, rule: r, kind: r === 'ids' ? ('PATTERN' as const) : ('KEYWORDS' as const), count }));

describe('FileRule with content rules', () => {
  it('matches when any rule of its own policy reaches its minCount, and the condition holds', () => {
    const any = rule({});
    expect(any.matches(file({ contentRuleMatches: counts(['p1', 'words', 1]) }), new Set())).toBe(true);
    expect(any.matches(file({ contentRuleMatches: counts(['p1', 'ids', 3]) }), new Set())).toBe(true);
    expect(any.matches(file({ contentRuleMatches: counts(['p1', 'ids', 2]) }), new Set())).toBe(false);
    // Another policy's counts, or a rule this policy no longer has, do not count.
    expect(any.matches(file({ contentRuleMatches: counts(['p2', 'words', 9]) }), new Set())).toBe(false);
    expect(any.matches(file({ contentRuleMatches: [{ policyId: 'p1', rule: 'gone', kind: 'KEYWORDS', count: 9 }] }), new Set())).toBe(
      false,
    );
    expect(any.matches(file(), new Set())).toBe(false);
    const publicOnly = rule({ sharing: 'PUBLIC' });
    expect(publicOnly.matches(file({ contentRuleMatches: counts(['p1', 'words', 1]) }), new Set())).toBe(false);
  });

  it('reads only its own counts, and a policy without rules reads none', () => {
    const f = file({ contentRuleMatches: counts(['p1', 'words', 2], ['p2', 'words', 5]) });
    expect(rule({}).ruleMatches(f)).toEqual(counts(['p1', 'words', 2]));
    expect(new FileRule({ sharing: [SharingLevel.EXTERNAL] }).ruleMatches(f)).toEqual([]);
  });

  it('keys an observation on its rule counts, and as before when there are none', () => {
    const f = file({ sensitiveMatches: [{ type: 'IBAN', count: 1 }] });
    const plain = fileObservation(f);
    expect(fileObservation({ ...f, contentRuleMatches: counts(['p1', 'words', 2]) }).key).toBe(plain.key);
    const two = fileObservation(f, counts(['p1', 'words', 2]));
    expect(two.key).not.toBe(plain.key);
    expect(fileObservation(f, counts(['p1', 'words', 3])).key).not.toBe(two.key);
    expect(two.evidence.contentRuleMatches).toEqual([{ rule: 'words', kind: 'KEYWORDS', count: 2 }]);
  });

  it('lets a FILE condition be empty only beside content rules', () => {
    expect(parsePolicyCondition(PolicyKind.FILE, {}).ok).toBe(false);
    expect(parsePolicyCondition(PolicyKind.FILE, {}, { contentRules: true }).ok).toBe(true);
  });
});
