import { createHmac } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Truth } from '../connectors/simulated/model.js';
import { startSimulator, type Simulator } from '../connectors/simulated/server.js';
import { SCAN_JOB } from '../scheduler/scans.js';
import { startScheduler } from '../scheduler/scheduler.js';
import { startTestStack, waitFor, type TestStack } from './harness.js';
import { allNodes, expectGraphMatchesTruth as matchesTruth, live, rescan as rescanKind, scanOf, waitConnected } from './truth.js';

let t: TestStack;
let simulator: Simulator;
const ids: Record<string, string> = {};

const TENANTS = {
  // Faults: 5% of API requests answer 503, 2% drop the connection.
  alpha: { seed: 11, faults: { errorRate: 0.05, dropRate: 0.02, slowRate: 0, slowMs: 0, throttleRate: 0 }, rateLimitPerMinute: 3000 },
  // The provider allows far less than the instance's config claims (its rate headers tell), and
  // one request in ten is throttled as by a shared organisation bucket: 429s and Retry-After must win.
  beta: { seed: 12, faults: { errorRate: 0, dropRate: 0, slowRate: 0, slowMs: 0, throttleRate: 0.1 }, rateLimitPerMinute: 120 },
} as const;

beforeAll(async () => {
  t = await startTestStack({ AUDIT_LAG_SECONDS: '1', AUDIT_OVERLAP_SECONDS: '120', BACKFILL_DAYS: '3' }, { scheduler: true });
  simulator = await startSimulator({
    tenants: Object.entries(TENANTS).map(([id, spec]) => ({
      id,
      token: `${id}-token-123456`,
      seed: spec.seed,
      users: 80,
      groups: 5,
      files: 40,
      grants: 50,
      backfillDays: 2,
      backfillEventsPerUserPerDay: 3,
      activityPerMinute: 0,
      auditLagMs: 1500,
      rateLimitPerMinute: spec.rateLimitPerMinute,
      burstSeconds: 2,
      faults: spec.faults,
    })),
  });
  for (const id of Object.keys(TENANTS)) {
    const answer = await t.query<{ connectApp: { id: string; status: string } }>(
      `mutation ($config: JSON!) { connectApp(input: { provider: "simulated", name: "${id}", config: $config }) { id status } }`,
      { config: { endpoint: simulator.url, token: `${id}-token-123456`, webhookSecret: `${id}-secret`, rateLimitPerMinute: 3000 } },
    );
    expect(answer.connectApp.status).toBe('CONNECTING');
    ids[id] = answer.connectApp.id;
    simulator.tenant(id).update({ webhook: { url: `${t.stack.scheduler!.webhookUrl}/${ids[id]}`, secret: `${id}-secret` } });
  }
  await Promise.all(Object.values(ids).map((id) => connected(id)));
}, 240_000);

afterAll(async () => {
  await t?.stop();
  await simulator?.stop();
});

type Tenant = keyof typeof TENANTS;
const TENANT_IDS = Object.keys(TENANTS) as Tenant[];
const otherThan = (tenant: Tenant): Tenant => (tenant === 'alpha' ? 'beta' : 'alpha');

/** The provider ids a tenant's instance must list, per graph field: live users, files and grants, every audit event. */
const providerIds = (truth: Truth): Record<'accounts' | 'files' | 'activities' | 'appPermissions', string[]> => ({
  accounts: live(truth.users).map((u) => u.id),
  files: live(truth.files).map((f) => f.id),
  activities: truth.events.map((e) => e.id),
  appPermissions: live(truth.grants).map((g) => g.id),
});

/** An instance's row in the scheduler's rate budget table (`scheduler/budget.ts`). */
async function budgetOf(db: pg.Client, instanceId: string): Promise<{ ratePerMs: number; blockedUntil: Date | null } | undefined> {
  const { rows } = await db.query<{ rate_per_ms: number; blocked_until: Date | null }>(
    'select rate_per_ms, blocked_until from scheduler.rate_budget where instance_id = $1',
    [instanceId],
  );
  return rows[0] && { ratePerMs: rows[0].rate_per_ms, blockedUntil: rows[0].blocked_until };
}

interface ApiUsage {
  requestsLastHour: number;
  throttledLastHour: number;
  limitPerMinute: number | null;
  headroomPercent: number;
}

const connected = (instanceId: string) => waitConnected(t, instanceId);
const all = <T>(field: string, args: string, selection: string) => allNodes<T>(t, field, args, selection);
const rescan = (instanceId: string, kind: string) => rescanKind(t, instanceId, kind);
const expectGraphMatchesTruth = (tenant: string) => matchesTruth(t, simulator.tenant(tenant), ids[tenant]!);

describe('connecting and scanning simulated instances', () => {
  it('walks both instances through the connect steps to CONNECTED with their permissions and capabilities', async () => {
    const { appInstances } = await t.query<{
      appInstances: {
        id: string;
        status: string;
        grantedPermissions: string[];
        capabilities: string[];
        scans: { kind: string; lastCompletedAt: string | null }[];
      }[];
    }>('{ appInstances { id status grantedPermissions capabilities scans { kind lastCompletedAt } } }');
    for (const instance of appInstances) {
      expect(instance.status).toBe('CONNECTED');
      expect(instance.grantedPermissions).toContain('users.read');
      expect(instance.capabilities).toEqual(expect.arrayContaining(['ACCOUNT_INFO', 'AUDIT_TRAIL', 'DATA_SCAN', 'APP_PERMISSIONS']));
      for (const kind of ['USERS', 'GROUPS', 'ACTIVITIES', 'FILES', 'APP_PERMISSIONS']) {
        expect(instance.scans.find((s) => s.kind === kind)?.lastCompletedAt).not.toBeNull();
      }
    }
  });

  it('matches the providers ground truth exactly, although one throttled and the other failed and dropped requests', async () => {
    await expectGraphMatchesTruth('alpha');
    await expectGraphMatchesTruth('beta');
    expect(simulator.tenant('beta').stats().throttled).toBeGreaterThan(0);
    const usage = await waitFor('throttled requests reported in apiUsage', async () => {
      const { appInstance } = await t.query<{ appInstance: { apiUsage: { requestsLastHour: number; throttledLastHour: number } } }>(
        `{ appInstance(id: "${ids.beta}") { apiUsage { requestsLastHour throttledLastHour } } }`,
      );
      return appInstance.apiUsage.throttledLastHour > 0 ? appInstance.apiUsage : undefined;
    });
    expect(usage.requestsLastHour).toBeGreaterThan(usage.throttledLastHour);
  });

  it('stores late and out-of-order audit events exactly once across overlapping windows', async () => {
    const alpha = simulator.tenant('alpha');
    alpha.generateActivity(40);
    // Some of these are not visible yet: this scan sees part of them, the next one the rest.
    await rescan(ids.alpha!, 'ACTIVITIES');
    alpha.generateActivity(25);
    const lastVisible = Math.max(...alpha.truth().events.map((e) => Date.parse(e.visibleAt)));
    await waitFor('every event visible at the provider', async () => (Date.now() > lastVisible + 1_100 ? true : undefined));
    await rescan(ids.alpha!, 'ACTIVITIES');
    await rescan(ids.alpha!, 'ACTIVITIES');
    await expectGraphMatchesTruth('alpha');
  });

  it('marks users, files and grants deleted at the provider instead of keeping them live', async () => {
    const beta = simulator.tenant('beta');
    const truth = beta.truth();
    const user = live(truth.users).at(-1)!;
    const file = live(truth.files)[0]!;
    const grant = live(truth.grants)[0]!;
    beta.delete('user', user.id);
    beta.delete('file', file.id);
    beta.delete('grant', grant.id);
    await rescan(ids.beta!, 'USERS');
    await rescan(ids.beta!, 'FILES');
    await rescan(ids.beta!, 'APP_PERMISSIONS');
    await rescan(ids.beta!, 'GROUPS');
    await expectGraphMatchesTruth('beta');
  });

  it('keeps instances apart: ids, data and budgets', async () => {
    // Data. The tests above leave both instances exactly at their tenant's truth, as connecting does.
    const listedUnder = new Map<string, Tenant>();
    for (const tenant of TENANT_IDS) {
      const expected = providerIds(simulator.tenant(tenant).truth());
      const foreign = new Set(Object.values(providerIds(simulator.tenant(otherThan(tenant)).truth())).flat());
      for (const [field, externalIds] of Object.entries(expected)) {
        const what = `${field} of ${tenant}`;
        const items = await all<{ id: string; externalId: string; instance: { id: string } }>(
          field,
          `filter: { instanceId: "${ids[tenant]}" }`,
          'id externalId instance { id }',
        );
        expect(externalIds.length, `${what} in the truth`).toBeGreaterThan(0);
        expect(items.length, what).toBeGreaterThanOrEqual(externalIds.length);
        expect(items.map((i) => i.externalId).sort(), what).toEqual([...externalIds].sort());
        expect(
          items.filter((i) => foreign.has(i.externalId)),
          `${what} with the other tenant's ids`,
        ).toEqual([]);
        expect(
          items.filter((i) => i.instance.id !== ids[tenant]),
          `${what} under another instance`,
        ).toEqual([]);
        for (const { id } of items) {
          expect(listedUnder.get(id), `${what}: ${id} already listed`).toBeUndefined();
          listedUnder.set(id, tenant);
        }
      }
    }

    // Usage: each instance's own requests; beta's 429s are beta's alone (alpha's provider never throttled it).
    const beta = simulator.tenant('beta');
    const betaThrottled = beta.stats().throttled;
    expect(betaThrottled).toBeGreaterThan(0);
    expect(simulator.tenant('alpha').stats().throttled).toBe(0);
    // Usage is written once a second: wait until it holds every 429 the provider answered beta so far.
    const usage = await waitFor(
      "beta's 429s in beta's apiUsage",
      async () => {
        const { appInstances } = await t.query<{ appInstances: { id: string; apiUsage: ApiUsage }[] }>(
          '{ appInstances { id apiUsage { requestsLastHour throttledLastHour limitPerMinute headroomPercent } } }',
        );
        const of = (tenant: Tenant) => appInstances.find((i) => i.id === ids[tenant])!.apiUsage;
        return of('beta').throttledLastHour >= betaThrottled ? of : undefined;
      },
      10_000,
    );
    expect(usage('alpha').throttledLastHour).toBe(0);

    // Budgets: one row per instance in the scheduler's table, at its own limit less the headroom.
    const db = new pg.Client({ connectionString: t.stack.databaseUrl });
    await db.connect();
    const { rateLimitPerMinute, burstSeconds } = beta.spec();
    try {
      for (const tenant of TENANT_IDS) {
        const { requestsLastHour, limitPerMinute, headroomPercent } = usage(tenant);
        expect(requestsLastHour, `${tenant}'s requests`).toBeGreaterThan(0);
        const budget = await budgetOf(db, ids[tenant]!);
        expect(budget, `${tenant}'s budget`).toBeDefined();
        expect(budget!.ratePerMs).toBeCloseTo((limitPerMinute! * (1 - headroomPercent / 100)) / 60_000, 12);
      }

      // Blocking one does not block the other. Beta's provider is left one request per 5 s: one request
      // through beta's budget empties the provider's window, which blocks beta's budget until it resets.
      // Meanwhile a scan of alpha runs to its end; beta's scan waits for the reset.
      beta.update({ rateLimitPerMinute: 12, burstSeconds: 1 });
      await (await t.stack.scheduler!.runtime.connector(ids.beta!, 'governance')).verify();
      const blockedUntil = await waitFor(
        "beta's budget blocked by its provider",
        async () => {
          const until = (await budgetOf(db, ids.beta!))?.blockedUntil?.getTime() ?? 0;
          return until > Date.now() + 3_000 ? until : undefined;
        },
        20_000,
      );
      // The budget remembers the reset: beta waits for it although its provider allows more again.
      beta.update({ rateLimitPerMinute, burstSeconds });
      const alphaBudget = await budgetOf(db, ids.alpha!);
      expect((alphaBudget?.blockedUntil?.getTime() ?? 0) <= Date.now(), "alpha's budget blocked with beta's").toBe(true);
      const alphaRequests = simulator.tenant('alpha').stats().total;
      const [alphaDone, betaDone] = await Promise.all(
        (['alpha', 'beta'] as const).map((tenant) => rescan(ids[tenant]!, 'USERS').then(() => Date.now())),
      );
      expect(alphaDone, 'alpha scanned before beta may send again').toBeLessThan(blockedUntil);
      expect(simulator.tenant('alpha').stats().total).toBeGreaterThan(alphaRequests);
      expect(betaDone, 'beta scanned once its window reset').toBeGreaterThan(blockedUntil);
    } finally {
      beta.update({ rateLimitPerMinute, burstSeconds });
      await db.end();
    }
  });

  it('rescans a file at once when a verified webhook says it changed', async () => {
    const alpha = simulator.tenant('alpha');
    const target = live(alpha.truth().files).find((f) => !f.trashed)!;
    const { files } = await t.query<{ files: { edges: { node: { id: string; lastScannedAt: string | null } }[] } }>(
      `{ files(filter: { instanceId: "${ids.alpha}", search: ${JSON.stringify(target.name)} }, first: 50) { edges { node { id externalId lastScannedAt } } } }`,
    );
    const before = files.edges.find((e) => (e.node as unknown as { externalId: string }).externalId === target.id)!.node;
    alpha.touchFile(target.id);
    await waitFor('the changed file rescanned', async () => {
      const { file } = await t.query<{ file: { lastScannedAt: string | null } }>(`{ file(id: "${before.id}") { lastScannedAt } }`);
      return file.lastScannedAt && file.lastScannedAt !== before.lastScannedAt ? true : undefined;
    });
  });

  it('data-scans files the periodic file scan found changed at once, not at the next periodic data scan', async () => {
    const alpha = simulator.tenant('alpha');
    const target = live(alpha.truth().files)
      .filter((f) => !f.trashed)
      .at(-1)!;
    const { files } = await t.query<{ files: { edges: { node: { id: string; externalId: string; lastScannedAt: string | null } }[] } }>(
      `{ files(filter: { instanceId: "${ids.alpha}", search: ${JSON.stringify(target.name)} }, first: 50) { edges { node { id externalId lastScannedAt } } } }`,
    );
    const before = files.edges.find((e) => e.node.externalId === target.id)!.node;
    // Changed in the feed, its notification lost: only the file scan's read of the change feed finds it.
    alpha.touchFile(target.id, { notify: false });
    await rescan(ids.alpha, 'FILES');
    await waitFor('the changed file data-scanned', async () => {
      const { file } = await t.query<{ file: { lastScannedAt: string | null } }>(`{ file(id: "${before.id}") { lastScannedAt } }`);
      return file.lastScannedAt && file.lastScannedAt !== before.lastScannedAt ? true : undefined;
    });
  });

  it('refuses a webhook with a bad or replayed signature with 401 and enqueues nothing', async () => {
    const url = `${t.stack.scheduler!.webhookUrl}/${ids.alpha}`;
    const jobs = async () => (await t.stack.scheduler!.agenda.queryJobs({ name: 'scan.data.file' })).total;
    const before = await jobs();
    const body = JSON.stringify({ tenantId: 'alpha', deliveryId: 'x', notices: [{ kind: 'file.changed', externalId: 'whatever' }] });
    const now = Math.floor(Date.now() / 1000);
    const sign = (ts: number, secret: string) => `v1=${createHmac('sha256', secret).update(`${ts}.${body}`).digest('hex')}`;
    for (const [timestamp, signature] of [
      [now, sign(now, 'wrong-secret')],
      [now - 3600, sign(now - 3600, 'alpha-secret')],
      [now, 'v1=00'],
    ] as const) {
      const response = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-simulator-timestamp': String(timestamp), 'x-simulator-signature': signature },
        body,
      });
      expect(response.status).toBe(401);
    }
    expect(await jobs()).toBe(before);
  });

  it('fills File.lastScannedAt and counts the sensitive data the provider planted, never storing content', async () => {
    await waitFor(
      'the data scan of alpha',
      async () => ((await scanOf(t, ids.alpha!, 'DATA')).lastCompletedAt ? true : undefined),
      120_000,
    );
    const truth = simulator.tenant('alpha').truth();
    const files = await all<{ externalId: string; lastScannedAt: string | null; sensitiveMatches: { type: string; count: number }[] }>(
      'files',
      `filter: { instanceId: "${ids.alpha}" }`,
      'externalId lastScannedAt sensitiveMatches { type count }',
    );
    const TYPE: Record<string, string> = {
      CREDIT_CARD: 'CREDIT_CARD_NUMBER',
      US_SSN: 'US_SSN',
      IBAN: 'IBAN',
      AWS_ACCESS_KEY: 'AWS_ACCESS_KEY',
      PRIVATE_KEY: 'PRIVATE_KEY',
      JWT: 'JWT',
    };
    let planted = 0;
    for (const file of files) {
      expect(file.lastScannedAt).not.toBeNull();
      const source = truth.files.find((f) => f.id === file.externalId)!;
      for (const [kind, type] of Object.entries(TYPE)) {
        const expected = source.planted.filter((p) => p.kind === kind).length;
        planted += expected;
        if (expected > 0) expect(file.sensitiveMatches.find((m) => m.type === type)?.count ?? 0).toBeGreaterThanOrEqual(expected);
      }
    }
    expect(planted).toBeGreaterThan(0);
  });

  it('ends in ERROR with a message that says so when the provider refuses the credentials', async () => {
    const { connectApp } = await t.query<{ connectApp: { id: string } }>(
      `mutation ($config: JSON!) { connectApp(input: { provider: "simulated", name: "bad token", config: $config }) { id } }`,
      { config: { endpoint: simulator.url, token: 'not-a-real-token' } },
    );
    const failed = await waitFor('the bad instance in ERROR', async () => {
      const { appInstance } = await t.query<{ appInstance: { status: string; statusMessage: string } }>(
        `{ appInstance(id: "${connectApp.id}") { status statusMessage } }`,
      );
      return appInstance.status === 'ERROR' ? appInstance : undefined;
    });
    expect(failed.statusMessage).toMatch(/refused the credentials/i);
  });

  it("disconnectApp stops the instance's scans and keeps its data", async () => {
    const { disconnectApp } = await t.query<{ disconnectApp: { status: string } }>(
      `mutation { disconnectApp(id: "${ids.beta}") { status } }`,
    );
    expect(disconnectApp.status).toBe('DISCONNECTED');
    // A run already under way when the mutation landed stops at its next page.
    await waitFor('no scan of the instance running', async () => {
      const { appInstance } = await t.query<{ appInstance: { scans: { state: string }[] } }>(
        `{ appInstance(id: "${ids.beta}") { scans { state } } }`,
      );
      return appInstance.scans.every((s) => s.state !== 'RUNNING') ? true : undefined;
    });
    const before = simulator.tenant('beta').stats().total;
    const answer = await t.request(`mutation { requestScan(instanceId: "${ids.beta}", kind: USERS) { state } }`);
    expect(answer.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    const accounts = await all<{ id: string }>('accounts', `filter: { instanceId: "${ids.beta}" }`, 'id');
    expect(accounts.length).toBe(live(simulator.tenant('beta').truth().users).length);
    // Its scan jobs, periodic or not, no longer call the provider.
    const agenda = t.stack.scheduler!.agenda;
    const kinds = Object.values(SCAN_JOB);
    let completed = 0;
    const onComplete = (job: { attrs: { data: unknown } }) => {
      if ((job.attrs.data as { instanceId?: string }).instanceId === ids.beta) completed += 1;
    };
    agenda.on('complete', onComplete as never);
    for (const name of kinds) await agenda.now(name, { instanceId: ids.beta, periodic: true });
    await waitFor('the jobs handled', async () => (completed >= kinds.length ? true : undefined));
    agenda.off('complete', onComplete as never);
    expect(simulator.tenant('beta').stats().total).toBe(before);
  });

  it('makes a connected instance’s periodic jobs again when a scheduler starts on a job store that lost them', async () => {
    const db = new pg.Client({ connectionString: t.stack.databaseUrl });
    await db.connect();
    try {
      const periodic = async () =>
        (
          await db.query<{ name: string }>(
            `select name from agenda_jobs where data->>'instanceId' = $1 and data->>'periodic' = 'true' and name like 'scan.%' order by name`,
            [ids.alpha],
          )
        ).rows.map((r) => r.name);
      const kinds = Object.values(SCAN_JOB).sort();
      expect(await periodic()).toEqual(kinds);
      await db.query(`delete from agenda_jobs where data->>'instanceId' = $1 and data->>'periodic' = 'true' and name like 'scan.%'`, [
        ids.alpha,
      ]);
      expect(await periodic()).toEqual([]);
      const second = await startScheduler({ config: t.config, databaseUrl: t.stack.databaseUrl, name: 'scheduler-ensure-test' });
      try {
        expect(await periodic()).toEqual(kinds);
      } finally {
        await second.stop();
      }
      // Ensured, not duplicated: a second start leaves one job per kind.
      const third = await startScheduler({ config: t.config, databaseUrl: t.stack.databaseUrl, name: 'scheduler-ensure-test-2' });
      await third.stop();
      expect(await periodic()).toEqual(kinds);
    } finally {
      await db.end();
    }
  });
});
