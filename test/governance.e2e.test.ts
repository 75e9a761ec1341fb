import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSimulator, type Simulator } from '../connectors/simulated/server.js';
import type { Tenant } from '../connectors/simulated/tenant.js';
import { overwriteNotice } from '../scheduler/jobs/governance.js';
import { startTestStack, waitFor, type TestStack } from './harness.js';
import { connect, disposeClients, record } from './subscription-client.js';
import { allNodes, rescan, waitConnected } from './truth.js';
import { GovernanceActionType } from '../platform/governance/actions.js';

/**
 * Governance end to end: mutations through the gateway, the scheduler's job at the simulated
 * provider, the provider's state (its ground truth) and the graph afterwards, and the results on
 * the `governanceResult` stream.
 */

let t: TestStack;
let simulator: Simulator;
let tenant: Tenant;
let instanceId: string;

interface AccountRow {
  id: string;
  externalId: string;
  email: string | null;
  status: string;
  isAdmin: boolean;
}
interface FileRow {
  id: string;
  externalId: string;
  name: string;
  sharing: string;
  trashed: boolean;
  quarantined: boolean;
}
interface GrantRow {
  id: string;
  externalId: string;
  appName: string;
  revoked: boolean;
}
let accounts: AccountRow[];
let files: FileRow[];
let grants: GrantRow[];

beforeAll(async () => {
  t = await startTestStack({ GOVERNANCE_RETRY_MS: '20', GOVERNANCE_MAX_ATTEMPTS: '3', AUDIT_LAG_SECONDS: '1' }, { scheduler: true });
  simulator = await startSimulator({
    tenants: [
      {
        id: 'gov',
        token: 'gov-token-123456',
        seed: 5,
        users: 40,
        groups: 3,
        files: 80,
        grants: 30,
        backfillDays: 1,
        backfillEventsPerUserPerDay: 1,
        activityPerMinute: 0,
        auditLagMs: 0,
        rateLimitPerMinute: 6000,
        maxPageSize: 50,
      },
    ],
  });
  tenant = simulator.tenant('gov') as Tenant;
  const { connectApp } = await t.query<{ connectApp: { id: string } }>(
    `mutation ($config: JSON!) { connectApp(input: { provider: "simulated", name: "gov", config: $config }) { id } }`,
    { config: { endpoint: simulator.url, token: 'gov-token-123456', maxPageSize: 50 } },
  );
  instanceId = connectApp.id;
  await waitConnected(t, instanceId, 120_000);
  const filter = `filter: { instanceId: "${instanceId}" }`;
  accounts = await allNodes<AccountRow>(t, 'accounts', filter, 'id externalId email status isAdmin');
  files = await allNodes<FileRow>(t, 'files', filter, 'id externalId name sharing trashed quarantined');
  grants = await allNodes<GrantRow>(t, 'appPermissions', filter, 'id externalId appName revoked');
}, 180_000);

afterAll(async () => {
  await disposeClients();
  await t?.stop();
  await simulator?.stop();
});

const ACTION_FIELDS =
  'id type status dryRun requestedBy reason attempts error completedAt account { id } file { id } appPermission { id } detection { id }';

interface Action {
  id: string;
  type: string;
  status: string;
  dryRun: boolean;
  requestedBy: string;
  reason: string | null;
  attempts: number;
  error: string | null;
  completedAt: string | null;
  account: { id: string } | null;
  file: { id: string } | null;
  appPermission: { id: string } | null;
  detection: { id: string } | null;
}

/** Sends a governance mutation as `role` (default responder) and answers the whole GraphQL answer. */
function govern(mutation: string, input: Record<string, unknown>, role: 'viewer' | 'analyst' | 'responder' | 'admin' = 'responder') {
  return t.request<Record<string, Action>>(
    `mutation ($input: GovernanceInput!) { ${mutation}(input: $input) { ${ACTION_FIELDS} } }`,
    { input },
    t.token(role),
  );
}

async function act(mutation: string, input: Record<string, unknown>): Promise<Action> {
  const answer = await govern(mutation, input);
  if (answer.errors?.length) throw new Error(`${mutation}: ${JSON.stringify(answer.errors)}`);
  return answer.data![mutation]!;
}

async function action(id: string): Promise<Action> {
  const { governanceAction } = await t.query<{ governanceAction: Action }>(`{ governanceAction(id: "${id}") { ${ACTION_FIELDS} } }`);
  return governanceAction;
}

/** Waits until the action has ended (SUCCEEDED or FAILED) and answers it. */
function ended(id: string): Promise<Action> {
  return waitFor(
    `action ${id} to end`,
    async () => {
      const a = await action(id);
      return a.status === 'SUCCEEDED' || a.status === 'FAILED' ? a : undefined;
    },
    30_000,
    50,
  );
}

async function succeeded(mutation: string, input: Record<string, unknown>): Promise<Action> {
  const done = await ended((await act(mutation, input)).id);
  expect(done, JSON.stringify(done)).toMatchObject({ status: 'SUCCEEDED', error: null });
  return done;
}

const truthUser = (externalId: string) => tenant.truth().users.find((u) => u.id === externalId)!;
const truthFile = (externalId: string) => tenant.truth().files.find((f) => f.id === externalId)!;
const truthGrant = (externalId: string) => tenant.truth().grants.find((g) => g.id === externalId)!;
const graphAccount = async (id: string) =>
  (await t.query<{ account: AccountRow }>(`{ account(id: "${id}") { id externalId email status isAdmin } }`)).account;
const graphFile = async (id: string) =>
  (await t.query<{ file: FileRow }>(`{ file(id: "${id}") { id externalId name sharing trashed quarantined } }`)).file;
const graphGrant = async (id: string) =>
  (await t.query<{ appPermission: GrantRow }>(`{ appPermission(id: "${id}") { id externalId appName revoked } }`)).appPermission;
/** Successful calls to one governance endpoint, as the provider counted them. */
const calls = (route: string) => tenant.stats().governance[route] ?? 0;
const answered = (route: string, status: number) => tenant.stats().routes[route]?.statuses[String(status)] ?? 0;
/** How many times the provider applied `action` to `target` (its own audit trail). */
const applied = (action: string, target: string) =>
  tenant.truth().events.filter((e) => e.action === action && e.targetId === target).length;

/** Hands out distinct targets so that tests never act on each other's. */
const used = new Set<string>();
function pick<T extends { id: string }>(rows: readonly T[], what: string, where: (row: T) => boolean = () => true): T {
  const found = rows.find((r) => !used.has(r.id) && where(r));
  if (!found) throw new Error(`no unused ${what} left in the demo tenant`);
  used.add(found.id);
  return found;
}
const activeAccount = () => pick(accounts, 'active account', (a) => a.status === 'ACTIVE' && !a.isAdmin);
const plainFile = () => pick(files, 'file', (f) => !f.trashed && !f.quarantined);

describe('governance mutations through the gateway', () => {
  it('carries out every action type at the provider, updates the graph, and streams each result with fields from all subgraphs', async () => {
    const subscriber = connect(t.url, t.token('analyst'));
    const results = record<{
      governanceResult: {
        cursor: string;
        action: {
          id: string;
          type: string;
          status: string;
          account: { email: string | null } | null;
          file: { name: string } | null;
          appPermission: { appName: string } | null;
        };
      };
    }>(
      subscriber,
      `subscription ($filter: GovernanceFilter, $after: String) { governanceResult(filter: $filter, after: $after) { cursor action { id type status account { email } file { name } appPermission { appName } } } }`,
      // From the start of the log: this instance's first results are this test's, whenever the upstream opens.
      { filter: { instanceId }, after: '0' },
    );
    const done: Action[] = [];

    const suspended = activeAccount();
    done.push(await succeeded('suspendAccount', { targetId: suspended.id, reason: 'compromised' }));
    expect(truthUser(suspended.externalId).status).toBe('SUSPENDED');
    expect((await graphAccount(suspended.id)).status).toBe('SUSPENDED');
    expect(done[0]).toMatchObject({
      type: 'SUSPEND_ACCOUNT',
      requestedBy: 'dev-responder',
      reason: 'compromised',
      dryRun: false,
      attempts: 1,
      account: { id: suspended.id },
    });

    done.push(await succeeded('unsuspendAccount', { targetId: suspended.id }));
    expect(truthUser(suspended.externalId).status).toBe('ACTIVE');
    expect((await graphAccount(suspended.id)).status).toBe('ACTIVE');

    const reset = activeAccount();
    done.push(await succeeded('requirePasswordReset', { targetId: reset.id }));
    expect(truthUser(reset.externalId)).toMatchObject({ passwordResetRequired: true });
    expect(truthUser(reset.externalId).sessionsRevokedAt).not.toBeNull();

    const grant = pick(grants, 'live grant', (g) => !g.revoked);
    done.push(await succeeded('revokeAppPermission', { targetId: grant.id }));
    expect(truthGrant(grant.externalId).revoked).toBe(true);
    expect((await graphGrant(grant.id)).revoked).toBe(true);

    // Trash, then quarantine the trashed file, then restore it.
    const file = plainFile();
    done.push(await succeeded('trashFile', { targetId: file.id }));
    expect(truthFile(file.externalId).trashed).toBe(true);
    expect(await graphFile(file.id)).toMatchObject({ trashed: true, quarantined: false });
    done.push(await succeeded('quarantineFile', { targetId: file.id }));
    expect(truthFile(file.externalId)).toMatchObject({ trashed: true, quarantined: true });
    expect(await graphFile(file.id)).toMatchObject({ trashed: true, quarantined: true });
    done.push(await succeeded('restoreFile', { targetId: file.id }));
    expect(truthFile(file.externalId)).toMatchObject({ trashed: false, quarantined: false });
    expect(await graphFile(file.id)).toMatchObject({ trashed: false, quarantined: false });

    const shared = pick(files, 'publicly shared file', (f) => f.sharing === 'PUBLIC' && !f.trashed);
    done.push(await succeeded('removeExternalSharing', { targetId: shared.id }));
    const afterSharing = truthFile(shared.externalId);
    expect(afterSharing.sharing).toBe('INTERNAL');
    expect((await graphFile(shared.id)).sharing).toBe(afterSharing.sharing);

    const overwritten = plainFile();
    const before = truthFile(overwritten.externalId).content;
    const ow = await succeeded('overwriteFile', { targetId: overwritten.id, reason: 'leaked card numbers' });
    done.push(ow);
    const afterOverwrite = truthFile(overwritten.externalId);
    expect(afterOverwrite.content).toBe(
      overwriteNotice({
        id: ow.id,
        requestedAt: new Date(
          (await t.query<{ governanceAction: { requestedAt: string } }>(`{ governanceAction(id: "${ow.id}") { requestedAt } }`))
            .governanceAction.requestedAt,
        ),
        reason: 'leaked card numbers',
      }),
    );
    expect(afterOverwrite.original?.content).toBe(before);

    // Each result reached the subscriber once, in order, enriched from accounts, files and app-permissions.
    const events = await results.received(done.length);
    expect(events.map((e) => e.governanceResult.action.id)).toEqual(done.map((a) => a.id));
    expect(events.every((e) => e.governanceResult.action.status === 'SUCCEEDED')).toBe(true);
    expect(events[0]!.governanceResult.action.account).toEqual({ email: suspended.email });
    expect(events[3]!.governanceResult.action.appPermission).toEqual({ appName: grant.appName });
    expect(events[4]!.governanceResult.action.file).toEqual({ name: file.name });
    results.unsubscribe();
  });

  it('answers a retried request with the same key with the same action and calls the provider once; a different input under the key is a CONFLICT', async () => {
    const route = 'POST /api/v1/users/:id/suspend';
    const target = activeAccount();
    const callsBefore = calls(route);
    const input = { targetId: target.id, reason: 'retry me', idempotencyKey: `key-${target.id}` };
    const [a, b] = await Promise.all([act('suspendAccount', input), act('suspendAccount', input)]);
    expect(b.id).toBe(a.id);
    await ended(a.id);
    // After success the account is SUSPENDED, yet the same request is answered, not refused.
    expect((await act('suspendAccount', input)).id).toBe(a.id);
    expect(calls(route) - callsBefore).toBe(1);
    expect(applied('admin.user.suspend', target.externalId)).toBe(1);

    const conflict = await govern('suspendAccount', { ...input, reason: 'something else' });
    expect(conflict.errors?.[0]?.extensions?.code).toBe('CONFLICT');
    expect(conflict.errors?.[0]?.message).toContain(`key-${target.id}`);
  });

  it('answers a second identical request without a key with the action still running', async () => {
    const target = activeAccount();
    tenant.queueGovernanceFaults([{ holdMs: 1_500 }]); // applied at once, answered 1.5 s later
    const first = await act('suspendAccount', { targetId: target.id });
    await waitFor('the first action running', async () => ((await action(first.id)).status === 'RUNNING' ? true : undefined), 10_000, 20);
    const second = await act('suspendAccount', { targetId: target.id });
    expect(second.id).toBe(first.id);
    expect((await ended(first.id)).status).toBe('SUCCEEDED');
    expect(applied('admin.user.suspend', target.externalId)).toBe(1);
  });

  it('runs nothing for a dry run and answers the action that would run', async () => {
    const route = 'POST /api/v1/files/:id/quarantine';
    const file = plainFile();
    const callsBefore = calls(route);
    const dry = await act('quarantineFile', { targetId: file.id, dryRun: true });
    expect(dry).toMatchObject({ type: 'QUARANTINE_FILE', status: 'PENDING', dryRun: true, attempts: 0, file: { id: file.id } });
    // An action requested after it runs to the end; the dry run is still untouched.
    await succeeded('trashFile', { targetId: plainFile().id });
    expect(await action(dry.id)).toMatchObject({ status: 'PENDING', attempts: 0 });
    expect(calls(route)).toBe(callsBefore);
    expect(truthFile(file.externalId).quarantined).toBe(false);
    expect((await graphFile(file.id)).quarantined).toBe(false);
  });

  it("answers the action's own fields from the mutation's subgraph (no fetch from activities), and its relations from activities", async () => {
    const OWN = 'id type status requestedBy reason dryRun attempts error requestedAt completedAt';
    const target = activeAccount();
    const sentBefore = t.stack.gateway.dedup.sent;
    const own = await t.request<{ suspendAccount: Action & { requestedAt: string } }>(
      `mutation ($input: GovernanceInput!) { suspendAccount(input: $input) { ${OWN} } }`,
      { input: { targetId: target.id, reason: 'own fields' } },
      t.token('responder'),
    );
    expect(own.errors).toBeUndefined();
    // One subgraph request: the accounts subgraph answered every field as it recorded the action.
    expect(t.stack.gateway.dedup.sent - sentBefore).toBe(1);
    const recorded = own.data!.suspendAccount;
    expect(recorded).toMatchObject({
      type: 'SUSPEND_ACCOUNT',
      status: 'PENDING',
      reason: 'own fields',
      dryRun: false,
      attempts: 0,
      error: null,
      completedAt: null,
    });
    expect(recorded.requestedBy).toBe((await action(recorded.id)).requestedBy);
    const done = await ended(recorded.id);
    expect(done.status).toBe('SUCCEEDED');

    // A relation is the activities subgraph's: asked for, it is fetched from there (a second request).
    const grant = pick(grants, 'live grant', (g) => !g.revoked);
    const sentThen = t.stack.gateway.dedup.sent;
    const withRelation = await act('revokeAppPermission', { targetId: grant.id });
    expect(t.stack.gateway.dedup.sent - sentThen).toBe(2);
    expect(withRelation.appPermission).toEqual({ id: grant.id });
    expect(withRelation.type).toBe('REVOKE_APP_PERMISSION');
    expect((await ended(withRelation.id)).status).toBe('SUCCEEDED');
  });

  it('retries 503s with backoff and succeeds with one applied call; gives up after the configured attempts', async () => {
    const route = 'POST /api/v1/users/:id/suspend';
    const target = activeAccount();
    const unavailableBefore = answered(route, 503);
    tenant.queueGovernanceFaults([{ status: 503 }, { status: 503 }]);
    const done = await succeeded('suspendAccount', { targetId: target.id });
    expect(done.attempts).toBe(3);
    expect(answered(route, 503) - unavailableBefore).toBe(2);
    expect(applied('admin.user.suspend', target.externalId)).toBe(1);
    expect(truthUser(target.externalId).status).toBe('SUSPENDED');

    const unlucky = activeAccount();
    tenant.queueGovernanceFaults([{ status: 503 }, { status: 503 }, { status: 503 }]);
    const failed = await ended((await act('suspendAccount', { targetId: unlucky.id })).id);
    expect(failed).toMatchObject({ status: 'FAILED', attempts: 3 });
    expect(failed.error).toMatch(/^Gave up after 3 attempts: The provider answered HTTP 503/);
    expect(truthUser(unlucky.externalId).status).toBe('ACTIVE');
    expect((await graphAccount(unlucky.id)).status).toBe('ACTIVE');
  });

  it('fails at once saying the provider has no such target (404), with its provider id', async () => {
    const target = activeAccount();
    tenant.delete('user', target.externalId);
    const failed = await ended((await act('suspendAccount', { targetId: target.id })).id);
    expect(failed).toMatchObject({ status: 'FAILED', attempts: 1 });
    expect(failed.error).toBe(
      `The provider refused the request: it has no such item (HTTP 404) (the target is ${target.externalId} at the provider)`,
    );
    expect((await graphAccount(target.id)).status).toBe('ACTIVE');
  });

  it('refuses an analyst (FORBIDDEN) and the provider sees nothing', async () => {
    const target = activeAccount();
    const statsBefore = tenant.stats().governance;
    const { governanceActions: before } = await t.query<{ governanceActions: { totalCount: number } }>(
      '{ governanceActions { totalCount } }',
    );
    for (const role of ['viewer', 'analyst'] as const) {
      const answer = await govern('suspendAccount', { targetId: target.id }, role);
      expect(answer.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
      expect(answer.errors?.[0]?.message).toContain('responder');
    }
    const { governanceActions: after } = await t.query<{ governanceActions: { totalCount: number } }>(
      '{ governanceActions { totalCount } }',
    );
    expect(after.totalCount).toBe(before.totalCount);
    expect(tenant.stats().governance).toEqual(statsBefore);
  });

  it('refuses bad input with BAD_USER_INPUT naming the argument and saying what is wrong', async () => {
    const suspended = (
      await t.query<{ accounts: { edges: { node: { id: string } }[] } }>(
        `{ accounts(filter: { instanceId: "${instanceId}", status: SUSPENDED }, first: 1) { edges { node { id } } } }`,
      )
    ).accounts.edges[0]!.node;
    const cases: [string, Record<string, unknown>, RegExp][] = [
      ['suspendAccount', { targetId: 'not-an-id' }, /Argument "input.targetId": "not-an-id" is not a valid ID/],
      ['suspendAccount', { targetId: '00000000-0000-4000-8000-000000000000' }, /no account has id/],
      ['suspendAccount', { targetId: suspended.id }, /is already SUSPENDED/],
      ['unsuspendAccount', { targetId: pick(accounts, 'active account', (a) => a.status === 'ACTIVE').id }, /is ACTIVE, not SUSPENDED/],
      ['quarantineFile', { targetId: accounts[0]!.id }, /no file has id/],
      ['restoreFile', { targetId: files.find((f) => !f.trashed && !f.quarantined)!.id }, /is neither quarantined nor trashed/],
      [
        'suspendAccount',
        { targetId: accounts[0]!.id, reason: 'x'.repeat(1001) },
        /Argument "input.reason": must be at most 1,000 characters/,
      ],
      ['suspendAccount', { targetId: accounts[0]!.id, idempotencyKey: '' }, /Argument "input.idempotencyKey"/],
    ];
    for (const [mutation, input, message] of cases) {
      const answer = await govern(mutation, input);
      expect(answer.errors?.[0]?.extensions?.code, `${mutation} ${JSON.stringify(input)}`).toBe('BAD_USER_INPUT');
      expect(answer.errors?.[0]?.message).toMatch(message);
      expect(JSON.stringify(answer.errors)).not.toMatch(/ at .*\.ts:\d+/); // no stack trace
    }
  });

  it("runs a policy's autoGovernance for its new detection, as policy:<id>, with the detection linked", async () => {
    const target = pick(
      files,
      'externally shared file with a plain name',
      (f) => (f.sharing === 'EXTERNAL' || f.sharing === 'PUBLIC') && !f.trashed && !/[*?[\]{}\\]/.test(f.name),
    );
    const { createPolicy } = await t.query<{ createPolicy: { id: string } }>(
      `mutation ($input: PolicyInput!) { createPolicy(input: $input) { id } }`,
      {
        input: {
          name: 'Unshare this file',
          kind: 'FILE',
          severity: 'HIGH',
          condition: { namePattern: target.name, sharing: ['EXTERNAL', 'PUBLIC'] },
          autoGovernance: ['REMOVE_EXTERNAL_SHARING'],
        },
      },
    );
    // The file changes at the provider; the next file scan reads it from the change feed and evaluates it.
    tenant.touchFile(target.externalId);
    await rescan(t, instanceId, 'FILES');
    const auto = await waitFor(
      "the policy's action to end",
      async () => {
        const { governanceActions } = await t.query<{ governanceActions: { edges: { node: Action }[] } }>(
          `{ governanceActions(filter: { instanceId: "${instanceId}", type: REMOVE_EXTERNAL_SHARING }) { edges { node { ${ACTION_FIELDS} } } } }`,
        );
        const found = governanceActions.edges.map((e) => e.node).find((a) => a.requestedBy === `policy:${createPolicy.id}`);
        return found && (found.status === 'SUCCEEDED' || found.status === 'FAILED') ? found : undefined;
      },
      60_000,
      100,
    );
    expect(auto).toMatchObject({ status: 'SUCCEEDED', file: { id: target.id } });
    const { detection } = await t.query<{ detection: { policy: { id: string }; file: { id: string } } }>(
      `{ detection(id: "${auto.detection!.id}") { policy { id } file { id } } }`,
    );
    expect(detection).toEqual({ policy: { id: createPolicy.id }, file: { id: target.id } });
    expect(['PRIVATE', 'INTERNAL']).toContain(truthFile(target.externalId).sharing);
    expect((await graphFile(target.id)).sharing).toBe(truthFile(target.externalId).sharing);
  });

  // Last: it disconnects the instance.
  it('fails an action whose instance was disconnected before it ran, without a provider call, and refuses new ones', async () => {
    const target = activeAccount();
    const callsBefore = { ...tenant.stats().governance };
    await t.query(`mutation { disconnectApp(id: "${instanceId}") { status } }`);
    const refused = await govern('suspendAccount', { targetId: target.id });
    expect(refused.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    expect(refused.errors?.[0]?.message).toMatch(/app instance "gov" is disconnected/);
    const id = await t.fixtures.requestGovernance({
      type: GovernanceActionType.SUSPEND_ACCOUNT,
      instanceId,
      accountId: target.id,
      requestedBy: 'test',
    });
    const failed = await ended(id);
    expect(failed.status).toBe('FAILED');
    expect(failed.error).toMatch(/disconnected before the action ran; nothing was sent/);
    expect(tenant.stats().governance).toEqual(callsBefore);
    expect(truthUser(target.externalId).status).toBe('ACTIVE');
  });
});
