import { describe, expect, it } from 'vitest';
import { assertSafePattern, UnsafePatternError } from './regex-safety.js';

/** Why a pattern is refused, or 'ok'. */
function verdict(pattern: string, ignoreCase = false): string {
  try {
    assertSafePattern(pattern, ignoreCase);
    return 'ok';
  } catch (error) {
    expect(error).toBeInstanceOf(UnsafePatternError);
    return (error as Error).message;
  }
}

describe('assertSafePattern', () => {
  it.each([
    'AKIA[0-9A-Z]{16}',
    '\\bproject\\s+(falcon|eagle)\\b',
    '[\\w.+-]+@[\\w-]+\\.[\\w.]+',
    '(?:\\d{1,3}\\.){3}\\d{1,3}',
    '\\b[A-Z]{2}\\d{2}[A-Z0-9]{10,30}\\b',
    '(a|b)*c',
    '(?<name>ab)+',
    '(?<![A-Z])EMP-\\d{6}(?!\\d)',
    '\\p{Lu}\\p{Ll}+ corp',
    'x{0,100}y+',
    '\\u{1F600}',
    '[^\\n]{1,80}@example\\.com',
  ])('accepts %s', (pattern) => {
    expect(verdict(pattern)).toBe('ok');
  });

  it.each([
    ['(a+)+$', /nested quantifiers \("\+" inside a group repeated "\+"\)/],
    ['(a*)*b', /nested quantifiers/],
    ['(.*a){20}', /nested quantifiers \("\*" inside a group repeated "\{20\}"\)/],
    ['(x{1,10}){10}', /nested quantifiers/],
    ['(a|aa)*b', /alternatives 1 and 2 of a group repeated "\*" can start with the same character/],
    ['(\\w|\\d)+', /alternatives 1 and 2/],
    ['(a|)+b', /or be empty/],
    ['\\d+\\d+', /two unbounded quantifiers/],
    ['.*foo.*', /two unbounded quantifiers/],
    ['(a+)(a+)', /two unbounded quantifiers/],
    ['\\w+_\\w+', /two unbounded quantifiers/],
    ['(a)\\1', /back-references \(\\1\)/],
    ['(?<x>a)\\k<x>', /back-references \(\\k<name>\)/],
    ['(?<=a+)b', /quantifier inside a lookaround/],
    ['a{2000}', /bounds above 1000/],
    ['a*', /can match empty text/],
    ['(?:x|y?)', /can match empty text/],
    ['a++', /not a valid regular expression \(.*Nothing to repeat\)/],
    ['(abc', /not a valid regular expression/],
    ['\\q', /not a valid regular expression|unknown escape/],
  ])('refuses %s', (pattern, why) => {
    expect(verdict(pattern)).toMatch(why);
  });

  it('folds case before looking for overlaps when matching ignores case', () => {
    expect(verdict('(A|a)b')).toBe('ok');
    expect(verdict('(A|ab)+')).toBe('ok');
    expect(verdict('(A|ab)+', true)).toMatch(/alternatives 1 and 2/);
  });

  it('refuses quickly even the longest hostile pattern it could be sent', () => {
    const hostile = '(a+)+'.repeat(100);
    const start = process.hrtime.bigint();
    expect(verdict(hostile)).toMatch(/nested quantifiers/);
    // A guard against a checker that itself explodes, with a wide margin (not a performance measure).
    expect(Number(process.hrtime.bigint() - start) / 1e6).toBeLessThan(2000);
  });
});
