import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DetectionStatus } from '../subgraphs/activities/detection.entity.js';
import { PolicyKind, Severity } from '../subgraphs/activities/policy.entity.js';
import { PermissionLevel } from '../platform/vocabulary/permission-level.js';
import { startTestStack, type TestStack } from './harness.js';
import { connect, disposeClients, record } from './subscription-client.js';

/**
 * Triage through the gateway: status changes and assignments with comments, recorded in each
 * detection's history and announced live with what changed; bulk status changes all or nothing;
 * the detections of an account, a file and an app permission.
 */

let t: TestStack;
let detections: string[];
let account: string;
let file: string;
let grant: string;

const DETECTION = `id status statusComment assignee history { change actor fromStatus toStatus fromAssignee toAssignee comment at }`;

interface HistoryView {
  change: string;
  actor: string;
  fromStatus: string | null;
  toStatus: string | null;
  fromAssignee: string | null;
  toAssignee: string | null;
  comment: string | null;
  at: string;
}
interface DetectionView {
  id: string;
  status: string;
  statusComment: string | null;
  assignee: string | null;
  history: HistoryView[];
}

beforeAll(async () => {
  t = await startTestStack();
  const f = t.fixtures;
  const instanceId = await f.instance('Triage org');
  const accounts = await f.accounts(instanceId, [
    { externalId: 'ada', email: 'ada@example.com', displayName: 'Ada' },
    { externalId: 'bob', email: 'bob@example.com', displayName: 'Bob' },
  ]);
  account = accounts.get('ada')!;
  file = (
    await f.files(instanceId, [{ externalId: 'f1', name: 'cards.csv', path: '/cards.csv', sizeBytes: 10, modifiedAt: new Date() }])
  ).get('f1')!;
  grant = (
    await f.appPermissions(instanceId, [
      {
        externalId: 'g1',
        appName: 'Exporter',
        clientId: 'exp',
        scopes: ['files.read'],
        permissionLevel: PermissionLevel.HIGH,
        grantedById: account,
      },
    ])
  ).get('g1')!;
  const policyId = await f.policy({
    name: 'triage',
    kind: PolicyKind.ACTIVITY,
    severity: Severity.HIGH,
    condition: { action: 'file.download' },
  });
  const base = { policyId, severity: Severity.HIGH, description: 'test', instanceId };
  detections = [
    await f.detection({ ...base, title: 'about Ada', accountId: account, detectedAt: new Date(Date.now() - 3000) }),
    await f.detection({ ...base, title: 'about the file', fileId: file, detectedAt: new Date(Date.now() - 2000) }),
    await f.detection({ ...base, title: 'about the grant', appPermissionId: grant, detectedAt: new Date(Date.now() - 1000) }),
  ];
}, 60_000);

afterAll(async () => {
  await disposeClients();
  await t?.stop();
});

describe('the detection workflow', () => {
  it('records a status change with its comment and who made it, and announces it live as STATUS_CHANGED', async () => {
    const live = record<{ detectionRaised: { change: string; detection: { id: string; status: string } } }>(
      connect(t.url, t.token('analyst')),
      `subscription { detectionRaised(changes: [STATUS_CHANGED, ASSIGNED]) { change detection { id status } } }`,
    );
    // A subscription is live once its first event can arrive: triage, then wait for both events.
    const { setDetectionStatus } = await t.query<{ setDetectionStatus: DetectionView }>(
      `mutation ($id: ID!) { setDetectionStatus(id: $id, status: DISMISSED, comment: "a known backup job") { ${DETECTION} } }`,
      { id: detections[0] },
      'analyst',
    );
    expect(setDetectionStatus).toMatchObject({ status: 'DISMISSED', statusComment: 'a known backup job', assignee: null });
    expect(setDetectionStatus.history.map(({ at: _at, ...h }) => h)).toEqual([
      { change: 'RAISED', actor: 'tenantwatch', fromStatus: null, toStatus: 'OPEN', fromAssignee: null, toAssignee: null, comment: null },
      {
        change: 'STATUS_CHANGED',
        actor: 'dev-analyst',
        fromStatus: 'OPEN',
        toStatus: 'DISMISSED',
        fromAssignee: null,
        toAssignee: null,
        comment: 'a known backup job',
      },
    ]);
    await t.query(
      `mutation ($id: ID!) { assignDetection(id: $id, assignee: "soc-oncall@example.com") { id } }`,
      { id: detections[1] },
      'analyst',
    );
    const events = await live.received(2);
    expect(events.map((e) => e.detectionRaised)).toEqual([
      { change: 'STATUS_CHANGED', detection: { id: detections[0], status: 'DISMISSED' } },
      { change: 'ASSIGNED', detection: { id: detections[1], status: 'OPEN' } },
    ]);
    live.unsubscribe();
  });

  it('assigns and unassigns, and filters detections by assignee', async () => {
    const assigned = async (assignee: string) =>
      (
        await t.query<{ detections: { edges: { node: { id: string } }[] } }>(
          `query ($a: String) { detections(filter: { assignee: $a }) { edges { node { id } } } }`,
          { a: assignee },
        )
      ).detections.edges.map((e) => e.node.id);
    expect(await assigned('soc-oncall@example.com')).toEqual([detections[1]]);
    expect((await assigned('')).sort()).toEqual([detections[0], detections[2]].sort());
    const { assignDetection } = await t.query<{ assignDetection: DetectionView }>(
      `mutation ($id: ID!) { assignDetection(id: $id, assignee: null, comment: "handed back") { ${DETECTION} } }`,
      { id: detections[1] },
      'analyst',
    );
    expect(assignDetection.assignee).toBeNull();
    expect(assignDetection.history.at(-1)).toMatchObject({
      change: 'ASSIGNED',
      fromAssignee: 'soc-oncall@example.com',
      toAssignee: null,
      comment: 'handed back',
    });
    expect(await assigned('soc-oncall@example.com')).toEqual([]);
  });

  it('changes many at once, all or nothing: an unknown id is named and changes none', async () => {
    const unknown = '00000000-0000-4000-8000-000000000000';
    const refused = await t.request(
      `mutation ($ids: [ID!]!) { setDetectionsStatus(ids: $ids, status: RESOLVED) { id } }`,
      { ids: [detections[1], unknown] },
      t.token('analyst'),
    );
    expect(refused.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    expect(refused.errors?.[0]?.message).toContain('"ids.1"');
    const { detection } = await t.query<{ detection: { status: string } }>(`query ($id: ID!) { detection(id: $id) { status } }`, {
      id: detections[1],
    });
    expect(detection.status).toBe(DetectionStatus.OPEN);
    const { setDetectionsStatus } = await t.query<{ setDetectionsStatus: { id: string; status: string }[] }>(
      `mutation ($ids: [ID!]!) { setDetectionsStatus(ids: $ids, status: RESOLVED, comment: "closed in review") { id status } }`,
      { ids: [detections[2], detections[1]] },
      'analyst',
    );
    expect(setDetectionsStatus).toEqual([
      { id: detections[2], status: 'RESOLVED' },
      { id: detections[1], status: 'RESOLVED' },
    ]);
    const tooMany = await t.request(`mutation { setDetectionsStatus(ids: [], status: OPEN) { id } }`, {}, t.token('analyst'));
    expect(tooMany.errors?.[0]?.message).toContain('"ids"');
    const viewer = await t.request(
      `mutation ($id: ID!) { assignDetection(id: $id, assignee: "me") { id } }`,
      { id: detections[0] },
      t.token('viewer'),
    );
    expect(viewer.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
  });

  it('lists the detections of an account, a file and an app permission', async () => {
    const {
      account: a,
      file: f,
      appPermission: g,
    } = await t.query<{
      account: { detections: { totalCount: number; edges: { node: { id: string } }[] } };
      file: { detections: { totalCount: number; edges: { node: { id: string } }[] } };
      appPermission: { detections: { totalCount: number; edges: { node: { id: string } }[] } };
    }>(
      `query ($a: ID!, $f: ID!, $g: ID!) {
        account(id: $a) { detections { totalCount edges { node { id } } } }
        file(id: $f) { detections(filter: { status: RESOLVED }) { totalCount edges { node { id } } } }
        appPermission(id: $g) { detections(first: 1) { totalCount edges { node { id } } } }
      }`,
      { a: account, f: file, g: grant },
    );
    expect(a.detections).toEqual({ totalCount: 1, edges: [{ node: { id: detections[0] } }] });
    expect(f.detections).toEqual({ totalCount: 1, edges: [{ node: { id: detections[1] } }] });
    expect(g.detections).toEqual({ totalCount: 1, edges: [{ node: { id: detections[2] } }] });
  });
});
