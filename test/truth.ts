import { expect } from 'vitest';
import type { Truth } from '../connectors/simulated/model.js';
import type { TenantControl } from '../connectors/simulated/tenant.js';
import { waitFor, type TestStack } from './harness.js';

/** Every node of a connection through the gateway, following endCursor. */
export async function allNodes<T>(t: TestStack, field: string, args: string, selection: string): Promise<T[]> {
  const out: T[] = [];
  let after: string | null = null;
  for (;;) {
    const data: Record<string, { edges: { node: T }[]; pageInfo: { hasNextPage: boolean; endCursor: string | null } }> = await t.query(
      `query ($after: String) { ${field}(${args}${args ? ', ' : ''}first: 500, after: $after) { edges { node { ${selection} } } pageInfo { hasNextPage endCursor } } }`,
      { after },
    );
    const page = data[field]!;
    out.push(...page.edges.map((e) => e.node));
    if (!page.pageInfo.hasNextPage) return out;
    after = page.pageInfo.endCursor;
  }
}

/** Waits until the instance is CONNECTED; fails at once if it ends in ERROR. */
export async function waitConnected(t: TestStack, instanceId: string, timeoutMs = 180_000): Promise<void> {
  await waitFor(
    `instance ${instanceId} CONNECTED`,
    async () => {
      const { appInstance } = await t.query<{ appInstance: { status: string; statusMessage: string | null } }>(
        `{ appInstance(id: "${instanceId}") { status statusMessage } }`,
      );
      if (appInstance.status === 'ERROR') throw new Error(`ERROR: ${appInstance.statusMessage}`);
      return appInstance.status === 'CONNECTED' ? true : undefined;
    },
    timeoutMs,
    250,
  );
}

export interface ScanView {
  kind: string;
  state: string;
  itemsScanned: number;
  lastCompletedAt: string | null;
}

export async function scanOf(t: TestStack, instanceId: string, kind: string): Promise<ScanView> {
  const { appInstance } = await t.query<{ appInstance: { scans: ScanView[] } }>(
    `{ appInstance(id: "${instanceId}") { scans { kind state itemsScanned lastCompletedAt } } }`,
  );
  return appInstance.scans.find((s) => s.kind === kind)!;
}

/** Runs one scan now through `requestScan` and waits until it has completed again. */
export async function rescan(t: TestStack, instanceId: string, kind: string): Promise<void> {
  const before = (await scanOf(t, instanceId, kind)).lastCompletedAt;
  await t.query(`mutation { requestScan(instanceId: "${instanceId}", kind: ${kind}) { state } }`);
  let last: ScanView | undefined;
  await waitFor(
    `${kind} scan of ${instanceId}`,
    async () => {
      last = await scanOf(t, instanceId, kind);
      return last.lastCompletedAt !== before && last.state === 'IDLE' ? true : undefined;
    },
    60_000,
  ).catch((error: Error) => {
    throw new Error(`${error.message}; last seen ${JSON.stringify(last)}`);
  });
}

const sorted = (values: Iterable<string>) => [...values].sort();
export const live = <T extends { deleted: boolean }>(items: readonly T[]) => items.filter((i) => !i.deleted);

/**
 * The graph holds exactly what the provider holds for the instance: the same users, groups,
 * memberships, files, grants and audit events (by provider id), none twice, nothing deleted kept live.
 */
export async function expectGraphMatchesTruth(t: TestStack, tenant: TenantControl, instanceId: string): Promise<void> {
  const truth: Truth = tenant.truth();
  const filter = `filter: { instanceId: "${instanceId}" }`;
  // Memberships are read from the accounts' side: Account.groups is complete, Group.members is paged.
  const accounts = await allNodes<{ externalId: string; groups: { externalId: string }[] }>(
    t,
    'accounts',
    filter,
    'externalId groups { externalId }',
  );
  expect(sorted(accounts.map((a) => a.externalId))).toEqual(sorted(live(truth.users).map((u) => u.id)));

  const groups = await allNodes<{ externalId: string; memberCount: number }>(
    t,
    'groups',
    `instanceId: "${instanceId}"`,
    'externalId memberCount',
  );
  expect(sorted(groups.map((g) => g.externalId))).toEqual(sorted(live(truth.groups).map((g) => g.id)));
  const liveUsers = new Set(live(truth.users).map((u) => u.id));
  const liveGroups = new Set(live(truth.groups).map((g) => g.id));
  const expected = truth.memberships.filter((m) => liveUsers.has(m.userId) && liveGroups.has(m.groupId));
  const memberships = accounts.flatMap((a) => a.groups.map((g) => `${g.externalId}/${a.externalId}`));
  expect(sorted(memberships)).toEqual(sorted(expected.map((m) => `${m.groupId}/${m.userId}`)));
  for (const group of groups) expect(group.memberCount).toBe(expected.filter((m) => m.groupId === group.externalId).length);

  const files = await allNodes<{ externalId: string }>(t, 'files', filter, 'externalId');
  expect(sorted(files.map((f) => f.externalId))).toEqual(sorted(live(truth.files).map((f) => f.id)));
  const grants = await allNodes<{ externalId: string }>(t, 'appPermissions', filter, 'externalId');
  expect(sorted(grants.map((g) => g.externalId))).toEqual(sorted(live(truth.grants).map((g) => g.id)));

  const activities = await allNodes<{ externalId: string }>(t, 'activities', filter, 'externalId');
  const eventIds = activities.map((a) => a.externalId);
  expect(new Set(eventIds).size).toBe(eventIds.length);
  expect(sorted(eventIds)).toEqual(sorted(truth.events.map((e) => e.id)));
}
