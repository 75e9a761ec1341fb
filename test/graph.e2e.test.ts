import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seedDataset, type Dataset } from './fixtures.js';
import { startTestStack, type TestStack } from './harness.js';

let t: TestStack;
let data: Dataset;

beforeAll(async () => {
  t = await startTestStack();
  data = await seedDataset(t.fixtures);
});
afterAll(() => t?.stop());

interface AccountNode {
  id: string;
  displayName: string;
  instance: { id: string; name: string };
  groups: { name: string }[];
  activities: { totalCount: number; edges: { node: { action: string; actor: { id: string; email: string } } }[] };
  files: { totalCount: number; edges: { node: { name: string; owner: { id: string }; instance: { name: string } } }[] };
  appPermissions: { totalCount: number; edges: { node: { appName: string; grantedBy: { id: string; displayName: string } } }[] };
}

describe('the federated graph', () => {
  it('answers accounts with their activities, files and app permissions from four subgraphs in one response', async () => {
    const { accounts } = await t.query<{ accounts: { totalCount: number; edges: { node: AccountNode }[] } }>(`{
      accounts(first: 5, filter: { instanceId: "${data.instances[0]}" }) {
        totalCount
        edges { node {
          id displayName instance { id name } groups { name }
          activities(first: 2) { totalCount edges { node { action actor { id email } } } }
          files(first: 2) { totalCount edges { node { name owner { id } instance { name } } } }
          appPermissions(first: 2) { totalCount edges { node { appName grantedBy { id displayName } } } }
        } }
      } }`);
    expect(accounts.totalCount).toBe(12);
    expect(accounts.edges).toHaveLength(5);
    for (const { node } of accounts.edges) {
      expect(node.instance).toEqual({ id: data.instances[0], name: 'Sales org' });
      expect(node.groups.map((g) => g.name)).toContain('Everyone 0');
      expect(node.activities.totalCount).toBe(3);
      expect(node.activities.edges).toHaveLength(2);
      for (const { node: activity } of node.activities.edges) expect(activity.actor.id).toBe(node.id);
      expect(node.files.totalCount).toBe(3);
      for (const { node: file } of node.files.edges) {
        expect(file.owner.id).toBe(node.id);
        expect(file.instance.name).toBe('Sales org');
      }
      expect(node.appPermissions.totalCount).toBe(3);
      for (const { node: grant } of node.appPermissions.edges)
        expect(grant.grantedBy).toEqual({ id: node.id, displayName: node.displayName });
    }
  });

  it('resolves references from every subgraph back to accounts and instances', async () => {
    const answer = await t.query<{
      activities: { edges: { node: { actor: { displayName: string }; instance: { name: string } } }[] };
      detections: {
        edges: {
          node: { policy: { name: string }; account: { email: string; files: { totalCount: number } }; instance: { name: string } };
        }[];
      };
      governanceActions: {
        edges: { node: { type: string; account: { displayName: string }; detection: { title: string }; instance: { name: string } } }[];
      };
    }>(`{
      activities(first: 3) { edges { node { actor { displayName } instance { name } } } }
      detections(first: 3) { edges { node { policy { name } account { email files(first: 1) { totalCount } } instance { name } } } }
      governanceActions(first: 3) { edges { node { type account { displayName } detection { title } instance { name } } } }
    }`);
    for (const { node } of answer.activities.edges) {
      expect(node.actor.displayName).toMatch(/^User \d{3} of org \d$/);
      expect(['Sales org', 'Support org']).toContain(node.instance.name);
    }
    for (const { node } of answer.detections.edges) {
      expect(['Mass download', 'Public sensitive file']).toContain(node.policy.name);
      expect(node.account.email).toMatch(/@org\d\.example$/);
      expect(node.account.files.totalCount).toBe(3);
    }
    for (const { node } of answer.governanceActions.edges) {
      expect(node.detection.title).toMatch(/^Detection \d$/);
      expect(node.account.displayName).toMatch(/^User/);
    }
  });

  it('answers single lookups by id, and null for an unknown id', async () => {
    const accountId = [...data.accounts.keys()][0]!;
    const unknown = '00000000-0000-4000-8000-000000000000';
    const answer = await t.query<Record<string, { id: string } | null>>(`{
      account(id: "${accountId}") { id }
      appInstance(id: "${data.instances[1]}") { id }
      detection(id: "${data.detections[0]}") { id }
      governanceAction(id: "${data.governanceActions[0]}") { id }
      a: account(id: "${unknown}") { id }
      b: activity(id: "${unknown}") { id }
      c: file(id: "${unknown}") { id }
      d: appPermission(id: "${unknown}") { id }
      e: appInstance(id: "${unknown}") { id }
    }`);
    expect(answer.account?.id).toBe(accountId);
    expect(answer.appInstance?.id).toBe(data.instances[1]);
    expect(answer.detection?.id).toBe(data.detections[0]);
    expect(answer.governanceAction?.id).toBe(data.governanceActions[0]);
    for (const key of ['a', 'b', 'c', 'd', 'e']) expect(answer[key]).toBeNull();
  });

  it('runs a bounded number of SQL statements per subgraph, the same for 10 and 100 accounts', async () => {
    // 2 × 60 accounts so that `first: 100` really returns 100 parents.
    await seedDataset(t.fixtures, { accountsPerInstance: 60, perAccount: 2 });
    const query = (first: number) => `{ accounts(first: ${first}) { edges { node {
      instance { name }
      activities(first: 5) { edges { node { action } } }
      files(first: 5) { totalCount }
    } } } }`;
    const measure = async (first: number) => {
      const before = Object.fromEntries(Object.entries(t.stack.subgraphs).map(([name, s]) => [name, s.db.sqlStatements()]));
      const answer = await t.query<{ accounts: { edges: unknown[] } }>(query(first));
      expect(answer.accounts.edges).toHaveLength(first);
      return Object.fromEntries(Object.entries(t.stack.subgraphs).map(([name, s]) => [name, s.db.sqlStatements() - before[name]!]));
    };
    const small = await measure(10);
    const large = await measure(100);
    expect(large).toEqual(small);
    // accounts: the page and the instances; activities: one lateral page; files: one page and one count.
    expect(large.accounts).toBeLessThanOrEqual(3);
    expect(large.activities).toBeLessThanOrEqual(2);
    expect(large.files).toBeLessThanOrEqual(3);
    expect(large['app-permissions']).toBe(0);
  });
});
