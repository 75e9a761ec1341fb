import { GraphQLError } from 'graphql';
import { describe, expect, it, vi } from 'vitest';
import { DEFAULT_PAGE_SIZE, encodeCursor, MAX_PAGE_SIZE, readPage, toConnection, type Ordering, type PageRequest } from './pagination.js';

const byTime: Ordering = {
  direction: 'desc',
  columns: [
    { column: 'occurred_at', type: 'timestamptz' },
    { column: 'id', type: 'uuid' },
  ],
};
const bySequence: Ordering = {
  direction: 'asc',
  columns: [
    { column: 'sequence', type: 'bigint' },
    { column: 'name', type: 'text' },
    { column: 'id', type: 'uuid' },
  ],
};

const ID_1 = '0b6f2c1e-6a55-4c36-9d1c-3f1f4f0a9e01';
const ID_2 = '0b6f2c1e-6a55-4c36-9d1c-3f1f4f0a9e02';
const ID_3 = '0b6f2c1e-6a55-4c36-9d1c-3f1f4f0a9e03';

interface ActivityRow {
  readonly id: string;
  readonly occurredAt: Date;
}
const activities: readonly ActivityRow[] = [
  { id: ID_3, occurredAt: new Date('2024-03-03T10:00:00.000Z') },
  { id: ID_2, occurredAt: new Date('2024-03-02T10:00:00.000Z') },
  { id: ID_1, occurredAt: new Date('2024-03-01T10:00:00.000Z') },
];

/** The error `fn` throws, which must be a GraphQLError. */
function thrownBy(fn: () => unknown): GraphQLError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(GraphQLError);
    return error as GraphQLError;
  }
  throw new Error('expected a throw');
}

function activityConnection(rows: readonly ActivityRow[], page: PageRequest, count = async () => rows.length) {
  return toConnection(
    rows,
    page,
    (row) => [row.occurredAt, row.id],
    (row) => row.id,
    count,
  );
}

describe('readPage', () => {
  it(`defaults first to ${DEFAULT_PAGE_SIZE} and has no cursor when after is absent or null`, () => {
    expect(DEFAULT_PAGE_SIZE).toBe(50);
    expect(readPage({}, byTime)).toEqual({ first: 50 });
    expect(readPage({ first: null, after: null }, byTime)).toEqual({ first: 50 });
  });

  it.each([0, 1, MAX_PAGE_SIZE])('accepts first = %d', (first) => {
    expect(readPage({ first }, byTime)).toEqual({ first });
  });

  it.each([MAX_PAGE_SIZE + 1, -1, 1.5, Number.NaN])('refuses first = %d with BAD_USER_INPUT naming "first"', (first) => {
    const error = thrownBy(() => readPage({ first }, byTime));
    expect(error.message).toMatch(/^Argument "first": must be between 0 and 500/);
    expect(error.extensions).toMatchObject({ code: 'BAD_USER_INPUT', argument: 'first' });
  });
});

describe('cursors', () => {
  it('round-trip a timestamp and uuid key from toConnection back through readPage', () => {
    const connection = activityConnection(activities, { first: 2 });
    expect(connection.edges.map((e) => e.node)).toEqual([ID_3, ID_2]);

    const next = readPage({ first: 2, after: connection.pageInfo.endCursor }, byTime);
    expect(next).toEqual({ first: 2, after: ['2024-03-02T10:00:00.000Z', ID_2], afterCursor: connection.pageInfo.endCursor });

    const fromFirstEdge = readPage({ after: connection.edges[0]!.cursor }, byTime);
    expect(fromFirstEdge.after).toEqual(['2024-03-03T10:00:00.000Z', ID_3]);
  });

  it('round-trip bigint (as a number) and text values', () => {
    const connection = toConnection(
      [{ sequence: 42n, name: 'Ünïcode, "quoted"', id: ID_1 }],
      { first: 5 },
      (row) => [row.sequence, row.name, row.id],
      (row) => row.id,
      async () => 1,
    );
    expect(readPage({ after: connection.pageInfo.endCursor }, bySequence).after).toEqual([42, 'Ünïcode, "quoted"', ID_1]);
  });

  it('are URL-safe base64 text', () => {
    const cursor = encodeCursor(['2024-03-02T10:00:00.000Z', ID_2]);
    expect(cursor).toMatch(/^[A-Za-z0-9_-]+$/);
  });

  const base64url = (text: string) => Buffer.from(text).toString('base64url');
  it.each([
    ['ISO 8601', '2024-03-02T10:00:00.000Z'],
    ["PostgreSQL's text form, with microseconds", '2024-03-02 10:00:00.123456+00'],
    ['an offset with minutes', '2024-03-02 10:00:00+05:30'],
  ])('accepts a timestamp in %s', (_case, timestamp) => {
    expect(readPage({ after: encodeCursor([timestamp, ID_2]) }, byTime).after).toEqual([timestamp, ID_2]);
  });

  it.each([
    ['the empty string', ''],
    ['not base64', '%%%not base64!%%%'],
    ['base64 of something that is not JSON', base64url('hello, world')],
    ['a JSON object instead of an array', base64url('{"id":"x"}')],
    ['too few values', encodeCursor(['2024-03-02T10:00:00.000Z'])],
    ['too many values', encodeCursor(['2024-03-02T10:00:00.000Z', ID_2, 'extra'])],
    ['a number where a timestamp belongs', encodeCursor([1709373600000, ID_2])],
    ['a number where a uuid belongs', encodeCursor(['2024-03-02T10:00:00.000Z', 7])],
    ['null values', base64url('[null, null]')],
    ['a bad date', encodeCursor(['yesterday-ish', ID_2])],
    ['a bad uuid', encodeCursor(['2024-03-02T10:00:00.000Z', 'not-a-uuid'])],
    ['a uuid of dashes', encodeCursor(['2024-03-02T10:00:00.000Z', '-'.repeat(36)])],
    ['a date JavaScript accepts but PostgreSQL does not', encodeCursor(['March 7', ID_2])],
    ['a bare number as a date', encodeCursor(['1', ID_2])],
    ['the 30th of February', encodeCursor(['2024-02-30T00:00:00Z', ID_2])],
  ])('refuses %s, naming "after"', (_case, after) => {
    const error = thrownBy(() => readPage({ first: 10, after }, byTime));
    expect(error.message).toMatch(/^Argument "after": malformed cursor/);
    expect(error.extensions).toMatchObject({ code: 'BAD_USER_INPUT', argument: 'after' });
  });

  it.each([
    ['a string where a bigint belongs', encodeCursor(['42', 'name', ID_1])],
    ['an infinite bigint', base64url(`[1e999, "name", "${ID_1}"]`)],
    ['a number where text belongs', encodeCursor([42, 7, ID_1])],
    ['a fraction where a bigint belongs', encodeCursor([1.5, 'name', ID_1])],
    ['a bigint past 2^53', encodeCursor([1e21, 'name', ID_1])],
  ])('refuses %s for a bigint/text ordering', (_case, after) => {
    const error = thrownBy(() => readPage({ after }, bySequence));
    expect(error.extensions).toMatchObject({ code: 'BAD_USER_INPUT', argument: 'after' });
  });
});

describe('toConnection', () => {
  it('reports a next page when more than first rows came back, ending at the last visible edge', () => {
    const connection = activityConnection(activities, { first: 2 });
    expect(connection.edges).toHaveLength(2);
    expect(connection.pageInfo).toEqual({
      hasNextPage: true,
      endCursor: connection.edges[1]!.cursor,
      hasPreviousPage: false,
      startCursor: connection.edges[0]!.cursor,
    });
  });

  it('reports no next page when first or fewer rows came back', () => {
    const exact = activityConnection(activities, { first: 3 });
    expect(exact.edges).toHaveLength(3);
    expect(exact.pageInfo).toMatchObject({ hasNextPage: false, endCursor: exact.edges[2]!.cursor });

    const fewer = activityConnection(activities.slice(0, 1), { first: 3 });
    expect(fewer.pageInfo).toMatchObject({ hasNextPage: false, endCursor: fewer.edges[0]!.cursor });
  });

  it('answers an empty page with truthful pageInfo: whether items follow, and the position it was asked at', () => {
    expect(activityConnection([], { first: 10 }).pageInfo).toEqual({
      hasNextPage: false,
      endCursor: null,
      hasPreviousPage: false,
      startCursor: null,
    });
    const zero = activityConnection(activities, { first: 0 });
    expect(zero.edges).toEqual([]);
    expect(zero.pageInfo).toEqual({ hasNextPage: true, endCursor: null, hasPreviousPage: false, startCursor: null });
    // Asked after a cursor: that position, so that `after: endCursor` goes on from it.
    const first = activityConnection(activities, { first: 1 });
    const cursor = first.edges[0]!.cursor;
    const page = readPage({ first: 0, after: cursor }, byTime);
    const rest = activityConnection(activities.slice(1), page);
    expect(rest.pageInfo).toEqual({ hasNextPage: true, endCursor: cursor, hasPreviousPage: true, startCursor: cursor });
    const next = activityConnection(activities.slice(1), readPage({ first: 1, after: cursor }, byTime));
    expect(next.pageInfo).toMatchObject({ hasPreviousPage: true, startCursor: next.edges[0]!.cursor });
  });

  it('runs the count only when totalCount is read, and only once', async () => {
    const count = vi.fn(async () => 1234);
    const connection = activityConnection(activities, { first: 2 }, count);
    expect(count).not.toHaveBeenCalled();

    const first = connection.totalCount;
    const second = connection.totalCount;
    expect(count).toHaveBeenCalledTimes(1);
    expect(second).toBe(first);
    await expect(first).resolves.toBe(1234);
  });
});
