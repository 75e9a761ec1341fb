import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase } from '../platform/database.js';
import { freshDatabase } from '../test/harness.js';
import { schedulerModule } from './module.js';
import { CLOCK_SKEW_MARGIN_MS, WebhookDeliveries } from './webhook-deliveries.js';

/** The webhook delivery ids on a real PostgreSQL. Two pools on one database stand for two scheduler processes. */

let drop: () => Promise<void>;
let first: pg.Pool;
let second: pg.Pool;

beforeAll(async () => {
  const database = await freshDatabase();
  drop = database.drop;
  // Applies the scheduler's migrations, as a scheduler's start does.
  await (await openDatabase({ ...schedulerModule, url: database.url, poolMax: 1 })).close();
  first = new pg.Pool({ connectionString: database.url, max: 4 });
  second = new pg.Pool({ connectionString: database.url, max: 4 });
});

afterAll(async () => {
  await first?.end();
  await second?.end();
  await drop?.();
});

const inFiveMinutes = () => new Date(Date.now() + 5 * 60_000);

describe('WebhookDeliveries', () => {
  it('remembers a delivery id once per instance: a second delivery with it is a replay, on this scheduler or another', async () => {
    const [a, b] = [new WebhookDeliveries(first), new WebhookDeliveries(second)];
    const instanceId = randomUUID();
    expect(await a.remember(instanceId, 'dlv-1', inFiveMinutes())).toBe(true);
    expect(await a.remember(instanceId, 'dlv-1', inFiveMinutes())).toBe(false);
    expect(await b.remember(instanceId, 'dlv-1', inFiveMinutes())).toBe(false);
    // Ids are per instance: another instance may use the same one.
    expect(await b.remember(randomUUID(), 'dlv-1', inFiveMinutes())).toBe(true);
  });

  it('lets exactly one of many concurrent receipts of one delivery through', async () => {
    const [a, b] = [new WebhookDeliveries(first), new WebhookDeliveries(second)];
    const instanceId = randomUUID();
    const answers = await Promise.all(
      Array.from({ length: 16 }, (_, i) => (i % 2 ? a : b).remember(instanceId, 'dlv-concurrent', inFiveMinutes())),
    );
    expect(answers.filter(Boolean)).toHaveLength(1);
  });

  it('keeps an id for the clock-skew margin past its expiry, then takes it over and prunes it', async () => {
    const deliveries = new WebhookDeliveries(first);
    const instanceId = randomUUID();
    const expired = new Date(Date.now() - CLOCK_SKEW_MARGIN_MS - 1_000);
    const justExpired = new Date(Date.now() - 1_000);
    expect(await deliveries.remember(instanceId, 'old', expired)).toBe(true);
    expect(await deliveries.remember(instanceId, 'recent', justExpired)).toBe(true);
    // Past its signature's expiry but within the margin: still a replay.
    expect(await deliveries.remember(instanceId, 'recent', inFiveMinutes())).toBe(false);
    // Past the margin, the provider's re-signed delivery of the same id is accepted.
    expect(await deliveries.remember(instanceId, 'old', inFiveMinutes())).toBe(true);

    expect(await deliveries.remember(instanceId, 'prunable', expired)).toBe(true);
    expect(await deliveries.prune()).toBeGreaterThanOrEqual(1);
    const { rows } = await first.query<{ delivery_id: string }>(
      'select delivery_id from scheduler.webhook_delivery where instance_id = $1 order by delivery_id',
      [instanceId],
    );
    expect(rows.map((r) => r.delivery_id)).toEqual(['old', 'recent']);
  });

  it('forgets a delivery whose rescans could not be enqueued, so the provider’s retry is accepted', async () => {
    const deliveries = new WebhookDeliveries(first);
    const instanceId = randomUUID();
    expect(await deliveries.remember(instanceId, 'dlv-retry', inFiveMinutes())).toBe(true);
    await deliveries.forget(instanceId, 'dlv-retry');
    expect(await deliveries.remember(instanceId, 'dlv-retry', inFiveMinutes())).toBe(true);
  });
});
