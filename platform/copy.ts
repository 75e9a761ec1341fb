import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';

/**
 * A value COPY's text format can carry as is. JSON goes in as its text (`JSON.stringify`), so a
 * jsonb column is parsed once, by PostgreSQL; arrays and other composite values are not supported.
 */
export type CopyValue = string | number | bigint | boolean | Date | null;

/** About 64 KB of COPY text per CopyData message: large enough to be cheap, small enough to stream. */
const CHUNK_CHARACTERS = 64 * 1024;

const SPECIAL = /[\\\t\n\r]/;
const SPECIALS = /[\\\t\n\r]/g;
const ESCAPES: Readonly<Record<string, string>> = { '\\': '\\\\', '\t': '\\t', '\n': '\\n', '\r': '\\r' };

/**
 * One field in COPY's text format (https://www.postgresql.org/docs/current/sql-copy.html#SQL-COPY-FILE-FORMATS-TEXT):
 * `\N` for null, dates in ISO 8601 UTC, booleans as `t`/`f`, and in strings a backslash escape for
 * what would end a field or a row (most strings have none, and are tested before any replace).
 */
export function copyField(value: CopyValue): string {
  if (value === null) return '\\N';
  if (typeof value === 'string') return SPECIAL.test(value) ? value.replace(SPECIALS, (c) => ESCAPES[c]!) : value;
  if (value instanceof Date) return value.toISOString();
  if (typeof value === 'boolean') return value ? 't' : 'f';
  return String(value);
}

/** The rows as COPY text, a chunk at a time, encoded only when the stream asks for more. */
function* copyChunks(rows: Iterable<readonly CopyValue[]>): Generator<Buffer> {
  let chunk = '';
  for (const row of rows) {
    let line = '';
    for (let i = 0; i < row.length; i++) line += (i === 0 ? '' : '\t') + copyField(row[i]!);
    chunk += `${line}\n`;
    if (chunk.length >= CHUNK_CHARACTERS) {
      yield Buffer.from(chunk, 'utf8');
      chunk = '';
    }
  }
  if (chunk.length > 0) yield Buffer.from(chunk, 'utf8');
}

/** `schema.table` or `column` as a quoted identifier (our own names; a `"` in one is refused). */
export function quoteIdentifier(name: string): string {
  if (name.includes('"')) throw new Error(`identifier ${name} contains a double quote`);
  return name
    .split('.')
    .map((part) => `"${part}"`)
    .join('.');
}

/**
 * Sends `rows` (values in the order of `columns`) with `COPY table (columns) FROM STDIN` on
 * `connection`, which must not be running another query. Rows are encoded while PostgreSQL reads
 * the ones already sent, so the two overlap. Resolves with the number of rows copied; rejects with
 * PostgreSQL's error (nothing is copied then, as COPY is one statement).
 */
export async function copyRows(
  connection: pg.ClientBase,
  table: string,
  columns: readonly string[],
  rows: Iterable<readonly CopyValue[]>,
): Promise<number> {
  const copy = connection.query(copyFrom(`copy ${quoteIdentifier(table)} (${columns.map(quoteIdentifier).join(', ')}) from stdin`));
  await pipeline(Readable.from(copyChunks(rows), { objectMode: false }), copy);
  return copy.rowCount;
}
