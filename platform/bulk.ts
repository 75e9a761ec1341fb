import { createHash } from 'node:crypto';
import type { Knex } from '@mikro-orm/postgresql';
import type pg from 'pg';
import { copyRows, quoteIdentifier, type CopyValue } from './copy.js';

/** PostgreSQL accepts at most 65,535 bind parameters in one statement. */
const MAX_PARAMETERS = 65_000;

export type Row = Record<string, unknown>;

/**
 * Inserts `rows` into `table` with as few statements as PostgreSQL's parameter limit allows, and on a
 * conflict over `conflict` updates `update` columns (or does nothing when `update` is empty).
 * Returns the `returning` columns of every inserted or updated row.
 */
export async function upsertRows<R extends Row = Row>(
  db: Knex | Knex.Transaction,
  table: string,
  rows: readonly Row[],
  options: { conflict: readonly string[]; update: readonly string[]; returning?: readonly string[] },
): Promise<R[]> {
  if (rows.length === 0) return [];
  const perRow = Object.keys(rows[0]!).length;
  const chunk = Math.max(1, Math.floor(MAX_PARAMETERS / perRow));
  const out: R[] = [];
  for (let i = 0; i < rows.length; i += chunk) {
    const q = db(table)
      .insert(rows.slice(i, i + chunk))
      .onConflict([...options.conflict]);
    const done = options.update.length > 0 ? q.merge([...options.update]) : q.ignore();
    const result = options.returning ? await done.returning([...options.returning]) : await done;
    if (options.returning) out.push(...(result as R[]));
  }
  return out;
}

/**
 * Inserts `rows` (values in the order of `columns`) into `table`, skipping every row that conflicts
 * over `conflict` with a stored row or with an earlier one of `rows`, and returns the `returning`
 * columns of the rows it inserted. Columns not named get their defaults.
 *
 * The rows are streamed with COPY into a temporary table of the session (one per table and column
 * list, emptied at every commit), then moved by one `INSERT ... SELECT ... ON CONFLICT DO NOTHING`,
 * in one transaction (nested in `db` when it is one), in the order of the conflict key. Unlike a
 * multi-row INSERT, there is no statement text or bind parameter per value (nor their 65,535
 * limit) to build and parse: this stores audit events at about the rate of a plain COPY
 * (bench/ingest.bench.ts). Rejects with PostgreSQL's error, and nothing is inserted then.
 */
export async function insertNewRows<R extends Row = Row>(
  db: Knex | Knex.Transaction,
  table: string,
  columns: readonly string[],
  rows: Iterable<readonly CopyValue[]>,
  options: {
    conflict: readonly string[];
    returning: readonly string[];
    /** In the same statement, a row per inserted row into `table`: each of its columns from the named returned column. */
    alsoInto?: { readonly table: string; readonly columns: Readonly<Record<string, string>> };
  },
): Promise<R[]> {
  const staging = stagingTable(table, columns);
  const quotedStaging = quoteIdentifier(staging);
  const target = quoteIdentifier(table);
  const list = columns.map(quoteIdentifier).join(', ');
  return db.transaction(async (trx) => {
    await trx.raw(`create temp table if not exists ${quotedStaging} on commit delete rows as select ${list} from ${target} with no data`);
    // Inside a caller's transaction an earlier call's rows are still staged: only this call's go in.
    if (db.isTransaction) await trx.raw(`delete from ${quotedStaging}`);
    const copied = await copyRows(await driverConnection(trx), staging, columns, rows);
    if (copied === 0) return [];
    const conflict = options.conflict.map(quoteIdentifier).join(', ');
    // In the order of the conflict key: two calls storing some of the same rows at once then take
    // their locks in one order, and the later waits for the earlier instead of deadlocking with it.
    // Among rows of this call with the same key, the first staged (ctid: COPY appends) is kept.
    const insert = `insert into ${target} (${list}) select ${list} from ${quotedStaging} order by ${conflict}, ctid
       on conflict (${conflict}) do nothing`;
    const also = options.alsoInto;
    const returned = [...new Set([...options.returning, ...Object.values(also?.columns ?? {})])].map(quoteIdentifier).join(', ');
    const result = await trx.raw(
      also
        ? `with inserted as (${insert} returning ${returned}),
           also as (insert into ${quoteIdentifier(also.table)} (${Object.keys(also.columns).map(quoteIdentifier).join(', ')})
                    select ${Object.values(also.columns).map(quoteIdentifier).join(', ')} from inserted)
           select ${options.returning.map(quoteIdentifier).join(', ')} from inserted`
        : `${insert} returning ${returned}`,
    );
    return (result as { rows: R[] }).rows;
  });
}

const stagingTables = new Map<string, string>();

/**
 * The session's staging table for `table` and `columns`: the digest leads the name (PostgreSQL cuts names
 * at 63 bytes), so no two column lists share one.
 */
function stagingTable(table: string, columns: readonly string[]): string {
  const key = `${table}(${columns.join(',')})`;
  let name = stagingTables.get(key);
  if (name === undefined) {
    const digest = createHash('sha256').update(key).digest('hex').slice(0, 12);
    name = `pg_temp.${`staging_${digest}_${table.replace(/\W/g, '_')}`.slice(0, 63)}`;
    stagingTables.set(key, name);
  }
  return name;
}

/** The driver's connection under a knex transaction, through knex's own accessor (its types leave the client `any`). */
async function driverConnection(trx: Knex.Transaction): Promise<pg.ClientBase> {
  const client = trx.client as Knex.Client;
  return (await client.acquireConnection()) as pg.ClientBase;
}

/** A text[] literal for knex bindings (pg maps JS arrays to arrays already; this only copies). */
export function textArray(values: readonly string[] | undefined | null): string[] {
  return values ? [...values] : [];
}

/** Escapes `%`, `_` and `\` so a user's search text is matched literally inside ILIKE. */
export function likePattern(search: string): string {
  return `%${search.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}
