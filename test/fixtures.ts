import type { EntityManager } from '@mikro-orm/postgresql';
import type { Stack } from '../scripts/stack.js';
import { AccountService, type AccountRecord, type GroupRecord } from '../subgraphs/accounts/account.service.js';
import { AppInstanceService } from '../subgraphs/accounts/app-instance.service.js';
import { ActivityService, type ActivityRecord } from '../subgraphs/activities/activity.service.js';
import { DetectionService, type DetectionDraft } from '../subgraphs/activities/detection.service.js';
import { newId } from '../platform/ids.js';
import { GovernanceService } from '../subgraphs/activities/governance.service.js';
import { PolicyKind, Severity } from '../subgraphs/activities/policy.entity.js';
import { PolicyService, type PolicyDefinition } from '../subgraphs/activities/policy.service.js';
import { AppPermissionService, type AppPermissionRecord } from '../subgraphs/app-permissions/app-permission.service.js';
import type { Config } from '../platform/config.js';
import { credentialsKey } from '../platform/crypto.js';
import { FileService, type FileRecord } from '../subgraphs/files/file.service.js';
import type { SensitiveDataType } from '../platform/vocabulary/sensitive-data.js';
import { SharingLevel } from '../platform/vocabulary/sharing.js';
import { AccountStatus } from '../platform/vocabulary/account-status.js';
import { PermissionLevel } from '../platform/vocabulary/permission-level.js';
import { ActivityCategory } from '../platform/vocabulary/activity-category.js';
import { GovernanceActionType, GovernanceStatus } from '../platform/governance/actions.js';
import { type GovernanceRequest } from '../platform/governance/log.js';

/** Writes test data through each module's service (never raw SQL), as connectors will. */
export class Fixtures {
  constructor(
    private readonly stack: Stack,
    private readonly config: Config,
  ) {}

  private em(subgraph: string): EntityManager {
    return this.stack.subgraphs[subgraph]!.db.fork();
  }

  async instance(name: string, provider = 'simulated'): Promise<string> {
    const service = new AppInstanceService(this.em('accounts'), credentialsKey(this.config));
    return (await service.connect({ provider, name, config: { endpoint: 'http://127.0.0.1:9/api', token: 'secret' } })).id;
  }

  accounts(instanceId: string, records: readonly AccountRecord[]): Promise<Map<string, string>> {
    return new AccountService(this.em('accounts')).upsertAccounts(instanceId, records);
  }

  groups(instanceId: string, records: readonly GroupRecord[]): Promise<Map<string, string>> {
    return new AccountService(this.em('accounts')).upsertGroups(instanceId, records);
  }

  members(instanceId: string, groupId: string, accountIds: readonly string[]): Promise<void> {
    return new AccountService(this.em('accounts')).setGroupMembers(instanceId, groupId, accountIds);
  }

  async activities(instanceId: string, records: readonly ActivityRecord[]): Promise<string[]> {
    return new ActivityService(this.em('activities')).insertActivities(instanceId, records);
  }

  files(instanceId: string, records: readonly FileRecord[]): Promise<Map<string, string>> {
    return new FileService(this.em('files')).upsertFiles(instanceId, records);
  }

  scanResult(fileId: string, matches: { type: SensitiveDataType; count: number }[]): Promise<void> {
    return new FileService(this.em('files')).recordScan(fileId, matches);
  }

  appPermissions(instanceId: string, records: readonly AppPermissionRecord[]): Promise<Map<string, string>> {
    return new AppPermissionService(this.em('app-permissions')).upsertAppPermissions(instanceId, records);
  }

  async policy(definition: PolicyDefinition): Promise<string> {
    return (await new PolicyService(this.em('activities')).create(definition)).id;
  }

  async detection(draft: DetectionDraft): Promise<string> {
    return (await new DetectionService(this.em('activities')).raise(draft)).id;
  }

  /** Records a PENDING action as a mutation would, without the mutation's checks (an action recorded before its instance changed). */
  async requestGovernance(request: GovernanceRequest): Promise<string> {
    return (await new GovernanceService(this.em('activities')).request(request)).action.id;
  }

  /**
   * An action in `status` (SUCCEEDED unless it says otherwise) by the governance log's own steps: the
   * request, an attempt, the end with its event; a random account id when no target is given. Only
   * for stacks without a scheduler, which would take the request up and carry it out.
   */
  async governanceAction(
    request: Omit<GovernanceRequest, 'accountId'> & { accountId?: string | null; status?: GovernanceStatus; error?: string | null },
  ): Promise<string> {
    const { status = GovernanceStatus.SUCCEEDED, error = null, ...rest } = request;
    const targeted = rest.accountId ?? rest.fileId ?? rest.appPermissionId;
    const em = this.em('activities');
    const log = new GovernanceService(em);
    const { action } = await log.request({ ...rest, accountId: targeted ? (rest.accountId ?? null) : newId() });
    if (status === GovernanceStatus.PENDING) return action.id;
    await log.beginAttempt(action.id);
    if (status === GovernanceStatus.RUNNING) return action.id;
    await em.getKnex().transaction((trx) => log.finish(trx, action.id, { status, error }));
    return action.id;
  }
}

const COUNTRIES = ['US', 'DE', 'FR', 'BR', 'JP'];
const ACTIONS: readonly [ActivityCategory, string][] = [
  [ActivityCategory.SIGN_IN, 'user.login'],
  [ActivityCategory.USER, 'file.download'],
  [ActivityCategory.USER, 'file.share'],
  [ActivityCategory.ADMIN, 'admin.role.assign'],
];
const SHARING = [SharingLevel.PRIVATE, SharingLevel.INTERNAL, SharingLevel.EXTERNAL, SharingLevel.PUBLIC];
const LEVELS = [PermissionLevel.LOW, PermissionLevel.MEDIUM, PermissionLevel.HIGH];
const SEVERITIES = [Severity.INFORMATIONAL, Severity.LOW, Severity.MEDIUM, Severity.HIGH];

/** What {@link seedDataset} wrote, for tests to compute expected answers from. */
export interface Dataset {
  readonly instances: readonly string[];
  /** accountId → instanceId, in insertion order. */
  readonly accounts: ReadonlyMap<string, string>;
  readonly groups: readonly string[];
  readonly activityCount: number;
  readonly fileCount: number;
  readonly grantCount: number;
  readonly policies: readonly string[];
  readonly detections: readonly string[];
  readonly governanceActions: readonly string[];
  readonly base: Date;
}

/**
 * A deterministic dataset over two instances: `accountsPerInstance` accounts each (every fifth an
 * admin, every seventh suspended), `perAccount` activities, files and grants each, two groups per
 * instance, a policy, detections and governance actions.
 */
export async function seedDataset(fixtures: Fixtures, { accountsPerInstance = 12, perAccount = 3 } = {}): Promise<Dataset> {
  const base = new Date('2026-11-01T00:00:00Z');
  const instances = [await fixtures.instance('Sales org'), await fixtures.instance('Support org')];
  const accounts = new Map<string, string>();
  const groups: string[] = [];
  let activityCount = 0;
  let fileCount = 0;
  let grantCount = 0;
  for (const [n, instanceId] of instances.entries()) {
    const records = Array.from({ length: accountsPerInstance }, (_, i) => ({
      externalId: `u${i}`,
      email: `user${i}@org${n}.example`,
      displayName: `User ${String(i).padStart(3, '0')} of org ${n}`,
      isAdmin: i % 5 === 0,
      status: i % 7 === 6 ? AccountStatus.SUSPENDED : AccountStatus.ACTIVE,
      privileges: i % 5 === 0 ? ['global-admin'] : [],
    }));
    const ids = await fixtures.accounts(instanceId, records);
    const accountIds = records.map((r) => ids.get(r.externalId)!);
    for (const id of accountIds) accounts.set(id, instanceId);
    const groupIds = await fixtures.groups(instanceId, [
      { externalId: 'g-all', name: `Everyone ${n}` },
      { externalId: 'g-admins', name: `Admins ${n}` },
    ]);
    await fixtures.members(instanceId, groupIds.get('g-all')!, accountIds);
    await fixtures.members(
      instanceId,
      groupIds.get('g-admins')!,
      accountIds.filter((_, i) => i % 5 === 0),
    );
    groups.push(groupIds.get('g-all')!, groupIds.get('g-admins')!);

    const activities: ActivityRecord[] = [];
    const files: FileRecord[] = [];
    const grants: AppPermissionRecord[] = [];
    accountIds.forEach((accountId, i) => {
      for (let k = 0; k < perAccount; k++) {
        const [category, action] = ACTIONS[(i + k) % ACTIONS.length]!;
        activities.push({
          externalId: `e-${i}-${k}`,
          category,
          action,
          actorId: accountId,
          occurredAt: new Date(base.getTime() + (i * perAccount + k) * 60_000),
          ipAddress: `10.0.${n}.${(i + k) % 4}`,
          country: COUNTRIES[(i + k) % COUNTRIES.length]!,
          succeeded: k % 4 !== 3,
        });
        files.push({
          externalId: `f-${i}-${k}`,
          name: `report-${i}-${k}.csv`,
          path: `/drive/user${i}/report-${i}-${k}.csv`,
          mimeType: 'text/csv',
          sizeBytes: 1000 + i * 10 + k,
          ownerId: accountId,
          sharing: SHARING[(i + k) % SHARING.length]!,
          trashed: (i + k) % 6 === 5,
          quarantined: (i + k) % 8 === 7,
          modifiedAt: new Date(base.getTime() + (i * perAccount + k) * 3_600_000),
        });
        grants.push({
          externalId: `g-${i}-${k}`,
          appName: ['Zoom', 'Slack', 'DocuSign', 'Calendly'][(i + k) % 4]!,
          clientId: `client-${(i + k) % 4}`,
          scopes: ['openid', 'email', ...(k === 2 ? ['files.readwrite.all'] : [])],
          permissionLevel: LEVELS[(i + k) % LEVELS.length]!,
          grantedById: accountId,
          grantedAt: base,
          revoked: (i + k) % 5 === 4,
        });
      }
    });
    activityCount += (await fixtures.activities(instanceId, activities)).length;
    const fileIds = await fixtures.files(instanceId, files);
    fileCount += fileIds.size;
    // Every fourth file holds card numbers.
    let f = 0;
    for (const id of fileIds.values()) if (f++ % 4 === 0) await fixtures.scanResult(id, [{ type: 'CREDIT_CARD_NUMBER', count: 2 }]);
    grantCount += (await fixtures.appPermissions(instanceId, grants)).size;
  }

  const policies = [
    await fixtures.policy({
      name: 'Mass download',
      kind: PolicyKind.ACTIVITY,
      severity: Severity.HIGH,
      condition: { action: 'file.download' },
    }),
    await fixtures.policy({
      name: 'Public sensitive file',
      kind: PolicyKind.FILE,
      severity: Severity.MEDIUM,
      condition: { sharing: ['PUBLIC'] },
    }),
  ];
  const detections: string[] = [];
  const governanceActions: string[] = [];
  const accountIds = [...accounts.keys()];
  for (let i = 0; i < 10; i++) {
    const accountId = accountIds[i % accountIds.length]!;
    detections.push(
      await fixtures.detection({
        policyId: policies[i % 2]!,
        severity: SEVERITIES[i % 4]!,
        title: `Detection ${i}`,
        description: 'seeded',
        instanceId: accounts.get(accountId)!,
        accountId,
        detectedAt: new Date(base.getTime() + i * 1000),
      }),
    );
    governanceActions.push(
      await fixtures.governanceAction({
        type: [GovernanceActionType.SUSPEND_ACCOUNT, GovernanceActionType.REQUIRE_PASSWORD_RESET][i % 2]!,
        instanceId: accounts.get(accountId)!,
        accountId,
        requestedBy: 'dev-responder',
        detectionId: detections[i]!,
      }),
    );
  }
  return { instances, accounts, groups, activityCount, fileCount, grantCount, policies, detections, governanceActions, base };
}
