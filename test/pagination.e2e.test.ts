import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Severity } from '../subgraphs/activities/policy.entity.js';
import { seedDataset, type Dataset } from './fixtures.js';
import { startTestStack, type TestStack } from './harness.js';
import { PermissionLevel } from '../platform/vocabulary/permission-level.js';
import { ActivityCategory } from '../platform/vocabulary/activity-category.js';
import { GovernanceActionType } from '../platform/governance/actions.js';

let t: TestStack;
let data: Dataset;
/** An instance whose rows share their sort values, so that only the id orders them. */
let ties: { instanceId: string; accountId: string; groupId: string };

const SAME_TIME = new Date('2026-11-15T12:00:00Z');
const TIES = 15;

beforeAll(async () => {
  t = await startTestStack();
  // 2 × 10 accounts with 9 activities, files and grants each: 180 of each, under one `first: 500` read.
  data = await seedDataset(t.fixtures, { accountsPerInstance: 10, perAccount: 9 });
  const f = t.fixtures;
  const instanceId = await f.instance('Ties');
  const accounts = await f.accounts(
    instanceId,
    Array.from({ length: TIES }, (_, i) => ({ externalId: `same-${i}`, displayName: 'Same Name' })),
  );
  const accountIds = [...accounts.values()];
  const accountId = accountIds[0]!;
  const groups = await f.groups(
    instanceId,
    Array.from({ length: 9 }, (_, i) => ({ externalId: `sg-${i}`, name: 'Same group' })),
  );
  const groupId = groups.get('sg-0')!;
  await f.members(instanceId, groupId, accountIds);
  await f.activities(
    instanceId,
    Array.from({ length: TIES }, (_, i) => ({
      externalId: `same-${i}`,
      category: ActivityCategory.USER,
      action: 'file.download',
      actorId: accountId,
      occurredAt: SAME_TIME,
    })),
  );
  await f.files(
    instanceId,
    Array.from({ length: TIES }, (_, i) => ({
      externalId: `same-${i}`,
      name: `same-${i}.txt`,
      path: `/same/${i}`,
      sizeBytes: 1,
      ownerId: accountId,
      modifiedAt: SAME_TIME,
    })),
  );
  await f.appPermissions(
    instanceId,
    Array.from({ length: TIES }, (_, i) => ({
      externalId: `same-${i}`,
      appName: 'Tie App',
      clientId: 'tie',
      scopes: [],
      permissionLevel: PermissionLevel.LOW,
      grantedById: accountId,
    })),
  );
  for (let i = 0; i < TIES; i++) {
    await f.detection({
      policyId: data.policies[0]!,
      severity: Severity.LOW,
      title: `Tie ${i}`,
      description: 'tie',
      instanceId,
      accountId,
      detectedAt: SAME_TIME,
    });
  }
  ties = { instanceId, accountId, groupId };
});
afterAll(() => t?.stop());

interface Conn {
  totalCount: number;
  pageInfo: { hasNextPage: boolean; endCursor: string | null; hasPreviousPage: boolean; startCursor: string | null };
  edges: { cursor: string; node: { id: string; sort: string } }[];
}
/** Reads one page of a connection. */
type Reader = (first: number, after: string | null) => Promise<Conn>;

const SELECTION = (sort: string) =>
  `totalCount pageInfo { hasNextPage endCursor hasPreviousPage startCursor } edges { cursor node { id sort: ${sort} } }`;

/** A top-level connection; `args` are extra arguments such as a filter. */
const topLevel =
  (field: string, sort: string, args = ''): Reader =>
  async (first, after) =>
    (
      await t.query<{ c: Conn }>(
        `query($first: Int, $after: String) { c: ${field}(${args} first: $first, after: $after) { ${SELECTION(sort)} } }`,
        { first, after },
      )
    ).c;

/** A connection on an account: Account.activities, Account.files or Account.appPermissions. */
const ofAccount =
  (field: string, sort: string, accountId: () => string): Reader =>
  async (first, after) =>
    (
      await t.query<{ account: { c: Conn } }>(
        `query($id: ID!, $first: Int, $after: String) { account(id: $id) { c: ${field}(first: $first, after: $after) { ${SELECTION(sort)} } } }`,
        {
          id: accountId(),
          first,
          after,
        },
      )
    ).account.c;

/**
 * Group.members of one group. There is no `group(id)` query: the group is found among its instance's,
 * and read as the one page of `first: 1` after the group before it (a page of 500 groups each with 500
 * members would be over the query cost limit).
 */
const membersOf =
  (group: () => { instanceId: string; groupId: string }): Reader =>
  async (first, after) => {
    const { instanceId, groupId } = group();
    const { groups } = await t.query<{ groups: { edges: { cursor: string; node: { id: string } }[] } }>(
      `query($instanceId: ID) { groups(instanceId: $instanceId, first: 500) { edges { cursor node { id } } } }`,
      { instanceId },
    );
    const index = groups.edges.findIndex((e) => e.node.id === groupId);
    const answer = await t.query<{ groups: { edges: { node: { id: string; c: Conn } }[] } }>(
      `query($instanceId: ID, $group: String, $first: Int, $after: String) { groups(instanceId: $instanceId, first: 1, after: $group) { edges { node { id c: members(first: $first, after: $after) { ${SELECTION('displayName')} } } } } }`,
      { instanceId, group: index > 0 ? groups.edges[index - 1]!.cursor : null, first, after },
    );
    expect(answer.groups.edges[0]?.node.id).toBe(groupId);
    return answer.groups.edges[0]!.node.c;
  };

/**
 * Pages through `read` `size` rows at a time and proves the pages are the single `first: 500` read cut
 * in order: no repeats, no gaps, full pages but the last, hasNextPage false exactly on the last page,
 * endCursor the last edge's cursor, totalCount the same everywhere. Answers the single read.
 */
async function expectPagesCoverAll(read: Reader, size = 7): Promise<Conn> {
  const all = await read(500, null);
  const ids = all.edges.map((e) => e.node.id);
  expect(all.pageInfo.hasNextPage).toBe(false);
  expect(ids).toHaveLength(all.totalCount);
  expect(new Set(ids).size).toBe(ids.length);
  expect(ids.length, 'enough rows for several pages').toBeGreaterThan(size);

  const seen: string[] = [];
  let after: string | null = null;
  for (;;) {
    const page = await read(size, after);
    const expectedSize = Math.min(size, ids.length - seen.length);
    expect(page.totalCount).toBe(all.totalCount);
    expect(page.edges).toHaveLength(expectedSize);
    expect(page.pageInfo.hasNextPage).toBe(seen.length + expectedSize < ids.length);
    expect(page.pageInfo.endCursor).toBe(page.edges.at(-1)?.cursor ?? after);
    expect(page.pageInfo.startCursor).toBe(page.edges[0]?.cursor ?? after);
    expect(page.pageInfo.hasPreviousPage).toBe(after !== null);
    seen.push(...page.edges.map((e) => e.node.id));
    if (!page.pageInfo.hasNextPage || expectedSize === 0) break;
    after = page.pageInfo.endCursor;
  }
  expect(seen).toEqual(ids);

  // Any edge's cursor resumes right after that edge.
  const middle = Math.floor(ids.length / 2);
  expect((await read(3, all.edges[middle]!.cursor)).edges.map((e) => e.node.id)).toEqual(ids.slice(middle + 1, middle + 4));
  // After the last edge: an empty page, no next page, and the position it was asked at.
  const last = all.edges.at(-1)!.cursor;
  const beyond = await read(size, last);
  expect(beyond).toEqual({
    totalCount: all.totalCount,
    pageInfo: { hasNextPage: false, endCursor: last, hasPreviousPage: true, startCursor: last },
    edges: [],
  });
  // `first: 0` counts without answering rows, and says truthfully that items follow.
  const none = await read(0, null);
  expect(none.edges).toEqual([]);
  expect(none.totalCount).toBe(all.totalCount);
  expect(none.pageInfo).toEqual({ hasNextPage: true, endCursor: null, hasPreviousPage: false, startCursor: null });
  const middleCursor = all.edges[middle]!.cursor;
  expect((await read(0, middleCursor)).pageInfo).toEqual({
    hasNextPage: true,
    endCursor: middleCursor,
    hasPreviousPage: true,
    startCursor: middleCursor,
  });
  return all;
}

/** Where neighbours share their sort value, the id breaks the tie in the connection's direction. */
function expectIdTieBreak(all: Conn, direction: 'asc' | 'desc', minTies: number): void {
  let tied = 0;
  for (let i = 1; i < all.edges.length; i++) {
    const [a, b] = [all.edges[i - 1]!.node, all.edges[i]!.node];
    if (a.sort !== b.sort) continue;
    tied++;
    expect(direction === 'asc' ? a.id < b.id : a.id > b.id, `${a.id} before ${b.id} (${a.sort})`).toBe(true);
  }
  expect(tied, 'rows sharing a sort value').toBeGreaterThanOrEqual(minTies);
}

/** Timestamps of a newest-first connection never increase. */
function expectNewestFirst(all: Conn): void {
  const times = all.edges.map((e) => Date.parse(e.node.sort));
  for (let i = 1; i < times.length; i++) expect(times[i]!).toBeLessThanOrEqual(times[i - 1]!);
}

describe('every connection pages by keyset with no repeats and no gaps', () => {
  const firstAccount = () => [...data.accounts.keys()][3]!;

  it('accounts, ordered by displayName then id', async () => {
    expectIdTieBreak(await expectPagesCoverAll(topLevel('accounts', 'displayName')), 'asc', TIES - 1);
    await expectPagesCoverAll(topLevel('accounts', 'displayName', `filter: { instanceId: "${data.instances[1]}" }`));
  });

  it('groups, ordered by name then id', async () => {
    expectIdTieBreak(await expectPagesCoverAll(topLevel('groups', 'name')), 'asc', 8);
    await expectPagesCoverAll(topLevel('groups', 'name', `instanceId: "${ties.instanceId}"`), 2);
  });

  it('Group.members', async () => {
    expectIdTieBreak(await expectPagesCoverAll(membersOf(() => ties)), 'asc', TIES - 1);
    await expectPagesCoverAll(membersOf(() => ({ instanceId: data.instances[0]!, groupId: data.groups[0]! })));
  });

  it('activities and Account.activities, newest first', async () => {
    const all = await expectPagesCoverAll(topLevel('activities', 'occurredAt'));
    expectNewestFirst(all);
    expectIdTieBreak(all, 'desc', TIES - 1);
    await expectPagesCoverAll(topLevel('activities', 'occurredAt', `filter: { instanceId: "${data.instances[0]}", category: USER }`));
    expectIdTieBreak(await expectPagesCoverAll(ofAccount('activities', 'occurredAt', () => ties.accountId)), 'desc', TIES - 1);
    expectNewestFirst(await expectPagesCoverAll(ofAccount('activities', 'occurredAt', firstAccount), 2));
  });

  it('files and Account.files, newest change first', async () => {
    const all = await expectPagesCoverAll(topLevel('files', 'modifiedAt'));
    expectNewestFirst(all);
    expectIdTieBreak(all, 'desc', TIES - 1);
    expectIdTieBreak(await expectPagesCoverAll(ofAccount('files', 'modifiedAt', () => ties.accountId)), 'desc', TIES - 1);
    expectNewestFirst(await expectPagesCoverAll(ofAccount('files', 'modifiedAt', firstAccount), 2));
  });

  it('appPermissions and Account.appPermissions, by appName then id', async () => {
    expectIdTieBreak(await expectPagesCoverAll(topLevel('appPermissions', 'appName')), 'asc', 100);
    expectIdTieBreak(await expectPagesCoverAll(ofAccount('appPermissions', 'appName', () => ties.accountId)), 'asc', TIES - 1);
    expectIdTieBreak(await expectPagesCoverAll(ofAccount('appPermissions', 'appName', firstAccount), 2), 'asc', 2);
  });

  it('detections and governanceActions, newest first', async () => {
    const detections = await expectPagesCoverAll(topLevel('detections', 'detectedAt'));
    expectNewestFirst(detections);
    expectIdTieBreak(detections, 'desc', TIES - 1);
    expectNewestFirst(await expectPagesCoverAll(topLevel('governanceActions', 'requestedAt'), 3));
  });

  it('refuses first above 500 or below 0, and a cursor it did not make', async () => {
    for (const args of ['first: 501', 'first: -1', 'after: "not-a-cursor"', `after: "${Buffer.from('["x"]').toString('base64url')}"`]) {
      const answer = await t.request(`{ activities(${args}) { totalCount } }`);
      expect(answer.errors?.[0]?.extensions?.code, args).toBe('BAD_USER_INPUT');
    }
  });
});

describe('cursors are keysets, not offsets', () => {
  it('never shows rows inserted before the cursor after the first page was read, nor repeats one', async () => {
    const f = t.fixtures;
    const instanceId = await f.instance('Live');
    const accounts = await f.accounts(
      instanceId,
      Array.from({ length: 20 }, (_, i) => ({ externalId: `m${i}`, displayName: `M ${String(i).padStart(2, '0')}` })),
    );
    const actorId = accounts.get('m0')!;
    const minute = (m: number) => new Date(Date.UTC(2026, 11, 1) + m * 60_000);
    const event = (id: string, m: number) => ({
      externalId: id,
      category: ActivityCategory.USER,
      action: 'file.download',
      actorId,
      occurredAt: minute(m),
    });
    const file = (id: string, m: number) => ({
      externalId: id,
      name: `${id}.txt`,
      path: `/${id}`,
      sizeBytes: 1,
      ownerId: actorId,
      modifiedAt: minute(m),
    });
    const grant = (id: string, appName: string) => ({
      externalId: id,
      appName,
      clientId: id,
      scopes: [],
      permissionLevel: PermissionLevel.LOW,
      grantedById: actorId,
    });
    await f.activities(
      instanceId,
      Array.from({ length: 20 }, (_, i) => event(`e${i}`, i)),
    );
    await f.files(
      instanceId,
      Array.from({ length: 20 }, (_, i) => file(`f${i}`, i)),
    );
    await f.appPermissions(
      instanceId,
      Array.from({ length: 20 }, (_, i) => grant(`p${i}`, `App ${String(i).padStart(2, '0')}`)),
    );
    const groups = await f.groups(
      instanceId,
      Array.from({ length: 20 }, (_, i) => ({ externalId: `g${i}`, name: `Group ${String(i).padStart(2, '0')}` })),
    );
    const groupId = groups.get('g0')!;
    await f.members(instanceId, groupId, [...accounts.values()]);
    const detection = (title: string, m: number) =>
      f.detection({
        policyId: data.policies[0]!,
        severity: Severity.HIGH,
        title,
        description: 'live',
        instanceId,
        accountId: actorId,
        detectedAt: minute(m),
      });
    const action = () =>
      f.governanceAction({ type: GovernanceActionType.SUSPEND_ACCOUNT, instanceId, accountId: actorId, requestedBy: 'dev-responder' });
    for (let i = 0; i < 20; i++) await detection(`d${i}`, i);
    for (let i = 0; i < 20; i++) await action();

    const filter = `filter: { instanceId: "${instanceId}" }`;
    const readers: Record<string, Reader> = {
      accounts: topLevel('accounts', 'displayName', filter),
      activities: topLevel('activities', 'occurredAt', filter),
      'Account.activities': ofAccount('activities', 'occurredAt', () => actorId),
      files: topLevel('files', 'modifiedAt', filter),
      'Account.files': ofAccount('files', 'modifiedAt', () => actorId),
      appPermissions: topLevel('appPermissions', 'appName', filter),
      'Account.appPermissions': ofAccount('appPermissions', 'appName', () => actorId),
      groups: topLevel('groups', 'name', `instanceId: "${instanceId}"`),
      'Group.members': membersOf(() => ({ instanceId, groupId })),
      detections: topLevel('detections', 'detectedAt', filter),
      governanceActions: topLevel('governanceActions', 'requestedAt', filter),
    };
    const before = new Map<string, string[]>();
    const firstPages = new Map<string, Conn>();
    for (const [name, read] of Object.entries(readers)) {
      before.set(
        name,
        (await read(500, null)).edges.map((e) => e.node.id),
      );
      firstPages.set(name, await read(7, null));
    }

    // Rows that sort before every cursor above: earlier names, later times, earlier app names.
    const earlier = await f.accounts(
      instanceId,
      Array.from({ length: 5 }, (_, i) => ({ externalId: `a${i}`, displayName: `A ${i}` })),
    );
    await f.members(instanceId, groupId, [...accounts.values(), ...earlier.values()]);
    await f.groups(
      instanceId,
      Array.from({ length: 5 }, (_, i) => ({ externalId: `new${i}`, name: `AAA ${i}` })),
    );
    for (let i = 0; i < 5; i++) await detection(`new${i}`, 100 + i);
    // Requested now, so newer than every action above.
    for (let i = 0; i < 5; i++) await action();
    await f.activities(
      instanceId,
      Array.from({ length: 5 }, (_, i) => event(`new${i}`, 100 + i)),
    );
    await f.files(
      instanceId,
      Array.from({ length: 5 }, (_, i) => file(`new${i}`, 100 + i)),
    );
    await f.appPermissions(
      instanceId,
      Array.from({ length: 5 }, (_, i) => grant(`new${i}`, `AAA ${i}`)),
    );

    for (const [name, read] of Object.entries(readers)) {
      const first = firstPages.get(name)!;
      const seen = first.edges.map((e) => e.node.id);
      let after = first.pageInfo.endCursor;
      while (after) {
        const page = await read(7, after);
        seen.push(...page.edges.map((e) => e.node.id));
        after = page.pageInfo.hasNextPage ? page.pageInfo.endCursor : null;
      }
      expect(seen, name).toEqual(before.get(name));
      expect((await read(0, null)).totalCount, `${name} counts the new rows`).toBe(before.get(name)!.length + 5);
    }
  });
});
