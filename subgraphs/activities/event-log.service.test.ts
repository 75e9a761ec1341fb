import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freshDatabase } from '../../test/harness.js';
import { openDatabase, type Database } from '../../platform/database.js';
import { newId } from '../../platform/ids.js';
import { EventKind } from './event-log.entity.js';
import { EVENT_LOG_CHANNEL, EventLogService } from './event-log.service.js';
import { activitiesModule } from './module.js';

/** EventLogService.append on a real PostgreSQL: what it stores and notifies, and that cursors follow commit order. */

let drop: () => Promise<void>;
let databaseUrl: string;
let db: Database;

beforeAll(async () => {
  const database = await freshDatabase();
  drop = database.drop;
  databaseUrl = database.url;
  db = await openDatabase({ ...activitiesModule, url: database.url, poolMax: 4 });
});

afterAll(async () => {
  await db?.close();
  await drop?.();
});

const entry = (n: number) => ({ kind: EventKind.DETECTION, entityId: newId(), instanceId: newId(), attributes: { n, note: 'é"\'' } });

/** Resolves with `promise`'s value, or 'pending' if it has not settled after `turns` round trips to PostgreSQL. */
async function settledWithin<T>(promise: Promise<T>, probe: () => Promise<unknown>, turns: number): Promise<T | 'pending'> {
  let settled = false;
  let value: T | undefined;
  void promise.then((v) => {
    settled = true;
    value = v;
  });
  for (let i = 0; i < turns && !settled; i++) await probe();
  return settled ? value! : 'pending';
}

describe('EventLogService.append', () => {
  it('stores the entry, answers it with its cursor and notifies the cursor at commit, not before', async () => {
    const listener = new pg.Client({ connectionString: databaseUrl });
    await listener.connect();
    try {
      const notified: string[] = [];
      listener.on('notification', (message) => {
        if (message.channel === EVENT_LOG_CHANNEL && message.payload) notified.push(message.payload);
      });
      await listener.query(`LISTEN ${EVENT_LOG_CHANNEL}`);
      const log = new EventLogService(db.knex());
      const sent = entry(1);
      let answered: Awaited<ReturnType<EventLogService['append']>> | undefined;
      await db.knex().transaction(async (trx) => {
        answered = await log.append(trx, sent);
        // A round trip on the listener's own connection delivers any notification already sent.
        await listener.query('select 1');
        expect(notified).toEqual([]);
      });
      expect(answered).toMatchObject({
        kind: sent.kind,
        entityId: sent.entityId,
        instanceId: sent.instanceId,
        attributes: sent.attributes,
      });
      expect(answered!.cursor).toMatch(/^\d+$/);
      expect(answered!.createdAt).toBeInstanceOf(Date);
      const deadline = Date.now() + 5_000;
      while (notified.length === 0 && Date.now() < deadline) await listener.query('select 1');
      expect(notified).toEqual([answered!.cursor]);
      expect(await log.after(String(BigInt(answered!.cursor) - 1n))).toEqual([answered]);
    } finally {
      await listener.end();
    }
  });

  it('draws cursors in commit order: an append waits for an uncommitted one and gets the next cursor', async () => {
    const knex = db.knex();
    const log = new EventLogService(knex);
    const first = await knex.transaction();
    const firstEntry = await log.append(first, entry(2));
    const second = knex.transaction(async (trx) => log.append(trx, entry(3)));
    // While the first transaction is open, the second append waits on the lock without drawing a cursor.
    expect(await settledWithin(second, () => knex.raw('select 1'), 20)).toBe('pending');
    expect(await log.after(String(BigInt(firstEntry.cursor) - 1n))).toEqual([]);
    await first.commit();
    const secondEntry = await second;
    expect(BigInt(secondEntry.cursor)).toBeGreaterThan(BigInt(firstEntry.cursor));
    expect((await log.after(String(BigInt(firstEntry.cursor) - 1n))).map((e) => e.cursor)).toEqual([firstEntry.cursor, secondEntry.cursor]);
  });

  it('keeps the lock until the transaction ends: appends from many transactions at once commit in cursor order', async () => {
    const knex = db.knex();
    const log = new EventLogService(knex);
    const before = await log.latest();
    const committed: string[] = [];
    await Promise.all(
      Array.from({ length: 40 }, (_, n) =>
        knex
          .transaction(async (trx) => {
            const appended = await log.append(trx, entry(100 + n));
            // Work after the append, inside the transaction, as a detection's own writes would be.
            await trx('activities.event_log').count({ n: '*' });
            return appended.cursor;
          })
          .then((cursor) => committed.push(cursor)),
      ),
    );
    const stored = (await log.after(before, 100)).map((e) => e.cursor);
    expect(stored).toHaveLength(40);
    expect(committed).toEqual(stored);
  });
});
