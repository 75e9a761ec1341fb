import { COUNTRY_OCTET, SCRIPT_USER_AGENTS, UNUSUAL_COUNTRIES, USER_AGENTS } from './catalog.js';
import { newId } from './directory.js';
import type { EventCategory, EventScenario, SimEvent, SimFile, SimUser, TargetType } from './model.js';
import { hash32, type Rng } from './prng.js';

/** Audit events: a backfilled history with planted anomalies, and the live trickle. */

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

/** What a new event says; the id and the visibility delay are drawn by {@link makeEvent}. */
export interface EventInput {
  readonly category: EventCategory;
  readonly action: string;
  readonly actor: SimUser | null;
  readonly occurredAt: number;
  readonly succeeded?: boolean;
  readonly target?: { readonly type: TargetType; readonly id: string } | null;
  readonly details?: Record<string, string>;
  readonly scenario: EventScenario;
  /** Where it came from, when not the actor's usual place. */
  readonly from?: { readonly ip: string; readonly country: string; readonly userAgent: string } | null;
  /** When the audit API starts returning it, when not after a lag drawn in [0, auditLagMs] (an event hours late). */
  readonly visibleAt?: number;
}

/** A stable address of `seed` in `country`. */
export function ipIn(country: string, seed: string): string {
  const h = hash32(`${country}:${seed}`);
  return `${COUNTRY_OCTET[country] ?? 100}.${(h >>> 16) & 0xff}.${(h >>> 8) & 0xff}.${(h & 0xfd) + 1}`;
}

/** The user's usual place: home country, one of two addresses, their own browser. */
function usualPlace(rng: Rng, user: SimUser): { ip: string; country: string; userAgent: string } {
  return {
    ip: ipIn(user.homeCountry, `${user.id}:${rng.int(0, 1)}`),
    country: user.homeCountry,
    userAgent: USER_AGENTS[hash32(user.id) % USER_AGENTS.length]!,
  };
}

/** Builds an event; its visibility delay is drawn in [0, auditLagMs] from the event's own stream. */
export function makeEvent(rng: Rng, ids: Set<string>, auditLagMs: number, input: EventInput): SimEvent {
  const place = input.from ?? (input.actor ? usualPlace(rng, input.actor) : null);
  const lag = auditLagMs > 0 ? rng.int(0, auditLagMs) : 0;
  return {
    id: newId(rng, 'evt', ids),
    category: input.category,
    action: input.action,
    actorId: input.actor?.id ?? null,
    actorEmail: input.actor?.email ?? null,
    occurredAt: new Date(input.occurredAt).toISOString(),
    visibleAt: new Date(input.visibleAt ?? input.occurredAt + lag).toISOString(),
    ip: place?.ip ?? null,
    country: place?.country ?? null,
    userAgent: place?.userAgent ?? null,
    succeeded: input.succeeded ?? true,
    targetType: input.target?.type ?? null,
    targetId: input.target?.id ?? null,
    details: input.details ?? {},
    scenario: input.scenario,
  };
}

/** A stranger's place: a country that is nobody's home, a scripted client. */
function strangePlace(rng: Rng): { ip: string; country: string; userAgent: string } {
  const country = rng.pick(UNUSUAL_COUNTRIES);
  return { ip: ipIn(country, rng.hex(6)), country, userAgent: rng.pick(SCRIPT_USER_AGENTS) };
}

const ORDINARY: readonly (readonly [string, number])[] = [
  ['file.view', 40],
  ['file.download', 20],
  ['file.edit', 15],
  ['file.share', 8],
  ['file.upload', 5],
  ['user.logout', 7],
  ['user.password.change', 2],
];

/** One ordinary action by `user` at `at` (a file action on one of `files`). */
function ordinary(rng: Rng, user: SimUser, files: readonly SimFile[], at: number, scenario: EventScenario): EventInput {
  const action = rng.weighted(ORDINARY);
  if (!action.startsWith('file.') || files.length === 0)
    return { category: 'USER', action: files.length ? action : 'user.logout', actor: user, occurredAt: at, scenario };
  const file = rng.pick(files);
  const details: Record<string, string> = action === 'file.share' ? { sharing: file.sharing } : {};
  return { category: 'USER', action, actor: user, occurredAt: at, target: { type: 'file', id: file.id }, details, scenario };
}

export interface BackfillInput {
  readonly users: SimUser[];
  readonly files: readonly SimFile[];
  readonly start: number;
  readonly days: number;
  readonly perUserPerDay: number;
  readonly auditLagMs: number;
  readonly ids: Set<string>;
}

/**
 * The history before `start`: each active user signs in from home and works every day, plus
 * sign-ins from a new country, failed sign-in storms, download bursts and admin role assignments
 * (each at least once). A role assignment also makes its target an admin. Sorted by occurredAt.
 */
export function generateBackfill(rng: Rng, input: BackfillInput): SimEvent[] {
  const { users, start, days, ids, auditLagMs } = input;
  if (days <= 0) return [];
  const files = input.files.filter((f) => !f.trashed);
  const windowStart = start - days * DAY;
  const inputs: EventInput[] = [];
  const active = users.filter((u) => u.status === 'ACTIVE');
  const at = (r: Rng) => r.int(windowStart, start - 30 * MINUTE);

  for (let d = 0; d < Math.ceil(days); d++) {
    const dayStart = start - (Math.ceil(days) - d) * DAY;
    for (const user of active) {
      const r = rng.fork(`day:${d}:${user.id}`);
      const count = Math.round(input.perUserPerDay * (0.5 + r.float()));
      if (count === 0) continue;
      let t = dayStart + r.int(7 * HOUR, 11 * HOUR);
      inputs.push({ category: 'SIGN_IN', action: 'user.login', actor: user, occurredAt: t, scenario: 'normal' });
      for (let n = 1; n < count; n++) {
        t += r.int(MINUTE, 90 * MINUTE);
        inputs.push(ordinary(r, user, files, t, 'normal'));
      }
    }
  }

  const scaled = (share: number) => Math.max(1, Math.round(users.length * share));
  const anomalies = rng.fork('anomalies');
  for (const user of anomalies.sample(active, scaled(0.04))) {
    const t = at(anomalies);
    const place = strangePlace(anomalies);
    inputs.push({ category: 'SIGN_IN', action: 'user.login', actor: user, occurredAt: t, from: place, scenario: 'new_country' });
    if (files.length)
      inputs.push({
        category: 'USER',
        action: 'file.download',
        actor: user,
        occurredAt: t + 2 * MINUTE,
        from: place,
        target: { type: 'file', id: anomalies.pick(files).id },
        scenario: 'new_country',
      });
  }
  for (const user of anomalies.sample(users, scaled(0.02))) {
    const t = at(anomalies);
    const place = strangePlace(anomalies);
    const attempts = anomalies.int(15, 40);
    for (let n = 0; n < attempts; n++) {
      inputs.push({
        category: 'SIGN_IN',
        action: 'user.login',
        actor: user,
        occurredAt: t + anomalies.int(0, 5 * MINUTE),
        succeeded: false,
        from: place,
        details: { reason: 'invalid_password' },
        scenario: 'failed_storm',
      });
    }
    if (anomalies.chance(0.3))
      inputs.push({
        category: 'SIGN_IN',
        action: 'user.login',
        actor: user,
        occurredAt: t + 6 * MINUTE,
        from: place,
        scenario: 'failed_storm',
      });
  }
  if (files.length) {
    for (const user of anomalies.sample(active, scaled(0.02))) {
      const t = at(anomalies);
      const downloads = anomalies.int(40, 120);
      for (let n = 0; n < downloads; n++) {
        inputs.push({
          category: 'USER',
          action: 'file.download',
          actor: user,
          occurredAt: t + anomalies.int(0, 10 * MINUTE),
          target: { type: 'file', id: anomalies.pick(files).id },
          scenario: 'download_burst',
        });
      }
    }
  }
  const admins = active.filter((u) => u.isAdmin);
  for (const target of anomalies.sample(
    active.filter((u) => !u.isAdmin),
    scaled(0.02),
  )) {
    const role = anomalies.pick(['user_management', 'security_admin', 'super_admin']);
    inputs.push({
      category: 'ADMIN',
      action: 'admin.role.assign',
      actor: anomalies.pick(admins),
      occurredAt: at(anomalies),
      target: { type: 'user', id: target.id },
      details: { role },
      scenario: 'role_assign',
    });
    target.isAdmin = true;
    target.privileges = [...new Set([...target.privileges, role])];
  }

  const events = inputs
    .map((e, i) => makeEvent(rng.fork(`event:${i}`), ids, auditLagMs, e))
    .sort((a, b) => (a.occurredAt < b.occurredAt ? -1 : a.occurredAt > b.occurredAt ? 1 : a.id < b.id ? -1 : 1));
  for (const event of events) {
    if (event.action !== 'user.login' || !event.succeeded || !event.actorId) continue;
    const user = users.find((u) => u.id === event.actorId)!;
    if (!user.lastLoginAt || user.lastLoginAt < event.occurredAt) user.lastLoginAt = event.occurredAt;
  }
  return events;
}

/** What a live event does to the files besides being recorded. */
export type LiveEffect =
  | { readonly kind: 'none' }
  | { readonly kind: 'edit'; readonly fileId: string }
  | { readonly kind: 'share'; readonly fileId: string }
  | { readonly kind: 'upload' }
  | { readonly kind: 'delete'; readonly fileId: string };

const LIVE: readonly (readonly [string, number])[] = [
  ['user.login', 30],
  ['user.login.failed', 4],
  ['user.logout', 6],
  ['file.view', 22],
  ['file.download', 15],
  ['file.edit', 12],
  ['file.share', 5],
  ['file.upload', 4],
  ['file.delete', 1],
  ['admin.settings.change', 1],
];

/** One live event at `now` by a random active user, and what it does to the files. */
export function liveEvent(
  rng: Rng,
  users: readonly SimUser[],
  files: readonly SimFile[],
  now: number,
): { input: EventInput; effect: LiveEffect } | null {
  const active = users.filter((u) => u.status === 'ACTIVE' && !u.deleted);
  if (active.length === 0) return null;
  const user = rng.pick(active);
  const action = rng.weighted(LIVE);
  const base = { actor: user, occurredAt: now, scenario: 'live' as const };
  if (action === 'user.login' || action === 'user.login.failed') {
    return { input: { ...base, category: 'SIGN_IN', action: 'user.login', succeeded: action === 'user.login' }, effect: { kind: 'none' } };
  }
  if (action === 'admin.settings.change') {
    const admin = active.find((u) => u.isAdmin) ?? user;
    return {
      input: { ...base, actor: admin, category: 'ADMIN', action, details: { setting: 'session_timeout' } },
      effect: { kind: 'none' },
    };
  }
  if (action === 'file.upload') return { input: { ...base, category: 'USER', action }, effect: { kind: 'upload' } };
  const live = files.filter((f) => !f.deleted && !f.trashed);
  if (!action.startsWith('file.') || live.length === 0)
    return { input: { ...base, category: 'USER', action: 'user.logout' }, effect: { kind: 'none' } };
  const file = rng.pick(live);
  const input: EventInput = { ...base, category: 'USER', action, target: { type: 'file', id: file.id } };
  switch (action) {
    case 'file.edit':
      return { input, effect: { kind: 'edit', fileId: file.id } };
    case 'file.share':
      return { input, effect: { kind: 'share', fileId: file.id } };
    case 'file.delete':
      return { input, effect: { kind: 'delete', fileId: file.id } };
    default:
      return { input, effect: { kind: 'none' } };
  }
}
