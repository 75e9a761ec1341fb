import { newId } from '../../platform/ids.js';
import { permissionLevelOf } from '../../connectors/permission-level.js';
import type { SchedulerServices } from '../services.js';
import type { FullPassCursor, ScanOutcome, ScanRun } from './scan-run.js';
import { AccountStatus } from '../../platform/vocabulary/account-status.js';
import { PermissionLevel } from '../../platform/vocabulary/permission-level.js';

/** Users: a full listing per run; accounts the provider no longer lists are marked deleted. */
export async function scanUsers(
  run: ScanRun<FullPassCursor>,
  services: Pick<SchedulerServices, 'accounts' | 'activities'>,
): Promise<ScanOutcome> {
  const pass = run.cursor?.pass ?? newId();
  let page = run.cursor?.page ?? null;
  let items = run.cursor?.items ?? 0;
  const accounts = services.accounts();
  for (;;) {
    const result = await run.connector.listUsers(page);
    await accounts.upsertAccounts(
      run.instanceId,
      result.items.map((u) => ({ ...u, status: AccountStatus[u.status] })),
      pass,
    );
    items += result.items.length;
    page = result.next;
    if (!page) break;
    await run.save({ pass, page, items }, items);
    if (run.stopping()) return { status: 'paused', items };
  }
  await accounts.markAccountsMissingFrom(run.instanceId, pass);
  await linkUnresolved(run, services);
  await run.save(null, items);
  return { status: 'done', items };
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
      const members: string[] = [];
      let page: string | null = null;
      do {
        const result = await run.connector.listGroupMembers(group.externalId, page);
        members.push(...result.items);
        page = result.next;
      } while (page);
      const ids = await accounts.accountIdsByExternalId(run.instanceId, members);
      await accounts.setGroupMembers(run.instanceId, group.id, [...ids.values()]);
      items += members.length;
      afterGroup = group.externalId;
      await run.save({ pass, phase: 'members', page: null, afterGroup, items }, items);
      if (run.stopping()) return { status: 'paused', items };
    }
  }
  await run.save(null, items);
  return { status: 'done', items };
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
