import type { SchedulerServices } from '../services.js';
import { scanOneFile } from './data.js';
import { SharingLevel } from '../../platform/vocabulary/sharing.js';

/**
 * `scan.data.file`: a webhook said one file changed. Its metadata is read again at change priority,
 * stored, and its content rescanned at once; a file gone at the provider is marked deleted.
 * Webhooks are hints: the periodic scans reconcile whatever one misses.
 */
export async function rescanChangedFile(
  services: Pick<SchedulerServices, 'connector' | 'accounts' | 'files' | 'evaluator' | 'dataScan'>,
  instanceId: string,
  fileExternalId: string,
): Promise<void> {
  const connector = await services.connector(instanceId, 'change');
  const files = services.files();
  const file = await connector.getFile(fileExternalId);
  if (!file) {
    await files.markDeleted(instanceId, [fileExternalId]);
    return;
  }
  const owners = file.ownerExternalId
    ? await services.accounts().accountIdsByExternalId(instanceId, [file.ownerExternalId])
    : new Map<string, string>();
  const ids = await files.upsertFiles(instanceId, [
    {
      externalId: file.externalId,
      name: file.name,
      path: file.path,
      mimeType: file.mimeType,
      sizeBytes: file.sizeBytes,
      ownerId: file.ownerExternalId ? (owners.get(file.ownerExternalId) ?? null) : null,
      sharing: SharingLevel[file.sharing],
      collaborators: file.collaborators,
      trashed: file.trashed,
      quarantined: file.quarantined,
      modifiedAt: new Date(file.modifiedAt),
      contentVersion: file.contentVersion,
    },
  ]);
  await scanOneFile(
    services,
    connector,
    { id: ids.get(file.externalId)!, externalId: file.externalId, contentVersion: file.contentVersion, name: file.name },
    instanceId,
  );
}
