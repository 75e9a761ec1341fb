import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { permissionLevelOf } from '../connectors/permission-level.js';
import type { SimEvent, Truth } from '../connectors/simulated/model.js';
import { startSimulator, type Simulator } from '../connectors/simulated/server.js';
import { BUILT_IN_POLICIES } from '../scheduler/policies/built-in.js';
import { NEW_COUNTRY_BASELINE } from '../subgraphs/activities/policy-condition.js';
import { startTestStack, waitFor, type TestStack } from './harness.js';
import { allNodes, live, rescan, scanOf, waitConnected } from './truth.js';

/**
 * The built-in policies against a small simulated tenant, through the scheduler and the gateway:
 * what the generator plants is detected, about the right account, file or app permission, with its
 * evidence; scanning again adds nothing; a bad custom condition is refused naming the field.
 */

let t: TestStack;
let simulator: Simulator;
let instanceId: string;
let truth: Truth;

const TOKEN = 'detect-token-123456';

beforeAll(async () => {
  t = await startTestStack({ AUDIT_LAG_SECONDS: '1', AUDIT_OVERLAP_SECONDS: '120', BACKFILL_DAYS: '3' }, { scheduler: true });
  simulator = await startSimulator({
    tenants: [
      {
        id: 'detect',
        token: TOKEN,
        seed: 7,
        users: 20,
        groups: 2,
        files: 24,
        grants: 40,
        backfillDays: 2,
        backfillEventsPerUserPerDay: 3,
        activityPerMinute: 0,
        auditLagMs: 0,
        rateLimitPerMinute: 6000,
        maxPageSize: 40,
      },
    ],
  });
  const { connectApp } = await t.query<{ connectApp: { id: string } }>(
    'mutation ($config: JSON!) { connectApp(input: { provider: "simulated", name: "detect", config: $config }) { id } }',
    { config: { endpoint: simulator.url, token: TOKEN, rateLimitPerMinute: 6000, maxPageSize: 40 } },
  );
  instanceId = connectApp.id;
  await waitConnected(t, instanceId, 60_000);
  await waitFor('the data scan', async () => ((await scanOf(t, instanceId, 'DATA')).lastCompletedAt ? true : undefined), 60_000);
  truth = simulator.tenant('detect').truth();
}, 90_000);

afterAll(async () => {
  await t?.stop();
  await simulator?.stop();
});

interface DetectionView {
  id: string;
  title: string;
  status: string;
  evidence: Record<string, unknown> & { count: number };
  account: { externalId: string } | null;
  file: { externalId: string; sharing: string; sensitiveMatches: { type: string; count: number }[] } | null;
  appPermission: { externalId: string; clientId: string } | null;
  activities: { externalId: string }[];
}

const builtIn = (name: string) => BUILT_IN_POLICIES.find((p) => p.name === name)!.id;

const detectionsOf = (policyId: string) =>
  allNodes<DetectionView>(
    t,
    'detections',
    `filter: { instanceId: "${instanceId}", policyId: "${policyId}" }`,
    'id title status evidence account { externalId } file { externalId sharing sensitiveMatches { type count } } appPermission { externalId clientId } activities { externalId }',
  );

const planted = (scenario: SimEvent['scenario']) => truth.events.filter((e) => e.scenario === scenario);
const sorted = (values: Iterable<string>) => [...new Set(values)].sort();

describe('built-in policies on the demo data', () => {
  it('are installed once, enabled', async () => {
    const { policies } = await t.query<{ policies: { id: string; name: string; enabled: boolean }[] }>('{ policies { id name enabled } }');
    for (const policy of BUILT_IN_POLICIES)
      expect(policies.filter((p) => p.id === policy.id)).toEqual([{ id: policy.id, name: policy.name, enabled: true }]);
  });

  it('mass download: one detection per burst, about the account that downloaded, with the downloads', async () => {
    const found = await detectionsOf(builtIn('Mass download'));
    const bursts = planted('download_burst');
    expect(found.map((d) => d.account!.externalId).sort()).toEqual(sorted(bursts.map((e) => e.actorId!)));
    for (const d of found) {
      expect(d.evidence.count).toBeGreaterThanOrEqual(30);
      expect(d.activities).toHaveLength(d.evidence.count);
      const mine = bursts.filter((e) => e.actorId === d.account!.externalId).map((e) => e.id);
      expect(d.activities.map((a) => a.externalId)).toEqual(expect.arrayContaining(mine));
    }
  });

  it('repeated failed sign-ins: the stormed accounts, with at least 10 failures each', async () => {
    const found = await detectionsOf(builtIn('Repeated failed sign-ins'));
    const storms = planted('failed_storm').filter((e) => !e.succeeded);
    expect(found.map((d) => d.account!.externalId).sort()).toEqual(sorted(storms.map((e) => e.actorId!)));
    for (const d of found) {
      expect(d.evidence.count).toBe(storms.filter((e) => e.actorId === d.account!.externalId).length);
      expect(d.evidence.countries).toHaveLength(1);
    }
  });

  it('sign-in from a new country: exactly the sign-ins from a country new to an account with a history, none from home', async () => {
    const found = await detectionsOf(builtIn('Sign-in from a new country'));
    const located = truth.events.filter((e) => e.succeeded && e.actorId && e.country);
    const usual = (actorId: string) => {
      const counts = new Map<string, number>();
      for (const h of located.filter((x) => x.actorId === actorId)) counts.set(h.country!, (counts.get(h.country!) ?? 0) + 1);
      return [...counts].sort((a, b) => b[1] - a[1])[0]![0];
    };
    const expected = located.filter((e) => {
      if (e.action !== 'user.login' || e.category !== 'SIGN_IN') return false;
      const before = located.filter((h) => h.actorId === e.actorId && h.occurredAt < e.occurredAt);
      return before.length >= NEW_COUNTRY_BASELINE && !before.some((h) => h.country === e.country) && e.country !== usual(e.actorId!);
    });
    expect(expected.some((e) => e.scenario === 'new_country')).toBe(true);
    expect(expected.every((e) => e.scenario === 'new_country' || e.scenario === 'failed_storm')).toBe(true);
    expect(found.flatMap((d) => d.activities.map((a) => a.externalId)).sort()).toEqual(expected.map((e) => e.id).sort());
    for (const d of found) {
      const mine = expected.filter((e) => d.activities.some((a) => a.externalId === e.id));
      expect(mine.every((e) => e.actorId === d.account!.externalId)).toBe(true);
      expect(d.evidence.countries).toEqual(sorted(mine.map((e) => e.country!)));
    }
  });

  it('admin privilege granted: the admin who assigned the role, with the account it went to', async () => {
    const found = await detectionsOf(builtIn('Admin privilege granted'));
    const assignments = planted('role_assign');
    expect(found.length).toBeGreaterThan(0);
    expect(found.flatMap((d) => d.activities.map((a) => a.externalId)).sort()).toEqual(assignments.map((e) => e.id).sort());
    for (const d of found) {
      const mine = assignments.filter((e) => d.activities.some((a) => a.externalId === e.id));
      expect(mine.every((e) => e.actorId === d.account!.externalId)).toBe(true);
      expect(d.evidence.targets).toEqual(expect.arrayContaining(mine.map((e) => `user:${e.targetId}`)));
    }
  });

  it('sensitive file shared externally or publicly: every exposed file with planted card numbers, and only exposed sensitive files', async () => {
    const found = await detectionsOf(builtIn('Sensitive file shared externally or publicly'));
    const exposedCards = live(truth.files).filter(
      (f) => !f.trashed && (f.sharing === 'PUBLIC' || f.sharing === 'EXTERNAL') && f.planted.some((p) => p.kind === 'CREDIT_CARD'),
    );
    expect(exposedCards.length).toBeGreaterThanOrEqual(3);
    expect(found.map((d) => d.file!.externalId)).toEqual(expect.arrayContaining(exposedCards.map((f) => f.id)));
    expect(new Set(found.map((d) => d.file!.externalId)).size).toBe(found.length);
    for (const d of found) {
      expect(['PUBLIC', 'EXTERNAL']).toContain(d.file!.sharing);
      expect(d.evidence.sharing).toBe(d.file!.sharing);
      expect(d.evidence.sensitiveMatches).toEqual(d.file!.sensitiveMatches.slice().sort((a, b) => a.type.localeCompare(b.type)));
    }
  });

  it('high-permission OAuth app granted: exactly the high-permission apps at least 3 accounts granted, one detection each', async () => {
    const found = await detectionsOf(builtIn('High-permission OAuth app granted'));
    const byApp = new Map<string, Set<string>>();
    for (const g of live(truth.grants).filter((g) => !g.revoked && permissionLevelOf(g.scopes) === 'HIGH')) {
      byApp.set(g.clientId, (byApp.get(g.clientId) ?? new Set()).add(g.userId));
    }
    const expected = [...byApp].filter(([, users]) => users.size >= 3);
    expect(expected.length).toBeGreaterThan(0);
    expect(found.map((d) => d.appPermission!.clientId).sort()).toEqual(sorted(expected.map(([clientId]) => clientId)));
    for (const d of found) {
      expect(d.evidence.grantedBy).toBe(byApp.get(d.appPermission!.clientId)!.size);
      expect(d.account).not.toBeNull();
    }
  });
});

describe('scanning again', () => {
  it('adds no detection and no evidence', async () => {
    const snapshot = async () =>
      sorted(
        (await Promise.all(BUILT_IN_POLICIES.map((p) => detectionsOf(p.id))))
          .flat()
          .map((d) => `${d.id}:${d.evidence.count}:${d.activities.length}`),
      );
    const before = await snapshot();
    expect(before.length).toBeGreaterThanOrEqual(BUILT_IN_POLICIES.length);
    for (const kind of ['ACTIVITIES', 'APP_PERMISSIONS', 'FILES']) await rescan(t, instanceId, kind);
    expect(await snapshot()).toEqual(before);
  });
});

describe('custom policies through the gateway', () => {
  const create = 'mutation ($input: PolicyInput!) { createPolicy(input: $input) { id kind condition } }';

  it('refuses a bad condition with BAD_USER_INPUT naming the field', async () => {
    for (const [condition, field] of [
      [{ action: 'file.download', threshold: { count: 0, windowMinutes: 5 } }, 'input.condition.threshold.count'],
      [{ ipInCidr: ['10.0.0.0/8', '300.1.1.1/8'] }, 'input.condition.ipInCidr.1'],
      [{ country: { in: ['US'], newForActor: true } }, 'input.condition.country'],
      [{ colour: 'red' }, 'input.condition.colour'],
    ] as const) {
      const answer = await t.request(create, { input: { name: 'Bad', kind: 'ACTIVITY', severity: 'LOW', condition } });
      expect(answer.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
      expect(answer.errors?.[0]?.message).toContain(`"${field}"`);
    }
  });

  it('accepts a good one and keeps it as written', async () => {
    const condition = { namePattern: '*.csv', sharing: 'PUBLIC', sensitiveType: 'US_SSN', minCount: 2 };
    const { createPolicy } = await t.query<{ createPolicy: { kind: string; condition: unknown } }>(create, {
      input: { name: 'Public SSN exports', kind: 'FILE', severity: 'HIGH', condition },
    });
    expect(createPolicy).toMatchObject({ kind: 'FILE', condition });
  });
});
