import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSimulator, type Simulator } from '../connectors/simulated/server.js';
import { ALL_PERMISSIONS } from '../connectors/simulated/spec.js';
import { startTestStack, type TestStack } from './harness.js';
import { waitConnected } from './truth.js';

let t: TestStack;
let simulator: Simulator;

beforeAll(async () => {
  t = await startTestStack({ AUDIT_LAG_SECONDS: '1', HEADROOM_PERCENT: '25' }, { scheduler: true });
  simulator = await startSimulator({
    tenants: [
      {
        id: 'noaudit',
        token: 'noaudit-token-123456',
        users: 10,
        groups: 2,
        files: 5,
        grants: 5,
        backfillDays: 1,
        activityPerMinute: 0,
        auditLagMs: 0,
        // Everything but the audit trail was granted.
        permissions: ALL_PERMISSIONS.filter((p) => p !== 'audit.read'),
      },
    ],
  });
}, 120_000);

afterAll(async () => {
  await t?.stop();
  await simulator?.stop();
});

interface ConnectorTypeView {
  id: string;
  name: string;
  capabilities: string[];
  configFields: { name: string; secret: boolean; required: boolean }[];
  requiredPermissions: { capability: string; permissions: string[] }[];
  documentationUrl: string;
}

describe('connector types and the permissions an instance lacks', () => {
  it('lists every connector with its config fields (secrets marked) and the permissions per capability, to any role', async () => {
    const { connectorTypes } = await t.query<{ connectorTypes: ConnectorTypeView[] }>(
      '{ connectorTypes { id name capabilities configFields { name label secret required description } requiredPermissions { capability permissions requirements } documentationUrl } }',
      {},
      'viewer',
    );
    expect(connectorTypes.map((c) => c.id).sort()).toEqual(['google', 'm365', 'salesforce', 'simulated']);
    const salesforce = connectorTypes.find((c) => c.id === 'salesforce')!;
    expect(salesforce.name).toBe('Salesforce');
    // The private key (JWT bearer flow) and the consumer secret (client credentials) are secrets; one of the two flows is given.
    expect(salesforce.configFields.filter((f) => f.secret).map((f) => f.name)).toEqual(['privateKeyPem', 'consumerSecret']);
    expect(salesforce.documentationUrl).toBe('connectors/salesforce/README.md');
    const m365 = connectorTypes.find((c) => c.id === 'm365')!;
    expect(m365.name).toBe('Microsoft 365');
    expect(m365.configFields.filter((f) => f.required).map((f) => f.name)).toEqual(['tenantId', 'clientId']);
    expect(m365.configFields.filter((f) => f.secret).map((f) => f.name)).toEqual(['clientSecret', 'certificate', 'clientState']);
    expect(m365.requiredPermissions.find((r) => r.capability === 'AUDIT_TRAIL')?.permissions).toEqual(['AuditLog.Read.All']);
    expect(m365.documentationUrl).toBe('connectors/m365/README.md');
    const simulated = connectorTypes.find((c) => c.id === 'simulated')!;
    expect(simulated.requiredPermissions.find((r) => r.capability === 'ACCOUNT_INFO')?.permissions).toEqual(['users.read', 'groups.read']);
  });

  it('disables exactly the capability whose permission was not granted, and names the permission to grant', async () => {
    const { connectApp } = await t.query<{ connectApp: { id: string } }>(
      `mutation ($config: JSON!) { connectApp(input: { provider: "simulated", name: "noaudit", config: $config }) { id } }`,
      { config: { endpoint: simulator.url, token: 'noaudit-token-123456' } },
    );
    await waitConnected(t, connectApp.id, 120_000);
    const { appInstance } = await t.query<{
      appInstance: {
        capabilities: string[];
        missingPermissions: { capability: string; permission: string }[];
        scans: { kind: string; lastCompletedAt: string | null }[];
      };
    }>(
      `{ appInstance(id: "${connectApp.id}") { capabilities missingPermissions { capability permission } scans { kind lastCompletedAt } } }`,
    );
    expect(appInstance.capabilities).not.toContain('AUDIT_TRAIL');
    expect(appInstance.capabilities).toEqual(expect.arrayContaining(['ACCOUNT_INFO', 'DATA_SCAN', 'APP_PERMISSIONS']));
    expect(appInstance.missingPermissions).toEqual([{ capability: 'AUDIT_TRAIL', permission: 'audit.read' }]);
    // Everything else was scanned; the audit trail was not read.
    expect(appInstance.scans.find((s) => s.kind === 'USERS')?.lastCompletedAt).not.toBeNull();
    expect(appInstance.scans.find((s) => s.kind === 'ACTIVITIES')?.lastCompletedAt ?? null).toBeNull();
  });

  it('spends the deployment’s HEADROOM_PERCENT when the instance has no headroom of its own', async () => {
    const { appInstances } = await t.query<{
      appInstances: { id: string; apiUsage: { headroomPercent: number; limitPerMinute: number | null } }[];
    }>('{ appInstances { id apiUsage { headroomPercent limitPerMinute } } }');
    expect(appInstances[0]!.apiUsage.headroomPercent).toBe(25);
    const db = new pg.Client({ connectionString: t.stack.databaseUrl });
    await db.connect();
    try {
      const { rows } = await db.query<{ rate_per_ms: number }>(
        "select rate_per_ms from scheduler.rate_budget where instance_id = $1 and service = ''",
        [appInstances[0]!.id],
      );
      // The simulated connector's default limit, 600 per minute, less 25%.
      expect(rows[0]!.rate_per_ms).toBeCloseTo((600 * 0.75) / 60_000, 10);
      // No daily quota reported: none shown. Once the provider reports one, what is left for Tenantwatch after the headroom.
      const quota = async () =>
        (
          await t.query<{ appInstance: { apiUsage: { dailyQuota: unknown } } }>(
            'query ($id: ID!) { appInstance(id: $id) { apiUsage { dailyQuota { limit used available reportedAt } } } }',
            { id: appInstances[0]!.id },
          )
        ).appInstance.apiUsage.dailyQuota;
      expect(await quota()).toBeNull();
      const reportedAt = new Date('2026-12-05T10:00:00.000Z');
      await db.query(
        'update accounts.app_instance set daily_quota_limit = 1000, daily_quota_used = 700, daily_quota_reported_at = $2 where id = $1',
        [appInstances[0]!.id, reportedAt],
      );
      expect(await quota()).toEqual({ limit: 1000, used: 700, available: 50, reportedAt: reportedAt.toISOString() });
    } finally {
      await db.end();
    }
  });
});
