import { Readable } from 'node:stream';
import type { drive_v3 } from '@googleapis/drive';
import { PermanentError, type ProviderFile } from '../contract.js';
import type { GoogleConfig } from './config.js';
import { QUARANTINE_MARK, type Feed, type GoogleDrive } from './drive.js';
import { isNotFound, type GoogleApis } from './google-http.js';
import { FOLDER, isExternal } from './mapping.js';

const inherited = (p: drive_v3.Schema$Permission) => (p.permissionDetails ?? []).some((d) => d.inherited);

/**
 * File governance through Drive v3, acting as the file's owner (a shared drive's: the admin subject):
 * each action reads the file first and does only what is left to do, so a retry never acts twice.
 * Quarantine moves the file into the quarantine folder of its own drive (created when missing: the
 * owner's My Drive, or the shared drive's root) with every share removed but the owner's and the
 * drive's members'; the folder it came from is kept in its description for the restore.
 */
export class FileGovernance {
  private readonly folders = new Map<string, Promise<string>>();

  constructor(
    private readonly apis: GoogleApis,
    private readonly config: GoogleConfig,
    private readonly drive: GoogleDrive,
  ) {}

  private async locate(externalId: string): Promise<{ feed: Feed; file: drive_v3.Schema$File }> {
    const found = await this.drive.locate(externalId);
    if (!found) throw new PermanentError('The provider refused the request: it has no such item (HTTP 404)', 404);
    return found;
  }

  private client(feed: Feed): drive_v3.Drive {
    return this.apis.drive(feed.subject ?? undefined);
  }

  private async reread(feed: Feed, externalId: string): Promise<ProviderFile | null> {
    const file = await this.drive.get(feed, externalId);
    return file ? this.drive.toProviderFile(feed, file) : null;
  }

  /** The feed's quarantine folder (in the owner's My Drive root, or the shared drive's root), made when missing. */
  private quarantineFolder(feed: Feed): Promise<string> {
    let found = this.folders.get(feed.key);
    if (!found) {
      found = (async () => {
        const parent = feed.driveId ?? 'root';
        const client = this.client(feed);
        const listed = await this.apis.call(
          client.files.list({
            q: `name = '${this.config.quarantineFolder}' and mimeType = '${FOLDER}' and '${parent}' in parents and trashed = false`,
            ...(feed.driveId ? { driveId: feed.driveId, corpora: 'drive', includeItemsFromAllDrives: true, supportsAllDrives: true } : {}),
            fields: 'files(id)',
            pageSize: 10,
          }),
        );
        const existing = listed.files?.[0]?.id;
        if (existing) return existing;
        const made = await this.apis.call(
          client.files.create({
            requestBody: { name: this.config.quarantineFolder, mimeType: FOLDER, parents: [parent] },
            supportsAllDrives: true,
            fields: 'id',
          }),
        );
        if (!made.id) throw new PermanentError('Drive created the quarantine folder without an id');
        return made.id;
      })();
      found.catch(() => this.folders.delete(feed.key));
      this.folders.set(feed.key, found);
    }
    return found;
  }

  private async permissions(feed: Feed, file: drive_v3.Schema$File): Promise<drive_v3.Schema$Permission[]> {
    if (!file.driveId) return file.permissions ?? [];
    const result = await this.apis.call(
      this.client(feed).permissions.list({
        fileId: file.id!,
        supportsAllDrives: true,
        fields: 'permissions(id,type,role,emailAddress,domain,permissionDetails)',
      }),
    );
    return result.permissions ?? [];
  }

  /** Deletes the file's permissions that `remove` picks (a permission already gone is fine). */
  private async removePermissions(feed: Feed, file: drive_v3.Schema$File, remove: (p: drive_v3.Schema$Permission) => boolean) {
    for (const permission of await this.permissions(feed, file)) {
      if (permission.role === 'owner' || inherited(permission) || !remove(permission)) continue;
      try {
        await this.apis.call(
          this.client(feed).permissions.delete({ fileId: file.id!, permissionId: permission.id!, supportsAllDrives: true }),
        );
      } catch (error) {
        if (!isNotFound(error)) throw error;
      }
    }
  }

  async quarantineFile(externalId: string): Promise<ProviderFile | null> {
    const { feed, file } = await this.locate(externalId);
    await this.removePermissions(feed, file, () => true);
    if (!file.description?.startsWith(QUARANTINE_MARK)) {
      const folder = await this.quarantineFolder(feed);
      const parent = file.parents?.[0] ?? '';
      await this.apis.call(
        this.client(feed).files.update({
          fileId: externalId,
          addParents: folder,
          ...(parent ? { removeParents: parent } : {}),
          supportsAllDrives: true,
          requestBody: { description: `${QUARANTINE_MARK}${parent}\n${file.description ?? ''}` },
          fields: 'id',
        }),
      );
    }
    return this.reread(feed, externalId);
  }

  async restoreFile(externalId: string): Promise<ProviderFile | null> {
    const { feed, file } = await this.locate(externalId);
    const description = file.description ?? '';
    if (!description.startsWith(QUARANTINE_MARK)) return this.drive.toProviderFile(feed, file);
    const newline = description.indexOf('\n');
    const original = description.slice(QUARANTINE_MARK.length, newline < 0 ? undefined : newline) || (feed.driveId ?? 'root');
    const current = file.parents?.[0];
    await this.apis.call(
      this.client(feed).files.update({
        fileId: externalId,
        ...(current !== original ? { addParents: original, ...(current ? { removeParents: current } : {}) } : {}),
        supportsAllDrives: true,
        requestBody: { description: newline < 0 ? '' : description.slice(newline + 1) },
        fields: 'id',
      }),
    );
    return this.reread(feed, externalId);
  }

  async trashFile(externalId: string): Promise<ProviderFile | null> {
    const { feed, file } = await this.locate(externalId);
    if (!file.trashed)
      await this.apis.call(
        this.client(feed).files.update({ fileId: externalId, supportsAllDrives: true, requestBody: { trashed: true }, fields: 'id' }),
      );
    return this.reread(feed, externalId);
  }

  /** Deletes the shares that reach outside the organization: anyone with the link, and users, groups or domains elsewhere. */
  async removeExternalSharing(externalId: string): Promise<ProviderFile | null> {
    const { feed, file } = await this.locate(externalId);
    await this.removePermissions(feed, file, (p) => isExternal(p, this.drive.domains));
    return this.reread(feed, externalId);
  }

  /**
   * Keeps the original in the quarantine folder (a copy, as it downloads or exports), then uploads the
   * notice as the file's new content (files.update with media). A file already holding the notice is left alone.
   */
  async overwriteFile(externalId: string, notice: string): Promise<ProviderFile | null> {
    const { feed, file } = await this.locate(externalId);
    const original = await this.drive.downloadFile(externalId);
    if (original.bytes.equals(Buffer.from(notice))) return this.drive.toProviderFile(feed, file);
    const folder = await this.quarantineFolder(feed);
    const client = this.client(feed);
    await this.apis.call(
      client.files.create({
        requestBody: {
          name: `${file.name ?? externalId} (original)`,
          parents: [folder],
          description: `${QUARANTINE_MARK}${file.parents?.[0] ?? ''}\noriginal of ${externalId}`,
        },
        media: { mimeType: original.mimeType ?? 'application/octet-stream', body: Readable.from([original.bytes]) },
        supportsAllDrives: true,
        fields: 'id',
      }),
    );
    await this.apis.call(
      client.files.update({ fileId: externalId, media: { mimeType: 'text/plain', body: notice }, supportsAllDrives: true, fields: 'id' }),
    );
    return this.reread(feed, externalId);
  }
}
