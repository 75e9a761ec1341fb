import { startSimulator } from '../../connectors/simulated/server.js';
import type { Tenant } from '../../connectors/simulated/tenant.js';
import { GovernanceActionType } from '../../platform/governance/actions.js';
import { waitFor } from '../harness.js';
import type { ConformanceTarget, ItemKind } from './target.js';

const OAUTH = { clientId: 'conformance-client', clientSecret: 'conformance-client-secret', tokenLifetimeSeconds: 30 };
const WEBHOOK_SECRET = 'conformance-webhook-secret';

/** The simulator's audit action for each governance action (its own records: `Truth.events`). */
const AUDIT_ACTION: Record<GovernanceActionType, string> = {
  SUSPEND_ACCOUNT: 'admin.user.suspend',
  UNSUSPEND_ACCOUNT: 'admin.user.unsuspend',
  REQUIRE_PASSWORD_RESET: 'admin.user.password_reset',
  REVOKE_APP_PERMISSION: 'admin.grant.revoke',
  QUARANTINE_FILE: 'admin.file.quarantine',
  RESTORE_FILE: 'admin.file.restore',
  TRASH_FILE: 'admin.file.trash',
  REMOVE_EXTERNAL_SHARING: 'admin.file.remove_external_sharing',
  OVERWRITE_FILE: 'admin.file.overwrite',
};

/**
 * The simulated connector against the simulator: an OAuth client whose tokens live 30 s, small
 * pages (many pages per list), faults and throttling turned on by the suite, and a change
 * subscription Tenantwatch makes and keeps through the simulator's API.
 */
export async function simulatedTarget(): Promise<ConformanceTarget> {
  const simulator = await startSimulator({
    tenants: [
      {
        id: 'conformance',
        token: 'conformance-fixed-token',
        oauth: OAUTH,
        seed: 31,
        users: 600,
        groups: 6,
        files: 80,
        grants: 60,
        backfillDays: 1,
        backfillEventsPerUserPerDay: 1,
        activityPerMinute: 0,
        auditLagMs: 0,
        rateLimitPerMinute: 1800,
        burstSeconds: 2,
        maxPageSize: 10,
      },
    ],
  });
  const tenant = simulator.tenant('conformance') as Tenant;
  const live = <T extends { deleted: boolean }>(items: readonly T[]) => items.filter((i) => !i.deleted);

  return {
    provider: 'simulated',
    config: () => ({
      endpoint: simulator.url,
      clientId: OAUTH.clientId,
      clientSecret: OAUTH.clientSecret,
      webhookSecret: WEBHOOK_SECRET,
      maxPageSize: 10,
      rateLimitPerMinute: 1800,
    }),
    async afterConnect(instanceId, webhookBaseUrl) {
      // Tenantwatch subscribes to file changes itself once CONNECTED (PUBLIC_WEBHOOK_URL is set).
      const url = `${webhookBaseUrl}/${instanceId}`;
      await waitFor(
        'Tenantwatch’s change subscription',
        async () => (tenant.subscriptions().some((s) => s.notificationUrl === url) ? true : undefined),
        60_000,
      );
    },
    subscriptions: {
      list: async (url) => tenant.subscriptions().filter((s) => s.notificationUrl === url),
      expected: async () => 1,
      async requireReauthorization() {
        for (const s of tenant.subscriptions()) tenant.sendLifecycle(s.id, 'reauthorizationRequired');
      },
      async drop() {
        for (const s of tenant.subscriptions()) tenant.changeSubscriptions.delete(s.id);
      },
    },
    async expected() {
      const truth = tenant.truth();
      const users = live(truth.users);
      const groups = live(truth.groups);
      const liveUsers = new Set(users.map((u) => u.id));
      return {
        accounts: users.map((u) => ({ externalId: u.id, status: u.status })),
        groups: groups.map((g) => ({
          externalId: g.id,
          members: truth.memberships.filter((m) => m.groupId === g.id && liveUsers.has(m.userId)).map((m) => m.userId),
        })),
        files: live(truth.files).map((f) => ({ externalId: f.id })),
        appPermissions: live(truth.grants).map((g) => ({ externalId: g.id })),
        activities: truth.events.map((e) => e.id),
      };
    },
    async setThrottleRate(rate) {
      tenant.update({ faults: { throttleRate: rate } });
    },
    throttled: async () => tenant.stats().throttled,
    async expireTokens() {
      const answer = await fetch(`${simulator.url}/admin/tenants/conformance/oauth/expire`, { method: 'POST' });
      if (!answer.ok) throw new Error(`expire tokens: HTTP ${answer.status}`);
    },
    async refuseTokens(refuse) {
      tenant.update({ oauth: refuse ? { ...OAUTH, clientSecret: 'a-secret-the-instance-does-not-know' } : OAUTH });
    },
    async lateEvents(count, lateMs) {
      tenant.update({ auditLagMs: lateMs });
      try {
        return tenant.generateActivity(count).map((e) => e.id);
      } finally {
        tenant.update({ auditLagMs: 0 });
      }
    },
    async pastEvents(count, agoMs) {
      return tenant.generateActivity(count, agoMs).map((e) => e.id);
    },
    async deleteOne(kind: ItemKind) {
      const truth = tenant.truth();
      const candidates =
        kind === 'user'
          ? live(truth.users).filter((u) => u.status === 'ACTIVE' && !u.isAdmin)
          : kind === 'file'
            ? live(truth.files).filter((f) => !f.trashed && !f.quarantined)
            : live(truth.grants);
      const victim = candidates.at(-1);
      if (!victim) throw new Error(`no live ${kind} left to delete`);
      tenant.delete(kind, victim.id);
      return victim.id;
    },
    async changeFile() {
      const file = live(tenant.truth().files).find((f) => !f.trashed && !f.quarantined);
      if (!file) throw new Error('no live file to change');
      tenant.touchFile(file.id);
      return file.id;
    },
    governance: Object.values(GovernanceActionType),
    async applied(action, externalId) {
      return tenant.truth().events.filter((e) => e.action === AUDIT_ACTION[action] && e.targetId === externalId).length;
    },
    stop: () => simulator.stop(),
  };
}
