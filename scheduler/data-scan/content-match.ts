import { createHash } from 'node:crypto';

/**
 * FILE policies' custom content rules as the data scan runs them: each rule (a named regular expression
 * or keyword list) becomes one regular expression whose matches are counted in a file's extracted
 * text, inside the data scan's worker threads (so that a slow pattern costs its file's time budget,
 * never the scheduler's event loop). Patterns were checked for safe backtracking when the policy was
 * written; keyword lists are literal alternations built here.
 */

export type ContentRuleKind = 'PATTERN' | 'KEYWORDS';

/** One rule ready to run: which policy's, its name, and the regular expression that counts it. */
export interface ContentRuleSpec {
  readonly policyId: string;
  readonly rule: string;
  readonly kind: ContentRuleKind;
  readonly source: string;
  /** Flags besides `g` and `u`: `i` or none. */
  readonly flags: '' | 'i';
}

/** How often one rule matched a text; never the matched text. */
export interface ContentRuleCount {
  readonly policyId: string;
  readonly rule: string;
  readonly kind: ContentRuleKind;
  readonly count: number;
}

/** Counting stops here: a FILE policy's minCount is at most this. */
export const MAX_RULE_COUNT = 1_000_000;

/** Bump when the way rules are turned into expressions changes: stored digests then differ, and files are read again. */
const MATCHER_VERSION = 1;

/** Characters that make up words for `wholeWord` keyword lists: letters, digits (any script) and "_". */
const WORD_CHAR = '[\\p{L}\\p{N}\\p{M}_]';

// Unicode mode accepts only escapes of syntax characters (so not of "-" outside a class).
const escapeRegex = (word: string): string => word.replace(/[\\^$.*+?()[\]{}|/]/g, '\\$&');

/** A pattern rule as it runs. */
export function patternSpec(
  policyId: string,
  p: { readonly name: string; readonly regex: string; readonly caseSensitive: boolean },
): ContentRuleSpec {
  return { policyId, rule: p.name, kind: 'PATTERN', source: p.regex, flags: p.caseSensitive ? '' : 'i' };
}

/**
 * A keyword list as it runs: one alternation of its words taken literally, longest first (so that a
 * phrase wins over a word it starts with), between word boundaries when `wholeWord`. Whitespace inside a
 * phrase matches any run of whitespace, as extracted text breaks lines where the document did.
 */
export function keywordSpec(
  policyId: string,
  l: { readonly name: string; readonly words: readonly string[]; readonly caseSensitive: boolean; readonly wholeWord: boolean },
): ContentRuleSpec {
  const words = [...new Set(l.words)].sort((a, b) => b.length - a.length || (a < b ? -1 : 1));
  const alternation = words.map((w) => w.split(/\s+/).map(escapeRegex).join('\\s+')).join('|');
  const source = l.wholeWord ? `(?<!${WORD_CHAR})(?:${alternation})(?!${WORD_CHAR})` : `(?:${alternation})`;
  return { policyId, rule: l.name, kind: 'KEYWORDS', source, flags: l.caseSensitive ? '' : 'i' };
}

/**
 * The digest of a set of rules, or null for none: stored on each file its data scan read, so that a
 * file last read under other rules is read again. Independent of the rules' order.
 */
export function rulesHash(specs: readonly ContentRuleSpec[]): string | null {
  if (specs.length === 0) return null;
  const canonical = specs
    .map((s) => [s.policyId, s.rule, s.kind, s.source, s.flags])
    .sort((a, b) => (a.join('\u0000') < b.join('\u0000') ? -1 : 1));
  return createHash('sha256')
    .update(JSON.stringify([MATCHER_VERSION, canonical]))
    .digest('hex')
    .slice(0, 32);
}

const compiled = new Map<string, RegExp | null>();
const MAX_COMPILED = 500;

function compile(spec: ContentRuleSpec): RegExp | null {
  const key = `${spec.flags}/${spec.source}`;
  let re = compiled.get(key);
  if (re === undefined) {
    try {
      re = new RegExp(spec.source, `gu${spec.flags}`);
    } catch {
      re = null; // stored before a syntax change of the engine: it matches nothing
    }
    if (compiled.size >= MAX_COMPILED) compiled.clear();
    compiled.set(key, re);
  }
  return re;
}

/** How often a rule matches `text` (non-overlapping matches, at most {@link MAX_RULE_COUNT}). */
export function countRule(spec: ContentRuleSpec, text: string): number {
  const re = compile(spec);
  if (!re) return 0;
  re.lastIndex = 0;
  let count = 0;
  while (count < MAX_RULE_COUNT) {
    const match = re.exec(text);
    if (!match) break;
    count += 1;
    if (match[0].length === 0) re.lastIndex += 1;
  }
  return count;
}

/** Runs every rule over `text`: the rules that matched with their counts, in the rules' order. */
export function countRules(specs: readonly ContentRuleSpec[], text: string): ContentRuleCount[] {
  return specs.map((s) => ({ policyId: s.policyId, rule: s.rule, kind: s.kind, count: countRule(s, text) })).filter((m) => m.count > 0);
}
