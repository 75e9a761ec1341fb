import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AccountService, accountsModule } from '../../subgraphs/accounts/public.js';
import {
  activitiesModule,
  type ActivityRecord,
  ActivityService,
  DetectionService,
  DetectionStatus,
  EventLogService,
  type PolicyDefinition,
  PolicyKind,
  PolicyService,
  Severity,
} from '../../subgraphs/activities/public.js';
import { AppPermissionService, appPermissionsModule } from '../../subgraphs/app-permissions/public.js';
import { FileService, filesModule } from '../../subgraphs/files/public.js';
import { openDatabase, type Database } from '../../platform/database.js';
import { newId } from '../../platform/ids.js';
import type { SensitiveDataType } from '../../platform/vocabulary/sensitive-data.js';
import { freshDatabase } from '../../test/harness.js';
import { BUILT_IN_POLICIES } from './built-in.js';
import { PolicyEvaluator, type EvaluationServices } from './evaluator.js';
import { SharingLevel } from '../../platform/vocabulary/sharing.js';
import { PermissionLevel } from '../../platform/vocabulary/permission-level.js';
import { ActivityCategory } from '../../platform/vocabulary/activity-category.js';

/**
 * Policy evaluation on a real PostgreSQL, through the modules' services: what is raised, extended and
 * left alone when batches arrive newest first, are read again, or were dismissed. Each test uses its
 * own instance and policies and looks only at its own detections.
 */

let drop: () => Promise<void>;
const dbs: Database[] = [];
let services: EvaluationServices;
let evaluator: PolicyEvaluator;

beforeAll(async () => {
  const database = await freshDatabase();
  drop = database.drop;
  const [accounts, activities, files, grants] = await Promise.all(
    [accountsModule, activitiesModule, filesModule, appPermissionsModule].map((module) =>
      openDatabase({ ...module, url: database.url, poolMax: 4 }),
    ),
  );
  dbs.push(accounts!, activities!, files!, grants!);
  services = {
    policies: () => new PolicyService(activities!.fork()),
    detections: () => new DetectionService(activities!.fork()),
    activities: () => new ActivityService(activities!.fork()),
    accounts: () => new AccountService(accounts!.fork()),
    files: () => new FileService(files!.fork()),
    grants: () => new AppPermissionService(grants!.fork()),
  };
  evaluator = new PolicyEvaluator(services);
});

afterAll(async () => {
  for (const db of dbs) await db.close();
  await drop?.();
});

const T0 = Date.parse('2026-11-01T00:00:00Z');
const MINUTE = 60_000;
const at = (minutes: number) => new Date(T0 + minutes * MINUTE);

async function policy(definition: Omit<PolicyDefinition, 'severity' | 'name'> & { name?: string }): Promise<string> {
  return (await services.policies().create({ name: 'test', severity: Severity.MEDIUM, ...definition })).id;
}

async function instanceWith(people: readonly string[]): Promise<{ instanceId: string; account: Map<string, string> }> {
  const instanceId = newId();
  const account = await services.accounts().upsertAccounts(
    instanceId,
    people.map((p) => ({ externalId: p, email: `${p}@example.com`, displayName: p })),
  );
  return { instanceId, account };
}

async function detections(instanceId: string, policyId: string) {
  const page = await services.detections().list({ instanceId, policyId }, { first: 100 });
  return page.edges.map((e) => e.node);
}

describe('ACTIVITY thresholds', () => {
  it('raises one detection when a burst crosses the threshold and extends it as older pages arrive; a re-read adds nothing', async () => {
    const policyId = await policy({
      kind: PolicyKind.ACTIVITY,
      condition: { action: 'file.download', threshold: { count: 10, windowMinutes: 10 } },
    });
    const { instanceId, account } = await instanceWith(['ann', 'bob']);
    const download = (n: number, who = 'ann'): ActivityRecord => ({
      externalId: `d${who}${n}`,
      category: ActivityCategory.USER,
      action: 'file.download',
      actorId: account.get(who)!,
      occurredAt: at(n / 2),
    });
    const newest = Array.from({ length: 12 }, (_, i) => download(20 + i));
    const older = Array.from({ length: 8 }, (_, i) => download(10 + i));
    const activities = services.activities();

    await activities.insertActivities(instanceId, [...newest, download(1, 'bob'), download(2, 'bob')]);
    expect(await evaluator.evaluatePendingActivities(instanceId)).toMatchObject({ raised: 1, extended: 0 });
    await activities.insertActivities(instanceId, older);
    expect(await evaluator.evaluatePendingActivities(instanceId)).toMatchObject({ raised: 0, extended: 1 });
    await activities.insertActivities(instanceId, [...newest, ...older]);
    expect(await evaluator.evaluatePendingActivities(instanceId)).toEqual({ raised: 0, extended: 0 });
    expect(await activities.pendingEvaluation(instanceId, 10)).toEqual([]);

    const [detection, ...others] = await detections(instanceId, policyId);
    expect(others).toEqual([]);
    expect(detection).toMatchObject({
      accountId: account.get('ann'),
      subjectKey: `account:${account.get('ann')}`,
      status: DetectionStatus.OPEN,
    });
    expect(detection!.activityIds).toHaveLength(20);
    expect(detection!.evidence).toMatchObject({
      count: 20,
      actions: ['file.download'],
      threshold: { count: 10, windowMinutes: 10 },
      firstSeenAt: at(5).toISOString(),
      lastSeenAt: at(15.5).toISOString(),
    });
    const log = (await new EventLogService(dbs[1]!.knex()).after('0', 1000)).filter((e) => e.entityId === detection!.id);
    expect(log.map((e) => e.attributes.change)).toEqual(['raised', 'extended']);
  });

  it('never raises dismissed evidence again; later evidence opens a new detection', async () => {
    const policyId = await policy({
      kind: PolicyKind.ACTIVITY,
      condition: { action: 'user.login', succeeded: false, threshold: { count: 3, windowMinutes: 5 } },
    });
    const { instanceId, account } = await instanceWith(['cy']);
    const failure = (minutes: number): ActivityRecord => ({
      externalId: `f${minutes}`,
      category: ActivityCategory.SIGN_IN,
      action: 'user.login',
      actorId: account.get('cy')!,
      occurredAt: at(minutes),
      succeeded: false,
    });
    await services.activities().insertActivities(instanceId, [failure(0), failure(1), failure(2)]);
    await evaluator.evaluatePendingActivities(instanceId);
    const [first] = await detections(instanceId, policyId);
    await services.detections().setStatus([first!.id], DetectionStatus.DISMISSED, { actor: 'analyst', comment: 'a user who forgot' });
    // One more failure continues the dismissed burst: it is new evidence and opens a detection of its own;
    // the dismissed failures are not raised again.
    await services.activities().insertActivities(instanceId, [failure(3)]);
    await evaluator.evaluatePendingActivities(instanceId);
    const afterDismiss = await detections(instanceId, policyId);
    expect(afterDismiss.map((d) => d.status)).toEqual([DetectionStatus.OPEN, DetectionStatus.DISMISSED]);
    expect(afterDismiss[0]!.evidence.count).toBe(1);
    await services.activities().insertActivities(instanceId, [failure(600), failure(601), failure(602)]);
    await evaluator.evaluatePendingActivities(instanceId);
    expect((await detections(instanceId, policyId)).map((d) => d.evidence.count)).toEqual([3, 1, 3]);
  });
});

describe('ACTIVITY newForActor', () => {
  it('waits for the whole window, then flags exactly the sign-in from a new country, not a home that follows an anomaly', async () => {
    const policyId = await policy({
      kind: PolicyKind.ACTIVITY,
      condition: { action: 'user.login', succeeded: true, country: { newForActor: true } },
    });
    const { instanceId, account } = await instanceWith(['dee', 'eve']);
    const login = (who: string, minutes: number, country: string): ActivityRecord => ({
      externalId: `${who}${minutes}`,
      category: ActivityCategory.SIGN_IN,
      action: 'user.login',
      actorId: account.get(who)!,
      occurredAt: at(minutes),
      country,
    });
    // Dee lives in the US and signs in once from Russia; Eve's history starts with an anomaly from Nigeria.
    const dee = [login('dee', 0, 'US'), login('dee', 600, 'US'), login('dee', 900, 'RU'), login('dee', 1200, 'US')];
    const eve = [login('eve', 10, 'NG'), login('eve', 200, 'US'), login('eve', 700, 'US'), login('eve', 1300, 'US')];
    // Newest first, in two pages: judged after the first page, Dee's last US sign-in would look new
    // (only the Russian one is stored before it), so the window is judged only once it is complete.
    await services.activities().insertActivities(instanceId, [dee[3]!, dee[2]!, eve[3]!, eve[2]!]);
    expect(await evaluator.evaluatePendingActivities(instanceId)).toEqual({ raised: 0, extended: 0 });
    await services.activities().insertActivities(instanceId, [dee[1]!, dee[0]!, eve[1]!, eve[0]!]);
    await evaluator.evaluatePendingActivities(instanceId);
    expect(await detections(instanceId, policyId)).toEqual([]);

    expect(await evaluator.evaluateActivityWindow(instanceId, at(0), at(1440))).toEqual({ raised: 1, extended: 0 });
    const [detection, ...others] = await detections(instanceId, policyId);
    expect(others).toEqual([]);
    expect(detection).toMatchObject({ accountId: account.get('dee'), evidence: expect.objectContaining({ countries: ['RU'], count: 1 }) });
    // The next, overlapping window records nothing twice.
    expect(await evaluator.evaluateActivityWindow(instanceId, at(800), at(2000))).toEqual({ raised: 0, extended: 0 });
  });
});

describe('FILE policies', () => {
  it('records each state of a file once: unchanged is nothing, a new scan result extends, a deleted file is ignored', async () => {
    const policyId = await policy({
      kind: PolicyKind.FILE,
      condition: { sharing: ['PUBLIC', 'EXTERNAL'], sensitiveType: 'CREDIT_CARD_NUMBER' },
    });
    const { instanceId, account } = await instanceWith(['fay']);
    const files = services.files();
    const ids = await files.upsertFiles(instanceId, [
      {
        externalId: 'x1',
        name: 'cards.csv',
        path: '/cards.csv',
        sizeBytes: 10,
        ownerId: account.get('fay')!,
        sharing: SharingLevel.PUBLIC,
        modifiedAt: at(0),
      },
      { externalId: 'x2', name: 'gone.csv', path: '/gone.csv', sizeBytes: 10, sharing: SharingLevel.PUBLIC, modifiedAt: at(0) },
    ]);
    for (const id of ids.values()) await files.recordScan(id, [{ type: 'CREDIT_CARD_NUMBER', count: 2 }]);
    await files.markDeleted(instanceId, ['x2']);
    const all = [...ids.values()];
    expect(await evaluator.evaluateFiles(instanceId, all)).toEqual({ raised: 1, extended: 0 });
    expect(await evaluator.evaluateFiles(instanceId, all)).toEqual({ raised: 0, extended: 0 });
    const scanned = new Map<string, { type: SensitiveDataType; count: number }[]>([
      [
        ids.get('x1')!,
        [
          { type: 'CREDIT_CARD_NUMBER', count: 5 },
          { type: 'JWT', count: 0 },
        ],
      ],
    ]);
    expect(await evaluator.evaluateFiles(instanceId, all, scanned)).toEqual({ raised: 0, extended: 1 });
    const [detection, ...others] = await detections(instanceId, policyId);
    expect(others).toEqual([]);
    expect(detection).toMatchObject({
      fileId: ids.get('x1'),
      accountId: account.get('fay'),
      evidence: expect.objectContaining({ count: 2, sharing: 'PUBLIC', sensitiveMatches: [{ type: 'CREDIT_CARD_NUMBER', count: 5 }] }),
    });
  });
});

describe('APP_PERMISSION policies', () => {
  it('counts grantors across pages, raises once per app when the count is reached, and re-reads add nothing', async () => {
    const policyId = await policy({ kind: PolicyKind.APP_PERMISSION, condition: { permissionLevel: 'HIGH', grantedByAtLeast: 3 } });
    const { instanceId, account } = await instanceWith(['gus', 'hal', 'ida']);
    const grant = (who: string, app = 'Backup Buddy') => ({
      externalId: `${app}:${who}`,
      appName: app,
      clientId: app,
      scopes: ['files.readwrite.all'],
      permissionLevel: PermissionLevel.HIGH,
      grantedById: account.get(who)!,
      grantedAt: at(0),
    });
    const grants = services.grants();
    const page1 = await grants.upsertAppPermissions(instanceId, [grant('gus'), grant('hal'), grant('gus', 'Other')]);
    expect(await evaluator.evaluateGrants(instanceId, [...page1.values()])).toEqual({ raised: 0, extended: 0 });
    const page2 = await grants.upsertAppPermissions(instanceId, [grant('ida')]);
    expect(await evaluator.evaluateGrants(instanceId, [...page2.values()])).toEqual({ raised: 1, extended: 0 });
    expect(await evaluator.evaluateGrants(instanceId, [...page1.values(), ...page2.values()])).toEqual({ raised: 0, extended: 0 });
    const [detection, ...others] = await detections(instanceId, policyId);
    expect(others).toEqual([]);
    expect(detection).toMatchObject({ subjectKey: 'app:Backup Buddy', evidence: expect.objectContaining({ grantedBy: 3, count: 3 }) });
    const representative = [...page1, ...page2].find(([, id]) => id === detection!.appPermissionId)!;
    expect(detection!.accountId).toBe(account.get(representative[0].split(':')[1]!));
  });
});

describe('raiseOrExtend', () => {
  it('serializes concurrent matches about one subject: one raise, then extensions', async () => {
    const policyId = await policy({ kind: PolicyKind.FILE, condition: { trashed: true } });
    const instanceId = newId();
    const match = (n: number) => ({
      policyId,
      severity: Severity.LOW,
      title: 't',
      description: 'd',
      instanceId,
      subjectKey: 'file:same',
      windowMinutes: 60,
      observations: [`o${n}`],
      firstSeenAt: at(0),
      lastSeenAt: at(0),
      evidence: { seen: [n] },
      accumulate: ['seen'],
    });
    const outcomes = await Promise.all([1, 2, 3, 4].map((n) => services.detections().raiseOrExtend(match(n))));
    expect(outcomes.map((o) => o.outcome).sort()).toEqual(['extended', 'extended', 'extended', 'raised']);
    const [detection] = await detections(instanceId, policyId);
    expect((detection!.evidence.seen as number[]).sort()).toEqual([1, 2, 3, 4]);
    expect(detection!.observations.sort()).toEqual(['o1', 'o2', 'o3', 'o4']);
  });
});

describe('built-in policies', () => {
  it('are installed once; a built-in an administrator disabled stays disabled', async () => {
    const policies = services.policies();
    const first = await policies.installBuiltIns(BUILT_IN_POLICIES);
    const { id, ...builtIn } = BUILT_IN_POLICIES[0]!;
    await policies.update(id, { ...builtIn, enabled: false });
    expect(await Promise.all([policies.installBuiltIns(BUILT_IN_POLICIES), policies.installBuiltIns(BUILT_IN_POLICIES)])).toEqual([0, 0]);
    expect(first).toBe(BUILT_IN_POLICIES.length);
    const stored = (await services.policies().list()).filter((p) => p.builtIn);
    expect(stored.map((p) => p.id).sort()).toEqual(BUILT_IN_POLICIES.map((p) => p.id).sort());
    expect(stored.find((p) => p.id === id)!.enabled).toBe(false);
  });
});
