import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loopbackTls } from '../../emulators/loopback-tls.js';
import { startM365Emulator } from '../../emulators/m365/index.js';
import { GovernanceActionType } from '../../platform/governance/actions.js';
import { waitFor } from '../harness.js';
import type { ConformanceTarget, ItemKind } from './target.js';

const TENANT_ID = '8a6d3c1e-2b4f-4e5a-9c7d-1e2f3a4b5c6d';
const CLIENT_ID = '3f9b7d2a-6c4e-4a1b-8d5f-0e9c8b7a6d5e';
const SECRET = 'conformance-client-secret-value';
const CLIENT_STATE = 'conformance-client-state-0123456789';
const QUARANTINE = 'Tenantwatch Quarantine';

/**
 * The Microsoft 365 connector against the Microsoft 365 emulator: a tenant of 300 members, guests,
 * admins, groups, two document libraries and delegated grants, tokens living 30 s, Graph pages of at
 * most 25 (many pages per list), change notifications from a drive subscription, and file activity
 * from the Management Activity API (late events include some, once its subscription is started).
 */
export async function m365Target(): Promise<ConformanceTarget> {
  // HTTPS, as Microsoft's endpoints are (MSAL refuses an http authority): the scheduler process trusts the certificate.
  const tls = await loopbackTls();
  const caDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tenantwatch-m365-ca-'));
  const caFile = path.join(caDir, 'emulator.pem');
  fs.writeFileSync(caFile, tls.cert);
  const emulator = await startM365Emulator({
    tls,
    tenants: [
      {
        tenantId: TENANT_ID,
        seed: 41,
        users: 300,
        guests: 6,
        admins: 3,
        groups: 6,
        files: 60,
        apps: 5,
        grants: 40,
        backfillDays: 1,
        signInsPerUserPerDay: 1,
        maxPageSize: 25,
        tokenLifetimeSeconds: 30,
        limits: { directory: 3000, audit: 3000, files: 3000, activity: 3000 },
        // Content blobs of the Management Activity API each second, so that late file activity is seen within the suite's deadlines.
        activityBlobSeconds: 1,
        clients: [{ clientId: CLIENT_ID, clientSecret: SECRET }],
      },
    ],
  });
  const tenant = emulator.tenant(TENANT_ID);
  const truth = () => tenant.truth();
  const fileId = (item: { driveId: string; id: string }) => `${item.driveId}/${item.id}`;
  const liveFiles = () => truth().items.filter((i) => !i.folder && !i.deleted);
  const quarantineFolders = () =>
    new Set(
      truth()
        .items.filter((i) => i.folder && i.name === QUARANTINE)
        .map((i) => i.id),
    );
  const records = (operation: string, target: string) =>
    truth().governance.filter((g) => g.operation === operation && g.targetId === target);

  return {
    provider: 'm365',
    schedulerEnv: { CONNECTOR_CA_FILE: caFile },
    config: () => ({
      tenantId: TENANT_ID,
      clientId: CLIENT_ID,
      clientSecret: SECRET,
      authorityHost: emulator.authorityHost,
      graphEndpoint: emulator.graphEndpoint,
      managementEndpoint: emulator.managementEndpoint,
      clientState: CLIENT_STATE,
      rateLimitPerMinute: 3000,
    }),
    async afterConnect(instanceId, webhookBaseUrl) {
      // Tenantwatch subscribes each document library itself once CONNECTED (PUBLIC_WEBHOOK_URL is set).
      const url = `${webhookBaseUrl}/${instanceId}`;
      await waitFor(
        'Tenantwatch’s drive subscriptions',
        async () => (tenant.subscriptions().filter((s) => s.notificationUrl === url).length === truth().drives.length ? true : undefined),
        60_000,
      );
    },
    subscriptions: {
      list: async (url) =>
        tenant
          .subscriptions()
          .filter((s) => s.notificationUrl === url)
          .map((s) => ({ expiresAt: s.expirationDateTime, reauthorizationRequired: s.reauthorizationRequired })),
      expected: async () => truth().drives.length,
      requireReauthorization: async () => void tenant.requireReauthorization(),
      drop: async () => void tenant.dropSubscriptions(),
    },
    async expected() {
      const now = truth();
      const users = now.users.filter((u) => !u.deleted);
      const live = new Set(users.map((u) => u.id));
      return {
        accounts: users.map((u) => ({ externalId: u.id, status: u.accountEnabled ? 'ACTIVE' : 'SUSPENDED' })),
        groups: now.groups.filter((g) => !g.deleted).map((g) => ({ externalId: g.id, members: g.members.filter((m) => live.has(m)) })),
        files: now.items.filter((i) => !i.folder && !i.deleted).map((i) => ({ externalId: fileId(i) })),
        appPermissions: [
          ...now.grants.filter((g) => !g.deleted).map((g) => ({ externalId: g.id })),
          // Application permissions: one grant per app role an app holds, named by its service principal and assignment.
          ...now.appRoleAssignments.filter((a) => !a.deleted).map((a) => ({ externalId: `approle:${a.principalId}/${a.id}` })),
        ],
        activities: [
          ...now.signIns.map((s) => s.id),
          ...now.audits.map((a) => a.id),
          // File activity is in the feed only from when the Audit.SharePoint subscription was started.
          ...now.fileActivity.filter((f) => f.aggregated).map((f) => f.id),
        ],
      };
    },
    async setThrottleRate(rate) {
      tenant.update({ throttleRate: rate });
    },
    throttled: async () => tenant.stats().throttled,
    async expireTokens() {
      tenant.expireTokens();
    },
    async refuseTokens(refuse) {
      tenant.update({ clients: [{ clientId: CLIENT_ID, clientSecret: refuse ? 'a-rotated-secret-value' : SECRET }] });
    },
    async lateEvents(count, lateMs) {
      // The connector starts the Audit.SharePoint subscription at its first audit read: late file activity is among these.
      if (!truth().activitySubscriptions.includes('Audit.SharePoint'))
        throw new Error('the connector did not start the Management Activity API’s Audit.SharePoint subscription');
      return tenant.lateRecords(count, lateMs);
    },
    async pastEvents(count, agoMs) {
      return tenant.pastRecords(count, agoMs);
    },
    async deleteOne(kind: ItemKind) {
      const now = truth();
      if (kind === 'user') {
        const user = now.users
          .filter((u) => !u.deleted && u.accountEnabled && u.userType === 'Member' && !now.admins.includes(u.id))
          .at(-1)!;
        tenant.remove('user', user.id);
        return user.id;
      }
      if (kind === 'grant') {
        const grant = now.grants.filter((g) => !g.deleted).at(-1)!;
        tenant.remove('grant', grant.id);
        return grant.id;
      }
      const file = liveFiles().at(-1)!;
      tenant.remove('file', file.id);
      return fileId(file);
    },
    async changeFile() {
      const quarantine = quarantineFolders();
      const file = liveFiles().find((i) => !quarantine.has(i.parentId))!;
      tenant.changeFile(file.id);
      return fileId(file);
    },
    governance: Object.values(GovernanceActionType),
    async applied(action, externalId) {
      const item = externalId.slice(externalId.lastIndexOf('/') + 1);
      const quarantine = quarantineFolders();
      switch (action) {
        case 'SUSPEND_ACCOUNT':
          return records('user.disable', externalId).length;
        case 'UNSUSPEND_ACCOUNT':
          return records('user.enable', externalId).length;
        case 'REQUIRE_PASSWORD_RESET':
          return records('user.forcePasswordChange', externalId).length;
        case 'REVOKE_APP_PERMISSION':
          return externalId.startsWith('approle:')
            ? records('appRoleAssignment.delete', externalId.slice(externalId.lastIndexOf('/') + 1)).length
            : records('grant.delete', externalId).length;
        case 'TRASH_FILE':
          return records('item.delete', item).length;
        case 'QUARANTINE_FILE':
          return records('item.move', item).filter((r) => quarantine.has(r.detail ?? '')).length;
        case 'RESTORE_FILE':
          return records('item.move', item).filter((r) => !quarantine.has(r.detail ?? '')).length;
        case 'REMOVE_EXTERNAL_SHARING':
          return records('permission.delete', item).length;
        case 'OVERWRITE_FILE':
          return records('item.content', item).length;
      }
    },
    async stop() {
      await emulator.stop();
      fs.rmSync(caDir, { recursive: true, force: true });
    },
  };
}
