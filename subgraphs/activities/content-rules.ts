import { Field, InputType, Int, ObjectType } from 'type-graphql';
import { badInput } from '../../platform/errors.js';
import { assertSafePattern, UnsafePatternError } from './regex-safety.js';

/**
 * A FILE policy's custom content rules: named regular expressions and keyword lists that the data scan
 * counts in each file's extracted text, beside the built-in detectors. A policy with rules matches a
 * file when any rule counts at least its `minCount` (and its condition holds).
 */

export const MAX_CONTENT_PATTERNS = 20;
export const MAX_KEYWORD_LISTS = 20;
export const MAX_PATTERN_LENGTH = 500;
export const MAX_WORDS = 1000;
export const MAX_WORD_LENGTH = 100;
export const MAX_RULE_NAME_LENGTH = 100;
export const MAX_MIN_COUNT = 1_000_000;

@ObjectType({ description: "A named regular expression a FILE policy counts in files' text." })
export class ContentPattern {
  @Field({ description: 'Its name, unique within the policy; file matches are reported under it.' })
  name!: string;

  @Field({ description: 'The regular expression (JavaScript syntax, Unicode mode, in the subset the safety check accepts).' })
  regex!: string;

  @Field({ description: 'Whether letter case must match.' })
  caseSensitive!: boolean;

  @Field(() => Int, { description: 'How many matches a file needs for the rule to hold.' })
  minCount!: number;
}

@ObjectType({ description: "A named list of words or phrases a FILE policy counts in files' text." })
export class KeywordList {
  @Field({ description: 'Its name, unique within the policy; file matches are reported under it.' })
  name!: string;

  @Field(() => [String], { description: 'The words or phrases; each occurrence of any of them counts.' })
  words!: string[];

  @Field({ description: 'Whether letter case must match.' })
  caseSensitive!: boolean;

  @Field({ description: 'Whether a word counts only on its own, not inside a longer word (letters, digits and "_" make words).' })
  wholeWord!: boolean;

  @Field(() => Int, { description: 'How many occurrences (of all its words together) a file needs for the rule to hold.' })
  minCount!: number;
}

@InputType({ description: 'A named regular expression for a FILE policy.' })
export class ContentPatternInput {
  @Field({ description: `Its name (1 to ${MAX_RULE_NAME_LENGTH} characters), unique among the policy's patterns and keyword lists.` })
  name!: string;

  @Field({
    description: `The regular expression (JavaScript syntax, Unicode mode; at most ${MAX_PATTERN_LENGTH} characters). Refused when it could backtrack without bound: back-references, a quantifier inside a repeated group such as (a+)+, alternatives of a repeated group that start alike such as (a|aa)*, two unbounded quantifiers competing for the same characters such as \\d+\\d+, quantifiers inside lookarounds, bounds above 1000, or a pattern that matches empty text.`,
  })
  regex!: string;

  @Field(() => Boolean, { nullable: true, description: 'Whether letter case must match; absent: true.' })
  caseSensitive?: boolean | null;

  @Field(() => Int, { nullable: true, description: `How many matches a file needs (1 to ${MAX_MIN_COUNT}); absent: 1.` })
  minCount?: number | null;
}

@InputType({ description: 'A named list of words or phrases for a FILE policy.' })
export class KeywordListInput {
  @Field({ description: `Its name (1 to ${MAX_RULE_NAME_LENGTH} characters), unique among the policy's patterns and keyword lists.` })
  name!: string;

  @Field(() => [String], {
    description: `The words or phrases (1 to ${MAX_WORDS}, each 1 to ${MAX_WORD_LENGTH} characters, matched literally).`,
  })
  words!: string[];

  @Field(() => Boolean, { nullable: true, description: 'Whether letter case must match; absent: false.' })
  caseSensitive?: boolean | null;

  @Field(() => Boolean, { nullable: true, description: 'Whether a word counts only on its own, not inside a longer word; absent: true.' })
  wholeWord?: boolean | null;

  @Field(() => Int, {
    nullable: true,
    description: `How many occurrences of its words together a file needs (1 to ${MAX_MIN_COUNT}); absent: 1.`,
  })
  minCount?: number | null;
}

/** A policy's content rules, checked and with their defaults filled in. */
export interface ContentRules {
  readonly contentPatterns: ContentPattern[];
  readonly keywordLists: KeywordList[];
}

function ruleName(value: string, field: string, seen: Set<string>): string {
  const name = value.trim();
  if (name.length === 0 || name.length > MAX_RULE_NAME_LENGTH) throw badInput(field, `must be 1 to ${MAX_RULE_NAME_LENGTH} characters`);
  if (seen.has(name)) throw badInput(field, `"${name}" names another pattern or keyword list of this policy; names must be unique`);
  seen.add(name);
  return name;
}

function minCount(value: number | null | undefined, field: string): number {
  if (value === null || value === undefined) return 1;
  if (!Number.isInteger(value) || value < 1 || value > MAX_MIN_COUNT)
    throw badInput(field, `must be a whole number from 1 to ${MAX_MIN_COUNT}`);
  return value;
}

/**
 * Checks a policy input's content rules at the edge (`at`: the input's field path, e.g. "input");
 * throws BAD_USER_INPUT naming the bad field, e.g. `input.contentPatterns.0.regex`, and saying why.
 */
export function readContentRules(
  kind: string,
  patterns: readonly ContentPatternInput[] | null | undefined,
  lists: readonly KeywordListInput[] | null | undefined,
  at = 'input',
): ContentRules {
  const given = (patterns?.length ?? 0) + (lists?.length ?? 0);
  if (given > 0 && kind !== 'FILE')
    throw badInput(`${at}.${patterns?.length ? 'contentPatterns' : 'keywordLists'}`, 'content rules apply only to FILE policies');
  if ((patterns?.length ?? 0) > MAX_CONTENT_PATTERNS)
    throw badInput(`${at}.contentPatterns`, `must hold at most ${MAX_CONTENT_PATTERNS} patterns`);
  if ((lists?.length ?? 0) > MAX_KEYWORD_LISTS)
    throw badInput(`${at}.keywordLists`, `must hold at most ${MAX_KEYWORD_LISTS} keyword lists`);
  const names = new Set<string>();
  const contentPatterns = (patterns ?? []).map((p, i) => {
    const field = `${at}.contentPatterns.${i}`;
    const name = ruleName(p.name, `${field}.name`, names);
    if (p.regex.length === 0 || p.regex.length > MAX_PATTERN_LENGTH)
      throw badInput(`${field}.regex`, `must be 1 to ${MAX_PATTERN_LENGTH} characters`);
    const caseSensitive = p.caseSensitive ?? true;
    try {
      assertSafePattern(p.regex, !caseSensitive);
    } catch (error) {
      if (error instanceof UnsafePatternError) throw badInput(`${field}.regex`, error.message);
      throw error;
    }
    return { name, regex: p.regex, caseSensitive, minCount: minCount(p.minCount, `${field}.minCount`) };
  });
  const keywordLists = (lists ?? []).map((l, i) => {
    const field = `${at}.keywordLists.${i}`;
    const name = ruleName(l.name, `${field}.name`, names);
    if (l.words.length === 0 || l.words.length > MAX_WORDS) throw badInput(`${field}.words`, `must hold 1 to ${MAX_WORDS} words`);
    const words = l.words.map((w, j) => {
      const word = w.trim();
      if (word.length === 0 || word.length > MAX_WORD_LENGTH)
        throw badInput(`${field}.words.${j}`, `must be 1 to ${MAX_WORD_LENGTH} characters (spaces around it are dropped)`);
      return word;
    });
    return {
      name,
      words: [...new Set(words)],
      caseSensitive: l.caseSensitive ?? false,
      wholeWord: l.wholeWord ?? true,
      minCount: minCount(l.minCount, `${field}.minCount`),
    };
  });
  return { contentPatterns, keywordLists };
}

/** Whether a policy carries content rules. */
export const hasContentRules = (p: { readonly contentPatterns: readonly unknown[]; readonly keywordLists: readonly unknown[] }): boolean =>
  p.contentPatterns.length > 0 || p.keywordLists.length > 0;
