import { logger } from '../logger.js';
import { currentRequest } from '../request-context.js';
import { AuditKind } from './audit-event.entity.js';
import type { AuditEntry, AuditLog } from './audit-log.js';
import { redact } from './redact.js';

/** The action of a refused authentication's audit entry. */
export const AUTHENTICATE_ACTION = 'authenticate';
/** Where refusals from addresses past {@link MAX_ADDRESSES_PER_WINDOW} in one window are counted. */
export const OTHER_ADDRESSES = '(other addresses)';
/** Distinct addresses recorded per window; the rest are counted together under {@link OTHER_ADDRESSES}. */
export const MAX_ADDRESSES_PER_WINDOW = 200;
/** Refusals are counted per address over this window. */
export const REFUSAL_WINDOW_MS = 60_000;

/** How a refused client reached the gateway. */
export type RefusalChannel = 'http' | 'websocket';

/** Records refused authentications without letting a flood of them fill the audit log. */
export interface RefusalRecorder {
  /** Notes one refusal: `code` (UNAUTHENTICATED, or FORBIDDEN for a role refused a websocket) and the reason given to the client. */
  note(address: string, channel: RefusalChannel, code: string, reason: string): void;
  /** Writes what is pending and stops the timer. */
  close(): Promise<void>;
}

interface Counted {
  readonly channel: RefusalChannel;
  code: string;
  reason: string;
  /** Refusals after the first, which was written at once. */
  more: number;
}

/**
 * Per address and window (a minute by default): the first refusal is appended at once (occurrences
 * 1), the next ones are only counted and appended as one entry (occurrences = their number) when the
 * window ends or the gateway stops. With at most {@link MAX_ADDRESSES_PER_WINDOW} addresses per
 * window, one gateway writes at most about 2 × 201 entries a minute, however many tokens are refused.
 */
export function recordRefusals(log: AuditLog, options: { windowMs?: number; service?: string } = {}): RefusalRecorder {
  const windowMs = options.windowMs ?? REFUSAL_WINDOW_MS;
  const service = options.service ?? 'gateway';
  let window = Math.floor(Date.now() / windowMs);
  let counted = new Map<string, Counted>();
  const pending = new Set<Promise<void>>();

  const entry = (address: string, c: Counted, occurrences: number, at: Date, requestId: string | null = null): AuditEntry => ({
    at,
    kind: AuditKind.AUTHENTICATION,
    action: AUTHENTICATE_ACTION,
    service,
    subject: null,
    role: null,
    instances: null,
    operationName: null,
    input: { channel: c.channel, reason: redact(c.reason, () => false) },
    result: c.code,
    clientAddress: address,
    requestId,
    occurrences,
  });
  const append = (entries: AuditEntry[]) => {
    if (entries.length === 0) return;
    const written: Promise<void> = log
      .append(entries)
      .catch((error: unknown) => logger.error({ err: error }, 'could not append refused authentications to the audit log'))
      .finally(() => pending.delete(written));
    pending.add(written);
  };
  /** Appends the counts of the window that ended, and starts a new one. */
  const endWindow = () => {
    const ended = counted;
    counted = new Map();
    const at = new Date();
    append([...ended].filter(([, c]) => c.more > 0).map(([address, c]) => entry(address, c, c.more, at)));
  };
  const roll = () => {
    const now = Math.floor(Date.now() / windowMs);
    if (now === window) return;
    window = now;
    endWindow();
  };
  const timer = setInterval(roll, Math.min(windowMs, 5_000)).unref();

  return {
    note: (address, channel, code, reason) => {
      roll();
      const key = counted.has(address) || counted.size < MAX_ADDRESSES_PER_WINDOW ? address : OTHER_ADDRESSES;
      const known = counted.get(key);
      if (known) {
        known.more += 1;
        known.code = code;
        known.reason = reason;
        return;
      }
      const first: Counted = { channel, code, reason, more: 0 };
      counted.set(key, first);
      append([entry(key, first, 1, new Date(), currentRequest()?.requestId ?? null)]);
    },
    close: async () => {
      clearInterval(timer);
      endWindow();
      await Promise.all([...pending]);
    },
  };
}
