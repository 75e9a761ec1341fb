import { liveEvent } from './event-generator.js';
import type { SimEvent } from './model.js';
import type { TenantState } from './tenant-state.js';

/** Live activity: events at the tenant's rate, some of which change files. */

/** Generates one live event now and applies what it does (edit, reshare, upload, delete). */
/** `visibleAt`: when the audit API starts returning it, when not after the tenant's usual lag. */
export function generateLiveEvent(state: TenantState, now: number, visibleAt?: number): SimEvent | null {
  const chosen = liveEvent(
    state.nextRng(),
    state.users,
    state.files.filter((f) => !f.quarantined),
    now,
  );
  if (!chosen) return null;
  const { effect } = chosen;
  const input = visibleAt === undefined ? chosen.input : { ...chosen.input, visibleAt };
  switch (effect.kind) {
    case 'none':
      return state.recordEvent(input);
    case 'edit':
      state.editFile(state.file(effect.fileId), now, false);
      return state.recordEvent(input);
    case 'share':
      state.shareFile(state.file(effect.fileId), now);
      return state.recordEvent({ ...input, details: { sharing: state.file(effect.fileId).sharing } });
    case 'upload': {
      const file = state.uploadFile(now);
      return state.recordEvent({ ...input, target: { type: 'file', id: file.id } });
    }
    case 'delete':
      state.delete('file', effect.fileId, now);
      return state.recordEvent(input);
    default: {
      const never: never = effect;
      throw new Error(`unknown live effect ${JSON.stringify(never)}`);
    }
  }
}

/** How often the generator wakes up; events due since the last tick are made together. */
const TICK_MS = 200;
/** At most this many events per tick, so a clock jump does not stall the server. */
const MAX_PER_TICK = 1000;

/** Runs {@link generateLiveEvent} at `rate()` per minute of `clock` time, on an unref'd timer. */
export class ActivityTimer {
  private timer: NodeJS.Timeout | null = null;
  private last: number;
  private due = 0;

  constructor(
    private readonly state: TenantState,
    private readonly rate: () => number,
    private readonly clock: () => number,
  ) {
    this.last = clock();
  }

  start(): void {
    if (this.timer) return;
    this.last = this.clock();
    this.timer = setInterval(() => this.tick(), TICK_MS);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  private tick(): void {
    const now = this.clock();
    this.due += (this.rate() * Math.max(0, now - this.last)) / 60_000;
    this.last = now;
    const count = Math.min(MAX_PER_TICK, Math.floor(this.due));
    this.due -= Math.floor(this.due);
    for (let i = 0; i < count; i++) generateLiveEvent(this.state, now);
  }
}
