import { createHash } from 'node:crypto';
import type { PlantedKind } from './sensitive.js';

/** Drive's MIME types for Google Workspace documents and folders (https://developers.google.com/drive/api/guides/mime-types). */
export const MIME = {
  folder: 'application/vnd.google-apps.folder',
  doc: 'application/vnd.google-apps.document',
  sheet: 'application/vnd.google-apps.spreadsheet',
  slides: 'application/vnd.google-apps.presentation',
} as const;
export const isGoogleDoc = (mimeType: string) => mimeType.startsWith('application/vnd.google-apps.') && mimeType !== MIME.folder;

export type PermissionRole = 'owner' | 'organizer' | 'fileOrganizer' | 'writer' | 'commenter' | 'reader';
export type PermissionType = 'user' | 'group' | 'domain' | 'anyone';

/** A permission as the emulator keeps it (the wire shape is drive_v3.Schema$Permission). */
export interface EmuPermission {
  id: string;
  type: PermissionType;
  role: PermissionRole;
  emailAddress?: string;
  domain?: string;
  displayName?: string;
  allowFileDiscovery?: boolean;
  /** The member (user or group) of the customer it names, if any. */
  principalId?: string;
  /** A shared drive membership seen on the drive's files (it cannot be removed from one file). */
  inherited?: boolean;
}

export interface EmuFile {
  id: string;
  name: string;
  mimeType: string;
  /** The My Drive owner; null for shared drive items. */
  ownerId: string | null;
  driveId: string | null;
  /** The parent folder ('' for a My Drive root). */
  parentId: string;
  trashed: boolean;
  description: string | null;
  /** Binary content, or the text a Google Doc, Sheet (CSV) or Slides file exports. */
  content: Buffer;
  /** Size reported and exported when it differs from the content (an oversize Google Doc). */
  declaredSize?: number;
  createdTime: string;
  modifiedTime: string;
  version: number;
  permissions: EmuPermission[];
  deleted: boolean;
  planted: PlantedKind[];
  /** A My Drive root folder (not listed, answered for 'root'). */
  root?: boolean;
}

export interface EmuDrive {
  id: string;
  name: string;
  createdTime: string;
  members: { principalId: string; type: 'user' | 'group'; role: PermissionRole }[];
  deleted: boolean;
}

/** One change in the customer's change log (https://developers.google.com/drive/api/guides/manage-changes). */
export interface EmuChange {
  seq: number;
  fileId: string;
  driveId: string | null;
  time: string;
  removed: boolean;
  /** Users who could see the file before the change (a removal is reported to them). */
  audience: readonly string[];
}

/**
 * The customer's files, shared drives and change log, indexed for the requests the emulator serves:
 * by parent, by shared drive, and by who sees each My Drive file (owner, direct and group shares).
 */
export class DriveStore {
  readonly files = new Map<string, EmuFile>();
  readonly drives = new Map<string, EmuDrive>();
  readonly changes: EmuChange[] = [];
  private readonly children = new Map<string, Set<string>>();
  private readonly byDrive = new Map<string, Set<string>>();
  private readonly seenBy = new Map<string, Set<string>>();
  private readonly audienceOf = new Map<string, string[]>();

  constructor(
    /** The customer's user ids that a group permission reaches (its members). */
    private readonly membersOf: (groupId: string) => readonly string[],
  ) {}

  add(file: EmuFile): EmuFile {
    this.files.set(file.id, file);
    this.link(file);
    this.reindex(file);
    return file;
  }

  private link(file: EmuFile): void {
    if (file.parentId) (this.children.get(file.parentId) ?? this.children.set(file.parentId, new Set()).get(file.parentId)!).add(file.id);
    if (file.driveId) (this.byDrive.get(file.driveId) ?? this.byDrive.set(file.driveId, new Set()).get(file.driveId)!).add(file.id);
  }

  private unlink(file: EmuFile): void {
    this.children.get(file.parentId)?.delete(file.id);
    if (file.driveId) this.byDrive.get(file.driveId)?.delete(file.id);
  }

  /** Moves a file to another parent, keeping the indexes. */
  move(file: EmuFile, parentId: string): void {
    this.unlink(file);
    file.parentId = parentId;
    this.link(file);
  }

  childrenOf(parentId: string): string[] {
    return [...(this.children.get(parentId) ?? [])];
  }

  inDrive(driveId: string): string[] {
    return [...(this.byDrive.get(driveId) ?? [])];
  }

  /** My Drive files the user owns or that are shared with them directly or through a group. */
  seenByUser(userId: string): string[] {
    return [...(this.seenBy.get(userId) ?? [])];
  }

  /** Users who see a My Drive file: its owner and the users and group members its permissions name. */
  audience(file: EmuFile): string[] {
    if (file.deleted || file.driveId) return [];
    const users = new Set<string>();
    if (file.ownerId) users.add(file.ownerId);
    for (const p of file.permissions) {
      if (!p.principalId) continue;
      if (p.type === 'user') users.add(p.principalId);
      else if (p.type === 'group') for (const m of this.membersOf(p.principalId)) users.add(m);
    }
    return [...users];
  }

  /** Recomputes who sees the file (after a permission or ownership change, or a deletion). */
  reindex(file: EmuFile): void {
    for (const u of this.audienceOf.get(file.id) ?? []) this.seenBy.get(u)?.delete(file.id);
    const now = file.root ? [] : this.audience(file);
    for (const u of now) (this.seenBy.get(u) ?? this.seenBy.set(u, new Set()).get(u)!).add(file.id);
    this.audienceOf.set(file.id, now);
  }

  /** Records a change of the file in the log; answers its sequence number. */
  recordChange(file: EmuFile, time: number, removed: boolean, audience: readonly string[]): number {
    const seq = this.changes.length + 1;
    this.changes.push({ seq, fileId: file.id, driveId: file.driveId, time: new Date(time).toISOString(), removed, audience });
    return seq;
  }

  /** The page token that names "from now on": the next change's sequence number. */
  get nextSeq(): number {
    return this.changes.length + 1;
  }

  /** Deletes a file (and a folder's descendants) for good; answers the files removed. */
  remove(file: EmuFile): EmuFile[] {
    const removed: EmuFile[] = [];
    const walk = (f: EmuFile) => {
      for (const id of this.childrenOf(f.id)) {
        const child = this.files.get(id);
        if (child && !child.deleted) walk(child);
      }
      f.deleted = true;
      this.reindex(f);
      this.unlink(f);
      removed.push(f);
    };
    walk(file);
    return removed;
  }

  /** Checksums by content buffer: a listing of large files hashes each content once. */
  private readonly digests = new WeakMap<Buffer, string>();

  md5(file: EmuFile): string {
    let digest = this.digests.get(file.content);
    if (!digest) this.digests.set(file.content, (digest = createHash('md5').update(file.content).digest('hex')));
    return digest;
  }

  size(file: EmuFile): number {
    return file.declaredSize ?? file.content.length;
  }
}
