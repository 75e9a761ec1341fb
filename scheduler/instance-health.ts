import { CredentialError } from '../connectors/contract.js';
import { ConnectionStatus } from '../platform/vocabulary/instance.js';
import { ScanKind, type AppInstanceService } from '../subgraphs/accounts/public.js';

/**
 * A 403 the provider answered a scan's listing: a permission the connector needs was withdrawn. One
 * capability is lost, not the credentials: the instance is DEGRADED, not in ERROR.
 */
export const isPermissionRefusal = (error: unknown): error is CredentialError => error instanceof CredentialError && error.status === 403;

/** What each kind of scan reads, as a status message names it. */
const READS: Readonly<Record<ScanKind, string>> = {
  USERS: 'users',
  GROUPS: 'groups',
  ACTIVITIES: 'the audit trail',
  FILES: 'files',
  APP_PERMISSIONS: 'app permissions',
  DATA: "files' content",
  LATE_ACTIVITIES: 'late audit events',
};

/**
 * Sets a connected instance's status from its scans: DEGRADED, naming what Tenantwatch can no longer
 * read, while any of `kinds` (those its capabilities allow) is refused as a whole; CONNECTED once none
 * is; ERROR when every one of them is refused (nothing works). Instances in other statuses (connecting,
 * disconnected, deleted, in ERROR) are left as they are.
 */
export async function reviewStatus(instances: AppInstanceService, instanceId: string, kinds: readonly ScanKind[]): Promise<void> {
  const [instance] = await instances.byIds([instanceId]);
  if (!instance || (instance.status !== ConnectionStatus.CONNECTED && instance.status !== ConnectionStatus.DEGRADED)) return;
  const scans = (await instances.scansOf([instanceId])).get(instanceId) ?? [];
  const refused = scans.filter((s) => kinds.includes(s.kind) && s.refusedSince !== null);
  if (refused.length === 0) return instances.setDegraded(instanceId, null);
  const what = refused.map((s) => READS[s.kind]).join(', ');
  const why = refused[0]!.lastError ?? 'the provider refused it';
  if (refused.length === kinds.length) {
    await instances.setStatus(
      instanceId,
      ConnectionStatus.ERROR,
      `Tenantwatch can read nothing of this instance: the provider refuses every scan (${what}): ${why}. Grant the connector's permissions at the provider, then reconnect the instance`,
    );
    return;
  }
  await instances.setDegraded(
    instanceId,
    `Tenantwatch cannot read ${what}: ${why}. Grant the permission again at the provider; the other scans go on, and the next scan of ${refused.length === 1 ? 'that kind' : 'those kinds'} checks again`,
  );
}
