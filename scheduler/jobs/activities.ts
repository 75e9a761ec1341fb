import type { ProviderEvent } from '../../connectors/contract.js';
import type { SchedulerServices } from '../services.js';
import { pagesFrom, type ScanOutcome, type ScanRun } from './scan-run.js';
import { ActivityCategory } from '../../platform/vocabulary/activity-category.js';

/**
 * Where the audit trail stands: everything that occurred before `watermark` has been read at least
 * once; `window` is the read in progress (its page), so a killed scheduler resumes it.
 */
export interface ActivitiesCursor {
  readonly watermark: string | null;
  readonly window: { readonly from: string; readonly to: string; readonly page: string | null } | null;
  readonly items: number;
}

/**
 * Reads the audit trail by time window: from the last watermark less the overlap (or the backfill
 * cap on the first run) to now less the lag. Providers deliver events late and out of order, so
 * windows overlap and every event is stored once by `(instance, provider event id)`.
 */
export async function scanActivities(
  run: ScanRun<ActivitiesCursor>,
  services: Pick<SchedulerServices, 'config' | 'accounts' | 'files' | 'activities' | 'evaluator'>,
): Promise<ScanOutcome> {
  const { config } = services;
  const now = Date.now();
  const items = run.cursor?.items ?? 0;
  const watermark = run.cursor?.watermark ?? null;
  const window = run.cursor?.window ?? {
    from: new Date(
      watermark ? Date.parse(watermark) - config.AUDIT_OVERLAP_SECONDS * 1000 : now - config.BACKFILL_DAYS * 86_400_000,
    ).toISOString(),
    to: new Date(now - config.AUDIT_LAG_SECONDS * 1000).toISOString(),
    page: null,
  };
  if (Date.parse(window.from) >= Date.parse(window.to)) return { status: 'done', items };
  const read = await readAuditWindow(run, services, window, items, (page, total) =>
    run.save({ watermark, window: { ...window, page }, items: total }, total),
  );
  if (read.status === 'paused') return read;
  // Advance only after the whole window is read: a crash re-reads it, and dedup absorbs the overlap.
  await run.save({ watermark: window.to, window: null, items: read.items }, read.items);
  return read;
}

/**
 * Where the late-activities scan stands: `since` is when the last complete run started (every event
 * not yet visible then occurred after `since` less the provider's maximum lag); `window` the read in progress.
 */
export interface LateActivitiesCursor {
  readonly since: string | null;
  readonly window: { readonly from: string; readonly to: string; readonly page: string | null; readonly startedAt: string } | null;
  readonly items: number;
}

/**
 * The daily re-read of the audit trail for events later than the activity scan's lag and overlap:
 * from the last run's start less the provider's documented maximum lag (the first run: from the
 * instance's connection less it) to now less the lag. Stored once by provider id like every window,
 * so only events the activity scan missed are new. Nothing to do when the activity scan's overlap
 * already covers the provider's maximum lag.
 */
export async function scanLateActivities(
  run: ScanRun<LateActivitiesCursor>,
  services: Pick<SchedulerServices, 'config' | 'instances' | 'accounts' | 'files' | 'activities' | 'evaluator'>,
): Promise<ScanOutcome> {
  const { config } = services;
  const maxLagMs = run.connector.maxAuditLagMs;
  const items = run.cursor?.items ?? 0;
  if (maxLagMs <= (config.AUDIT_LAG_SECONDS + config.AUDIT_OVERLAP_SECONDS) * 1000) return { status: 'done', items };
  const now = Date.now();
  let window = run.cursor?.window ?? null;
  if (!window) {
    const since = run.cursor?.since ?? (await services.instances().byIds([run.instanceId]))[0]?.connectedAt.toISOString();
    if (!since) return { status: 'done', items };
    window = {
      from: new Date(Math.max(Date.parse(since) - maxLagMs, now - config.BACKFILL_DAYS * 86_400_000 - maxLagMs)).toISOString(),
      to: new Date(now - config.AUDIT_LAG_SECONDS * 1000).toISOString(),
      page: null,
      startedAt: new Date(now).toISOString(),
    };
  }
  const current = window;
  const since = run.cursor?.since ?? null;
  if (Date.parse(current.from) < Date.parse(current.to)) {
    const read = await readAuditWindow(run, services, current, items, (page, total) =>
      run.save({ since, window: { ...current, page }, items: total }, total),
    );
    if (read.status === 'paused') return read;
    await run.save({ since: current.startedAt, window: null, items: read.items }, read.items);
    return read;
  }
  await run.save({ since: current.startedAt, window: null, items }, items);
  return { status: 'done', items };
}

/**
 * Reads one audit window page by page from `window.page`, storing each page's events once by
 * provider id and evaluating them; `savePage` keeps the position after every page. Answers how many
 * events were new in all (from `items`), or `paused` when the scheduler is stopping.
 */
async function readAuditWindow(
  run: ScanRun<unknown>,
  services: Pick<SchedulerServices, 'accounts' | 'files' | 'activities' | 'evaluator'>,
  window: { readonly from: string; readonly to: string; readonly page: string | null },
  items: number,
  savePage: (page: string, items: number) => Promise<void>,
): Promise<ScanOutcome> {
  const accounts = services.accounts();
  const files = services.files();
  let page = window.page;
  const range = { from: new Date(window.from), to: new Date(window.to) };
  // The next page is asked for while this one is stored.
  for await (const result of pagesFrom(
    (token) => run.connector.readAuditEvents(range, token),
    page,
    () => run.stopping(),
  )) {
    const actors = await accounts.accountIdsByExternalId(run.instanceId, distinct(result.items.map((e) => e.actorExternalId)));
    const fileIds = await files.fileIdsByExternalId(run.instanceId, distinct(result.items.map((e) => e.fileExternalId)));
    // A fresh EntityManager per page: one fork for a whole backfill would keep growing its identity map.
    const stored = await services.activities().insertActivities(
      run.instanceId,
      result.items.map((e) => toRecord(e, actors, fileIds)),
    );
    // Before the cursor moves: what this page stored (and whatever a crash left unevaluated).
    await services.evaluator().evaluatePendingActivities(run.instanceId);
    items += stored.length;
    page = result.next;
    if (!page) break;
    await savePage(page, items);
    if (run.stopping()) return { status: 'paused', items };
  }
  // The whole window is stored now: judge where actors have been (before the cursor moves, so a crash repeats it).
  await services.evaluator().evaluateActivityWindow(run.instanceId, range.from, range.to);
  return { status: 'done', items };
}

function distinct(values: readonly (string | null)[]): string[] {
  return [...new Set(values.filter((v): v is string => v !== null))];
}

function toRecord(e: ProviderEvent, actors: ReadonlyMap<string, string>, files: ReadonlyMap<string, string>) {
  return {
    externalId: e.externalId,
    category: ActivityCategory[e.category],
    action: e.action,
    actorId: e.actorExternalId ? (actors.get(e.actorExternalId) ?? null) : null,
    actorExternalId: e.actorExternalId,
    occurredAt: new Date(e.occurredAt),
    ipAddress: e.ipAddress,
    country: e.country,
    userAgent: e.userAgent,
    succeeded: e.succeeded,
    targetType: e.targetType,
    targetId: e.targetId,
    fileId: e.fileExternalId ? (files.get(e.fileExternalId) ?? null) : null,
    fileExternalId: e.fileExternalId,
    raw: e.raw,
  };
}
