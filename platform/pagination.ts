import type { Knex } from '@mikro-orm/postgresql';
import { type ClassType, Directive, Field, Int, ObjectType } from 'type-graphql';
import { badInput } from './errors.js';

/** Largest page a client may ask for (API.md). */
export const MAX_PAGE_SIZE = 500;
/** Page size when `first` is omitted. */
export const DEFAULT_PAGE_SIZE = 50;

@ObjectType({ description: 'Where a page of a connection starts and ends.' })
@Directive('@shareable')
export class PageInfo {
  @Field({ description: 'Whether items follow this page: ask again with `after: endCursor`.' })
  hasNextPage!: boolean;

  @Field(() => String, {
    nullable: true,
    description: 'Where the next page starts: the last edge’s cursor, or with no edges the `after` given (null: the beginning).',
  })
  endCursor!: string | null;

  @Field({ description: 'Whether items come before this page (it starts after a cursor).' })
  hasPreviousPage!: boolean;

  @Field(() => String, { nullable: true, description: 'The first edge’s cursor, or with no edges the same as `endCursor`.' })
  startCursor!: string | null;
}

/** The `first` argument of every connection: its bounds and default, stated in the schema. */
export const FIRST_ARG = {
  nullable: true,
  defaultValue: DEFAULT_PAGE_SIZE,
  description: `How many items, 0 to ${MAX_PAGE_SIZE} (default ${DEFAULT_PAGE_SIZE}); 0 answers only totalCount and pageInfo.`,
} as const;

/** The `after` argument of every connection. */
export const AFTER_ARG = {
  nullable: true,
  description: 'Start after this cursor (a `pageInfo.endCursor` or an edge’s `cursor` of the same connection); absent: from the beginning.',
} as const;

export interface Edge<T> {
  readonly cursor: string;
  readonly node: T;
}

/** A Relay connection; `totalCount` is computed only when a client selects it. */
export interface Connection<T> {
  readonly edges: readonly Edge<T>[];
  readonly pageInfo: PageInfo;
  readonly totalCount: number | Promise<number>;
}

/**
 * Declares `<Name>Edge` and `<Name>Connection` object types for `node`; `items` names the nodes in
 * the schema's descriptions ("accounts"). A subclass that names the connection describes it itself.
 */
export function connectionType<T extends object>(node: ClassType<T>, name: string, items: string): ClassType<Connection<T>> {
  @ObjectType(`${name}Edge`, { description: `One of a page's ${items}, with its cursor.` })
  class EdgeType {
    @Field({ description: 'Where this item is: pass it as `after` for the items that follow it.' })
    cursor!: string;

    @Field(() => node, { description: `The item: one of the ${items}.` })
    node!: T;
  }

  @ObjectType(`${name}Connection`, { description: `A page of ${items}, with where it starts and ends and how many match in all.` })
  class ConnectionType {
    @Field(() => [EdgeType], { description: "This page's items, in the list's order, each with its cursor." })
    edges!: EdgeType[];

    @Field(() => PageInfo, { description: 'Where this page starts and ends, and whether more items follow.' })
    pageInfo!: PageInfo;

    @Field(() => Int, { description: 'How many items match, over all pages.' })
    totalCount!: number;
  }
  return ConnectionType as unknown as ClassType<Connection<T>>;
}

/** The SQL type of one sort column, used to cast the cursor's values. */
export type SortColumnType = 'timestamptz' | 'text' | 'uuid' | 'bigint';

/** A keyset order: every column in the same direction, the last one unique (the id). */
export interface Ordering {
  readonly direction: 'asc' | 'desc';
  readonly columns: readonly { readonly column: string; readonly type: SortColumnType }[];
}

/** A validated page request: how many rows, and the sort key of the row to start after. */
export interface PageRequest {
  readonly first: number;
  readonly after?: readonly (string | number)[];
  /** `after` as the client sent it. */
  readonly afterCursor?: string;
}

export interface PageArgs {
  first?: number | null;
  after?: string | null;
}

/** Checks `first` and decodes `after` for `ordering`; throws BAD_USER_INPUT naming the argument. */
export function readPage(args: PageArgs, ordering: Ordering): PageRequest {
  const first = args.first ?? DEFAULT_PAGE_SIZE;
  if (!Number.isInteger(first) || first < 0 || first > MAX_PAGE_SIZE) {
    throw badInput('first', `must be between 0 and ${MAX_PAGE_SIZE}, got ${first}`);
  }
  if (args.after === null || args.after === undefined) return { first };
  return { first, after: decodeCursor(args.after, ordering), afterCursor: args.after };
}

export function encodeCursor(values: readonly (string | number)[]): string {
  return Buffer.from(JSON.stringify(values)).toString('base64url');
}

function decodeCursor(cursor: string, ordering: Ordering): (string | number)[] {
  const malformed = () => badInput('after', 'malformed cursor: pass the endCursor or an edge cursor of this connection');
  let values: unknown;
  try {
    values = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw malformed();
  }
  if (!Array.isArray(values) || values.length !== ordering.columns.length) throw malformed();
  ordering.columns.forEach(({ type }, i) => {
    if (!validCursorValue(type, values[i])) throw malformed();
  });
  return values as (string | number)[];
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** ISO 8601 or PostgreSQL's own text form, as cursors carry it (microseconds kept). */
const TIMESTAMP = /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2}):(\d{2})(\.\d{1,6})?(Z|[+-]\d{2}(:?\d{2})?)$/;

/** Whether a decoded cursor value is one PostgreSQL will accept for a column of `type`. */
function validCursorValue(type: SortColumnType, value: unknown): boolean {
  switch (type) {
    case 'bigint':
      return typeof value === 'number' && Number.isSafeInteger(value);
    case 'uuid':
      return typeof value === 'string' && UUID.test(value);
    case 'text':
      return typeof value === 'string' && !value.includes('\0');
    case 'timestamptz': {
      const m = typeof value === 'string' ? TIMESTAMP.exec(value) : null;
      if (!m) return false;
      const [y, mo, d, h, mi, s] = m.slice(1, 7).map(Number) as [number, number, number, number, number, number];
      const date = new Date(Date.UTC(y, mo - 1, d));
      return date.getUTCFullYear() === y && date.getUTCMonth() === mo - 1 && date.getUTCDate() === d && h < 24 && mi < 60 && s < 60;
    }
    default: {
      const unknown: never = type;
      return unknown;
    }
  }
}

/** Adds the keyset condition, the order and `limit first + 1` (to learn hasNextPage). */
export function applyKeyset<Q extends Knex.QueryBuilder>(qb: Q, alias: string, ordering: Ordering, page: PageRequest): Q {
  const cols = ordering.columns.map((c) => `${alias}.${c.column}`);
  if (page.after) {
    const op = ordering.direction === 'asc' ? '>' : '<';
    const params = ordering.columns.map((c) => `?::${c.type}`).join(', ');
    qb.whereRaw(`(${cols.join(', ')}) ${op} (${params})`, [...page.after]);
  }
  for (const col of cols) qb.orderBy(col, ordering.direction);
  return qb.limit(page.first + 1) as Q;
}

/** A sort column's value as a row carries it. */
export type SortValue = string | number | Date | bigint;

/**
 * Turns up to `first + 1` ordered rows into a connection. `sortKey` gives a row's values for the
 * ordering's columns (timestamps as PostgreSQL's text, which keeps the microseconds a JS Date would
 * drop and a keyset needs); `count` runs only if the client selects totalCount.
 */
export function toConnection<R, N>(
  rows: readonly R[],
  page: PageRequest,
  sortKey: (row: R) => readonly SortValue[],
  toNode: (row: R) => N,
  count: () => Promise<number>,
): Connection<N> {
  const visible = rows.slice(0, page.first);
  const edges = visible.map((row) => ({
    cursor: encodeCursor(sortKey(row).map((v) => (v instanceof Date ? v.toISOString() : typeof v === 'bigint' ? Number(v) : v))),
    node: toNode(row),
  }));
  let total: Promise<number> | undefined;
  return {
    edges,
    pageInfo: {
      hasNextPage: rows.length > page.first,
      endCursor: edges.at(-1)?.cursor ?? page.afterCursor ?? null,
      hasPreviousPage: page.after !== undefined,
      startCursor: edges[0]?.cursor ?? page.afterCursor ?? null,
    },
    get totalCount() {
      return (total ??= count());
    },
  };
}

/**
 * One page per parent in a single statement (a LATERAL join over the parent ids), for per-parent
 * lists such as `Account.activities`: `build(parent)` returns the rows of one parent, with `parent`
 * standing for its id. Answers the rows of each parent id, in the ordering's order.
 */
export async function pagesByParent<R extends Record<string, unknown>>(
  knex: Knex,
  parentIds: readonly string[],
  alias: string,
  ordering: Ordering,
  page: PageRequest,
  build: (parent: Knex.Ref<string, { [K in string]: string }>) => Knex.QueryBuilder,
): Promise<Map<string, R[]>> {
  const byParent = new Map<string, R[]>(parentIds.map((id) => [id, []]));
  if (parentIds.length === 0) return byParent;
  const inner = applyKeyset(build(knex.ref('tw_parents.parent_id')), alias, ordering, page);
  const rows: (R & { __parent: string })[] = await knex
    .select('tw_page.*', 'tw_parents.parent_id as __parent')
    .fromRaw(knex.raw('unnest(?::uuid[]) as tw_parents(parent_id)', [[...parentIds]]))
    .joinRaw('cross join lateral (?) as tw_page', [inner as unknown as Knex.Raw]);
  for (const { __parent, ...row } of rows) byParent.get(__parent)?.push(row as unknown as R);
  return byParent;
}

/** `select <column>, count(*) ... group by <column>` for the parents, as a map (0 when absent). */
export async function countsByParent(query: Knex.QueryBuilder, column: string, parentIds: readonly string[]): Promise<Map<string, number>> {
  const rows: { parent: string; n: string | number }[] = await query
    .clearSelect()
    .clearOrder()
    .select(`${column} as parent`)
    .count('* as n')
    .whereIn(column, [...parentIds])
    .groupBy(column);
  const counts = new Map(parentIds.map((id) => [id, 0]));
  for (const { parent, n } of rows) counts.set(parent, Number(n));
  return counts;
}

/** `count(*)` of a filtered query. */
export async function countRows(query: Knex.QueryBuilder): Promise<number> {
  const [row] = await query.clearSelect().clearOrder().count('* as n');
  return Number((row as { n: string | number } | undefined)?.n ?? 0);
}

/**
 * Turns {@link pagesByParent}'s rows into one connection per parent; `counts` (one grouped count
 * over all the parents) runs once, and only if some parent's totalCount is selected.
 */
export function connectionsByParent<R, N>(
  pages: ReadonlyMap<string, readonly R[]>,
  page: PageRequest,
  sortKey: (row: R) => readonly SortValue[],
  toNode: (row: R) => N,
  counts: () => Promise<Map<string, number>>,
): Map<string, Connection<N>> {
  let totals: Promise<Map<string, number>> | undefined;
  const out = new Map<string, Connection<N>>();
  for (const [parentId, rows] of pages) {
    out.set(
      parentId,
      toConnection(rows, page, sortKey, toNode, async () => (await (totals ??= counts())).get(parentId) ?? 0),
    );
  }
  return out;
}
