import { SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signToken, type Role } from '../platform/auth.js';
import { startSimulator, type Simulator } from '../connectors/simulated/server.js';
import { graphql, startTestStack, TEST_JWT_SECRET, waitFor, type GraphQLAnswer, type TestStack } from './harness.js';
import { connect, disposeClients, record } from './subscription-client.js';
import { allNodes, waitConnected } from './truth.js';

/**
 * Instance-scoped access: a token whose `instances` claim names the "sales" instance sees and acts on
 * sales only, in every subgraph (lists, counts, single lookups, entity references sent straight to the
 * subgraph, governance, triage, subscriptions), while an unscoped token sees both "sales" and
 * "marketing"; what concerns every instance (policies, alert sinks, connecting an instance) is FORBIDDEN.
 */

let t: TestStack;
let simulator: Simulator;
const ids: Record<'sales' | 'marketing', string> = { sales: '', marketing: '' };
/** One of each kind of item per instance, found with an unscoped token. */
interface Items {
  account: string;
  file: string;
  grant: string;
  grantor: string;
  detection: string;
  activity: string;
  actor: string;
}
const items: Record<'sales' | 'marketing', Items> = { sales: {} as Items, marketing: {} as Items };
const scoped = async (role: Role, instances: string[] = [ids.sales]) => signToken(t.config, { role, subject: `sales-${role}`, instances });

/** Asks the gateway with `token`. */
const ask = <T = Record<string, unknown>>(token: string, query: string, variables?: Record<string, unknown>) =>
  t.request<T>(query, variables, token);

/** The data of an answer that must have no errors. */
function data<T>(answer: GraphQLAnswer<T>): T {
  expect(answer.errors, JSON.stringify(answer.errors)).toBeUndefined();
  return answer.data as T;
}

function refusal(answer: GraphQLAnswer): { code: unknown; message: string } {
  expect(answer.errors?.length, JSON.stringify(answer)).toBeGreaterThan(0);
  return { code: answer.errors![0]!.extensions?.code, message: answer.errors![0]!.message };
}

beforeAll(async () => {
  t = await startTestStack({ AUDIT_LAG_SECONDS: '1', AUDIT_OVERLAP_SECONDS: '120', BACKFILL_DAYS: '2' }, { scheduler: true });
  const tenant = (id: string, seed: number) => ({
    id,
    token: `${id}-token-0123456789`,
    seed,
    users: 6,
    groups: 1,
    files: 4,
    grants: 4,
    backfillDays: 1,
    backfillEventsPerUserPerDay: 3,
    activityPerMinute: 0,
    auditLagMs: 0,
    rateLimitPerMinute: 6000,
  });
  simulator = await startSimulator({ tenants: [tenant('sales', 5), tenant('marketing', 6)] });
  // A policy on sign-ins, so that both instances have detections.
  await t.query(
    `mutation { createPolicy(input: { name: "sign-ins", kind: ACTIVITY, severity: LOW, condition: { action: "user.login" } }) { id } }`,
  );
  for (const key of ['sales', 'marketing'] as const) {
    const { connectApp } = await t.query<{ connectApp: { id: string } }>(
      'mutation ($name: String!, $config: JSON!) { connectApp(input: { provider: "simulated", name: $name, config: $config }) { id } }',
      { name: key, config: { endpoint: simulator.url, token: `${key}-token-0123456789`, rateLimitPerMinute: 6000 } },
    );
    ids[key] = connectApp.id;
  }
  await Promise.all(Object.values(ids).map((id) => waitConnected(t, id, 90_000)));
  for (const key of ['sales', 'marketing'] as const) {
    // An account that owns files, so that Account.files shows the scope across subgraphs.
    const files = await allNodes<{ id: string; owner: { id: string } | null }>(
      t,
      'files',
      `filter: { instanceId: "${ids[key]}", trashed: false }`,
      'id owner { id }',
    );
    const owned = files.find((f) => f.owner)!;
    const grant = (
      await allNodes<{ id: string; grantedBy: { id: string } | null }>(
        t,
        'appPermissions',
        `filter: { instanceId: "${ids[key]}", revoked: false }`,
        'id grantedBy { id }',
      )
    ).find((g) => g.grantedBy)!;
    const activity = (
      await allNodes<{ id: string; actor: { id: string } | null }>(
        t,
        'activities',
        `filter: { instanceId: "${ids[key]}" }`,
        'id actor { id }',
      )
    ).find((a) => a.actor)!;
    items[key] = {
      account: owned.owner!.id,
      file: owned.id,
      grant: grant.id,
      grantor: grant.grantedBy!.id,
      activity: activity.id,
      actor: activity.actor!.id,
      detection: await waitFor(
        `a detection in ${key}`,
        async () => (await allNodes<{ id: string }>(t, 'detections', `filter: { instanceId: "${ids[key]}" }`, 'id'))[0]?.id,
      ),
    };
  }
}, 180_000);

afterAll(async () => {
  await disposeClients();
  await t?.stop();
  await simulator?.stop();
});

describe('a token limited to some instances', () => {
  it('is refused when its instances claim is malformed, naming what is wrong', async () => {
    const secret = new TextEncoder().encode(TEST_JWT_SECRET);
    const sign = (instances: unknown) =>
      new SignJWT({ roles: ['viewer'], instances })
        .setProtectedHeader({ alg: 'HS256' })
        .setSubject('bad')
        .setIssuer(t.config.AUTH_JWT_ISSUER)
        .setAudience(t.config.AUTH_JWT_AUDIENCE)
        .setExpirationTime('1h')
        .sign(secret);
    for (const [claim, why] of [
      [ids.sales, 'must be an array'],
      [[], 'lists no instance'],
      [[ids.sales, 'sales'], 'index 1'],
    ] as const) {
      const answer = await ask(await sign(claim), '{ appInstances { id } }');
      expect(refusal(answer)).toMatchObject({ code: 'UNAUTHENTICATED', message: expect.stringContaining(why) });
    }
  });

  it('lists and counts only its instances’ data in every subgraph', async () => {
    const viewer = await scoped('viewer');
    const everything = t.token('viewer');
    const { appInstances } = data(await ask<{ appInstances: { id: string }[] }>(viewer, '{ appInstances { id } }'));
    expect(appInstances.map((i) => i.id)).toEqual([ids.sales]);

    for (const field of ['accounts', 'groups', 'activities', 'detections', 'governanceActions', 'files', 'appPermissions', 'apps']) {
      const query = `{ ${field}(first: 500) { totalCount edges { node { instance { id } } } } }`;
      type Page = Record<string, { totalCount: number; edges: { node: { instance: { id: string } } }[] }>;
      const mine = data(await ask<Page>(viewer, query))[field]!;
      const all = data(await ask<Page>(everything, query))[field]!;
      expect(new Set(mine.edges.map((e) => e.node.instance.id)), field).toEqual(
        new Set(all.edges.filter((e) => e.node.instance.id === ids.sales).map((e) => e.node.instance.id)),
      );
      expect(mine.totalCount, field).toBe(all.edges.filter((e) => e.node.instance.id === ids.sales).length);
      if (field !== 'governanceActions') expect(all.totalCount, field).toBeGreaterThan(mine.totalCount);
      // Filtering on another instance finds nothing (and says nothing of it).
      const other = data(
        await ask<Page>(
          viewer,
          `{ ${field}(first: 5${field === 'groups' ? `, instanceId: "${ids.marketing}"` : `, filter: { instanceId: "${ids.marketing}" }`}) { totalCount } }`,
        ),
      );
      expect(other[field]!.totalCount, field).toBe(0);
    }
  });

  it('finds another instance’s items by id as unknown, also through fields that cross subgraphs', async () => {
    const viewer = await scoped('viewer');
    const lookup = (key: 'sales' | 'marketing') => `{
      appInstance(id: "${ids[key]}") { id }
      account(id: "${items[key].account}") { id files { totalCount } detections { totalCount } appPermissions { totalCount } activities { totalCount } }
      file(id: "${items[key].file}") { id }
      appPermission(id: "${items[key].grant}") { id }
      detection(id: "${items[key].detection}") { id }
      activity(id: "${items[key].activity}") { id }
    }`;
    const sales = data(await ask<Record<string, { id: string } | null>>(viewer, lookup('sales')));
    for (const [field, value] of Object.entries(sales)) expect(value, field).not.toBeNull();
    expect(sales.account).toMatchObject({ files: { totalCount: expect.any(Number) } });
    const marketing = data(await ask<Record<string, unknown>>(viewer, lookup('marketing')));
    expect(marketing).toEqual({ appInstance: null, account: null, file: null, appPermission: null, detection: null, activity: null });
  });

  it('resolves entity references sent straight to each subgraph only within its instances', async () => {
    const viewer = await scoped('viewer');
    const everything = t.token('viewer');
    const entities = async (subgraph: string, token: string, typename: string, id: string, selection: string) => {
      const answer = await graphql<{ _entities: unknown[] }>(
        t.stack.subgraphs[subgraph]!.url,
        token,
        `query ($r: [_Any!]!) { _entities(representations: $r) { ... on ${typename} { ${selection} } } }`,
        { r: [{ __typename: typename, id }] },
      );
      return data(answer)._entities[0];
    };
    const cases = [
      ['accounts', 'Account', 'account', 'id email'],
      ['accounts', 'AppInstance', null, 'id name'],
      ['files', 'File', 'file', 'id name'],
      ['app-permissions', 'AppPermission', 'grant', 'id appName'],
      ['activities', 'Detection', 'detection', 'id severity'],
      ['activities', 'Activity', 'activity', 'id action'],
    ] as const;
    for (const [subgraph, typename, item, selection] of cases) {
      const of = (key: 'sales' | 'marketing') => (item ? items[key][item] : ids[key]);
      expect(await entities(subgraph, viewer, typename, of('sales'), selection), typename).toMatchObject({ id: of('sales') });
      expect(await entities(subgraph, viewer, typename, of('marketing'), selection), typename).toBeNull();
      expect(await entities(subgraph, everything, typename, of('marketing'), selection), typename).toMatchObject({ id: of('marketing') });
    }
    // The fields other subgraphs add to Account see only the scope's rows, whatever account id is sent.
    for (const [subgraph, field, owner] of [
      ['files', 'files', 'account'],
      ['app-permissions', 'appPermissions', 'grantor'],
      ['activities', 'activities', 'actor'],
    ] as const) {
      const count = async (token: string) =>
        (
          (await entities(subgraph, token, 'Account', items.marketing[owner], `${field} { totalCount }`)) as Record<
            string,
            { totalCount: number }
          >
        )[field]!.totalCount;
      expect(await count(everything), field).toBeGreaterThan(0);
      expect(await count(viewer), field).toBe(0);
    }
  });

  it('acts only on its instances: governance, triage, app revocation and instance lifecycle', async () => {
    const responder = await scoped('responder');
    const admin = await scoped('admin');
    const governance = (token: string, mutation: string, targetId: string) =>
      ask(token, `mutation ($id: ID!) { ${mutation}(input: { targetId: $id, dryRun: true }) { id } }`, { id: targetId });
    for (const [mutation, item] of [
      ['suspendAccount', 'account'],
      ['trashFile', 'file'],
      ['revokeAppPermission', 'grant'],
    ] as const) {
      expect(refusal(await governance(responder, mutation, items.marketing[item])), mutation).toMatchObject({
        code: 'BAD_USER_INPUT',
        message: expect.stringContaining(`has id ${items.marketing[item]}`),
      });
      data(await governance(responder, mutation, items.sales[item]));
    }
    // Triage: a detection of another instance is unknown, and a bulk change with one changes nothing.
    const bulk = await ask(responder, `mutation ($ids: [ID!]!) { setDetectionsStatus(ids: $ids, status: DISMISSED) { id } }`, {
      ids: [items.sales.detection, items.marketing.detection],
    });
    expect(refusal(bulk)).toMatchObject({ code: 'BAD_USER_INPUT', message: expect.stringContaining('ids.1') });
    const { detection } = await t.query<{ detection: { status: string } }>(`{ detection(id: "${items.sales.detection}") { status } }`);
    expect(detection.status).toBe('OPEN');
    expect(
      refusal(await ask(responder, `mutation { assignDetection(id: "${items.marketing.detection}", assignee: "x") { id } }`)).code,
    ).toBe('BAD_USER_INPUT');
    const { appPermission } = await t.query<{ appPermission: { clientId: string } }>(
      `{ appPermission(id: "${items.marketing.grant}") { clientId } }`,
    );
    expect(
      refusal(
        await ask(responder, `mutation ($i: ID!, $c: String!) { revokeApp(input: { instanceId: $i, clientId: $c }) { actions { id } } }`, {
          i: ids.marketing,
          c: appPermission.clientId,
        }),
      ).code,
    ).toBe('BAD_USER_INPUT');
    // Lifecycle of another instance: unknown; of its own: allowed.
    for (const mutation of [
      `requestScan(instanceId: "${ids.marketing}", kind: USERS) { state }`,
      `updateAppInstance(id: "${ids.marketing}", input: { name: "taken" }) { id }`,
      `reconnectApp(id: "${ids.marketing}") { id }`,
      `disconnectApp(id: "${ids.marketing}") { id }`,
      `deleteAppInstance(id: "${ids.marketing}") { id }`,
    ])
      expect(refusal(await ask(admin, `mutation { ${mutation} }`)), mutation).toMatchObject({
        code: 'BAD_USER_INPUT',
        message: expect.stringContaining(`no app instance has id ${ids.marketing}`),
      });
    const renamed = data(
      await ask<{ updateAppInstance: { name: string } }>(
        admin,
        `mutation { updateAppInstance(id: "${ids.sales}", input: { name: "sales (EU)" }) { name } }`,
      ),
    );
    expect(renamed.updateAppInstance.name).toBe('sales (EU)');
    const { appInstance } = await t.query<{ appInstance: { name: string; status: string } }>(
      `{ appInstance(id: "${ids.marketing}") { name status } }`,
    );
    expect(appInstance).toEqual({ name: 'marketing', status: 'CONNECTED' });
  });

  it('is FORBIDDEN what concerns every instance: policies, alert sinks, connecting an instance', async () => {
    const admin = await scoped('admin', [ids.sales, ids.marketing]);
    for (const operation of [
      `mutation { createPolicy(input: { name: "x", kind: ACTIVITY, severity: LOW, condition: { action: "user.login" } }) { id } }`,
      `mutation { connectApp(input: { provider: "simulated", name: "x", config: { endpoint: "${simulator.url}", token: "x" } }) { id } }`,
      `{ alertSinks { id } }`,
      `mutation { createAlertSink(input: { name: "x", url: "https://siem.example.com/hook" }) { secret } }`,
    ]) {
      expect(refusal(await ask(admin, operation)), operation).toMatchObject({
        code: 'FORBIDDEN',
        message: expect.stringContaining('"instances" claim'),
      });
    }
    // Reading policies (what a detection points at) stays allowed.
    expect(data(await ask<{ policies: unknown[] }>(admin, '{ policies { id } }')).policies.length).toBeGreaterThan(0);
  });

  it('receives only its instances’ events on subscriptions', async () => {
    const SELECTION = 'cursor change detection { id instance { id } }';
    type Event = { detectionRaised: { change: string; detection: { id: string; instance: { id: string } } } };
    const mine = record<Event>(
      connect(t.url, await scoped('analyst')),
      `subscription { detectionRaised(changes: [STATUS_CHANGED]) { ${SELECTION} } }`,
    );
    const all = record<Event>(
      connect(t.url, t.token('analyst')),
      `subscription { detectionRaised(changes: [STATUS_CHANGED]) { ${SELECTION} } }`,
    );
    // Both subscribed: a status change reaches each of them.
    await waitFor('both subscribed', async () => ((t.stack.subgraphs.activities!.stats().subscribers ?? 0) >= 2 ? true : undefined));
    const triage = (id: string, comment: string) =>
      t.query(`mutation ($id: ID!, $c: String!) { setDetectionStatus(id: $id, status: DISMISSED, comment: $c) { id } }`, {
        id,
        c: comment,
      });
    await triage(items.sales.detection, 'one');
    await triage(items.marketing.detection, 'two');
    await triage(items.sales.detection, 'three');
    const seen = await all.received(3);
    expect(seen.map((e) => e.detectionRaised.detection.instance.id)).toEqual([ids.sales, ids.marketing, ids.sales]);
    const got = await mine.received(2);
    expect(got.map((e) => e.detectionRaised.detection.id)).toEqual([items.sales.detection, items.sales.detection]);
    expect(mine.events).toHaveLength(2);
    mine.unsubscribe();
    all.unsubscribe();
  });
});
