import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freshDatabase } from '../../test/harness.js';
import { openDatabase, type Database } from '../../platform/database.js';
import { newId } from '../../platform/ids.js';
import { ActivityService, type ActivityRecord } from './activity.service.js';
import { activitiesModule } from './module.js';
import { ActivityCategory } from '../../platform/vocabulary/activity-category.js';

/**
 * insertActivities on a real PostgreSQL: what a stored event holds, and that a re-read, a repeat
 * inside one call, two concurrent calls or a failed call never double or lose an event. Each test
 * uses its own instance.
 */

let drop: () => Promise<void>;
let db: Database;
const service = () => new ActivityService(db.fork());

beforeAll(async () => {
  const database = await freshDatabase();
  drop = database.drop;
  db = await openDatabase({ ...activitiesModule, url: database.url, poolMax: 4 });
});

afterAll(async () => {
  await db?.close();
  await drop?.();
});

const T0 = Date.parse('2026-11-01T00:00:00Z');
const event = (n: number, extra: Partial<ActivityRecord> = {}): ActivityRecord => ({
  externalId: `evt-${n}`,
  category: ActivityCategory.USER,
  action: 'file.download',
  occurredAt: new Date(T0 + n * 1000),
  ...extra,
});

async function stored(instanceId: string): Promise<Record<string, unknown>[]> {
  return db.knex()('activities.activity').select('*').where('instance_id', instanceId).orderBy('external_id');
}

describe('insertActivities', () => {
  it('stores every column as given, text that COPY must escape included', async () => {
    const instanceId = newId();
    const actorId = newId();
    const fileId = newId();
    const raw = {
      id: 'evt-1',
      note: 'tab\there, newline\nthere, \\backslash\\ and "quotes"',
      nested: { n: 1.5, ok: true, none: null },
      ключ: '✓ 🚀',
    };
    const record = event(1, {
      category: ActivityCategory.SIGN_IN,
      action: 'user.login',
      actorId,
      actorExternalId: 'usr-1',
      ipAddress: '203.0.113.7',
      country: 'NZ',
      userAgent: 'Agent\\1.0\t(tab)\r\n',
      succeeded: false,
      targetType: 'file',
      targetId: 'file-1',
      fileId,
      fileExternalId: 'file-1',
      raw,
    });
    const before = Date.now();
    const ids = await service().insertActivities(instanceId, [record, event(2)]);
    expect(ids).toHaveLength(2);
    const [first, second] = await stored(instanceId);
    expect(ids.sort()).toEqual([first!.id, second!.id].sort());
    expect(first).toMatchObject({
      instance_id: instanceId,
      external_id: 'evt-1',
      category: 'SIGN_IN',
      action: 'user.login',
      actor_id: actorId,
      actor_external_id: 'usr-1',
      ip_address: '203.0.113.7',
      country: 'NZ',
      user_agent: 'Agent\\1.0\t(tab)\r\n',
      succeeded: false,
      target_type: 'file',
      target_id: 'file-1',
      file_id: fileId,
      file_external_id: 'file-1',
      raw,
    });
    // This driver answers timestamps as text.
    expect(Date.parse(first!.occurred_at as string)).toBe(T0 + 1000);
    expect(Date.parse(first!.ingested_at as string)).toBeGreaterThanOrEqual(before - 1000);
    // Absent optional fields: nulls, and a success.
    expect(second).toMatchObject({
      actor_id: null,
      actor_external_id: null,
      ip_address: null,
      country: null,
      user_agent: null,
      succeeded: true,
      target_type: null,
      target_id: null,
      file_id: null,
      file_external_id: null,
      raw: null,
    });
    // Both wait for policy evaluation, oldest first.
    expect((await service().pendingEvaluation(instanceId, 10)).map((a) => a.id)).toEqual([first!.id, second!.id]);
  });

  it('stores an event once: re-read, repeated in one call, or sent by two calls at once', async () => {
    const instanceId = newId();
    const first = await service().insertActivities(instanceId, [event(1), event(2), event(1)]);
    expect(first).toHaveLength(2);
    // An evaluated event read again stays evaluated; only the new one waits.
    await service().markEvaluated(first);
    const again = await service().insertActivities(instanceId, [event(2), event(3), event(1)]);
    expect(again).toHaveLength(1);
    expect((await service().pendingEvaluation(instanceId, 10)).map((a) => [a.id, a.externalId])).toEqual([[again[0], 'evt-3']]);

    const overlapping = Array.from({ length: 300 }, (_, i) => event(100 + i));
    const [a, b] = await Promise.all([
      service().insertActivities(instanceId, overlapping),
      service().insertActivities(instanceId, [...overlapping].reverse()),
    ]);
    expect(a!.length + b!.length).toBe(300);
    expect(await stored(instanceId)).toHaveLength(303);
    // The same provider id in another instance is another event.
    expect(await service().insertActivities(newId(), [event(1)])).toHaveLength(1);
  });

  it('stores nothing of a call that fails, and the next call stores normally', async () => {
    const instanceId = newId();
    const broken = event(2, { occurredAt: new Date(Number.NaN) });
    await expect(service().insertActivities(instanceId, [event(1), broken])).rejects.toThrow();
    expect(await stored(instanceId)).toEqual([]);
    // Every pooled connection, the one that failed included, still stores (and its staging table starts empty).
    const calls = Array.from({ length: 4 }, (_, i) => service().insertActivities(instanceId, [event(10 + i)]));
    expect((await Promise.all(calls)).flat()).toHaveLength(4);
    expect(await stored(instanceId)).toHaveLength(4);
  });

  it('answers nothing for no events', async () => {
    expect(await service().insertActivities(newId(), [])).toEqual([]);
  });
});
