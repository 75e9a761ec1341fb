import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SimGrant } from '../connectors/simulated/model.js';
import { startSimulator, type Simulator } from '../connectors/simulated/server.js';
import { startTestStack, waitFor, type TestStack } from './harness.js';
import { allNodes, rescan, waitConnected } from './truth.js';

/**
 * The app view and app-wide revocation through the scheduler, the gateway and the simulated
 * provider: `apps` adds up each app's live grants as the provider holds them; `revokeApp` revokes
 * every grant of one app at the provider; a ban policy (APP_PERMISSION on a client id with
 * autoGovernance REVOKE_APP_PERMISSION) revokes an app's grants and every grant of it made later.
 */

let t: TestStack;
let simulator: Simulator;
let instanceId: string;
const TOKEN = 'apps-token-0123456789';

interface AppView {
  clientId: string;
  name: string;
  users: number;
  grants: number;
  highestPermissionLevel: string;
  scopes: string[];
}

const liveGrants = (): SimGrant[] =>
  simulator
    .tenant('apps')
    .truth()
    .grants.filter((g) => !g.deleted && !g.revoked);
const byApp = (grants: readonly SimGrant[]) => {
  const out = new Map<string, SimGrant[]>();
  for (const g of grants) out.set(g.clientId, [...(out.get(g.clientId) ?? []), g]);
  return out;
};

beforeAll(async () => {
  t = await startTestStack({ GOVERNANCE_RETRY_MS: '20', AUDIT_LAG_SECONDS: '1' }, { scheduler: true });
  simulator = await startSimulator({
    tenants: [
      {
        id: 'apps',
        token: TOKEN,
        seed: 11,
        users: 30,
        groups: 1,
        files: 2,
        grants: 60,
        backfillDays: 1,
        activityPerMinute: 0,
        rateLimitPerMinute: 6000,
      },
    ],
  });
  const { connectApp } = await t.query<{ connectApp: { id: string } }>(
    'mutation ($config: JSON!) { connectApp(input: { provider: "simulated", name: "apps", config: $config }) { id } }',
    { config: { endpoint: simulator.url, token: TOKEN, rateLimitPerMinute: 6000 } },
  );
  instanceId = connectApp.id;
  await waitConnected(t, instanceId, 60_000);
}, 90_000);

afterAll(async () => {
  await t?.stop();
  await simulator?.stop();
});

const apps = () =>
  allNodes<AppView>(t, 'apps', `filter: { instanceId: "${instanceId}" }`, 'clientId name users grants highestPermissionLevel scopes');

/** Waits until every governance action of `ids` succeeded. */
const allSucceeded = (ids: readonly string[]) =>
  waitFor(
    'the revocations to succeed',
    async () => {
      const statuses = await Promise.all(
        ids.map(
          async (id) =>
            (await t.query<{ governanceAction: { status: string } }>(`{ governanceAction(id: "${id}") { status } }`)).governanceAction
              .status,
        ),
      );
      if (statuses.some((s) => s === 'FAILED')) throw new Error(`a revocation failed: ${statuses.join(', ')}`);
      return statuses.every((s) => s === 'SUCCEEDED') ? true : undefined;
    },
    30_000,
    100,
  );

describe('apps', () => {
  it('adds up each app’s live grants as the provider holds them', async () => {
    const expected = byApp(liveGrants());
    const listed = await apps();
    expect(listed.map((a) => a.clientId).sort()).toEqual([...expected.keys()].sort());
    for (const app of listed) {
      const grants = expected.get(app.clientId)!;
      expect(app, app.name).toMatchObject({
        name: grants[0]!.appName,
        grants: grants.length,
        users: new Set(grants.map((g) => g.userId)).size,
        scopes: [...new Set(grants.flatMap((g) => g.scopes))].sort(),
      });
    }
    // Sorted by name, and searchable.
    expect(listed.map((a) => a.name)).toEqual([...listed.map((a) => a.name)].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)));
    const some = listed[0]!;
    const found = await allNodes<AppView>(t, 'apps', `filter: { search: "${some.name.slice(1, 5).toUpperCase()}" }`, 'clientId');
    expect(found.map((a) => a.clientId)).toContain(some.clientId);
  });

  it('revokes every grant of an app at the provider with revokeApp (responder), one action each', async () => {
    const [clientId, grants] = [...byApp(liveGrants())].sort((a, b) => b[1].length - a[1].length)[0]!;
    const viewer = await t.request(
      `mutation ($input: RevokeAppInput!) { revokeApp(input: $input) { actions { id } } }`,
      { input: { instanceId, clientId } },
      t.token('viewer'),
    );
    expect(viewer.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    const { revokeApp } = await t.query<{ revokeApp: { actions: { id: string; type: string }[] } }>(
      `mutation ($input: RevokeAppInput!) { revokeApp(input: $input) { actions { id type } } }`,
      { input: { instanceId, clientId, reason: 'unsanctioned app' } },
      'responder',
    );
    expect(revokeApp.actions).toHaveLength(grants.length);
    expect(new Set(revokeApp.actions.map((a) => a.type))).toEqual(new Set(['REVOKE_APP_PERMISSION']));
    await allSucceeded(revokeApp.actions.map((a) => a.id));
    expect(liveGrants().filter((g) => g.clientId === clientId)).toEqual([]);
    expect((await apps()).map((a) => a.clientId)).not.toContain(clientId);
    const none = await t.request(
      `mutation ($input: RevokeAppInput!) { revokeApp(input: $input) { actions { id } } }`,
      { input: { instanceId, clientId } },
      t.token('responder'),
    );
    expect(none.errors?.[0]?.message).toContain('"input.clientId"');
  });

  it('keeps a banned app out: its grants are revoked, and so is every grant of it made later', async () => {
    const [clientId] = [...byApp(liveGrants())].sort((a, b) => b[1].length - a[1].length)[0]!;
    await t.query(`mutation ($input: PolicyInput!) { createPolicy(input: $input) { id } }`, {
      input: {
        name: 'Ban the app',
        kind: 'APP_PERMISSION',
        severity: 'MEDIUM',
        condition: { clientId },
        autoGovernance: ['REVOKE_APP_PERMISSION'],
      },
    });
    const gone = async () => {
      await rescan(t, instanceId, 'APP_PERMISSIONS');
      return liveGrants().some((g) => g.clientId === clientId) ? undefined : true;
    };
    await waitFor('the banned app’s grants revoked', gone, 60_000, 200);
    // Someone authorizes it again: the next grant scan sees it, and it is revoked too.
    const again = simulator.tenant('apps').authorizeApp(clientId);
    await waitFor('the new grant revoked', gone, 60_000, 200);
    const actions = await allNodes<{ appPermission: { externalId: string } | null; requestedBy: string }>(
      t,
      'governanceActions',
      `filter: { instanceId: "${instanceId}", type: REVOKE_APP_PERMISSION }`,
      'appPermission { externalId } requestedBy',
    );
    expect(actions.filter((a) => a.appPermission?.externalId === again.id).map((a) => a.requestedBy)).toEqual([
      expect.stringMatching(/^policy:/),
    ]);
  });
});
