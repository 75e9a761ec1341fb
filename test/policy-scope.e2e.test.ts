import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSimulator, type Simulator } from '../connectors/simulated/server.js';
import { startTestStack, type TestStack } from './harness.js';
import { allNodes, rescan, waitConnected } from './truth.js';

/**
 * Policies scoped to instances and providers, through the scheduler and the gateway: two instances of
 * the simulated provider ("sales" and "marketing"), a policy scoped to one of them never fires on the
 * other, one scoped to the provider fires on both, one scoped to another provider on neither.
 */

let t: TestStack;
let simulator: Simulator;
const instances: Record<'sales' | 'marketing', string> = { sales: '', marketing: '' };
const policies: Record<'salesOnly' | 'simulated' | 'm365Only' | 'everywhere', string> = {
  salesOnly: '',
  simulated: '',
  m365Only: '',
  everywhere: '',
};

const CREATE = `mutation ($input: PolicyInput!) { createPolicy(input: $input) { id instanceIds providers } }`;

beforeAll(async () => {
  t = await startTestStack({ AUDIT_LAG_SECONDS: '1', AUDIT_OVERLAP_SECONDS: '120', BACKFILL_DAYS: '2' }, { scheduler: true });
  const tenant = (id: string, seed: number) => ({
    id,
    token: `${id}-token-0123456789`,
    seed,
    users: 8,
    groups: 1,
    files: 4,
    grants: 4,
    backfillDays: 1,
    backfillEventsPerUserPerDay: 3,
    activityPerMinute: 0,
    auditLagMs: 0,
    rateLimitPerMinute: 6000,
  });
  simulator = await startSimulator({ tenants: [tenant('sales', 3), tenant('marketing', 4)] });
  // Policies first: activities are evaluated as the scans store them.
  const sign = { kind: 'ACTIVITY', severity: 'LOW', condition: { action: 'user.login' } };
  for (const [key, scope] of [
    ['everywhere', {}],
    ['simulated', { providers: ['simulated'] }],
    ['m365Only', { providers: ['m365'] }],
  ] as const) {
    const { createPolicy } = await t.query<{ createPolicy: { id: string } }>(CREATE, { input: { ...sign, name: key, ...scope } });
    policies[key] = createPolicy.id;
  }
  for (const key of ['sales', 'marketing'] as const) {
    const { connectApp } = await t.query<{ connectApp: { id: string } }>(
      'mutation ($name: String!, $config: JSON!) { connectApp(input: { provider: "simulated", name: $name, config: $config }) { id } }',
      { name: key, config: { endpoint: simulator.url, token: `${key}-token-0123456789`, rateLimitPerMinute: 6000 } },
    );
    instances[key] = connectApp.id;
    if (key === 'sales') {
      const { createPolicy } = await t.query<{ createPolicy: { id: string; instanceIds: string[] } }>(CREATE, {
        input: { ...sign, name: 'salesOnly', instanceIds: [connectApp.id] },
      });
      expect(createPolicy.instanceIds).toEqual([connectApp.id]);
      policies.salesOnly = createPolicy.id;
    }
  }
  await Promise.all(Object.values(instances).map((id) => waitConnected(t, id, 90_000)));
}, 150_000);

afterAll(async () => {
  await t?.stop();
  await simulator?.stop();
});

const detections = async (policyId: string, instanceId: string) =>
  (await allNodes<{ id: string }>(t, 'detections', `filter: { instanceId: "${instanceId}", policyId: "${policyId}" }`, 'id')).length;

describe('scoped policies', () => {
  it('fire only on the instances they name, on every instance of the providers they name, and everywhere when they name none', async () => {
    const count = async (policy: keyof typeof policies) => ({
      sales: await detections(policies[policy], instances.sales),
      marketing: await detections(policies[policy], instances.marketing),
    });
    const everywhere = await count('everywhere');
    expect(everywhere.sales).toBeGreaterThan(0);
    expect(everywhere.marketing).toBeGreaterThan(0);
    expect(await count('simulated')).toEqual(everywhere);
    expect(await count('m365Only')).toEqual({ sales: 0, marketing: 0 });
    // Made once the sales instance existed (its first scan may have run before): new sign-ins in both, read again.
    for (const key of ['sales', 'marketing'] as const) {
      simulator.tenant(key).generateActivity(40);
      await rescan(t, instances[key], 'ACTIVITIES');
    }
    const salesOnly = await count('salesOnly');
    expect(salesOnly.sales).toBeGreaterThan(0);
    expect(salesOnly.marketing).toBe(0);
  });

  it('keeps its scope through an update, and refuses a bad one naming the field', async () => {
    const update = `mutation ($id: ID!, $input: PolicyInput!) { updatePolicy(id: $id, input: $input) { instanceIds providers } }`;
    const input = { name: 'm365Only', kind: 'ACTIVITY', severity: 'LOW', condition: { action: 'user.login' } };
    const { updatePolicy } = await t.query<{ updatePolicy: { instanceIds: string[]; providers: string[] } }>(update, {
      id: policies.m365Only,
      input: { ...input, providers: ['m365', 'google', 'm365'], instanceIds: [instances.marketing] },
    });
    expect(updatePolicy).toEqual({ instanceIds: [instances.marketing], providers: ['m365', 'google'] });
    for (const [scope, field] of [
      [{ providers: ['Microsoft 365!'] }, 'input.providers.0'],
      [{ instanceIds: [instances.sales, 'not-an-id'] }, 'input.instanceIds.1'],
      [{ providers: Array.from({ length: 21 }, (_, i) => `p${i}`) }, 'input.providers'],
    ] as const) {
      const answer = await t.request(update, { id: policies.m365Only, input: { ...input, ...scope } });
      expect(answer.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
      expect(answer.errors?.[0]?.message).toContain(`"${field}"`);
    }
  });
});
