import type { Knex } from '@mikro-orm/postgresql';

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
    const q = db(table).insert(rows.slice(i, i + chunk)).onConflict([...options.conflict]);
    const done = options.update.length > 0 ? q.merge([...options.update]) : q.ignore();
    const result = options.returning ? await done.returning([...options.returning]) : await done;
    if (options.returning) out.push(...(result as R[]));
  }
  return out;
}

/** A text[] literal for knex bindings (pg maps JS arrays to arrays already; this only copies). */
export function textArray(values: readonly string[] | undefined | null): string[] {
  return values ? [...values] : [];
}

/** Escapes `%`, `_` and `\` so a user's search text is matched literally inside ILIKE. */
export function likePattern(search: string): string {
  return `%${search.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}

/**
 * Marks deleted every live row of the instance that the finished full scan pass `pass` did not see
 * (the provider no longer lists it). Answers how many rows it marked.
 */
export async function markMissingDeleted(db: Knex, table: string, instanceId: string, pass: string): Promise<number> {
  return db(table)
    .where('instance_id', instanceId)
    .whereNull('deleted_at')
    .where((q) => q.whereNull('scan_pass').orWhereNot('scan_pass', pass))
    .update({ deleted_at: new Date() });
}
