import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SalesforceOrgSpec } from '../emulators/salesforce/index.js';
import { startTestStack, waitFor, type TestStack } from './harness.js';
import { connectedAppKeys, startTrustedSalesforce, type ConnectedAppKeys, type TrustedSalesforce } from './salesforce-emulator.js';
import { allNodes, rescan, scanOf, waitConnected } from './truth.js';

/**
 * Two Salesforce orgs as two instances of one connector, against the emulator: different data and
 * limits; kept apart in ids, data, budgets and daily quotas (one org's spent quota pauses its own
 * scans while the other keeps scanning) and in the reach of a policy scoped to one of them.
 */

const ORGS = {
  north: { organizationId: '00D5g000001northAA', consumerKey: '3MVG9north.key', username: 'tw@north.example.com', dailyApiLimit: 200_000 },
  south: { organizationId: '00D5g000002southAA', consumerKey: '3MVG9south.key', username: 'tw@south.example.com', dailyApiLimit: 5_000 },
} as const;
type OrgName = keyof typeof ORGS;
const NAMES = Object.keys(ORGS) as OrgName[];

let t: TestStack;
let salesforce: TrustedSalesforce;
let keys: ConnectedAppKeys;
const instances: Record<OrgName, string> = { north: '', south: '' };
let scopedPolicy = '';
let everywherePolicy = '';

const spec = (name: OrgName, seed: number, users: number): SalesforceOrgSpec => ({
  organizationId: ORGS[name].organizationId,
  name,
  seed,
  users,
  frozen: 2,
  inactive: 2,
  admins: 2,
  externalUsers: 2,
  groups: 3,
  files: 12,
  publicLinks: 3,
  oauthTokens: 10,
  backfillDays: 1,
  loginsPerUserPerDay: 2,
  setupChangesPerDay: 5,
  pageSize: 50,
  dailyApiLimit: ORGS[name].dailyApiLimit,
  connectedApps: [{ consumerKey: ORGS[name].consumerKey, certificatePem: keys.certificatePem, username: ORGS[name].username }],
});

beforeAll(async () => {
  keys = await connectedAppKeys();
  salesforce = await startTrustedSalesforce([spec('north', 7, 60), spec('south', 8, 35)]);
  t = await startTestStack(
    { AUDIT_LAG_SECONDS: '1', AUDIT_OVERLAP_SECONDS: '120', BACKFILL_DAYS: '2', CONNECTOR_CA_FILE: salesforce.caFile },
    { scheduler: true },
  );
  const CREATE = `mutation ($input: PolicyInput!) { createPolicy(input: $input) { id } }`;
  const signIns = { kind: 'ACTIVITY', severity: 'LOW', condition: { action: 'user.login' } };
  everywherePolicy = (await t.query<{ createPolicy: { id: string } }>(CREATE, { input: { ...signIns, name: 'sign-ins everywhere' } }))
    .createPolicy.id;
  for (const name of NAMES) {
    const org = salesforce.emulator.org(ORGS[name].organizationId);
    const { connectApp } = await t.query<{ connectApp: { id: string } }>(
      'mutation ($name: String!, $config: JSON!) { connectApp(input: { provider: "salesforce", name: $name, config: $config }) { id } }',
      {
        name,
        config: {
          instanceUrl: org.instanceUrl,
          loginUrl: salesforce.emulator.loginUrl,
          consumerKey: ORGS[name].consumerKey,
          username: ORGS[name].username,
          privateKeyPem: keys.privateKeyPem,
          organizationId: ORGS[name].organizationId,
          rateLimitPerMinute: name === 'north' ? 3000 : 1200,
        },
      },
    );
    instances[name] = connectApp.id;
  }
  // Scoped to the north org before its first activity scan has stored anything.
  scopedPolicy = (
    await t.query<{ createPolicy: { id: string } }>(CREATE, {
      input: { ...signIns, name: 'north sign-ins', instanceIds: [instances.north] },
    })
  ).createPolicy.id;
  await Promise.all(NAMES.map((name) => waitConnected(t, instances[name], 150_000))).catch(async (error: Error) => {
    const states = await Promise.all(
      NAMES.map(async (name) =>
        JSON.stringify(
          await t.query(`{ appInstance(id: "${instances[name]}") { status statusMessage scans { kind state itemsScanned lastError } } }`),
        ),
      ),
    );
    throw new Error(`${error.message}\n${states.join('\n')}`);
  });
}, 240_000);

afterAll(async () => {
  await t?.stop();
  await salesforce?.stop();
});

const ids = async (field: string, instanceId: string) =>
  (await allNodes<{ externalId: string }>(t, field, `filter: { instanceId: "${instanceId}" }`, 'externalId'))
    .map((n) => n.externalId)
    .sort();

describe('two Salesforce orgs of one connector', () => {
  it('holds each org’s own data under its own instance, ids apart', async () => {
    for (const name of NAMES) {
      const truth = salesforce.emulator.org(ORGS[name].organizationId).truth();
      expect(await ids('accounts', instances[name])).toEqual(truth.users.map((u) => u.Id).sort());
      expect(await ids('files', instances[name])).toEqual(
        truth.files
          .filter((f) => !f.deleted)
          .map((f) => f.Id)
          .sort(),
      );
      expect(await ids('appPermissions', instances[name])).toEqual(
        truth.oauthTokens
          .filter((g) => !g.deleted)
          .map((g) => g.Id)
          .sort(),
      );
      const activities = await ids('activities', instances[name]);
      expect(activities.length).toBeGreaterThan(0);
      expect(activities).toEqual(expect.arrayContaining(truth.loginHistory.filter((l) => l.visible).map((l) => l.Id)));
    }
    for (const field of ['accounts', 'files', 'appPermissions', 'activities']) {
      const north = new Set(await ids(field, instances.north));
      expect(
        (await ids(field, instances.south)).filter((id) => north.has(id)),
        `${field} shared by both orgs`,
      ).toEqual([]);
    }
  });

  it('keeps each org’s budget and daily quota: a spent quota pauses that org alone, saying when requests resume', async () => {
    const db = new pg.Client({ connectionString: t.stack.databaseUrl });
    await db.connect();
    try {
      const budgets = async () =>
        (
          await db.query<{ instance_id: string; rate_per_ms: number; day_limit_reported: number | null }>(
            "select instance_id, rate_per_ms, day_limit_reported from scheduler.rate_budget where instance_id = any($1) and service = ''",
            [Object.values(instances)],
          )
        ).rows;
      const rows = new Map((await budgets()).map((r) => [r.instance_id, r]));
      // Each at its own rate, less the 10 % headroom, and its own org's reported daily limit.
      expect(rows.get(instances.north)!.rate_per_ms).toBeCloseTo((3000 * 0.9) / 60_000, 10);
      expect(rows.get(instances.south)!.rate_per_ms).toBeCloseTo((1200 * 0.9) / 60_000, 10);
      expect(rows.get(instances.north)!.day_limit_reported).toBe(ORGS.north.dailyApiLimit);
      expect(rows.get(instances.south)!.day_limit_reported).toBe(ORGS.south.dailyApiLimit);

      // The south org's other integrations spend its quota: Salesforce refuses with REQUEST_LIMIT_EXCEEDED.
      const south = salesforce.emulator.org(ORGS.south.organizationId);
      south.update({ apiUsage: ORGS.south.dailyApiLimit });
      await t.query(`mutation { requestScan(instanceId: "${instances.south}", kind: USERS) { state } }`);
      const throttled = await waitFor(
        'the south org’s user scan THROTTLED',
        async () => {
          const { appInstance } = await t.query<{ appInstance: { scans: { kind: string; state: string; lastError: string | null }[] } }>(
            `{ appInstance(id: "${instances.south}") { scans { kind state lastError } } }`,
          );
          const users = appInstance.scans.find((s) => s.kind === 'USERS')!;
          return users.state === 'THROTTLED' ? users : undefined;
        },
        60_000,
      );
      expect(throttled.lastError).toMatch(/resume/i);
      // The quota the refusal reported, as the graph shows it (usage is written about once a second).
      const quota = await waitFor(
        'the south org’s spent quota in its API usage',
        async () => {
          const { appInstance } = await t.query<{
            appInstance: { apiUsage: { dailyQuota: { limit: number; used: number; available: number } | null } };
          }>(`{ appInstance(id: "${instances.south}") { apiUsage { dailyQuota { limit used available } } } }`);
          const reported = appInstance.apiUsage.dailyQuota;
          return reported?.available === 0 ? reported : undefined;
        },
        10_000,
      );
      expect(quota).toMatchObject({ limit: ORGS.south.dailyApiLimit, used: ORGS.south.dailyApiLimit });
      const north = await t.query<{ appInstance: { apiUsage: { dailyQuota: { limit: number; available: number } | null } } }>(
        `{ appInstance(id: "${instances.north}") { apiUsage { dailyQuota { limit available } } } }`,
      );
      expect(north.appInstance.apiUsage.dailyQuota?.limit).toBe(ORGS.north.dailyApiLimit);
      expect(north.appInstance.apiUsage.dailyQuota?.available).toBeGreaterThan(0);
      // The north org keeps scanning meanwhile, and the south org sent nothing more once refused.
      const refused = south.stats().requests;
      await rescan(t, instances.north, 'USERS');
      await rescan(t, instances.north, 'FILES');
      expect(south.stats().requests).toBe(refused);
      expect((await scanOf(t, instances.south, 'USERS')).state).toBe('THROTTLED');
    } finally {
      await db.end();
    }
  }, 180_000);

  it('raises a policy scoped to one org only there; detections carry their instance', async () => {
    const count = async (policyId: string, instanceId: string) =>
      (await allNodes<{ id: string }>(t, 'detections', `filter: { instanceId: "${instanceId}", policyId: "${policyId}" }`, 'id')).length;
    // Both orgs' sign-ins were stored after both policies existed (the scoped one was made before the
    // first activity scan). Sign-ins made now in the north org are read too; the south org's quota is
    // spent since the test above, so it is not rescanned: its detections are those of its first scans.
    salesforce.emulator.org(ORGS.north.organizationId).lateRecords(10, 0);
    await rescan(t, instances.north, 'ACTIVITIES');
    await waitFor('north sign-in detections', async () => ((await count(scopedPolicy, instances.north)) > 0 ? true : undefined), 30_000);
    expect(await count(scopedPolicy, instances.south)).toBe(0);
    expect(await count(everywherePolicy, instances.north)).toBeGreaterThan(0);
    expect(await count(everywherePolicy, instances.south)).toBeGreaterThan(0);
  }, 60_000);
});
