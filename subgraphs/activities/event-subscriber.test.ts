import { describe, expect, it } from 'vitest';
import { appError, ErrorCode } from '../../platform/errors.js';
import { EventKind } from './event-log.entity.js';
import type { LoggedEvent } from './event-log.service.js';
import { EventSubscriber, type SubscriberHost } from './event-subscriber.js';

/**
 * The handover algorithm against an in-memory log whose replay queries the test answers by hand,
 * so that live events can be made to arrive at chosen points of a replay (the e2e tests cover the
 * same paths against PostgreSQL, with timing left to chance).
 */
class MemoryHost implements SubscriberHost {
  readonly entries: LoggedEvent[] = [];
  private reads = 0;
  private pending: { cursor: bigint; limit: number; answer(entries: LoggedEvent[]): void }[] = [];
  private called?: () => void;
  removed: { tooSlow: boolean }[] = [];

  constructor(readonly queueLimit: number) {}

  append(count: number): LoggedEvent[] {
    const base = this.entries.length;
    const added = Array.from({ length: count }, (_, i) => {
      const cursor = String(base + i + 1);
      return { cursor, kind: EventKind.DETECTION, entityId: `d${cursor}`, instanceId: 'i', attributes: {}, createdAt: new Date() };
    });
    this.entries.push(...added);
    return added;
  }

  /** One read of the live stream arriving now, fanned out to `subscriber`. */
  deliver(subscriber: EventSubscriber<string>, events: readonly LoggedEvent[]): void {
    const read = ++this.reads;
    for (const event of events)
      if (subscriber.accepts(event, read)) subscriber.offer({ cursor: event.cursor, entity: event.entityId, attributes: event.attributes });
  }

  replay(cursor: bigint, _kind: EventKind, limit: number): Promise<LoggedEvent[]> {
    const answer = new Promise<LoggedEvent[]>((resolve) => this.pending.push({ cursor, limit, answer: resolve }));
    this.called?.();
    return answer;
  }

  /** Waits for the subscriber's next replay query. */
  async replayAsked(): Promise<void> {
    if (this.pending.length > 0) return;
    await new Promise<void>((resolve) => (this.called = resolve));
  }

  /**
   * Answers the pending replay query with the log as it was when the first `asOf` entries were
   * committed (default: all), then lets the subscriber digest the answer.
   */
  async answer(asOf = this.entries.length): Promise<void> {
    await this.replayAsked();
    const { cursor, limit, answer } = this.pending.shift()!;
    answer(
      this.entries
        .slice(0, asOf)
        .filter((e) => BigInt(e.cursor) > cursor)
        .slice(0, limit),
    );
    await new Promise((resolve) => setImmediate(resolve));
  }

  async load(events: readonly LoggedEvent[]): Promise<Map<string, unknown>> {
    return new Map(events.map((e) => [e.entityId, e.entityId]));
  }

  readsArrived(): number {
    return this.reads;
  }

  remove(_subscriber: EventSubscriber, tooSlow: boolean): void {
    this.removed.push({ tooSlow });
  }
}

const tooSlow = () => appError(ErrorCode.SUBSCRIBER_TOO_SLOW, 'too slow');
const all = () => true;
const subscriber = (host: MemoryHost, start: { after: bigint } | { liveAfter: bigint }) =>
  new EventSubscriber<string>(host, EventKind.DETECTION, all, tooSlow, start);

async function take(s: EventSubscriber<string>, count: number): Promise<string[]> {
  const got: string[] = [];
  while (got.length < count) {
    const next = await s.next();
    if (next.done) break;
    got.push(next.value.entity);
  }
  return got;
}

describe('EventSubscriber', () => {
  it.each([
    ['did not see it', 5],
    ['saw it too', 6],
  ])('replays after the cursor, then drains live events with no gap and no duplicate (replay %s)', async (_case, asOf) => {
    const host = new MemoryHost(100);
    host.append(5);
    const s = subscriber(host, { after: 2n });
    const first = take(s, 5);
    await host.replayAsked();
    host.deliver(s, host.append(1)); // d6 is read live while the replay query runs
    await host.answer(asOf);
    expect(s.replaying).toBe(false);
    host.deliver(s, host.append(1)); // d7 only live
    expect(await first).toEqual(['d3', 'd4', 'd5', 'd6', 'd7']);
  });

  it('ignores reads that arrived before it subscribed (their events are in the replay)', async () => {
    const host = new MemoryHost(100);
    const early = host.append(2);
    const s = subscriber(host, { after: 0n });
    expect(s.accepts(early[0]!, host.readsArrived())).toBe(false);
    expect(s.accepts(early[0]!, host.readsArrived() + 1)).toBe(true);
  });

  it('drops an overflowing replay buffer and reads the log once more before going live', async () => {
    const host = new MemoryHost(2);
    const s = subscriber(host, { after: 0n });
    const got = take(s, 6);
    await host.replayAsked();
    host.deliver(s, host.append(3)); // the buffer (limit 2) overflows: dropped
    expect(s.waiting).toBe(0);
    await host.answer(); // d1 d2: a full page of 2
    await host.answer(); // d3: a short page, but the buffer was dropped: a fresh one, one more read
    expect(s.replaying).toBe(true);
    host.deliver(s, host.append(2)); // d4 d5 land in the fresh buffer
    await host.answer(4); // the last replay sees d4 only; d5 comes from the buffer
    expect(s.replaying).toBe(false);
    host.deliver(s, host.append(1));
    expect(await got).toEqual(['d1', 'd2', 'd3', 'd4', 'd5', 'd6']);
  });

  it('ends a live subscriber that falls more than the limit behind with SUBSCRIBER_TOO_SLOW and frees its queue', async () => {
    const host = new MemoryHost(2);
    const s = subscriber(host, { liveAfter: 0n });
    host.deliver(s, host.append(3));
    expect(s.waiting).toBe(0);
    expect(host.removed).toEqual([{ tooSlow: true }]);
    await expect(s.next()).rejects.toMatchObject({ extensions: { code: 'SUBSCRIBER_TOO_SLOW' } });
    expect(await s.next()).toEqual({ done: true, value: undefined });
  });

  it('answers a pending next() with done when returned, and leaves the stream', async () => {
    const host = new MemoryHost(10);
    const s = subscriber(host, { liveAfter: 0n });
    const pending = s.next();
    await s.return();
    expect(await pending).toEqual({ done: true, value: undefined });
    expect(host.removed).toEqual([{ tooSlow: false }]);
  });
});
