import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AccountRecord } from '../subgraphs/accounts/account.service.js';
import { DetectionStatus } from '../subgraphs/activities/detection.entity.js';
import { PolicyKind, SEVERITY_ORDER, Severity } from '../subgraphs/activities/policy.entity.js';
import type { Fixtures } from './fixtures.js';
import { startTestStack, type TestStack } from './harness.js';
import { SharingLevel } from '../platform/vocabulary/sharing.js';
import { AccountStatus } from '../platform/vocabulary/account-status.js';
import { PermissionLevel } from '../platform/vocabulary/permission-level.js';
import { ActivityCategory } from '../platform/vocabulary/activity-category.js';
import { GovernanceActionType, GovernanceStatus } from '../platform/governance/actions.js';

/** What was seeded, row by row: the expected answer of every filter is computed from this. */
interface Model {
  instances: { id: string; provider: string }[];
  accounts: {
    id: string;
    instanceId: string;
    provider: string;
    email: string | null;
    displayName: string;
    status: AccountStatus;
    isAdmin: boolean;
  }[];
  groups: { id: string; instanceId: string }[];
  activities: {
    id: string;
    instanceId: string;
    actorId: string | null;
    category: ActivityCategory;
    action: string;
    occurredAt: Date;
    ipAddress: string | null;
    country: string | null;
    succeeded: boolean;
    userAgent: string | null;
  }[];
  files: {
    id: string;
    instanceId: string;
    ownerId: string | null;
    sharing: SharingLevel;
    trashed: boolean;
    quarantined: boolean;
    hasSensitive: boolean;
    name: string;
    path: string;
  }[];
  grants: { id: string; instanceId: string; grantedById: string; permissionLevel: PermissionLevel; revoked: boolean; appName: string }[];
  policies: string[];
  detections: { id: string; instanceId: string; severity: Severity; status: DetectionStatus; policyId: string }[];
  governance: { id: string; instanceId: string; type: GovernanceActionType; status: GovernanceStatus }[];
}

const T0 = Date.parse('2026-10-01T00:00:00Z');
const at = (minute: number) => new Date(T0 + minute * 60_000);
const ACTIONS: readonly [ActivityCategory, string][] = [
  [ActivityCategory.USER, 'file.download'],
  [ActivityCategory.USER, 'file.share'],
  [ActivityCategory.SIGN_IN, 'user.login'],
  [ActivityCategory.ADMIN, 'admin.role.assign'],
  [ActivityCategory.SIGN_IN, 'user.logout'],
];
const STATUSES = [AccountStatus.ACTIVE, AccountStatus.ACTIVE, AccountStatus.SUSPENDED, AccountStatus.DISABLED];
const SHARING = [SharingLevel.PRIVATE, SharingLevel.INTERNAL, SharingLevel.EXTERNAL, SharingLevel.PUBLIC];
const LEVELS = [PermissionLevel.LOW, PermissionLevel.MEDIUM, PermissionLevel.HIGH];
const APPS = ['Zoom', 'zoom', 'Zoom Rooms', 'Slack', 'DocuSign'];
const FILE_NAMES = ['Budget.xlsx', 'notes.txt', 'Q1_plan.pdf', 'q1-plan.pdf', 'Q1xplan.pdf'];
const GOVERNANCE_TYPES = [
  GovernanceActionType.SUSPEND_ACCOUNT,
  GovernanceActionType.REQUIRE_PASSWORD_RESET,
  GovernanceActionType.QUARANTINE_FILE,
  GovernanceActionType.REVOKE_APP_PERMISSION,
];
/** Accounts whose names hold LIKE wildcards: a search must match `%`, `_` and `\` literally. */
const WILDCARD_ACCOUNTS: AccountRecord[] = [
  { externalId: 's-pct', displayName: '100% Ann', email: 'ann.lee@EXAMPLE.org' },
  { externalId: 's-100', displayName: '100 Bob', email: 'bob100@example.org' },
  { externalId: 's-under', displayName: 'snake_case Carol', email: null },
  { externalId: 's-x', displayName: 'snakeXcase Dan', email: 'DAN@example.org' },
  { externalId: 's-mail', displayName: 'Eve', email: 'eve_ops@example.org' },
  { externalId: 's-slash', displayName: 'back\\slash Fay', email: null },
];

async function seed(f: Fixtures): Promise<Model> {
  const instances = [
    { id: await f.instance('Alpha', 'simulated'), provider: 'simulated' },
    { id: await f.instance('Beta', 'simulated'), provider: 'simulated' },
    { id: await f.instance('Gamma', 'github'), provider: 'github' },
  ];
  const m: Model = {
    instances,
    accounts: [],
    groups: [],
    activities: [],
    files: [],
    grants: [],
    policies: [],
    detections: [],
    governance: [],
  };
  for (const [n, { id: instanceId, provider }] of instances.entries()) {
    const records: AccountRecord[] = Array.from({ length: 9 }, (_, i) => ({
      externalId: `u${i}`,
      email: i % 4 === 3 ? null : `Person.${n}${i}@Org${n}.example`,
      displayName: `Person ${n}-${i}`,
      status: STATUSES[(n + i) % 4]!,
      isAdmin: (n + i) % 3 === 0,
    }));
    if (n === 0) records.push(...WILDCARD_ACCOUNTS);
    const ids = await f.accounts(instanceId, records);
    const accountIds = records.map((r) => ids.get(r.externalId)!);
    records.forEach((r, i) =>
      m.accounts.push({
        id: accountIds[i]!,
        instanceId,
        provider,
        email: r.email ?? null,
        displayName: r.displayName,
        status: r.status ?? AccountStatus.ACTIVE,
        isAdmin: r.isAdmin ?? false,
      }),
    );
    const groups = await f.groups(
      instanceId,
      Array.from({ length: n + 2 }, (_, g) => ({ externalId: `g${g}`, name: `Group ${g}` })),
    );
    for (const id of groups.values()) m.groups.push({ id, instanceId });

    // Activities: four per account plus two system events without an actor.
    const activities = accountIds.flatMap((actorId, i) =>
      Array.from({ length: 4 }, (_, k) => {
        const [category, action] = ACTIONS[(i + k) % ACTIONS.length]!;
        return {
          externalId: `ev-${n}-${i}-${k}`,
          category,
          action,
          actorId: actorId as string | null,
          occurredAt: at(n * 100 + i * 4 + k),
          ipAddress: (i + k) % 7 === 6 ? null : `10.${n}.0.${(i + k) % 3}`,
          country: k === 3 ? null : ['US', 'DE', 'FR'][(i + k) % 3]!,
          succeeded: (i * 3 + k) % 4 !== 3,
          userAgent: `Agent/${(i + k) % 4} (Tenantwatch_test)` as string | null,
        };
      }),
    );
    activities.push(
      ...[0, 1].map((k) => ({
        externalId: `ev-${n}-sys-${k}`,
        category: ActivityCategory.ADMIN,
        action: 'admin.policy.change',
        actorId: null,
        occurredAt: at(n * 100 + 90 + k),
        // A provider's value that is no IP address: CIDR filters pass it over.
        ipAddress: k === 0 ? 'unknown' : '2001:db8::7',
        country: null,
        succeeded: true,
        userAgent: null,
      })),
    );
    await f.activities(instanceId, activities);
    for (const a of activities) m.activities.push({ id: `${instanceId}/${a.externalId}`, instanceId, ...a });

    // Files: three per account plus one without an owner; every fourth holds a sensitive match.
    const files = accountIds.flatMap((ownerId, i) =>
      Array.from({ length: 3 }, (_, k) => ({
        externalId: `f-${i}-${k}`,
        name: FILE_NAMES[(i + k) % FILE_NAMES.length]!,
        path: `/drive/${n}/user${i}/${k}`,
        sizeBytes: 100,
        ownerId: ownerId as string | null,
        sharing: SHARING[(i + k) % 4]!,
        trashed: (i + k) % 3 === 2,
        quarantined: (i + k) % 5 === 4,
        modifiedAt: at(n * 100 + i * 3 + k),
      })),
    );
    files.push({
      externalId: 'f-orphan',
      name: 'orphan.txt',
      path: `/shared/${n}`,
      sizeBytes: 1,
      ownerId: null,
      sharing: SharingLevel.PUBLIC,
      trashed: false,
      quarantined: false,
      modifiedAt: at(n),
    });
    const fileIds = await f.files(instanceId, files);
    for (const [j, file] of files.entries()) {
      const id = fileIds.get(file.externalId)!;
      const hasSensitive = j % 4 === 0;
      // A scan that found nothing (count 0) must not count as sensitive.
      await f.scanResult(id, [{ type: 'US_SSN', count: hasSensitive ? 1 : 0 }]);
      m.files.push({ id, instanceId, ...file, hasSensitive });
    }

    const grants = accountIds.flatMap((grantedById, i) =>
      Array.from({ length: 2 }, (_, k) => ({
        externalId: `p-${i}-${k}`,
        appName: APPS[(i + k) % APPS.length]!,
        clientId: `client-${i}`,
        scopes: ['openid'],
        permissionLevel: LEVELS[(n + i + k) % 3]!,
        grantedById,
        revoked: (i + k) % 4 === 3,
      })),
    );
    const grantIds = await f.appPermissions(instanceId, grants);
    for (const g of grants) m.grants.push({ id: grantIds.get(g.externalId)!, instanceId, ...g });
  }

  m.policies = [
    await f.policy({ name: 'Admin change', kind: PolicyKind.ACTIVITY, severity: Severity.HIGH, condition: { category: 'ADMIN' } }),
    await f.policy({ name: 'Public file', kind: PolicyKind.FILE, severity: Severity.MEDIUM, condition: { sharing: ['PUBLIC'] } }),
    await f.policy({ name: 'Risky app', kind: PolicyKind.APP_PERMISSION, severity: Severity.LOW, condition: { level: 'HIGH' } }),
  ];
  for (let i = 0; i < 18; i++) {
    const instanceId = instances[i % 3]!.id;
    const account = m.accounts.filter((a) => a.instanceId === instanceId)[i % 9]!;
    const severity = SEVERITY_ORDER[i % 4]!;
    const policyId = m.policies[Math.floor(i / 2) % 3]!;
    const id = await f.detection({
      policyId,
      severity,
      title: `D${i}`,
      description: 'seeded',
      instanceId,
      accountId: account.id,
      detectedAt: at(i),
    });
    m.detections.push({ id, instanceId, severity, status: DetectionStatus.OPEN, policyId });
  }
  for (let i = 0; i < 12; i++) {
    const instanceId = instances[i % 3]!.id;
    const type = GOVERNANCE_TYPES[Math.floor(i / 3) % 4]!;
    const status = [GovernanceStatus.SUCCEEDED, GovernanceStatus.FAILED, GovernanceStatus.PENDING][(i + Math.floor(i / 3)) % 3]!;
    m.governance.push({
      id: await f.governanceAction({ type, instanceId, requestedBy: 'dev-responder', status }),
      instanceId,
      type,
      status,
    });
  }
  return m;
}

let t: TestStack;
let m: Model;

beforeAll(async () => {
  t = await startTestStack();
  m = await seed(t.fixtures);
});
afterAll(() => t?.stop());

interface Page {
  totalCount: number;
  pageInfo: { hasNextPage: boolean; endCursor: string | null };
  edges: { node: { key: string; instance?: { id: string } } }[];
}
/** Small pages, so that the larger filtered answers span several of them. */
const PAGE_SIZE = 20;
/** An activity's key is `<instanceId>/<externalId>` (its id is not known to the seed); other rows' key is their id. */
const keyOf = (node: Page['edges'][number]['node']) => (node.instance ? `${node.instance.id}/${node.key}` : node.key);
const page = (key: string) => `totalCount pageInfo { hasNextPage endCursor } edges { node { key: ${key} } }`;

/** Reads a connection to its end; checks that every page agrees on totalCount and that it counts the rows. */
async function readAll(
  query: string,
  variables: Record<string, unknown>,
  pick: (data: Record<string, unknown>) => Page,
): Promise<string[]> {
  const keys: string[] = [];
  let after: string | null = null;
  let total: number | undefined;
  for (let pages = 0; pages < 100; pages++) {
    const current = pick(await t.query(query, { ...variables, after }));
    total ??= current.totalCount;
    expect(current.totalCount).toBe(total);
    keys.push(...current.edges.map((e) => keyOf(e.node)));
    if (!current.pageInfo.hasNextPage) break;
    after = current.pageInfo.endCursor;
  }
  expect(keys).toHaveLength(total!);
  expect(new Set(keys).size).toBe(keys.length);
  return keys;
}

const topLevel =
  (field: string, filterType: string, key = 'id') =>
  (filter: Record<string, unknown>) =>
    readAll(
      `query($filter: ${filterType}, $after: String) { c: ${field}(filter: $filter, first: ${PAGE_SIZE}, after: $after) { ${page(key)} } }`,
      { filter },
      (d) => d.c as Page,
    );
const read = {
  accounts: topLevel('accounts', 'AccountFilter'),
  activities: topLevel('activities', 'ActivityFilter', 'externalId instance { id }'),
  detections: topLevel('detections', 'DetectionFilter'),
  governanceActions: topLevel('governanceActions', 'GovernanceFilter'),
  files: topLevel('files', 'FileFilter'),
  appPermissions: topLevel('appPermissions', 'AppPermissionFilter'),
  groups: (instanceId: string | null) =>
    readAll(
      `query($instanceId: ID, $after: String) { c: groups(instanceId: $instanceId, first: 2, after: $after) { ${page('id')} } }`,
      { instanceId },
      (d) => d.c as Page,
    ),
  accountActivities: (id: string, filter: Record<string, unknown>) =>
    readAll(
      `query($id: ID!, $filter: ActivityFilter, $after: String) { account(id: $id) { c: activities(filter: $filter, first: 2, after: $after) { ${page('externalId instance { id }')} } } }`,
      { id, filter },
      (d) => (d.account as { c: Page }).c,
    ),
};

/**
 * Runs each case and compares the answered ids with the seeded rows `keep` selects. A case must
 * keep some rows and drop others, so that a filter the server ignored cannot pass.
 */
async function expectCases<R extends { id: string }>(
  rows: readonly R[],
  fetch: (filter: Record<string, unknown>) => Promise<string[]>,
  cases: readonly (readonly [Record<string, unknown>, (row: R) => boolean])[],
): Promise<void> {
  const answers = await Promise.all(cases.map(([filter]) => fetch(filter)));
  cases.forEach(([filter, keep], i) => {
    const expected = rows.filter(keep).map((r) => r.id);
    expect(expected.length, `${JSON.stringify(filter)} keeps some rows`).toBeGreaterThan(0);
    expect(expected.length, `${JSON.stringify(filter)} drops some rows`).toBeLessThan(rows.length);
    expect(answers[i]!.sort(), JSON.stringify(filter)).toEqual(expected.sort());
  });
}

const contains = (value: string | null, search: string) => value !== null && value.toLowerCase().includes(search.toLowerCase());

describe('accounts(filter)', () => {
  it('filters by instanceId, provider, status, isAdmin and their combinations', async () => {
    const [alpha, beta] = m.instances;
    await expectCases(m.accounts, read.accounts, [
      [{ instanceId: beta!.id }, (a) => a.instanceId === beta!.id],
      [{ provider: 'github' }, (a) => a.provider === 'github'],
      [{ provider: 'simulated' }, (a) => a.provider === 'simulated'],
      [{ status: 'SUSPENDED' }, (a) => a.status === AccountStatus.SUSPENDED],
      [{ status: 'DISABLED' }, (a) => a.status === AccountStatus.DISABLED],
      [{ status: 'ACTIVE' }, (a) => a.status === AccountStatus.ACTIVE],
      [{ isAdmin: true }, (a) => a.isAdmin],
      [{ isAdmin: false }, (a) => !a.isAdmin],
      [{ instanceId: alpha!.id, status: 'ACTIVE' }, (a) => a.instanceId === alpha!.id && a.status === AccountStatus.ACTIVE],
      [{ provider: 'simulated', isAdmin: true }, (a) => a.provider === 'simulated' && a.isAdmin],
      [
        { provider: 'github', status: 'SUSPENDED', isAdmin: false },
        (a) => a.provider === 'github' && a.status === AccountStatus.SUSPENDED && !a.isAdmin,
      ],
    ]);
    expect(await read.accounts({ provider: 'microsoft365' })).toEqual([]);
  });

  it('searches email or display name case-insensitively, with %, _ and \\ matched literally', async () => {
    const searches = ['ANN', 'bob100', '100 bob', 'person.0', 'ORG1.example', 'person 2-', '0%', '%', '_', 'e_c', 'e_o', '\\', 'k\\s'];
    await expectCases(
      m.accounts,
      read.accounts,
      searches.map((search) => [{ search }, (a) => contains(a.email, search) || contains(a.displayName, search)] as const),
    );
    const idOf = (externalId: string) =>
      m.accounts.find((a) => a.displayName === WILDCARD_ACCOUNTS.find((r) => r.externalId === externalId)!.displayName)!.id;
    expect(await read.accounts({ search: '%' })).toEqual([idOf('s-pct')]);
    expect((await read.accounts({ search: '_' })).sort()).toEqual([idOf('s-under'), idOf('s-mail')].sort());
    expect(await read.accounts({ search: 'e_c' })).toEqual([idOf('s-under')]);
    expect(await read.accounts({ search: 'no such person' })).toEqual([]);
    await expectCases(m.accounts, read.accounts, [
      [{ search: 'person', instanceId: m.instances[1]!.id }, (a) => a.instanceId === m.instances[1]!.id],
      [{ search: '.example', isAdmin: true }, (a) => contains(a.email, '.example') && a.isAdmin],
    ]);
  });
});

describe('groups(instanceId)', () => {
  it('answers the groups of one instance, or all of them', async () => {
    const [all, ...perInstance] = await Promise.all([read.groups(null), ...m.instances.map(({ id }) => read.groups(id))]);
    expect(all!.sort()).toEqual(m.groups.map((g) => g.id).sort());
    m.instances.forEach(({ id }, i) =>
      expect(perInstance[i]!.sort()).toEqual(
        m.groups
          .filter((g) => g.instanceId === id)
          .map((g) => g.id)
          .sort(),
      ),
    );
  });
});

describe('activities(filter)', () => {
  const fetch = read.activities;

  it('filters by every field of ActivityFilter, alone and combined', async () => {
    const [alpha, beta] = m.instances;
    const actor = m.accounts[3]!.id;
    await expectCases(m.activities, fetch, [
      [{ instanceId: beta!.id }, (a) => a.instanceId === beta!.id],
      [{ actorId: actor }, (a) => a.actorId === actor],
      [{ category: 'SIGN_IN' }, (a) => a.category === ActivityCategory.SIGN_IN],
      [{ category: 'ADMIN' }, (a) => a.category === ActivityCategory.ADMIN],
      [{ action: 'file.share' }, (a) => a.action === 'file.share'],
      [{ ipAddress: '10.1.0.2' }, (a) => a.ipAddress === '10.1.0.2'],
      [{ actorId: actor, category: 'USER' }, (a) => a.actorId === actor && a.category === ActivityCategory.USER],
      [{ instanceId: alpha!.id, action: 'user.login' }, (a) => a.instanceId === alpha!.id && a.action === 'user.login'],
      [{ category: 'SIGN_IN', ipAddress: '10.0.0.1' }, (a) => a.category === ActivityCategory.SIGN_IN && a.ipAddress === '10.0.0.1'],
    ]);
  });

  it('filters by country, success, IP range and text search, alone and combined', async () => {
    const inRange = (ip: string | null, prefix: string) => ip !== null && ip.startsWith(prefix);
    const text = (a: Model['activities'][number]) =>
      [a.action, a.ipAddress, a.country, a.userAgent]
        .filter((v) => v !== null)
        .join(' ')
        .toLowerCase();
    await expectCases(m.activities, fetch, [
      [{ country: ['DE'] }, (a) => a.country === 'DE'],
      [{ country: ['us', 'FR'] }, (a) => a.country === 'US' || a.country === 'FR'],
      [{ succeeded: false }, (a) => !a.succeeded],
      [{ succeeded: true, country: ['US'] }, (a) => a.succeeded && a.country === 'US'],
      [{ ipRange: '10.1.0.0/16' }, (a) => inRange(a.ipAddress, '10.1.')],
      [{ ipRange: '10.0.0.2' }, (a) => a.ipAddress === '10.0.0.2'],
      [{ ipRange: '2001:db8::/32' }, (a) => a.ipAddress === '2001:db8::7'],
      [{ search: 'DOWNLOAD' }, (a) => text(a).includes('download')],
      [{ search: 'agent/2' }, (a) => text(a).includes('agent/2')],
      // LIKE's wildcards are taken literally.
      [{ search: 'h_test' }, (a) => text(a).includes('h_test')],
      [
        { search: 'file.', succeeded: false, ipRange: '10.0.0.0/8' },
        (a) => text(a).includes('file.') && !a.succeeded && inRange(a.ipAddress, '10.'),
      ],
    ]);
  });

  it('refuses a bad country, IP range or search naming the field', async () => {
    for (const [filter, field] of [
      ['{ country: ["USA"] }', 'filter.country.0'],
      ['{ country: [] }', 'filter.country'],
      ['{ ipRange: "10.0.0.0/33" }', 'filter.ipRange'],
      ['{ ipRange: "example.com" }', 'filter.ipRange'],
      ['{ search: "ab" }', 'filter.search'],
    ] as const) {
      const answer = await t.request(`{ activities(filter: ${filter}) { totalCount } }`);
      expect(answer.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
      expect(answer.errors?.[0]?.message).toContain(`"${field}"`);
    }
  });

  it('treats from as inclusive and to as exclusive', async () => {
    const from = at(110);
    const to = at(130);
    const inRange = (a: Model['activities'][number]) => a.occurredAt >= from && a.occurredAt < to;
    await expectCases(m.activities, fetch, [
      [{ from: from.toISOString() }, (a) => a.occurredAt >= from],
      [{ to: to.toISOString() }, (a) => a.occurredAt < to],
      [{ from: from.toISOString(), to: to.toISOString() }, inRange],
      [{ from: from.toISOString(), to: to.toISOString(), category: 'USER' }, (a) => inRange(a) && a.category === ActivityCategory.USER],
    ]);
    const onFrom = m.activities.find((a) => a.occurredAt.getTime() === from.getTime())!;
    const onTo = m.activities.find((a) => a.occurredAt.getTime() === to.getTime())!;
    const answered = await fetch({ from: from.toISOString(), to: to.toISOString() });
    expect(answered).toContain(onFrom.id);
    expect(answered).not.toContain(onTo.id);
    expect(await fetch({ from: from.toISOString(), to: from.toISOString() })).toEqual([]);
  });

  it('refuses a range whose from is after its to, and an id that is not one', async () => {
    const reversed = await t.request(`{ activities(filter: { from: "2026-10-02T00:00:00Z", to: "2026-10-01T00:00:00Z" }) { totalCount } }`);
    expect(reversed.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    const badId = await t.request(`{ accounts(filter: { instanceId: "not-an-id" }) { totalCount } }`);
    expect(badId.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
  });

  it('applies the same filter to Account.activities, one account at a time and batched over accounts', async () => {
    const actor = m.accounts.find((a) => a.instanceId === m.instances[1]!.id)!;
    const own = m.activities.filter((a) => a.actorId === actor.id);
    const fetchOwn = (filter: Record<string, unknown>) => read.accountActivities(actor.id, filter);
    await expectCases(own, fetchOwn, [
      [{ category: 'USER' }, (a) => a.category === ActivityCategory.USER],
      [{ action: 'user.login' }, (a) => a.action === 'user.login'],
      [{ from: own[1]!.occurredAt.toISOString() }, (a) => a.occurredAt >= own[1]!.occurredAt],
      [{ to: own[2]!.occurredAt.toISOString() }, (a) => a.occurredAt < own[2]!.occurredAt],
      [{ ipAddress: own[0]!.ipAddress }, (a) => a.ipAddress === own[0]!.ipAddress],
      [
        { from: own[1]!.occurredAt.toISOString(), category: 'USER' },
        (a) => a.occurredAt >= own[1]!.occurredAt && a.category === ActivityCategory.USER,
      ],
    ]);
    // Filtering on another instance leaves the account nothing.
    expect(await fetchOwn({ instanceId: m.instances[0]!.id })).toEqual([]);

    // Pages exactly as large as the data (500 × 500 would be over the query cost limit).
    const accountsOfInstance = m.accounts.filter((a) => a.instanceId === m.instances[0]!.id);
    const signIns = Math.max(
      1,
      ...accountsOfInstance.map(
        (account) => m.activities.filter((a) => a.actorId === account.id && a.category === ActivityCategory.SIGN_IN).length,
      ),
    );
    const batched = await t.query<{ accounts: { edges: { node: { id: string; activities: Page } }[] } }>(
      `query($filter: AccountFilter, $accounts: Int, $signIns: Int) { accounts(filter: $filter, first: $accounts) { edges { node { id activities(filter: { category: SIGN_IN }, first: $signIns) {
        ${page('externalId instance { id }')} } } } } }`,
      { filter: { instanceId: m.instances[0]!.id }, accounts: accountsOfInstance.length, signIns },
    );
    expect(batched.accounts.edges).toHaveLength(m.accounts.filter((a) => a.instanceId === m.instances[0]!.id).length);
    for (const { node } of batched.accounts.edges) {
      const expected = m.activities.filter((a) => a.actorId === node.id && a.category === ActivityCategory.SIGN_IN).map((a) => a.id);
      expect(node.activities.edges.map((e) => keyOf(e.node)).sort()).toEqual(expected.sort());
      expect(node.activities.totalCount).toBe(expected.length);
    }
  });
});

describe('detections(filter) and governanceActions(filter)', () => {
  it('filters detections by instanceId, severityAtLeast, status and policyId', async () => {
    const atLeast = (s: Severity) => (d: Model['detections'][number]) => SEVERITY_ORDER.indexOf(d.severity) >= SEVERITY_ORDER.indexOf(s);
    const [, beta] = m.instances;
    await expectCases(m.detections, read.detections, [
      [{ instanceId: beta!.id }, (d) => d.instanceId === beta!.id],
      [{ severityAtLeast: 'LOW' }, atLeast(Severity.LOW)],
      [{ severityAtLeast: 'MEDIUM' }, atLeast(Severity.MEDIUM)],
      [{ severityAtLeast: 'HIGH' }, atLeast(Severity.HIGH)],
      [{ policyId: m.policies[2] }, (d) => d.policyId === m.policies[2]],
      [{ instanceId: beta!.id, severityAtLeast: 'MEDIUM' }, (d) => d.instanceId === beta!.id && atLeast(Severity.MEDIUM)(d)],
      [{ policyId: m.policies[0], severityAtLeast: 'LOW' }, (d) => d.policyId === m.policies[0] && atLeast(Severity.LOW)(d)],
    ]);
    expect((await read.detections({ severityAtLeast: 'INFORMATIONAL' })).sort()).toEqual(m.detections.map((d) => d.id).sort());
  });

  it('follows setDetectionStatus (analyst) in the status filter', async () => {
    expect((await read.detections({ status: 'OPEN' })).sort()).toEqual(m.detections.map((d) => d.id).sort());
    expect(await read.detections({ status: 'DISMISSED' })).toEqual([]);
    const changes: [number, DetectionStatus][] = [
      [0, DetectionStatus.DISMISSED],
      [4, DetectionStatus.DISMISSED],
      [7, DetectionStatus.RESOLVED],
      [9, DetectionStatus.RESOLVED],
      [11, DetectionStatus.DISMISSED],
      [11, DetectionStatus.OPEN],
    ];
    const mutation = `mutation($id: ID!, $status: DetectionStatus!) { setDetectionStatus(id: $id, status: $status, comment: "triaged") { id status } }`;
    const denied = await t.request(mutation, { id: m.detections[0]!.id, status: 'DISMISSED' }, t.token('viewer'));
    expect(denied.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    for (const [i, status] of changes) {
      const detection = m.detections[i]!;
      const answer = await t.query<{ setDetectionStatus: { id: string; status: string } }>(
        mutation,
        { id: detection.id, status },
        'analyst',
      );
      expect(answer.setDetectionStatus).toEqual({ id: detection.id, status });
      detection.status = status;
    }
    await expectCases(m.detections, read.detections, [
      [{ status: 'OPEN' }, (d) => d.status === DetectionStatus.OPEN],
      [{ status: 'DISMISSED' }, (d) => d.status === DetectionStatus.DISMISSED],
      [{ status: 'RESOLVED' }, (d) => d.status === DetectionStatus.RESOLVED],
      [{ status: 'OPEN', severityAtLeast: 'MEDIUM' }, (d) => d.status === DetectionStatus.OPEN && SEVERITY_ORDER.indexOf(d.severity) >= 2],
      [
        { status: 'DISMISSED', instanceId: m.instances[0]!.id },
        (d) => d.status === DetectionStatus.DISMISSED && d.instanceId === m.instances[0]!.id,
      ],
    ]);
  });

  it('filters governance actions by instanceId, type and status', async () => {
    const [alpha, , gamma] = m.instances;
    await expectCases(m.governance, read.governanceActions, [
      [{ instanceId: gamma!.id }, (g) => g.instanceId === gamma!.id],
      [{ type: 'QUARANTINE_FILE' }, (g) => g.type === GovernanceActionType.QUARANTINE_FILE],
      [
        { instanceId: alpha!.id, type: 'SUSPEND_ACCOUNT' },
        (g) => g.instanceId === alpha!.id && g.type === GovernanceActionType.SUSPEND_ACCOUNT,
      ],
    ]);
    await expectCases(m.governance, read.governanceActions, [
      [{ status: 'PENDING' }, (g) => g.status === GovernanceStatus.PENDING],
      [{ status: 'SUCCEEDED' }, (g) => g.status === GovernanceStatus.SUCCEEDED],
      [{ status: 'FAILED', instanceId: alpha!.id }, (g) => g.status === GovernanceStatus.FAILED && g.instanceId === alpha!.id],
    ]);
    expect(await read.governanceActions({ status: 'RUNNING' })).toEqual([]);
    expect(await read.governanceActions({ type: 'OVERWRITE_FILE' })).toEqual([]);
  });
});

describe('files(filter)', () => {
  it('filters by instanceId, ownerId, sharing, trashed, quarantined and hasSensitive, alone and combined', async () => {
    const owner = m.accounts[5]!.id;
    const [, beta] = m.instances;
    await expectCases(m.files, read.files, [
      [{ instanceId: beta!.id }, (f) => f.instanceId === beta!.id],
      [{ ownerId: owner }, (f) => f.ownerId === owner],
      [{ sharing: 'EXTERNAL' }, (f) => f.sharing === SharingLevel.EXTERNAL],
      [{ sharing: 'PUBLIC' }, (f) => f.sharing === SharingLevel.PUBLIC],
      [{ trashed: true }, (f) => f.trashed],
      [{ trashed: false }, (f) => !f.trashed],
      [{ quarantined: true }, (f) => f.quarantined],
      [{ quarantined: false }, (f) => !f.quarantined],
      [{ hasSensitive: true }, (f) => f.hasSensitive],
      [{ hasSensitive: false }, (f) => !f.hasSensitive],
      [{ ownerId: owner, sharing: 'INTERNAL' }, (f) => f.ownerId === owner && f.sharing === SharingLevel.INTERNAL],
      [{ trashed: false, hasSensitive: true }, (f) => !f.trashed && f.hasSensitive],
      [
        { instanceId: beta!.id, quarantined: true, sharing: 'INTERNAL' },
        (f) => f.instanceId === beta!.id && f.quarantined && f.sharing === SharingLevel.INTERNAL,
      ],
    ]);
  });

  it('searches name or path case-insensitively, with _ matched literally', async () => {
    const searches = ['BUDGET', '1_p', 'Q1-PLAN', '/drive/2/', 'orphan', 'user3/'];
    await expectCases(
      m.files,
      read.files,
      searches.map((search) => [{ search }, (f) => contains(f.name, search) || contains(f.path, search)] as const),
    );
    await expectCases(m.files, read.files, [
      [{ search: 'q1', sharing: 'PRIVATE' }, (f) => contains(f.name, 'q1') && f.sharing === SharingLevel.PRIVATE],
    ]);
    expect(await read.files({ search: '%plan%' })).toEqual([]);
  });
});

describe('appPermissions(filter)', () => {
  it('filters by instanceId, grantedById, permissionLevel, revoked and appName (exact, case-insensitive)', async () => {
    const grantor = m.accounts[2]!.id;
    const [, , gamma] = m.instances;
    await expectCases(m.grants, read.appPermissions, [
      [{ instanceId: gamma!.id }, (g) => g.instanceId === gamma!.id],
      [{ grantedById: grantor }, (g) => g.grantedById === grantor],
      [{ permissionLevel: 'HIGH' }, (g) => g.permissionLevel === PermissionLevel.HIGH],
      [{ permissionLevel: 'LOW' }, (g) => g.permissionLevel === PermissionLevel.LOW],
      [{ revoked: true }, (g) => g.revoked],
      [{ revoked: false }, (g) => !g.revoked],
      [{ appName: 'ZOOM' }, (g) => g.appName.toLowerCase() === 'zoom'],
      [{ appName: 'zoom rooms' }, (g) => g.appName === 'Zoom Rooms'],
      [{ grantedById: grantor, revoked: false }, (g) => g.grantedById === grantor && !g.revoked],
      [{ permissionLevel: 'MEDIUM', appName: 'Slack' }, (g) => g.permissionLevel === PermissionLevel.MEDIUM && g.appName === 'Slack'],
      [{ instanceId: gamma!.id, revoked: true, appName: 'slack' }, (g) => g.instanceId === gamma!.id && g.revoked && g.appName === 'Slack'],
    ]);
    expect(await read.appPermissions({ appName: 'Zoo' })).toEqual([]);
  });
});
