import { CursorExpiredError } from '../../connectors/contract.js';
import { newId } from '../../platform/ids.js';
import { permissionLevelOf } from '../../connectors/permission-level.js';
import type { SchedulerServices } from '../services.js';
import { pagesFrom, type FullPassCursor, type ScanOutcome, type ScanRun } from './scan-run.js';
import { itemRefusal } from './refusals.js';
import { AccountStatus } from '../../platform/vocabulary/account-status.js';
import { PermissionLevel } from '../../platform/vocabulary/permission-level.js';

/**
 * The user scan's position: a full listing (`full`: pass, page, and the change-feed cursor taken
 * before it began, when the provider has a feed), or the change feed from there on (`delta`), with
 * when the last full listing finished.
 */
export type UsersCursor =
  | (FullPassCursor & { readonly mode?: 'full'; readonly delta?: string | null })
  | { readonly mode: 'delta'; readonly delta: string; readonly page: string | null; readonly items: number; readonly fullAt: number };

/**
 * A full listing at least this often even where a change feed exists: what the feed does not carry
 * (Graph's users delta says nothing of directory role changes, hence `isAdmin`) is reconciled.
 */
const FULL_LISTING_EVERY_MS = 24 * 3_600_000;

type UserScanServices = Pick<SchedulerServices, 'accounts' | 'activities'>;

/**
 * Users: the directory's change feed between full listings where the provider has one, a full
 * listing otherwise (and daily, and when the feed's cursor expired); accounts a full listing no
 * longer sees, or the feed says were deleted, are marked deleted.
 */
export async function scanUsers(run: ScanRun<UsersCursor>, services: UserScanServices): Promise<ScanOutcome> {
  const cursor = run.cursor;
  if (cursor?.mode === 'delta' && run.connector.readUserChanges && Date.now() - cursor.fullAt < FULL_LISTING_EVERY_MS) {
    try {
      return await readUserChanges(run, services, cursor);
    } catch (error) {
      if (!(error instanceof CursorExpiredError)) throw error;
      // The feed forgot our position: resynchronise from a full listing.
    }
  }
  return listAllUsers({ ...run, cursor: cursor?.mode === 'delta' ? null : (cursor ?? null) }, services);
}

async function listAllUsers(run: ScanRun<UsersCursor>, services: UserScanServices): Promise<ScanOutcome> {
  const resume = run.cursor?.mode !== 'delta' ? run.cursor : null;
  const pass = resume?.pass ?? newId();
  // The feed's position before the listing began: nothing that changes during it is missed.
  const delta = resume
    ? (resume.delta ?? null)
    : run.connector.readUserChanges
      ? (await run.connector.readUserChanges(null, null)).deltaCursor
      : null;
  let page = resume?.page ?? null;
  let items = resume?.items ?? 0;
  const accounts = services.accounts();
  // The next page is asked for while this one is stored.
  for await (const result of pagesFrom(
    (token) => run.connector.listUsers(token),
    page,
    () => run.stopping(),
  )) {
    await accounts.upsertAccounts(
      run.instanceId,
      result.items.map((u) => ({ ...u, status: AccountStatus[u.status] })),
      pass,
    );
    items += result.items.length;
    page = result.next;
    if (!page) break;
    await run.save({ mode: 'full', pass, page, items, delta }, items);
    if (run.stopping()) return { status: 'paused', items };
  }
  await accounts.markAccountsMissingFrom(run.instanceId, pass);
  await linkUnresolved(run, services);
  await run.save(delta ? { mode: 'delta', delta, page: null, items, fullAt: Date.now() } : null, items);
  return { status: 'done', items };
}

async function readUserChanges(
  run: ScanRun<UsersCursor>,
  services: UserScanServices,
  cursor: Extract<UsersCursor, { mode: 'delta' }>,
): Promise<ScanOutcome> {
  const accounts = services.accounts();
  let page = cursor.page;
  let items = cursor.items;
  let added = false;
  for (;;) {
    const result = await run.connector.readUserChanges!(cursor.delta, page);
    const upserts = result.changes.flatMap((c) => (c.kind === 'upsert' ? [c.user] : []));
    await accounts.upsertAccounts(
      run.instanceId,
      upserts.map((u) => ({ ...u, status: AccountStatus[u.status] })),
    );
    await accounts.markAccountsDeleted(
      run.instanceId,
      result.changes.flatMap((c) => (c.kind === 'deleted' ? [c.externalId] : [])),
    );
    items += result.changes.length;
    added ||= upserts.length > 0;
    page = result.next;
    if (!page) {
      if (added) await linkUnresolved(run, services);
      await run.save({ ...cursor, delta: result.deltaCursor ?? cursor.delta, page: null, items }, items);
      return { status: 'done', items };
    }
    await run.save({ ...cursor, page, items }, items);
    if (run.stopping()) return { status: 'paused', items };
  }
}

/** Events stored before their actor's account existed get linked once it does. */
async function linkUnresolved(run: ScanRun<unknown>, services: Pick<SchedulerServices, 'accounts' | 'activities'>): Promise<void> {
  const activities = services.activities();
  const BATCH = 10_000;
  for (let after: string | null = null; ;) {
    const unresolved = await activities.unresolvedActors(run.instanceId, BATCH, after);
    if (unresolved.length > 0)
      await activities.linkActors(run.instanceId, await services.accounts().accountIdsByExternalId(run.instanceId, unresolved));
    if (unresolved.length < BATCH) return;
    after = unresolved.at(-1)!;
  }
}

interface GroupsCursor {
  readonly pass: string;
  readonly phase: 'groups' | 'members';
  readonly page: string | null;
  /** Members phase: the last group whose members were saved. */
  readonly afterGroup: string | null;
  readonly items: number;
}

/** Groups, then each group's members (a group's memberships are replaced as a whole). */
export async function scanGroups(run: ScanRun<GroupsCursor>, services: Pick<SchedulerServices, 'accounts'>): Promise<ScanOutcome> {
  const pass = run.cursor?.pass ?? newId();
  const accounts = services.accounts();
  let items = run.cursor?.items ?? 0;
  if ((run.cursor?.phase ?? 'groups') === 'groups') {
    let page = run.cursor?.page ?? null;
    for (;;) {
      const result = await run.connector.listGroups(page);
      await accounts.upsertGroups(run.instanceId, result.items, pass);
      items += result.items.length;
      page = result.next;
      if (!page) break;
      await run.save({ pass, phase: 'groups', page, afterGroup: null, items }, items);
      if (run.stopping()) return { status: 'paused', items };
    }
    await accounts.markGroupsMissingFrom(run.instanceId, pass);
    await run.save({ pass, phase: 'members', page: null, afterGroup: null, items }, items);
  }
  let afterGroup = run.cursor?.phase === 'members' ? run.cursor.afterGroup : null;
  for (;;) {
    const groups = await accounts.groupsAfter(run.instanceId, afterGroup, 100);
    if (groups.length === 0) break;
    for (const group of groups) {
      const members = await membersOf(run, group.externalId);
      if (members) {
        const ids = await accounts.accountIdsByExternalId(run.instanceId, members);
        await accounts.setGroupMembers(run.instanceId, group.id, [...ids.values()]);
        items += members.length;
      }
      afterGroup = group.externalId;
      await run.save({ pass, phase: 'members', page: null, afterGroup, items }, items);
      if (run.stopping()) return { status: 'paused', items };
    }
  }
  await run.save(null, items);
  return { status: 'done', items };
}

/**
 * A group's members, or null when the provider refuses that one group (gone since the listing, or
 * not readable): it is skipped, its memberships kept as they were, and the scan goes on.
 */
async function membersOf(run: ScanRun<GroupsCursor>, groupExternalId: string): Promise<string[] | null> {
  const members: string[] = [];
  let page: string | null = null;
  try {
    do {
      const result = await run.connector.listGroupMembers(groupExternalId, page);
      members.push(...result.items);
      page = result.next;
    } while (page);
    return members;
  } catch (error) {
    const refusal = itemRefusal(error, "group's members");
    if (!refusal) throw error;
    await run.skipped?.(refusal.reason, refusal.status);
    return null;
  }
}

/** OAuth grants: a full listing per run; grants no longer listed are marked deleted. */
export async function scanGrants(
  run: ScanRun<FullPassCursor>,
  services: Pick<SchedulerServices, 'accounts' | 'grants' | 'evaluator'>,
): Promise<ScanOutcome> {
  const pass = run.cursor?.pass ?? newId();
  let page = run.cursor?.page ?? null;
  let items = run.cursor?.items ?? 0;
  const grants = services.grants();
  const accounts = services.accounts();
  for (;;) {
    const result = await run.connector.listGrants(page);
    const grantors = await accounts.accountIdsByExternalId(
      run.instanceId,
      result.items.flatMap((g) => (g.userExternalId ? [g.userExternalId] : [])),
    );
    const ids = await grants.upsertAppPermissions(
      run.instanceId,
      result.items.map((g) => ({
        externalId: g.externalId,
        appName: g.appName,
        clientId: g.clientId,
        publisher: g.publisher,
        scopes: g.scopes,
        permissionLevel: PermissionLevel[permissionLevelOf(g.scopes)],
        grantedById: g.userExternalId ? (grantors.get(g.userExternalId) ?? null) : null,
        grantedAt: g.grantedAt ? new Date(g.grantedAt) : null,
        lastUsedAt: g.lastUsedAt ? new Date(g.lastUsedAt) : null,
        revoked: g.revoked,
      })),
      pass,
    );
    // Every listing re-reads every grant: detections record each grant once.
    await services.evaluator().evaluateGrants(run.instanceId, [...ids.values()]);
    items += result.items.length;
    page = result.next;
    if (!page) break;
    await run.save({ pass, page, items }, items);
    if (run.stopping()) return { status: 'paused', items };
  }
  await grants.markMissingFrom(run.instanceId, pass);
  await run.save(null, items);
  return { status: 'done', items };
}
