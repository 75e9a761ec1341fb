import { describe, expect, it } from 'vitest';
import { MAX_EVENT_CURSOR, parseEventCursor } from './event-cursor.js';
import { encodeCursor } from './pagination.js';

describe('parseEventCursor', () => {
  it('reads the decimal cursor an event carries, from 0 to the largest bigint, and nothing for a missing one', () => {
    expect(parseEventCursor('0')).toBe(0n);
    expect(parseEventCursor('42')).toBe(42n);
    expect(parseEventCursor(String(MAX_EVENT_CURSOR))).toBe(MAX_EVENT_CURSOR);
    expect(parseEventCursor(null)).toBeUndefined();
    expect(parseEventCursor(undefined)).toBeUndefined();
  });

  it.each([
    ['a word', 'abc'],
    ['a negative number', '-1'],
    ['a list cursor', encodeCursor(['2025-01-01T00:00:00.000Z', 'c0ffee00-0000-4000-8000-000000000000'])],
    ['a number past the bigint', String(MAX_EVENT_CURSOR + 1n)],
    ['an empty string', ''],
    ['a number with a sign', '+1'],
    ['a number with spaces', ' 1'],
    ['a number', 5],
    ['a list', ['1']],
  ])('refuses %s with BAD_USER_INPUT naming `after`', (_case, after) => {
    expect(() => parseEventCursor(after)).toThrowError(
      expect.objectContaining({ extensions: { code: 'BAD_USER_INPUT', argument: 'after' } }),
    );
  });

  it('quotes at most 64 characters of what it refuses', () => {
    const error = (() => {
      try {
        parseEventCursor('7'.repeat(10_000));
      } catch (caught) {
        return caught as Error;
      }
    })();
    expect(error?.message).toMatch(/^Argument "after": "7{64}\.\.\." is not an event cursor/);
    expect(error!.message.length).toBeLessThan(300);
  });
});
