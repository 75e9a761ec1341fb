import { CursorExpiredError, type ProviderFile } from '../../connectors/contract.js';
import type { FileRecord } from '../../subgraphs/files/public.js';
import { newId } from '../../platform/ids.js';
import type { SchedulerServices } from '../services.js';
import { pagesFrom, type ScanOutcome, type ScanRun } from './scan-run.js';
import { SharingLevel } from '../../platform/vocabulary/sharing.js';

/** What the files scan reads and writes. */
type FileScanServices = Pick<SchedulerServices, 'accounts' | 'files' | 'activities' | 'evaluator'>;

/**
 * A full listing (`full`: pass, page, and the change-feed cursor taken before it began, so that no
 * change made during the listing is missed), then the change feed from there on (`delta`).
 */
export type FilesCursor =
  | { readonly mode: 'full'; readonly pass: string; readonly page: string | null; readonly delta: string | null; readonly items: number }
  | { readonly mode: 'delta'; readonly delta: string; readonly page: string | null; readonly items: number };

/** Files: the change feed when there is a cursor, a full listing otherwise or when it expired. */
export async function scanFiles(run: ScanRun<FilesCursor>, services: FileScanServices): Promise<ScanOutcome> {
  const cursor = run.cursor;
  if (cursor?.mode === 'delta') {
    try {
      return await readChanges(run, services, cursor);
    } catch (error) {
      if (!(error instanceof CursorExpiredError)) throw error;
      // The feed forgot our position: resynchronise from a full listing.
      return fullListing({ ...run, cursor: null }, services);
    }
  }
  return fullListing(run, services);
}

async function fullListing(run: ScanRun<FilesCursor>, services: FileScanServices): Promise<ScanOutcome> {
  const resume = run.cursor?.mode === 'full' ? run.cursor : null;
  const pass = resume?.pass ?? newId();
  const delta = resume ? resume.delta : (await run.connector.readFileChanges(null, null)).deltaCursor;
  let page = resume?.page ?? null;
  let items = resume?.items ?? 0;
  // The next page is asked for while this one is stored.
  for await (const result of pagesFrom(
    (token) => run.connector.listFiles(token),
    page,
    () => run.stopping(),
  )) {
    await saveFiles(run, services, result.items, pass);
    items += result.items.length;
    page = result.next;
    if (!page) break;
    await run.save({ mode: 'full', pass, page, delta, items }, items);
    if (run.stopping()) return { status: 'paused', items };
  }
  await services.files().markMissingFrom(run.instanceId, pass);
  await linkUnresolvedFiles(run, services);
  await run.save(delta ? { mode: 'delta', delta, page: null, items } : null, items);
  return { status: 'done', items };
}

async function readChanges(
  run: ScanRun<FilesCursor>,
  services: FileScanServices,
  cursor: Extract<FilesCursor, { mode: 'delta' }>,
): Promise<ScanOutcome> {
  let page = cursor.page;
  let items = cursor.items;
  for (;;) {
    const result = await run.connector.readFileChanges(cursor.delta, page, run.containers);
    const upserts = result.changes.flatMap((c) => (c.kind === 'upsert' ? [c.file] : []));
    await saveFiles(run, services, upserts, null);
    await services.files().markDeleted(
      run.instanceId,
      result.changes.flatMap((c) => (c.kind === 'deleted' ? [c.externalId] : [])),
    );
    items += result.changes.length;
    page = result.next;
    if (!page) {
      await run.save({ mode: 'delta', delta: result.deltaCursor ?? cursor.delta, page: null, items }, items);
      return { status: 'done', items };
    }
    await run.save({ mode: 'delta', delta: cursor.delta, page, items }, items);
    if (run.stopping()) return { status: 'paused', items };
  }
}

async function saveFiles(
  run: ScanRun<FilesCursor>,
  services: FileScanServices,
  files: readonly ProviderFile[],
  pass: string | null,
): Promise<void> {
  if (files.length === 0) return;
  const owners = await services
    .accounts()
    .accountIdsByExternalId(run.instanceId, [...new Set(files.flatMap((f) => (f.ownerExternalId ? [f.ownerExternalId] : [])))]);
  const records: FileRecord[] = files.map((f) => ({
    externalId: f.externalId,
    name: f.name,
    path: f.path,
    mimeType: f.mimeType,
    sizeBytes: f.sizeBytes,
    ownerId: f.ownerExternalId ? (owners.get(f.ownerExternalId) ?? null) : null,
    sharing: SharingLevel[f.sharing],
    collaborators: f.collaborators,
    trashed: f.trashed,
    quarantined: f.quarantined,
    modifiedAt: new Date(f.modifiedAt),
    contentVersion: f.contentVersion,
  }));
  const ids = await services.files().upsertFiles(run.instanceId, records, pass);
  // Re-read pages are evaluated again: detections record each file state once.
  await services.evaluator().evaluateFiles(run.instanceId, [...ids.values()]);
}

/** Events stored before their file was known get linked once it is. */
async function linkUnresolvedFiles(run: ScanRun<unknown>, services: FileScanServices): Promise<void> {
  const activities = services.activities();
  const BATCH = 10_000;
  // In batches by provider id: ids of files never listed (gone before the scan) stay unresolved and
  // must not stop the walk.
  for (let after: string | null = null; ;) {
    const unresolved = await activities.unresolvedFiles(run.instanceId, BATCH, after);
    if (unresolved.length > 0)
      await activities.linkFiles(run.instanceId, await services.files().fileIdsByExternalId(run.instanceId, unresolved));
    if (unresolved.length < BATCH) return;
    after = unresolved.at(-1)!;
  }
}
