import { Entity, PrimaryKey, Property } from '@mikro-orm/postgresql';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { freshDatabase } from '../test/harness.js';
import { openDatabase, type Database } from './database.js';
import { ProviderMirror, type MirrorTable } from './mirror.js';
import { countsByParent, readPage, type Ordering } from './pagination.js';

/** A provider-mirrored table of its own, as the services' tables are: provider id, owner, soft delete, scan pass. */
@Entity({ tableName: 'item', schema: 'mirror_test' })
class Item {
  @PrimaryKey({ type: 'uuid' })
  id!: string;

  @Property({ type: 'uuid' })
  instanceId!: string;

  @Property({ type: 'text' })
  externalId!: string;

  @Property({ type: 'text' })
  name!: string;

  @Property({ type: 'uuid', nullable: true })
  owner!: string | null;

  @Property({ type: 'text' })
  note!: string;

  @Property({ type: 'timestamptz' })
  updatedAt!: Date;

  @Property({ type: 'timestamptz', nullable: true })
  deletedAt!: Date | null;

  @Property({ type: 'text', nullable: true })
  scanPass!: string | null;
}

const ORDER: Ordering = {
  direction: 'asc',
  columns: [
    { column: 'name', type: 'text' },
    { column: 'id', type: 'uuid' },
  ],
};
const ITEMS: MirrorTable<Item> = {
  table: 'mirror_test.item',
  entity: Item,
  alias: 'i',
  ordering: ORDER,
  sortKey: (r) => [r.name as string, r.id as string],
  updatable: ['name', 'owner'],
};
const ALPHA = '00000000-0000-4000-8000-00000000000a';
const BETA = '00000000-0000-4000-8000-00000000000b';
const O1 = '00000000-0000-4000-8000-000000000001';
const O2 = '00000000-0000-4000-8000-000000000002';
const O3 = '00000000-0000-4000-8000-000000000003';

let drop: () => Promise<void>;
let db: Database;
const mirror = () => new ProviderMirror(db.fork(), ITEMS);
const item = (externalId: string, name: string, owner: string | null = null) => ({ external_id: externalId, name, owner, note: 'first' });

beforeAll(async () => {
  const database = await freshDatabase();
  drop = database.drop;
  db = await openDatabase({ schema: 'mirror_test', entities: [Item], migrations: [], url: database.url, poolMax: 2 });
  await db.knex().raw(`create table mirror_test.item (
    id uuid primary key, instance_id uuid not null, external_id text not null, name text not null, owner uuid,
    note text not null, updated_at timestamptz not null, deleted_at timestamptz, scan_pass text,
    unique (instance_id, external_id))`);
});

beforeEach(async () => {
  await db.knex().raw('truncate mirror_test.item');
});

afterAll(async () => {
  await db?.close();
  await drop?.();
});

describe('ProviderMirror', () => {
  it('upserts by instance and provider id: the same provider id in two instances is two rows, a repeat updates only what may change', async () => {
    const first = await mirror().upsert(ALPHA, [item('u1', 'Ann'), item('u2', 'Bob')], 'p1');
    const beta = await mirror().upsert(BETA, [item('u1', 'Ann elsewhere')], 'p1');
    expect(first.size).toBe(2);
    expect(beta.get('u1')).not.toBe(first.get('u1'));
    const again = await mirror().upsert(ALPHA, [{ ...item('u1', 'Ann B.', O1), note: 'second' }], 'p2');
    expect(again.get('u1')).toBe(first.get('u1'));
    const [ann] = await mirror().byIds([first.get('u1')!]);
    expect(ann).toMatchObject({ externalId: 'u1', name: 'Ann B.', owner: O1, note: 'first', scanPass: 'p2', deletedAt: null });
    expect(ann).toBeInstanceOf(Item);
  });

  it('marks deleted what a finished full listing did not see, in that instance only, and brings a row back when it is listed again', async () => {
    const ids = await mirror().upsert(ALPHA, [item('u1', 'Ann'), item('u2', 'Bob'), item('u3', 'Cy')], 'p1');
    await mirror().upsert(BETA, [item('u9', 'Zed')], 'p0');
    await mirror().upsert(ALPHA, [item('u1', 'Ann'), item('u3', 'Cy')], 'p2');
    expect(await mirror().markMissingFrom(ALPHA, 'p2')).toBe(1);
    const rows = await mirror().byIds([...ids.values()]);
    expect(rows.filter((r) => r.deletedAt !== null).map((r) => r.externalId)).toEqual(['u2']);
    expect(
      (await mirror().list(() => mirror().from().where('i.instance_id', BETA).whereNull('i.deleted_at'), { first: 10 })).edges,
    ).toHaveLength(1);
    await mirror().upsert(ALPHA, [item('u2', 'Bob')], null);
    expect((await mirror().byIds([ids.get('u2')!]))[0]!.deletedAt).toBeNull();
  });

  it('marks deleted the provider ids a change feed names, and looks ids up by provider id', async () => {
    const ids = await mirror().upsert(ALPHA, [item('u1', 'Ann'), item('u2', 'Bob')], null);
    expect(await mirror().markDeleted(ALPHA, [])).toBe(0);
    expect(await mirror().markDeleted(BETA, ['u1'])).toBe(0);
    expect(await mirror().markDeleted(ALPHA, ['u1', 'unknown'])).toBe(1);
    expect(await mirror().markDeleted(ALPHA, ['u1'])).toBe(0);
    expect(await mirror().idsByExternalId(ALPHA, ['u2', 'u1', 'unknown'])).toEqual(
      new Map([
        ['u2', ids.get('u2')],
        ['u1', ids.get('u1')],
      ]),
    );
    expect(await mirror().idsByExternalId(ALPHA, [])).toEqual(new Map());
  });

  it('lists in keyset pages with a cursor and a total counted only when asked', async () => {
    await mirror().upsert(
      ALPHA,
      ['d', 'a', 'c', 'b', 'e'].map((n) => item(`x-${n}`, n)),
      null,
    );
    const base = () => mirror().from().where('i.instance_id', ALPHA);
    const one = await mirror().list(base, readPage({ first: 2 }, ORDER));
    expect(one.edges.map((e) => e.node.name)).toEqual(['a', 'b']);
    expect(one.pageInfo.hasNextPage).toBe(true);
    const two = await mirror().list(base, readPage({ first: 10, after: one.pageInfo.endCursor }, ORDER));
    expect(two.edges.map((e) => e.node.name)).toEqual(['c', 'd', 'e']);
    expect(two.pageInfo.hasNextPage).toBe(false);
    expect(await two.totalCount).toBe(5);
  });

  it('lists one page per parent in one statement, with totals per parent counted once when asked', async () => {
    await mirror().upsert(ALPHA, [item('1', 'a', O1), item('2', 'b', O1), item('3', 'c', O1), item('4', 'd', O2)], null);
    const m = mirror();
    const before = db.sqlStatements();
    const pages = await m.listByParent(
      [O1, O2, O3],
      { first: 2 },
      (parent) => m.from().select('i.*').where('i.owner', parent),
      () => countsByParent(m.from(), 'i.owner', [O1, O2, O3]),
    );
    expect(db.sqlStatements() - before).toBe(1);
    expect([O1, O2, O3].map((o) => pages.get(o)!.edges.map((e) => e.node.name))).toEqual([['a', 'b'], ['d'], []]);
    expect([O1, O2, O3].map((o) => pages.get(o)!.pageInfo.hasNextPage)).toEqual([true, false, false]);
    expect(await Promise.all([O1, O2, O3].map((o) => pages.get(o)!.totalCount))).toEqual([3, 1, 0]);
    expect(db.sqlStatements() - before).toBe(2);
  });
});
