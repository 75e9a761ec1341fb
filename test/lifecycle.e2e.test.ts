import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ALL_PERMISSIONS } from '../connectors/simulated/spec.js';
import { startSimulator, type Simulator } from '../connectors/simulated/server.js';
import { startTestStack, waitFor, type TestStack } from './harness.js';
import { allNodes, rescan, waitConnected } from './truth.js';

/**
 * An instance's life through the gateway, as an operator lives it: connected with credentials the
 * provider refuses (ERROR), fixed with updateAppInstance, reconnected; its limits changed; a
 * permission withdrawn and granted again (DEGRADED, then CONNECTED); deleted, with its data purged
 * from every module and its governance log still readable.
 */

let t: TestStack;
let simulator: Simulator;
let db: pg.Client;
let instanceId: string;
const TOKEN = 'gamma-token-123456';

beforeAll(async () => {
  t = await startTestStack({ AUDIT_LAG_SECONDS: '1', BACKFILL_DAYS: '1' }, { scheduler: true });
  simulator = await startSimulator({
    tenants: [
      {
        id: 'gamma',
        token: TOKEN,
        seed: 31,
        users: 20,
        groups: 3,
        files: 12,
        grants: 10,
        backfillDays: 1,
        backfillEventsPerUserPerDay: 2,
        activityPerMinute: 0,
        auditLagMs: 0,
        rateLimitPerMinute: 6000,
      },
    ],
  });
  db = new pg.Client({ connectionString: t.stack.databaseUrl });
  await db.connect();
}, 120_000);

afterAll(async () => {
  await db?.end();
  await t?.stop();
  await simulator?.stop();
});

interface InstanceView {
  id: string;
  name: string;
  status: string;
  statusMessage: string | null;
  apiUsage: { limitPerMinute: number | null; headroomPercent: number };
  scans: {
    kind: string;
    state: string;
    itemsSkipped: number;
    lastSkipReason: string | null;
    totalEstimate: number | null;
    nextRunAt: string | null;
    lastError: string | null;
  }[];
}

const INSTANCE =
  'id name status statusMessage apiUsage { limitPerMinute headroomPercent } scans { kind state itemsSkipped lastSkipReason totalEstimate nextRunAt lastError }';

async function instance(): Promise<InstanceView> {
  return (await t.query<{ appInstance: InstanceView }>(`{ appInstance(id: "${instanceId}") { ${INSTANCE} } }`)).appInstance;
}

async function waitStatus(status: string, timeoutMs = 60_000): Promise<InstanceView> {
  let last: InstanceView | undefined;
  return waitFor(
    `instance ${status}`,
    async () => {
      last = await instance();
      return last.status === status ? last : undefined;
    },
    timeoutMs,
    200,
  ).catch((error: Error) => {
    throw new Error(`${error.message}; last seen ${JSON.stringify(last)}`);
  });
}

/** The first error's code and message of an answer that must fail. */
async function refusal(query: string, variables?: Record<string, unknown>, role: 'admin' | 'viewer' = 'admin') {
  const answer = await t.request(query, variables, t.token(role));
  expect(answer.errors?.length, JSON.stringify(answer.data)).toBeGreaterThan(0);
  return { code: answer.errors![0]!.extensions?.code, message: answer.errors![0]!.message };
}

const update = (input: Record<string, unknown>) =>
  t.query<{ updateAppInstance: InstanceView }>(
    `mutation ($id: ID!, $input: UpdateAppInstanceInput!) { updateAppInstance(id: $id, input: $input) { ${INSTANCE} } }`,
    { id: instanceId, input },
  );

/** The instance's rate budget (scheduler/budget.ts): the rate it lets requests through at. */
async function budgetRate(): Promise<number | undefined> {
  const { rows } = await db.query<{ rate_per_ms: number }>(
    `select rate_per_ms from scheduler.rate_budget where instance_id = $1 and service = ''`,
    [instanceId],
  );
  return rows[0]?.rate_per_ms;
}

describe('an instance broken, fixed, reconnected, degraded and deleted through the graph', () => {
  it('goes to ERROR on refused credentials, and to CONNECTED after updateAppInstance and reconnectApp', async () => {
    const { connectApp } = await t.query<{ connectApp: { id: string } }>(
      `mutation ($config: JSON!) { connectApp(input: { provider: "simulated", name: "gamma", config: $config }) { id } }`,
      { config: { endpoint: simulator.url, token: 'not-the-right-token', rateLimitPerMinute: 6000 } },
    );
    instanceId = connectApp.id;
    expect((await waitStatus('ERROR')).statusMessage).toMatch(/refused the credentials/i);

    // Checked at the edge, each refusal naming its field.
    const bad = async (input: Record<string, unknown>) =>
      refusal(`mutation ($id: ID!, $input: UpdateAppInstanceInput!) { updateAppInstance(id: $id, input: $input) { id } }`, {
        id: instanceId,
        input,
      });
    expect(await bad({ headroomPercent: 95 })).toMatchObject({
      code: 'BAD_USER_INPUT',
      message: expect.stringContaining('input.headroomPercent'),
    });
    expect(await bad({ limitPerMinute: 0 })).toMatchObject({
      code: 'BAD_USER_INPUT',
      message: expect.stringContaining('input.limitPerMinute'),
    });
    expect(await bad({ name: '  ' })).toMatchObject({ code: 'BAD_USER_INPUT', message: expect.stringContaining('input.name') });
    expect(await bad({ config: { endpoint: 'not a url' } })).toMatchObject({
      code: 'BAD_USER_INPUT',
      message: expect.stringContaining('input.config'),
    });
    expect(await bad({})).toMatchObject({ code: 'BAD_USER_INPUT', message: expect.stringContaining('input') });
    expect(
      await refusal(`mutation { updateAppInstance(id: "${instanceId}", input: { name: "x" }) { id } }`, undefined, 'viewer'),
    ).toMatchObject({ code: 'FORBIDDEN' });

    // Fixed: the new token is merged over the stored config (the endpoint stays); ERROR waits for reconnectApp.
    const { updateAppInstance } = await update({ name: 'Gamma', config: { token: TOKEN } });
    expect(updateAppInstance).toMatchObject({ name: 'Gamma', status: 'ERROR' });
    const reconnected = await t.query<{ reconnectApp: { status: string } }>(`mutation { reconnectApp(id: "${instanceId}") { status } }`);
    expect(reconnected.reconnectApp.status).toBe('CONNECTING');
    await waitConnected(t, instanceId);

    const refused = await refusal(`mutation { reconnectApp(id: "${instanceId}") { id } }`);
    expect(refused).toMatchObject({
      code: 'BAD_USER_INPUT',
      message: expect.stringMatching(/is CONNECTED: reconnectApp takes an instance in ERROR/),
    });
    const accounts = await allNodes<{ id: string }>(t, 'accounts', `filter: { instanceId: "${instanceId}" }`, 'id');
    expect(accounts.length).toBe(20);
    // Every kind the instance runs has its next periodic run, and an estimate from its last run.
    const scans = (await instance()).scans.filter((s) => ['USERS', 'GROUPS', 'ACTIVITIES', 'FILES', 'APP_PERMISSIONS'].includes(s.kind));
    for (const scan of scans) {
      expect(scan.nextRunAt, scan.kind).not.toBeNull();
      expect(scan.totalEstimate, scan.kind).not.toBeNull();
    }
  }, 180_000);

  it('spends the rate budget at the limit and headroom set by updateAppInstance, as apiUsage shows', async () => {
    const before = await instance();
    expect(before.apiUsage).toEqual({ limitPerMinute: 6000, headroomPercent: 10 });
    expect(await budgetRate()).toBeCloseTo((6000 * 0.9) / 60_000, 12);

    const { updateAppInstance } = await update({ limitPerMinute: 600, headroomPercent: 50 });
    expect(updateAppInstance.apiUsage).toEqual({ limitPerMinute: 600, headroomPercent: 50 });
    expect(updateAppInstance.status).toBe('CONNECTED');
    await rescan(t, instanceId, 'USERS');
    expect(await budgetRate()).toBeCloseTo((600 * 0.5) / 60_000, 12);

    // null: back to the provider's limit and HEADROOM_PERCENT.
    const reset = await update({ limitPerMinute: null, headroomPercent: null });
    expect(reset.updateAppInstance.apiUsage).toEqual({ limitPerMinute: 6000, headroomPercent: 10 });
    await rescan(t, instanceId, 'USERS');
    expect(await budgetRate()).toBeCloseTo((6000 * 0.9) / 60_000, 12);
  }, 120_000);

  it('stays CONNECTED when the provider refuses one file, skipping and counting that file alone', async () => {
    const gamma = simulator.tenant('gamma');
    await waitFor('the first data scan done', async () => {
      const data = (await instance()).scans.find((s) => s.kind === 'DATA')!;
      return data.state === 'IDLE' && data.totalEstimate !== null ? true : undefined;
    });
    const live = await allNodes<{ id: string; externalId: string }>(
      t,
      'files',
      `filter: { instanceId: "${instanceId}", trashed: false }`,
      'id externalId',
    );
    const locked = live[0]!;
    const { rowCount } = await db.query(
      `update files.file set scanned_version = null, last_scanned_at = null where instance_id = $1 and deleted_at is null`,
      [instanceId],
    );
    gamma.lockFile(locked.externalId, true);
    try {
      await t.query(`mutation { requestScan(instanceId: "${instanceId}", kind: DATA) { state } }`);
      const view = await waitFor('the data scan done with one file skipped', async () => {
        const current = await instance();
        const data = current.scans.find((s) => s.kind === 'DATA')!;
        return data.state === 'IDLE' && data.itemsSkipped === 1 ? current : undefined;
      });
      expect(view.status).toBe('CONNECTED');
      expect(view.scans.find((s) => s.kind === 'DATA')!.lastSkipReason).toBe(
        'The provider refused to let Tenantwatch read the file (HTTP 403)',
      );
      const files = await allNodes<{ id: string; lastScannedAt: string | null; scanSkippedReason: string | null }>(
        t,
        'files',
        `filter: { instanceId: "${instanceId}" }`,
        'id lastScannedAt scanSkippedReason',
      );
      expect(files.filter((f) => f.lastScannedAt !== null)).toHaveLength(rowCount!);
      expect(files.filter((f) => f.scanSkippedReason !== null).map((f) => f.id)).toEqual([locked.id]);
    } finally {
      gamma.lockFile(locked.externalId, false);
    }
  });

  it('is DEGRADED while a permission is withdrawn, skipping and counting the files it may not read, and CONNECTED once it is back', async () => {
    const gamma = simulator.tenant('gamma');
    // The connect flow's data scan (at the lowest priority) is done first.
    await waitFor('the first data scan done', async () => {
      const data = (await instance()).scans.find((s) => s.kind === 'DATA')!;
      return data.state === 'IDLE' && data.totalEstimate !== null ? true : undefined;
    });
    // Every live file waits for a data scan again, then reading files is withdrawn at the provider.
    const { rowCount } = await db.query(
      `update files.file set scanned_version = null, last_scanned_at = null where instance_id = $1 and deleted_at is null`,
      [instanceId],
    );
    expect(rowCount).toBeGreaterThan(0);
    gamma.update({ permissions: ALL_PERMISSIONS.filter((p) => p !== 'files.read') });
    try {
      await t.query(`mutation { requestScan(instanceId: "${instanceId}", kind: DATA) { state } }`);
      const degraded = await waitStatus('DEGRADED');
      expect(degraded.statusMessage).toMatch(/^Tenantwatch cannot read files' content: .*files\.read.*the other scans go on/);
      const data = degraded.scans.find((s) => s.kind === 'DATA')!;
      expect(data).toMatchObject({ state: 'FAILED', itemsSkipped: rowCount, totalEstimate: rowCount });
      expect(data.lastSkipReason).toBe('The provider refused to let Tenantwatch read the file (HTTP 403)');

      // The file listing is refused too: both named; the other kinds go on.
      await t.query(`mutation { requestScan(instanceId: "${instanceId}", kind: FILES) { state } }`);
      const both = await waitFor('the file scan refused too', async () => {
        const view = await instance();
        return view.scans.find((s) => s.kind === 'FILES')?.state === 'FAILED' ? view : undefined;
      });
      expect(both.status).toBe('DEGRADED');
      expect(both.statusMessage).toMatch(/^Tenantwatch cannot read files, files' content: /);
      await rescan(t, instanceId, 'USERS');
      expect((await instance()).status).toBe('DEGRADED');
    } finally {
      gamma.update({ permissions: [...ALL_PERMISSIONS] });
    }
    await rescan(t, instanceId, 'FILES');
    await waitFor('every file read again', async () => {
      const view = await instance();
      const data = view.scans.find((s) => s.kind === 'DATA')!;
      return view.status === 'CONNECTED' && data.state === 'IDLE' && data.itemsSkipped === 0 ? true : undefined;
    });
    const files = await allNodes<{ lastScannedAt: string | null; scanSkippedReason: string | null }>(
      t,
      'files',
      `filter: { instanceId: "${instanceId}" }`,
      'lastScannedAt scanSkippedReason',
    );
    expect(files.filter((f) => f.lastScannedAt === null || f.scanSkippedReason !== null)).toEqual([]);
  }, 180_000);

  it('resumes a live instance whose credentials change, and a disconnected one at reconnectApp, from its cursors with its periodic jobs', async () => {
    const completed = async () =>
      Object.fromEntries(
        (
          await t.query<{ appInstance: { scans: { kind: string; lastCompletedAt: string | null }[] } }>(
            `{ appInstance(id: "${instanceId}") { scans { kind lastCompletedAt } } }`,
          )
        ).appInstance.scans.map((s) => [s.kind, s.lastCompletedAt]),
      );
    const cursor = async (kind: string) =>
      (
        await db.query<{ cursor: unknown }>('select cursor from accounts.scan_state where instance_id = $1 and kind = $2', [
          instanceId,
          kind,
        ])
      ).rows[0]?.cursor;
    const KINDS = ['USERS', 'GROUPS', 'ACTIVITIES', 'FILES', 'APP_PERMISSIONS'];
    const rescanned = async (before: Record<string, string | null>) =>
      waitFor('every kind scanned again', async () => {
        const now = await completed();
        return KINDS.every((k) => now[k] !== before[k]) ? true : undefined;
      });

    // New credentials on a connected instance: checked again, then every kind goes on from its cursor.
    const watermark = ((await cursor('ACTIVITIES')) as { watermark: string }).watermark;
    let before = await completed();
    const { updateAppInstance } = await update({ config: { token: TOKEN } });
    expect(updateAppInstance.status).toBe('CONNECTING');
    await waitConnected(t, instanceId);
    await rescanned(before);
    // The audit trail went on from its watermark, not from a new backfill.
    expect(Date.parse(((await cursor('ACTIVITIES')) as { watermark: string }).watermark)).toBeGreaterThanOrEqual(Date.parse(watermark));

    const { disconnectApp } = await t.query<{ disconnectApp: { status: string } }>(
      `mutation { disconnectApp(id: "${instanceId}") { status } }`,
    );
    expect(disconnectApp.status).toBe('DISCONNECTED');
    await t.stack.scheduler!.agenda.cancel({ data: { instanceId, periodic: true } });
    before = await completed();
    await t.query(`mutation { reconnectApp(id: "${instanceId}") { id } }`);
    await waitConnected(t, instanceId);
    await rescanned(before);
    const periodic = await t.stack.scheduler!.agenda.queryJobs({ data: { instanceId, periodic: true } });
    expect(periodic.jobs.map((j) => j.name).filter((n) => n.startsWith('scan.')).length).toBe(7);
  }, 120_000);

  it('deleteAppInstance purges its data from every module and keeps its governance log readable', async () => {
    const [target] = await allNodes<{ id: string; email: string }>(t, 'accounts', `filter: { instanceId: "${instanceId}" }`, 'id email');
    const { suspendAccount } = await t.query<{ suspendAccount: { id: string } }>(
      `mutation { suspendAccount(input: { targetId: "${target!.id}", reason: "leaving" }) { id } }`,
      undefined,
      'responder',
    );
    await waitFor('the suspension done', async () => {
      const { governanceAction } = await t.query<{ governanceAction: { status: string } }>(
        `{ governanceAction(id: "${suspendAccount.id}") { status } }`,
      );
      return governanceAction.status === 'SUCCEEDED' ? true : undefined;
    });
    const rows = async () => {
      const { rows } = await db.query<Record<string, string>>(
        `select (select count(*) from accounts.account where instance_id = $1) as accounts,
                (select count(*) from accounts."group" where instance_id = $1) as groups,
                (select count(*) from accounts.group_membership where instance_id = $1) as memberships,
                (select count(*) from accounts.scan_state where instance_id = $1) as scans,
                (select count(*) from activities.activity where instance_id = $1) as activities,
                (select count(*) from activities.detection where instance_id = $1) as detections,
                (select count(*) from files.file where instance_id = $1) as files,
                (select count(*) from app_permissions.app_permission where instance_id = $1) as grants,
                (select count(*) from scheduler.rate_budget where instance_id = $1) as budgets`,
        [instanceId],
      );
      return Object.fromEntries(Object.entries(rows[0]!).map(([k, v]) => [k, Number(v)]));
    };
    const before = await rows();
    expect(before.accounts).toBe(20);
    expect(before.activities).toBeGreaterThan(0);
    expect(before.files).toBeGreaterThan(0);

    const started = Date.now();
    const { deleteAppInstance } = await t.query<{ deleteAppInstance: { status: string } }>(
      `mutation { deleteAppInstance(id: "${instanceId}") { status } }`,
    );
    expect(deleteAppInstance.status).toBe('DELETED');
    const { appInstances } = await t.query<{ appInstances: { id: string }[] }>('{ appInstances { id } }');
    expect(appInstances.map((i) => i.id)).not.toContain(instanceId);
    await waitFor(
      'the purge finished',
      async () => ((await instance()).statusMessage?.includes('its data is purged') ? true : undefined),
      60_000,
    );
    const purgeMs = Date.now() - started;
    // The suspended account is kept (marked deleted) for the governance log; nothing else is left.
    expect(await rows()).toEqual({
      accounts: 1,
      groups: 0,
      memberships: 0,
      scans: 0,
      activities: 0,
      detections: 0,
      files: 0,
      grants: 0,
      budgets: 0,
    });
    for (const field of ['accounts', 'files', 'activities', 'appPermissions'])
      expect(await allNodes(t, field, `filter: { instanceId: "${instanceId}" }`, 'id'), field).toEqual([]);

    const { governanceActions } = await t.query<{
      governanceActions: {
        edges: {
          node: { id: string; type: string; instance: { name: string; status: string }; account: { id: string; email: string } | null };
        }[];
      };
    }>(
      `{ governanceActions(filter: { instanceId: "${instanceId}" }, first: 10) { edges { node { id type instance { name status } account { id email } } } } }`,
    );
    expect(governanceActions.edges.map((e) => e.node)).toEqual([
      {
        id: suspendAccount.id,
        type: 'SUSPEND_ACCOUNT',
        instance: { name: 'Gamma', status: 'DELETED' },
        account: { id: target!.id, email: target!.email },
      },
    ]);
    const { rows: config } = await db.query<{ sealed_config: string }>('select sealed_config from accounts.app_instance where id = $1', [
      instanceId,
    ]);
    expect(config[0]!.sealed_config).not.toContain(TOKEN);
    expect((await t.stack.scheduler!.agenda.queryJobs({ data: { instanceId } })).jobs.filter((j) => j.name !== 'instance.purge')).toEqual(
      [],
    );

    // A deleted instance takes no more changes; deleting it again answers its tombstone.
    for (const mutation of [
      `requestScan(instanceId: "${instanceId}", kind: USERS) { state }`,
      `updateAppInstance(id: "${instanceId}", input: { name: "again" }) { id }`,
      `reconnectApp(id: "${instanceId}") { id }`,
      `disconnectApp(id: "${instanceId}") { id }`,
    ])
      expect(await refusal(`mutation { ${mutation} }`), mutation).toMatchObject({
        code: 'BAD_USER_INPUT',
        message: expect.stringContaining('was deleted'),
      });
    const again = await t.query<{ deleteAppInstance: { status: string } }>(
      `mutation { deleteAppInstance(id: "${instanceId}") { status } }`,
    );
    expect(again.deleteAppInstance.status).toBe('DELETED');

    // A scheduler that died mid-purge leaves its claim and some rows: once the claim is stale, another one finishes the purge.
    await db.query(`update accounts.app_instance set purged_at = null, purge_claimed_at = now() - interval '1 hour' where id = $1`, [
      instanceId,
    ]);
    await db.query(`insert into accounts.api_usage_minute (instance_id, minute, requests, throttled) values ($1, now(), 1, 0)`, [
      instanceId,
    ]);
    await waitFor('the stale purge finished', async () => {
      const { rows } = await db.query<{ purged: boolean; left: string }>(
        `select purged_at is not null as purged, (select count(*) from accounts.api_usage_minute where instance_id = $1) as left
           from accounts.app_instance where id = $1`,
        [instanceId],
      );
      return rows[0]!.purged && rows[0]!.left === '0' ? true : undefined;
    }).catch(async (error: unknown) => {
      // What the job store says about the purge, for a failure to explain itself.
      const { jobs } = await t.stack.scheduler!.agenda.queryJobs({ name: 'instance.purge', data: { instanceId } });
      const { rows } = await db.query('select status, purged_at, purge_claimed_at from accounts.app_instance where id = $1', [instanceId]);
      throw new Error(`${String(error)}; instance ${JSON.stringify(rows[0])}; purge jobs ${JSON.stringify(jobs)}`);
    });
    expect(purgeMs).toBeLessThan(60_000);
  }, 120_000);
});
