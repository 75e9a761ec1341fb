import { writeFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GovernanceActionType } from '../../platform/governance/actions.js';
import { freePort } from '../../scripts/ports.js';
import { startTestStack, waitFor, type TestStack } from '../harness.js';
import { exited, killSchedulers, startSchedulerProcess, type SchedulerProcess } from '../scheduler-process.js';
import { allNodes, rescan, scanOf, waitConnected, type ScanView } from '../truth.js';
import type { ConformanceTarget, ExpectedGraph } from './target.js';

/**
 * The connector conformance suite: every connector passes it against its emulator (the simulated
 * connector against the simulator). It drives Tenantwatch only through the graph and a scheduler
 * process, and checks the result only against the emulator's ground truth. In order: the connect
 * steps (with the scheduler killed in the middle of the first scan), the graph equal to the truth,
 * deletions, late and out-of-order audit events stored once, throttling obeyed with nothing lost,
 * a token that expires mid-scan, each governance action applied exactly once, a change notification
 * that rescans the file before any periodic scan, a refused token refresh putting the instance in
 * ERROR, and the graph equal to the truth at the end.
 */
export function describeConformance(name: string, makeTarget: () => Promise<ConformanceTarget>): void {
  describe(`connector conformance: ${name}`, () => {
    let t: TestStack;
    let target: ConformanceTarget;
    let scheduler: SchedulerProcess;
    let webhookPort: number;
    let instanceId: string;

    const startScheduler = () => {
      scheduler = startSchedulerProcess(t, {
        WEBHOOK_PORT: String(webhookPort),
        AUDIT_LAG_SECONDS: '1',
        AUDIT_OVERLAP_SECONDS: '600',
        BACKFILL_DAYS: '2',
        GOVERNANCE_RETRY_MS: '50',
        // Long enough for a page of the data scan between touches; a killed scheduler's jobs wait this long to be taken over.
        JOB_LOCK_LIFETIME_MS: '10000',
        // Periodic scans far apart: a file rescanned within the suite's deadlines was rescanned by its notification.
        SCAN_INTERVAL: '1 hour',
        DATA_SCAN_INTERVAL: '12 hours',
        // Where the emulator reaches the receiver: connectors that keep change subscriptions make them to it.
        PUBLIC_WEBHOOK_URL: `http://127.0.0.1:${webhookPort}`,
        ...target.schedulerEnv,
      });
      return scheduler;
    };
    const withOutput = (error: Error): never => {
      if (process.env.CONFORMANCE_LOG) writeFileSync(process.env.CONFORMANCE_LOG, scheduler?.output() ?? '');
      const lines = (scheduler?.output() ?? '').split('\n');
      const relevant = lines.filter((line) => /webhook|delivery|scan\.data\.file|refused|failed/i.test(line)).slice(-40);
      throw new Error(`${error.message}\n--- scheduler output (failures) ---\n${relevant.join('\n').slice(-6000)}`);
    };

    beforeAll(async () => {
      t = await startTestStack({}, { scheduler: false });
      target = await makeTarget();
      webhookPort = await freePort();
    }, 120_000);

    afterAll(async () => {
      await killSchedulers();
      await target?.stop();
      await t?.stop();
    });

    const scans = async (): Promise<(ScanView & { lastStartedAt: string | null })[]> =>
      (
        await t.query<{ appInstance: { scans: (ScanView & { lastStartedAt: string | null })[] } }>(
          `{ appInstance(id: "${instanceId}") { scans { kind state itemsScanned lastStartedAt lastCompletedAt } } }`,
        )
      ).appInstance.scans;

    /** The graph equals the emulator's truth: same items (by provider id), none twice, statuses and memberships as the provider says. */
    const expectGraphEqualsTruth = async (expected: ExpectedGraph) => {
      const filter = `filter: { instanceId: "${instanceId}" }`;
      const sorted = (values: Iterable<string>) => [...values].sort();
      const accounts = await allNodes<{ externalId: string; status: string; groups: { externalId: string }[] }>(
        t,
        'accounts',
        filter,
        'externalId status groups { externalId }',
      );
      expect(sorted(accounts.map((a) => `${a.externalId} ${a.status}`))).toEqual(
        sorted(expected.accounts.map((a) => `${a.externalId} ${a.status}`)),
      );
      const memberships = accounts.flatMap((a) => a.groups.map((g) => `${g.externalId}/${a.externalId}`));
      expect(sorted(memberships)).toEqual(sorted(expected.groups.flatMap((g) => g.members.map((m) => `${g.externalId}/${m}`))));
      const groups = await allNodes<{ externalId: string }>(t, 'groups', `instanceId: "${instanceId}"`, 'externalId');
      expect(sorted(groups.map((g) => g.externalId))).toEqual(sorted(expected.groups.map((g) => g.externalId)));
      const files = await allNodes<{ externalId: string }>(t, 'files', filter, 'externalId');
      expect(sorted(files.map((f) => f.externalId))).toEqual(sorted(expected.files.map((f) => f.externalId)));
      const grants = await allNodes<{ externalId: string }>(t, 'appPermissions', `${filter}`, 'externalId');
      expect(sorted(grants.map((g) => g.externalId))).toEqual(sorted(expected.appPermissions.map((g) => g.externalId)));
      const activities = (await allNodes<{ externalId: string }>(t, 'activities', filter, 'externalId')).map((a) => a.externalId);
      expect(new Set(activities).size, 'an audit event stored twice').toBe(activities.length);
      expect(sorted(activities)).toEqual(sorted(expected.activities));
    };

    it('connects through its steps in order, resuming after the scheduler is killed in the middle of the first scan', async () => {
      const { connectApp } = await t.query<{ connectApp: { id: string; status: string } }>(
        `mutation ($provider: String!, $config: JSON!) { connectApp(input: { provider: $provider, name: "conformance", config: $config }) { id status } }`,
        { provider: target.provider, config: target.config() },
      );
      expect(connectApp.status).toBe('CONNECTING');
      instanceId = connectApp.id;

      const first = startScheduler();
      await waitFor(
        'the first user scan under way',
        async () => {
          const users = (await scans()).find((s) => s.kind === 'USERS');
          return users?.state === 'RUNNING' && users.itemsScanned > 0 ? true : undefined;
        },
        90_000,
        10,
      ).catch(withOutput);
      first.kill('SIGKILL');
      await exited(first);

      startScheduler();
      await waitConnected(t, instanceId, 240_000).catch(withOutput);
      // Wiring that needs the scheduler's webhook receiver up (a subscription's validation handshake).
      await target.afterConnect(instanceId, `http://127.0.0.1:${webhookPort}/webhooks`);
      const done = await scans();
      const users = done.find((s) => s.kind === 'USERS')!;
      // Users first (the other scans resolve people by provider id), then the rest; DATA after FILES.
      // The late-activities scan runs daily once connected, not in the connect flow.
      expect(done.find((s) => s.kind === 'LATE_ACTIVITIES')?.lastStartedAt ?? null).toBeNull();
      for (const scan of done.filter((s) => s.kind !== 'USERS' && s.kind !== 'LATE_ACTIVITIES')) {
        expect(scan.lastStartedAt! >= users.lastCompletedAt!, `${scan.kind} started before the user scan completed`).toBe(true);
      }
      const files = done.find((s) => s.kind === 'FILES');
      const data = done.find((s) => s.kind === 'DATA');
      // A change notice may have run the file scan again (following its feed) since: then only its start is known to be later.
      if (files && data?.lastStartedAt)
        expect(
          data.lastStartedAt >= files.lastCompletedAt! || files.lastStartedAt! > data.lastStartedAt,
          'DATA started before the file scan completed',
        ).toBe(true);
    }, 300_000);

    it('holds exactly the emulator’s truth after paging every list to its end', async () => {
      await expectGraphEqualsTruth(await target.expected());
    });

    it('reflects deletions at the provider after the next scans', async () => {
      const user = await target.deleteOne('user');
      const file = await target.deleteOne('file');
      const grant = await target.deleteOne('grant');
      await rescan(t, instanceId, 'USERS').catch(withOutput);
      await rescan(t, instanceId, 'FILES').catch(withOutput);
      await rescan(t, instanceId, 'APP_PERMISSIONS').catch(withOutput);
      const filter = `filter: { instanceId: "${instanceId}" }`;
      const ids = async (field: string, args = filter) =>
        (await allNodes<{ externalId: string }>(t, field, args, 'externalId')).map((n) => n.externalId);
      // Where the provider cannot delete users, the account stays with the status its removal leaves.
      const accountStatus = target.deletedUserStatus;
      if (accountStatus) {
        const accounts = await allNodes<{ externalId: string; status: string }>(t, 'accounts', filter, 'externalId status');
        expect(accounts.find((a) => a.externalId === user)?.status, `account ${user} after its removal`).toBe(accountStatus);
      } else expect(await ids('accounts')).not.toContain(user);
      expect(await ids('files')).not.toContain(file);
      expect(await ids('appPermissions')).not.toContain(grant);
    }, 180_000);

    it('stores audit events that arrive late and out of order exactly once', async () => {
      const late = await target.lateEvents(40, 6000);
      const stored = async () => {
        await rescan(t, instanceId, 'ACTIVITIES');
        const all = (await allNodes<{ externalId: string }>(t, 'activities', `filter: { instanceId: "${instanceId}" }`, 'externalId')).map(
          (a) => a.externalId,
        );
        return all;
      };
      const all = await waitFor(
        'every late event stored',
        async () => {
          const ids = await stored();
          return late.every((id) => ids.includes(id)) ? ids : undefined;
        },
        90_000,
        500,
      ).catch(withOutput);
      expect(new Set(all).size).toBe(all.length);
      // Read again: the overlapping windows bring the same events back, and nothing is stored twice.
      const again = await stored();
      expect(again.length).toBe(all.length);
    }, 180_000);

    it('stores audit events that appear hours after they occurred once, through the late-activities scan', async () => {
      const activityIds = async () =>
        (await allNodes<{ externalId: string }>(t, 'activities', `filter: { instanceId: "${instanceId}" }`, 'externalId')).map(
          (a) => a.externalId,
        );
      // Three hours late: beyond the activity scan's lag and overlap (10 minutes here), within every provider's documented maximum.
      const past = await target.pastEvents(12, 3 * 3_600_000);
      expect(past.length).toBeGreaterThan(0);
      await rescan(t, instanceId, 'ACTIVITIES');
      // Read by occurrence time, the activity scan misses them (a feed read by availability, as the
      // Management Activity API's content blobs, may already hold some).
      const seen = await activityIds();
      expect(past.filter((id) => !seen.includes(id)).length).toBeGreaterThan(0);
      // A provider may take a moment more to make them available (a content blob closing): rescan until then.
      const all = await waitFor(
        'every event hours late stored',
        async () => {
          await rescan(t, instanceId, 'LATE_ACTIVITIES');
          const ids = await activityIds();
          return past.every((id) => ids.includes(id)) ? ids : undefined;
        },
        60_000,
        200,
      ).catch(withOutput);
      expect(new Set(all).size).toBe(all.length);
      // The next run re-reads from this one's start less the maximum lag: the same events, none stored twice.
      await rescan(t, instanceId, 'LATE_ACTIVITIES');
      expect((await activityIds()).length).toBe(all.length);
    }, 180_000);

    it('obeys throttling (429 and Retry-After) and loses nothing', async () => {
      const before = await target.throttled();
      await target.setThrottleRate(0.2);
      try {
        // A connector with change feeds makes few requests per scan: rescan until some were throttled
        // (each round is real work; five rounds leave a one-in-thousands chance of none at 20 %).
        for (let round = 0; round < 5 && (round === 0 || (await target.throttled()) === before); round++) {
          await rescan(t, instanceId, 'USERS').catch(withOutput);
          await rescan(t, instanceId, 'APP_PERMISSIONS').catch(withOutput);
        }
      } finally {
        await target.setThrottleRate(0);
      }
      expect(await target.throttled()).toBeGreaterThan(before);
      const expected = await target.expected();
      const filter = `filter: { instanceId: "${instanceId}" }`;
      const accounts = await allNodes<{ externalId: string }>(t, 'accounts', filter, 'externalId');
      expect(accounts.map((a) => a.externalId).sort()).toEqual(expected.accounts.map((a) => a.externalId).sort());
      const grants = await allNodes<{ externalId: string }>(t, 'appPermissions', filter, 'externalId');
      expect(grants.map((g) => g.externalId).sort()).toEqual(expected.appPermissions.map((g) => g.externalId).sort());
    }, 180_000);

    it('refreshes a token that expires mid-scan (or while cached) and completes the scan', async () => {
      const before = (await scanOf(t, instanceId, 'USERS')).lastCompletedAt;
      await t.query(`mutation { requestScan(instanceId: "${instanceId}", kind: USERS) { state } }`);
      // A connector with a change feed reads the directory in a request or two: the scan may be done before it is seen running.
      await waitFor(
        'the user scan under way',
        async () => {
          const scan = await scanOf(t, instanceId, 'USERS');
          return scan.state === 'RUNNING' || scan.lastCompletedAt !== before ? true : undefined;
        },
        60_000,
        5,
      );
      await target.expireTokens();
      await waitFor(
        'the user scan to complete',
        async () => {
          const scan = await scanOf(t, instanceId, 'USERS');
          return scan.state === 'IDLE' && scan.lastCompletedAt !== before ? scan : undefined;
        },
        90_000,
      ).catch(withOutput);
      const { appInstance } = await t.query<{ appInstance: { status: string } }>(`{ appInstance(id: "${instanceId}") { status } }`);
      expect(appInstance.status).toBe('CONNECTED');
      await rescan(t, instanceId, 'USERS').catch(withOutput); // and again with the refreshed token
    }, 180_000);

    it('applies each governance action exactly once at the provider', async () => {
      const filter = `filter: { instanceId: "${instanceId}" }`;
      const accounts = await allNodes<{ id: string; externalId: string; status: string; isAdmin: boolean }>(
        t,
        'accounts',
        `filter: { instanceId: "${instanceId}", status: ACTIVE }`,
        'id externalId status isAdmin',
      );
      const files = await allNodes<{ id: string; externalId: string; trashed: boolean; quarantined: boolean; sharing: string }>(
        t,
        'files',
        filter,
        'id externalId trashed quarantined sharing',
      );
      const grants = await allNodes<{ id: string; externalId: string }>(t, 'appPermissions', filter, 'id externalId');
      const used = new Set<string>();
      const pick = <T extends { id: string }>(rows: readonly T[], where: (row: T) => boolean = () => true): T => {
        const found = rows.find((r) => !used.has(r.id) && where(r));
        if (!found) throw new Error('no unused target left');
        used.add(found.id);
        return found;
      };
      const act = async (mutation: string, targetId: string) => {
        const answer = await t.request<Record<string, { id: string }>>(
          `mutation ($input: GovernanceInput!) { ${mutation}(input: $input) { id } }`,
          { input: { targetId, reason: 'conformance' } },
          t.token('responder'),
        );
        if (answer.errors?.length) throw new Error(`${mutation}: ${JSON.stringify(answer.errors)}`);
        const id = answer.data![mutation]!.id;
        const done = await waitFor(
          `${mutation} to end`,
          async () => {
            const { governanceAction } = await t.query<{ governanceAction: { status: string; error: string | null } }>(
              `{ governanceAction(id: "${id}") { status error } }`,
            );
            return governanceAction.status === 'SUCCEEDED' || governanceAction.status === 'FAILED' ? governanceAction : undefined;
          },
          60_000,
          50,
        ).catch(withOutput);
        expect(done, `${mutation} ended`).toEqual({ status: 'SUCCEEDED', error: null });
      };
      const plainAccount = () => pick(accounts, (a) => !a.isAdmin && a.status === 'ACTIVE');
      const plainFile = () => pick(files, (f) => !f.trashed && !f.quarantined);
      const cases: Record<GovernanceActionType, () => Promise<string>> = {
        SUSPEND_ACCOUNT: async () => {
          const a = plainAccount();
          await act('suspendAccount', a.id);
          return a.externalId;
        },
        UNSUSPEND_ACCOUNT: async () => {
          const a = plainAccount();
          await act('suspendAccount', a.id);
          await act('unsuspendAccount', a.id);
          return a.externalId;
        },
        REQUIRE_PASSWORD_RESET: async () => {
          const a = plainAccount();
          await act('requirePasswordReset', a.id);
          return a.externalId;
        },
        REVOKE_APP_PERMISSION: async () => {
          const g = pick(grants);
          await act('revokeAppPermission', g.id);
          return g.externalId;
        },
        QUARANTINE_FILE: async () => {
          const f = plainFile();
          await act('quarantineFile', f.id);
          return f.externalId;
        },
        RESTORE_FILE: async () => {
          const f = plainFile();
          await act('quarantineFile', f.id);
          await act('restoreFile', f.id);
          return f.externalId;
        },
        TRASH_FILE: async () => {
          const f = plainFile();
          await act('trashFile', f.id);
          return f.externalId;
        },
        REMOVE_EXTERNAL_SHARING: async () => {
          const f = pick(files, (x) => !x.trashed && !x.quarantined && (x.sharing === 'PUBLIC' || x.sharing === 'EXTERNAL'));
          await act('removeExternalSharing', f.id);
          return f.externalId;
        },
        OVERWRITE_FILE: async () => {
          const f = plainFile();
          await act('overwriteFile', f.id);
          return f.externalId;
        },
      };
      expect(target.governance.length).toBeGreaterThan(0);
      for (const action of target.governance) {
        const externalId = await cases[action]();
        expect(await target.applied(action, externalId), `${action} applied at the provider`).toBe(1);
      }
      expect(Object.values(GovernanceActionType)).toEqual(expect.arrayContaining([...target.governance]));
    }, 240_000);

    it('rescans a changed file on its change notification, before any periodic scan', async () => {
      // The periodic file scan runs hourly and the data scan every 12 hours: a rescan within a minute is the notification's
      // (for a provider that names the file, its own rescan; for Graph, which names the drive, the drive's change feed).
      // Read before the change: the notification may be handled before this test looks again.
      const rows = await allNodes<{ id: string; externalId: string; lastScannedAt: string | null }>(
        t,
        'files',
        `filter: { instanceId: "${instanceId}" }`,
        'id externalId lastScannedAt',
      );
      const fileId = await target.changeFile();
      const before = rows.find((r) => r.externalId === fileId);
      expect(before, `file ${fileId} in the graph`).toBeDefined();
      const scannedAt = async () =>
        (await t.query<{ file: { lastScannedAt: string | null } | null }>(`{ file(id: "${before!.id}") { lastScannedAt } }`)).file;
      await waitFor(
        `file ${fileId} rescanned after its notification`,
        async () => {
          const now = await scannedAt();
          return now?.lastScannedAt && now.lastScannedAt !== before?.lastScannedAt ? true : undefined;
        },
        60_000,
        100,
      ).catch(withOutput);
    }, 120_000);

    const notifications = async () =>
      (
        await t.query<{ appInstance: { changeNotifications: { mode: string; subscriptions: number; syncedAt: string | null } } }>(
          `{ appInstance(id: "${instanceId}") { changeNotifications { mode subscriptions syncedAt lastError } } }`,
        )
      ).appInstance.changeNotifications;
    const subscriptionUrl = () => `http://127.0.0.1:${webhookPort}/webhooks/${instanceId}`;

    it('keeps its change subscriptions: renewed when the provider asks for reauthorization, made again at a restart that finds them gone', async (ctx) => {
      const subscriptions = target.subscriptions;
      if (!subscriptions) return ctx.skip();
      const expected = await subscriptions.expected();
      const made = await subscriptions.list(subscriptionUrl());
      expect(made).toHaveLength(expected);
      expect(await notifications()).toMatchObject({ mode: 'PUSH', subscriptions: expected });

      // reauthorizationRequired: every subscription is renewed (which reauthorizes it), and notifications flow again.
      const before = new Map(made.map((s, i) => [i, s.expiresAt]));
      await subscriptions.requireReauthorization();
      await waitFor(
        'the subscriptions reauthorized',
        async () => {
          const now = await subscriptions.list(subscriptionUrl());
          return now.length === expected && now.every((s) => !s.reauthorizationRequired) ? true : undefined;
        },
        30_000,
      ).catch(withOutput);
      expect((await subscriptions.list(subscriptionUrl())).map((s) => s.expiresAt).sort()).not.toEqual([...before.values()].sort());

      // Gone without notice (expired while no scheduler ran): a scheduler start makes them again.
      await subscriptions.drop();
      scheduler.kill('SIGTERM');
      await exited(scheduler);
      startScheduler();
      await waitFor(
        'the subscriptions made again at start',
        async () => ((await subscriptions.list(subscriptionUrl())).length === expected ? true : undefined),
        60_000,
      ).catch(withOutput);
    }, 150_000);

    it('ends equal to the emulator’s truth', async () => {
      for (const kind of ['USERS', 'GROUPS', 'FILES', 'APP_PERMISSIONS', 'ACTIVITIES']) await rescan(t, instanceId, kind).catch(withOutput);
      await expectGraphEqualsTruth(await target.expected());
    }, 240_000);

    it('puts the instance in ERROR, in Tenantwatch’s words, when the provider refuses to issue a token', async () => {
      await target.refuseTokens(true);
      await target.expireTokens();
      await t.query(`mutation { requestScan(instanceId: "${instanceId}", kind: USERS) { state } }`);
      const failed = await waitFor(
        'the instance in ERROR',
        async () => {
          const { appInstance } = await t.query<{ appInstance: { status: string; statusMessage: string | null } }>(
            `{ appInstance(id: "${instanceId}") { status statusMessage } }`,
          );
          return appInstance.status === 'ERROR' ? appInstance : undefined;
        },
        60_000,
      ).catch(withOutput);
      expect(failed.statusMessage).toMatch(/refused/i);
      expect(failed.statusMessage).not.toMatch(/AADSTS|stack|at \w+ \(/);
      await target.refuseTokens(false);
    }, 120_000);

    it('deletes its change subscriptions at the provider when the instance is disconnected', async (ctx) => {
      const subscriptions = target.subscriptions;
      if (!subscriptions) return ctx.skip();
      expect(await subscriptions.list(subscriptionUrl())).toHaveLength(await subscriptions.expected());
      await t.query(`mutation { disconnectApp(id: "${instanceId}") { status } }`);
      await waitFor(
        'the subscriptions deleted',
        async () => ((await subscriptions.list(subscriptionUrl())).length === 0 ? true : undefined),
        30_000,
      ).catch(withOutput);
      await waitFor('the graph to say so', async () => ((await notifications()).subscriptions === 0 ? true : undefined), 10_000);
      expect(await notifications()).toMatchObject({ mode: 'POLLING', subscriptions: 0 });
    }, 60_000);
  });
}
