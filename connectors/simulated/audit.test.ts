import { afterEach, describe, expect, it } from 'vitest';
import type { WireEvent } from './wire.js';
import { call, ManualClock, readAll, simulator, smallTenant, waitFor } from './test-support.js';

const stops: (() => Promise<void>)[] = [];
const track = (stop: () => Promise<void>) => stops.push(stop);
afterEach(async () => {
  await Promise.all(stops.splice(0).map((stop) => stop()));
});

const TOKEN = 'acme-test-token';
const SECOND = 1000;

describe('the audit trail', () => {
  it('hides events until their visibleAt, then shows them late and out of order, newest first', async () => {
    const clock = new ManualClock();
    const sim = await simulator(track, { clock: clock.now, tenants: [smallTenant({ backfillDays: 0, auditLagMs: 60 * SECOND })] });
    const tenant = sim.tenant('acme');
    const from = new Date(clock.now()).toISOString();
    // Ten bursts of activity, ten seconds apart; each event draws its own delay in [0, 60 s].
    for (let i = 0; i < 10; i++) {
      tenant.generateActivity(5);
      clock.advance(10 * SECOND);
    }
    const window = `from=${encodeURIComponent(from)}&to=${encodeURIComponent(new Date(clock.now() + 1).toISOString())}`;
    const seen = new Map<string, number>(); // id -> occurredAt
    let lateAndOlder = 0;
    for (let step = 0; step < 10; step++) {
      const now = clock.now();
      const expected = tenant.truth().events.filter((e) => Date.parse(e.visibleAt) <= now && Date.parse(e.occurredAt) < now + 1);
      const visible = await readAll<WireEvent>(sim.url, `/api/v1/audit/events?${window}`, TOKEN, 7);
      expect(new Set(visible.map((e) => e.id))).toEqual(new Set(expected.map((e) => e.id)));
      const times = visible.map((e) => Date.parse(e.time));
      expect(times).toEqual([...times].sort((a, b) => b - a)); // newest first, never by visibility
      const newestSeen = Math.max(0, ...seen.values());
      for (const e of visible) {
        if (seen.has(e.id)) continue;
        if (Date.parse(e.time) < newestSeen) lateAndOlder++;
        seen.set(e.id, Date.parse(e.time));
      }
      clock.advance(10 * SECOND);
    }
    expect(seen.size).toBe(50); // 100 s after the last event, all are visible
    expect(lateAndOlder).toBeGreaterThan(0); // some appeared after newer ones had been seen
  });

  it('keeps occurredAt in [from, to) and binds a page token to its window', async () => {
    const clock = new ManualClock();
    const sim = await simulator(track, { clock: clock.now, tenants: [smallTenant({ backfillDays: 1 })] });
    const events = sim.tenant('acme').truth().events;
    const from = events[10]!.occurredAt;
    const to = events[40]!.occurredAt;
    const answer = await readAll<WireEvent>(sim.url, `/api/v1/audit/events?from=${from}&to=${to}`, TOKEN, 9);
    const expected = events.filter((e) => e.occurredAt >= from && e.occurredAt < to).map((e) => e.id);
    expect(answer.map((e) => e.id).sort()).toEqual(expected.sort());
    const first = await call<{ nextPageToken: string }>(sim.url, `/api/v1/audit/events?from=${from}&to=${to}&limit=3`, TOKEN);
    const other = await call<{ message: string }>(
      sim.url,
      `/api/v1/audit/events?from=${events[0]!.occurredAt}&to=${to}&pageToken=${first.body.nextPageToken}`,
      TOKEN,
    );
    expect([other.status, other.body.message]).toEqual([400, 'pageToken: belongs to another from/to window']);
  });

  it('generates live activity of every category, whose edits and uploads really change files', async () => {
    const clock = new ManualClock();
    const sim = await simulator(track, { clock: clock.now, tenants: [smallTenant({ backfillDays: 0 })] });
    const tenant = sim.tenant('acme');
    const events = tenant.generateActivity(300);
    expect(new Set(events.map((e) => e.category))).toEqual(new Set(['USER', 'SIGN_IN', 'ADMIN']));
    const edited = events.filter((e) => e.action === 'file.edit').map((e) => e.targetId!);
    const truth = tenant.truth();
    for (const id of edited) expect(truth.files.find((f) => f.id === id)!.revision).toBeGreaterThan(1);
    const uploads = events.filter((e) => e.action === 'file.upload');
    expect(truth.files.length).toBe(40 + uploads.length);
  });

  it('keeps generating live events at activityPerMinute while running, on its own timer', async () => {
    const sim = await simulator(track, { tenants: [smallTenant({ backfillDays: 0, activityPerMinute: 6000 })] });
    const live = await waitFor('live events', () => {
      const events = sim
        .tenant('acme')
        .truth()
        .events.filter((e) => e.scenario === 'live');
      return events.length >= 20 && events;
    });
    expect(new Set(live.map((e) => e.id)).size).toBe(live.length);
    sim.tenant('acme').setActivityRate(0);
  });
});
