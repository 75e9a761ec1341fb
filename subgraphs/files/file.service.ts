import type { EntityManager, Knex } from '@mikro-orm/postgresql';
import { likePattern, markMissingDeleted, upsertRows } from '../../platform/bulk.js';
import { mapRow, mapRows, type DbRow } from '../../platform/database.js';
import { newId } from '../../platform/ids.js';
import {
  applyKeyset,
  countRows,
  countsByParent,
  connectionsByParent,
  pagesByParent,
  toConnection,
  type Connection,
  type Ordering,
  type PageRequest,
} from '../../platform/pagination.js';
import { File, type SensitiveMatch } from './file.entity.js';
import { SharingLevel } from '../../platform/vocabulary/sharing.js';

/** A file as a connector reports it (owner already resolved to our account id). */
export interface FileRecord {
  readonly externalId: string;
  readonly name: string;
  readonly path: string;
  readonly mimeType?: string | null;
  readonly sizeBytes: number;
  readonly ownerId?: string | null;
  readonly sharing?: SharingLevel;
  readonly collaborators?: readonly string[];
  readonly trashed?: boolean;
  readonly quarantined?: boolean;
  readonly modifiedAt: Date;
  /** The provider's content version (etag, revision); a new one queues a data scan. */
  readonly contentVersion?: string | null;
}

export interface FileFilter {
  readonly instanceId?: string;
  readonly ownerId?: string;
  readonly sharing?: SharingLevel;
  readonly trashed?: boolean;
  readonly quarantined?: boolean;
  readonly hasSensitive?: boolean;
  readonly search?: string;
}

/** Newest change first. */
export const FILE_ORDER: Ordering = {
  direction: 'desc',
  columns: [
    { column: 'modified_at', type: 'timestamptz' },
    { column: 'id', type: 'uuid' },
  ],
};

const FILE = 'files.file';
const fileKey = (r: DbRow) => [r.modified_at as string, r.id as string];

/** The only writer of files; also their reads. */
export class FileService {
  constructor(private readonly em: EntityManager) {}

  private get knex(): Knex {
    return this.em.getKnex();
  }

  /** Inserts or updates files by `(instance, externalId)` in bulk; answers externalId → id. */
  async upsertFiles(instanceId: string, records: readonly FileRecord[], pass: string | null = null): Promise<Map<string, string>> {
    const now = new Date();
    const rows = records.map((r) => ({
      id: newId(),
      instance_id: instanceId,
      external_id: r.externalId,
      name: r.name,
      path: r.path,
      mime_type: r.mimeType ?? null,
      size_bytes: r.sizeBytes,
      owner_id: r.ownerId ?? null,
      sharing: r.sharing ?? SharingLevel.PRIVATE,
      collaborators: [...(r.collaborators ?? [])],
      trashed: r.trashed ?? false,
      quarantined: r.quarantined ?? false,
      modified_at: r.modifiedAt,
      sensitive_matches: JSON.stringify([]),
      updated_at: now,
      deleted_at: null,
      scan_pass: pass,
      content_version: r.contentVersion ?? null,
    }));
    const saved = await upsertRows<{ id: string; external_id: string }>(this.knex, FILE, rows, {
      conflict: ['instance_id', 'external_id'],
      update: [
        'name',
        'path',
        'mime_type',
        'size_bytes',
        'owner_id',
        'sharing',
        'collaborators',
        'trashed',
        'quarantined',
        'modified_at',
        'updated_at',
        'deleted_at',
        'scan_pass',
        'content_version',
      ],
      returning: ['id', 'external_id'],
    });
    return new Map(saved.map((r) => [r.external_id, r.id]));
  }

  /** Stores a data scan's result: counts per sensitive type (never content), when, and which version. */
  async recordScan(
    fileId: string,
    matches: readonly SensitiveMatch[],
    version: string | null = null,
    scannedAt = new Date(),
  ): Promise<void> {
    await this.knex(FILE)
      .where('id', fileId)
      .update({
        sensitive_matches: JSON.stringify(matches.filter((m) => m.count > 0)),
        last_scanned_at: scannedAt,
        scanned_version: version,
      });
  }

  /** Marks deleted the instance's files that the finished full pass `pass` did not see. */
  markMissingFrom(instanceId: string, pass: string): Promise<number> {
    return markMissingDeleted(this.knex, FILE, instanceId, pass);
  }

  /** Marks deleted the files the provider's change feed reported deleted. */
  async markDeleted(instanceId: string, externalIds: readonly string[]): Promise<number> {
    if (externalIds.length === 0) return 0;
    return this.knex(FILE)
      .where('instance_id', instanceId)
      .whereIn('external_id', [...externalIds])
      .whereNull('deleted_at')
      .update({ deleted_at: new Date() });
  }

  /** Answers externalId → id for the provider's file ids of one instance (unknown ones are absent). */
  async fileIdsByExternalId(instanceId: string, externalIds: readonly string[]): Promise<Map<string, string>> {
    if (externalIds.length === 0) return new Map();
    const rows: { id: string; external_id: string }[] = await this.knex(FILE)
      .select('id', 'external_id')
      .where('instance_id', instanceId)
      .whereIn('external_id', [...externalIds]);
    return new Map(rows.map((r) => [r.external_id, r.id]));
  }

  /** Live files whose content changed since their last data scan (or never scanned), oldest change first. */
  async filesToScan(instanceId: string, limit: number): Promise<{ id: string; externalId: string; contentVersion: string | null }[]> {
    const rows: { id: string; external_id: string; content_version: string | null }[] = await this.knex(FILE)
      .select('id', 'external_id', 'content_version')
      .where('instance_id', instanceId)
      .whereNull('deleted_at')
      .where((q) => q.whereNull('last_scanned_at').orWhereRaw('scanned_version is distinct from content_version'))
      .orderBy('modified_at')
      .limit(limit);
    return rows.map((r) => ({ id: r.id, externalId: r.external_id, contentVersion: r.content_version }));
  }

  /** Sets governance effects on a file (in `db`: the transaction that ends the action). */
  async setState(
    fileId: string,
    patch: {
      trashed?: boolean;
      quarantined?: boolean;
      sharing?: SharingLevel;
      collaborators?: readonly string[];
      path?: string;
      modifiedAt?: Date;
      contentVersion?: string;
    },
    db: Knex = this.knex,
  ): Promise<void> {
    await db(FILE)
      .where('id', fileId)
      .update({
        ...(patch.trashed !== undefined ? { trashed: patch.trashed } : {}),
        ...(patch.quarantined !== undefined ? { quarantined: patch.quarantined } : {}),
        ...(patch.sharing !== undefined ? { sharing: patch.sharing } : {}),
        ...(patch.collaborators !== undefined ? { collaborators: [...patch.collaborators] } : {}),
        ...(patch.path !== undefined ? { path: patch.path } : {}),
        ...(patch.modifiedAt !== undefined ? { modified_at: patch.modifiedAt } : {}),
        ...(patch.contentVersion !== undefined ? { content_version: patch.contentVersion } : {}),
        updated_at: new Date(),
      });
  }

  async byIds(ids: readonly string[]): Promise<File[]> {
    return mapRows(
      this.em,
      File,
      await this.knex(FILE)
        .select('*')
        .whereIn('id', [...ids]),
    );
  }

  /** Live files matching `filter`, newest change first. */
  async list(filter: FileFilter, page: PageRequest): Promise<Connection<File>> {
    const base = () => this.filtered(filter);
    const rows: DbRow[] = await applyKeyset(base().select('f.*'), 'f', FILE_ORDER, page);
    return toConnection(
      rows,
      page,
      fileKey,
      (r) => mapRow(this.em, File, r),
      () => countRows(base()),
    );
  }

  private filtered(filter: FileFilter): Knex.QueryBuilder {
    const qb = this.knex(`${FILE} as f`).whereNull('f.deleted_at');
    if (filter.instanceId) qb.where('f.instance_id', filter.instanceId);
    if (filter.ownerId) qb.where('f.owner_id', filter.ownerId);
    if (filter.sharing) qb.where('f.sharing', filter.sharing);
    if (filter.trashed !== undefined) qb.where('f.trashed', filter.trashed);
    if (filter.quarantined !== undefined) qb.where('f.quarantined', filter.quarantined);
    if (filter.hasSensitive !== undefined) {
      qb.whereRaw(`jsonb_array_length(f.sensitive_matches) ${filter.hasSensitive ? '>' : '='} 0`);
    }
    if (filter.search) {
      const pattern = likePattern(filter.search);
      qb.where((q) => q.whereILike('f.name', pattern).orWhereILike('f.path', pattern));
    }
    return qb;
  }

  /** One page of live files per owner, in one statement; totalCount batched over the owners. */
  async filesOfOwners(ownerIds: readonly string[], page: PageRequest): Promise<Map<string, Connection<File>>> {
    const pages = await pagesByParent<DbRow>(this.knex, ownerIds, 'f', FILE_ORDER, page, (parent) =>
      this.knex(`${FILE} as f`).select('f.*').where('f.owner_id', parent).whereNull('f.deleted_at'),
    );
    return connectionsByParent(
      pages,
      page,
      fileKey,
      (r) => mapRow(this.em, File, r),
      () => countsByParent(this.knex(`${FILE} as f`).whereNull('f.deleted_at'), 'f.owner_id', ownerIds),
    );
  }
}
