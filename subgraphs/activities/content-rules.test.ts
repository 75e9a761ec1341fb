import { GraphQLError } from 'graphql';
import { describe, expect, it } from 'vitest';
import { readContentRules } from './content-rules.js';

/** The BAD_USER_INPUT argument and message `readContentRules` throws, or 'ok'. */
function refusal(...args: Parameters<typeof readContentRules>): { argument: unknown; message: string } | 'ok' {
  try {
    readContentRules(...args);
    return 'ok';
  } catch (error) {
    expect(error).toBeInstanceOf(GraphQLError);
    const e = error as GraphQLError;
    expect(e.extensions.code).toBe('BAD_USER_INPUT');
    return { argument: e.extensions.argument, message: e.message };
  }
}

describe('readContentRules', () => {
  it('fills in the defaults and drops repeated words', () => {
    expect(
      readContentRules(
        'FILE',
        [{ name: ' Employee ids ', regex: 'EMP-\\d{6}' }],
        [{ name: 'Codenames', words: ['Falcon', ' Falcon ', 'Eagle'] }],
      ),
    ).toEqual({
      contentPatterns: [{ name: 'Employee ids', regex: 'EMP-\\d{6}', caseSensitive: true, minCount: 1 }],
      keywordLists: [{ name: 'Codenames', words: ['Falcon', 'Eagle'], caseSensitive: false, wholeWord: true, minCount: 1 }],
    });
    expect(readContentRules('ACTIVITY', null, undefined)).toEqual({ contentPatterns: [], keywordLists: [] });
  });

  it.each([
    [[{ name: 'x', regex: '(a+)+$' }], [], 'input.contentPatterns.0.regex', /nested quantifiers/],
    [
      [
        { name: 'ok', regex: 'a' },
        { name: 'y', regex: '(a|aa)*b' },
      ],
      [],
      'input.contentPatterns.1.regex',
      /alternatives/,
    ],
    [[{ name: 'x', regex: '(.*a){20}' }], [], 'input.contentPatterns.0.regex', /nested quantifiers/],
    [[{ name: 'x', regex: 'a'.repeat(501) }], [], 'input.contentPatterns.0.regex', /1 to 500 characters/],
    [[{ name: '', regex: 'a' }], [], 'input.contentPatterns.0.name', /1 to 100 characters/],
    [[{ name: 'x', regex: 'a', minCount: 0 }], [], 'input.contentPatterns.0.minCount', /from 1 to 1000000/],
    [Array.from({ length: 21 }, (_, i) => ({ name: `p${i}`, regex: 'a' })), [], 'input.contentPatterns', /at most 20/],
    [[{ name: 'same', regex: 'a' }], [{ name: 'same', words: ['b'] }], 'input.keywordLists.0.name', /names must be unique/],
    [[], [{ name: 'k', words: [] }], 'input.keywordLists.0.words', /1 to 1000 words/],
    [[], [{ name: 'k', words: ['ok', '  '] }], 'input.keywordLists.0.words.1', /1 to 100 characters/],
  ])('refuses %j %j naming %s', (patterns, lists, argument, message) => {
    const result = refusal('FILE', patterns, lists);
    expect(result).not.toBe('ok');
    if (result === 'ok') return;
    expect(result.argument).toBe(argument);
    expect(result.message).toMatch(message);
  });

  it('refuses content rules on other kinds of policy', () => {
    expect(refusal('ACTIVITY', [], [{ name: 'k', words: ['x'] }])).toMatchObject({
      argument: 'input.keywordLists',
      message: expect.stringMatching(/only to FILE policies/),
    });
  });
});
