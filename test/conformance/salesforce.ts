import { EVENT_LOG_TYPES } from '../../connectors/salesforce/records.js';
import { GovernanceActionType } from '../../platform/governance/actions.js';
import { connectedAppKeys, startTrustedSalesforce } from '../salesforce-emulator.js';
import type { ConformanceTarget, ItemKind } from './target.js';

const ORG_ID = '00D5g000004conFEAQ';
const CONSUMER_KEY = '3MVG9conformance.consumer.key';
const USERNAME = 'tenantwatch@conformance.example.com';

/** The governance records of the emulator each action leaves (its own log: `truth().governance`). */
const OPERATIONS: Partial<Record<GovernanceActionType, readonly string[]>> = {
  SUSPEND_ACCOUNT: ['user.freeze'],
  UNSUSPEND_ACCOUNT: ['user.unfreeze'],
  REQUIRE_PASSWORD_RESET: ['user.passwordReset'],
  REVOKE_APP_PERMISSION: ['oauthToken.delete'],
  TRASH_FILE: ['contentDocument.delete'],
  REMOVE_EXTERNAL_SHARING: ['contentDistribution.delete', 'contentDocumentLink.update', 'contentDocumentLink.delete'],
  OVERWRITE_FILE: ['contentVersion.create'],
};

/**
 * The Salesforce connector against the Salesforce emulator over HTTPS: an org of 250 users (some
 * frozen, inactive, admins and Experience Cloud users), public groups, files with links and public
 * links, OAuth tokens, two days of sign-ins and setup changes, event log files, query pages of 25,
 * sessions of 30 s, the JWT bearer flow with a certificate made now, and outbound messages for new
 * file versions to the scheduler's receiver. Quarantine and restore are not Salesforce operations:
 * the target leaves them out. It has no `subscriptions`, so the suite skips its two subscription
 * steps: Salesforce's outbound messages go where the org's admin points a flow (here `afterConnect`),
 * there is no subscription for Tenantwatch to make, renew or delete, and the file scan polls
 * SystemModstamp for everything else.
 */
export async function salesforceTarget(): Promise<ConformanceTarget> {
  const keys = await connectedAppKeys();
  const salesforce = await startTrustedSalesforce([
    {
      organizationId: ORG_ID,
      name: 'Conformance',
      seed: 53,
      users: 250,
      frozen: 4,
      inactive: 6,
      admins: 3,
      externalUsers: 5,
      groups: 6,
      files: 60,
      publicLinks: 8,
      oauthTokens: 40,
      backfillDays: 1,
      loginsPerUserPerDay: 1,
      setupChangesPerDay: 20,
      eventLogFiles: true,
      pageSize: 25,
      dailyApiLimit: 1_000_000,
      sessionSeconds: 30,
      connectedApps: [{ consumerKey: CONSUMER_KEY, certificatePem: keys.certificatePem, username: USERNAME }],
    },
  ]);
  const { emulator } = salesforce;
  const org = emulator.org(ORG_ID);
  const truth = () => org.truth();
  const eventLogTypes = new Set<string>(EVENT_LOG_TYPES);

  return {
    provider: 'salesforce',
    schedulerEnv: { CONNECTOR_CA_FILE: salesforce.caFile },
    config: () => ({
      instanceUrl: org.instanceUrl,
      loginUrl: emulator.loginUrl,
      consumerKey: CONSUMER_KEY,
      username: USERNAME,
      privateKeyPem: keys.privateKeyPem,
      organizationId: ORG_ID,
      rateLimitPerMinute: 3000,
      dailyRequestLimit: 1_000_000,
    }),
    async afterConnect(instanceId, webhookBaseUrl) {
      // The admin's record-triggered flow on ContentVersion sends outbound messages to the instance's receiver.
      org.setOutboundMessageUrl(`${webhookBaseUrl}/${instanceId}`);
    },
    async expected() {
      const now = truth();
      const users = new Set(now.users.map((u) => u.Id));
      return {
        accounts: now.users.map((u) => ({ externalId: u.Id, status: !u.IsActive ? 'DISABLED' : u.IsFrozen ? 'SUSPENDED' : 'ACTIVE' })),
        groups: now.groups.map((g) => ({ externalId: g.Id, members: g.members.filter((m) => users.has(m)) })),
        files: now.files.filter((f) => !f.deleted).map((f) => ({ externalId: f.Id })),
        appPermissions: now.oauthTokens.filter((t) => !t.deleted).map((t) => ({ externalId: t.Id })),
        activities: [
          ...now.loginHistory.filter((l) => l.visible).map((l) => l.Id),
          ...now.setupAuditTrail.filter((s) => s.visible).map((s) => s.Id),
          // The org logs Login and API events too; the connector reads report exports and file transfers
          // (sign-ins come from LoginHistory), so only those event types are activities.
          ...now.eventLogEvents.filter((e) => e.visible && eventLogTypes.has(e.eventType)).map((e) => e.id),
        ],
      };
    },
    async setThrottleRate(rate) {
      org.update({ throttleRate: rate });
    },
    throttled: async () => org.stats().throttled,
    async expireTokens() {
      org.expireTokens();
    },
    async refuseTokens(refuse) {
      org.refuseTokens(refuse);
    },
    lateEvents: async (count, lateMs) => org.lateRecords(count, lateMs),
    pastEvents: async (count, agoMs) => org.pastRecords(count, agoMs),
    async deleteOne(kind: ItemKind) {
      const now = truth();
      if (kind === 'user') {
        // Salesforce users cannot be deleted: the emulator deactivates, and the account stays DISABLED (deletedUserStatus).
        const user = now.users.filter((u) => u.IsActive && !u.IsFrozen && !u.admin && u.Username !== USERNAME).at(-1)!;
        org.remove('user', user.Id);
        return user.Id;
      }
      if (kind === 'grant') {
        const token = now.oauthTokens.filter((t) => !t.deleted).at(-1)!;
        org.remove('oauthToken', token.Id);
        return token.Id;
      }
      const file = now.files.filter((f) => !f.deleted).at(-1)!;
      org.remove('file', file.Id);
      return file.Id;
    },
    deletedUserStatus: 'DISABLED',
    async changeFile() {
      const file = truth().files.find((f) => !f.deleted)!;
      org.changeFile(file.Id);
      return file.Id;
    },
    governance: Object.values(GovernanceActionType).filter((action) => OPERATIONS[action] !== undefined),
    async applied(action, externalId) {
      const operations = OPERATIONS[action] ?? [];
      const records = truth().governance.filter((g) => g.targetId === externalId && operations.includes(g.operation));
      // Removing external sharing is one request per public link or share: applied once means no link was touched twice.
      if (action === 'REMOVE_EXTERNAL_SHARING') {
        const perLink = new Map<string, number>();
        for (const r of records) perLink.set(r.detail ?? '', (perLink.get(r.detail ?? '') ?? 0) + 1);
        return Math.max(0, ...perLink.values());
      }
      return records.length;
    },
    stop: () => salesforce.stop(),
  };
}
