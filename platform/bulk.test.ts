import type { Knex } from '@mikro-orm/postgresql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freshDatabase } from '../test/harness.js';
import { insertNewRows } from './bulk.js';
import { openDatabase, type Database } from './database.js';

/** insertNewRows on a real PostgreSQL, through a module's knex as the services use it, on a table of its own. */

/** A module of its own: no entities, no migrations, a schema nobody else uses. */
const bulkTestModule = { schema: 'bulk_test', entities: [], migrations: [] };

let drop: () => Promise<void>;
let db: Database;
let knex: Knex;

beforeAll(async () => {
  const database = await freshDatabase();
  drop = database.drop;
  db = await openDatabase({ ...bulkTestModule, url: database.url, poolMax: 2 });
  knex = db.knex();
  await knex.raw(`create table bulk_item (key text primary key, label text not null, added_at timestamptz not null default now())`);
});

afterAll(async () => {
  await db?.close();
  await drop?.();
});

const insert = (db: Knex | Knex.Transaction, rows: [string, string][]) =>
  insertNewRows<{ key: string }>(db, 'public.bulk_item', ['key', 'label'], rows, { conflict: ['key'], returning: ['key'] });

describe('insertNewRows', () => {
  it('inserts the new rows, skips the known ones and fills the columns it was not given', async () => {
    expect(
      (
        await insert(knex, [
          ['a', 'A'],
          ['b', 'B'],
          ['a', 'A again'],
        ])
      )
        .map((r) => r.key)
        .sort(),
    ).toEqual(['a', 'b']);
    expect(
      (
        await insert(knex, [
          ['b', 'B again'],
          ['c', 'C'],
        ])
      ).map((r) => r.key),
    ).toEqual(['c']);
    const rows = await knex('bulk_item').select('key', 'label', 'added_at').orderBy('key');
    expect(rows.map((r) => [r.key, r.label])).toEqual([
      ['a', 'A'],
      ['b', 'B'],
      ['c', 'C'],
    ]);
    expect(rows.every((r) => Number.isFinite(Date.parse(String(r.added_at))))).toBe(true); // the driver answers text
  });

  it('inside a caller transaction, answers only the rows of each call, and a rollback keeps none', async () => {
    const rolledBack = knex.transaction(async (trx) => {
      expect((await insert(trx, [['t1', 'x']])).map((r) => r.key)).toEqual(['t1']);
      // Still staged until commit, t1 must not come back with the next call.
      await trx('bulk_item').where('key', 't1').delete();
      expect((await insert(trx, [['t2', 'y']])).map((r) => r.key)).toEqual(['t2']);
      expect((await trx('bulk_item').whereIn('key', ['t1', 't2'])).map((r) => r.key)).toEqual(['t2']);
      throw new Error('roll back');
    });
    await expect(rolledBack).rejects.toThrow('roll back');
    expect(await knex('bulk_item').whereIn('key', ['t1', 't2'])).toEqual([]);
  });

  it('keeps the first of rows with the same key in one call', async () => {
    expect(
      (
        await insert(knex, [
          ['f', 'first'],
          ['e', 'E'],
          ['f', 'second'],
          ['f', 'third'],
        ])
      )
        .map((r) => r.key)
        .sort(),
    ).toEqual(['e', 'f']);
    expect((await knex('bulk_item').where('key', 'f').first())?.label).toBe('first');
  });

  it('stores rows that two calls send at once in opposite orders exactly once, without a deadlock', async () => {
    for (let round = 0; round < 5; round++) {
      const rows = Array.from({ length: 2_000 }, (_, i): [string, string] => [`r${round}-${String(i).padStart(4, '0')}`, 'x']);
      const [a, b] = await Promise.all([insert(knex, rows), insert(knex, [...rows].reverse())]);
      expect(a.length + b.length).toBe(rows.length);
    }
    expect(Number((await knex('bulk_item').where('key', 'like', 'r%').count({ n: '*' }))[0]!.n)).toBe(10_000);
  });
});
