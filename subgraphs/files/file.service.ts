import type { EntityManager, Knex } from '@mikro-orm/postgresql';
import { likePattern } from '../../platform/bulk.js';
import type { DbRow } from '../../platform/database.js';
import { ProviderMirror, type MirrorTable } from '../../platform/mirror.js';
import { EVERY_INSTANCE, type InstanceScope } from '../../platform/scope.js';
import { countsByParent, type Connection, type Ordering, type PageRequest } from '../../platform/pagination.js';
import { SharingLevel } from '../../platform/vocabulary/sharing.js';
import { File, type ContentRuleMatch, type SensitiveMatch } from './file.entity.js';

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

const FILES: MirrorTable<File> = {
  table: FILE,
  entity: File,
  alias: 'f',
  ordering: FILE_ORDER,
  sortKey: (r: DbRow) => [r.modified_at as string, r.id as string],
  updatable: [
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
    'content_version',
  ],
};

/** The only writer of files; also their reads. */
export class FileService {
  private readonly mirror: ProviderMirror<File>;

  /** `scope`: the instances a caller may read (null: every one); every read keeps to it. */
  constructor(
    private readonly em: EntityManager,
    scope: InstanceScope = EVERY_INSTANCE,
  ) {
    this.mirror = new ProviderMirror(em, FILES, scope);
  }

  private get knex(): Knex {
    return this.em.getKnex();
  }

  /** Inserts or updates files by `(instance, externalId)` in bulk; answers externalId → id. */
  upsertFiles(instanceId: string, records: readonly FileRecord[], pass: string | null = null): Promise<Map<string, string>> {
    const rows = records.map((r) => ({
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
      content_version: r.contentVersion ?? null,
    }));
    return this.mirror.upsert(instanceId, rows, pass);
  }

  /**
   * Stores a data scan's result: counts per sensitive type and per custom content rule (never content),
   * when, which version and which content rules (`rulesHash`, see filesToScan) it read, and why the content
   * was not read when it was skipped (then with no matches).
   */
  async recordScan(
    fileId: string,
    matches: readonly SensitiveMatch[],
    version: string | null = null,
    {
      scannedAt = new Date(),
      skippedReason = null,
      ruleMatches = [],
      rulesHash = null,
    }: {
      scannedAt?: Date;
      skippedReason?: string | null;
      ruleMatches?: readonly ContentRuleMatch[];
      rulesHash?: string | null;
    } = {},
  ): Promise<void> {
    await this.knex(FILE)
      .where('id', fileId)
      .update({
        sensitive_matches: JSON.stringify(matches.filter((m) => m.count > 0)),
        content_rule_matches: JSON.stringify(ruleMatches.filter((m) => m.count > 0)),
        content_rules_hash: rulesHash,
        last_scanned_at: scannedAt,
        scanned_version: version,
        scan_skipped_reason: skippedReason,
      });
  }

  /** Marks deleted the instance's files that the finished full pass `pass` did not see. */
  markMissingFrom(instanceId: string, pass: string): Promise<number> {
    return this.mirror.markMissingFrom(instanceId, pass);
  }

  /** Marks deleted the files the provider's change feed reported deleted. */
  markDeleted(instanceId: string, externalIds: readonly string[]): Promise<number> {
    return this.mirror.markDeleted(instanceId, externalIds);
  }

  /** Answers externalId → id for the provider's file ids of one instance (unknown ones are absent). */
  fileIdsByExternalId(instanceId: string, externalIds: readonly string[]): Promise<Map<string, string>> {
    return this.mirror.idsByExternalId(instanceId, externalIds);
  }

  /**
   * Live files whose content changed since their last data scan (or never scanned), oldest change first.
   * With `rulesHash` (the digest of the content rules that apply to the instance now; null when none do),
   * also the files last scanned under other rules, so that changed rules are applied at the next data scan.
   */
  async filesToScan(
    instanceId: string,
    limit: number,
    rulesHash?: string | null,
  ): Promise<{ id: string; externalId: string; contentVersion: string | null; name: string }[]> {
    const rows: { id: string; external_id: string; content_version: string | null; name: string }[] = await this.knex(FILE)
      .select('id', 'external_id', 'content_version', 'name')
      .where('instance_id', instanceId)
      .whereNull('deleted_at')
      .where((q) => {
        q.whereNull('last_scanned_at').orWhereRaw('scanned_version is distinct from content_version');
        if (rulesHash !== undefined) q.orWhereRaw('content_rules_hash is distinct from ?', [rulesHash]);
      })
      .orderBy('modified_at')
      .limit(limit);
    return rows.map((r) => ({ id: r.id, externalId: r.external_id, contentVersion: r.content_version, name: r.name }));
  }

  /**
   * How many live files of the instance wait for a data scan (the data scan's estimate of its run): as
   * {@link filesToScan} picks them, those last read under other content rules (`rulesHash`) included.
   */
  async countToScan(instanceId: string, rulesHash?: string | null): Promise<number> {
    const [row] = await this.knex(FILE)
      .count({ count: '*' })
      .where('instance_id', instanceId)
      .whereNull('deleted_at')
      .where((q) => {
        q.whereNull('last_scanned_at').orWhereRaw('scanned_version is distinct from content_version');
        if (rulesHash !== undefined) q.orWhereRaw('content_rules_hash is distinct from ?', [rulesHash]);
      });
    return Number(row?.count ?? 0);
  }

  /**
   * Queues again for a data scan the instance's files whose last scan was skipped for `reason` (a
   * refusal by the provider, once the permission it lacked may be back). Answers how many.
   */
  async requeueSkipped(instanceId: string, reason: string): Promise<number> {
    return this.knex(FILE)
      .where('instance_id', instanceId)
      .whereNull('deleted_at')
      .where('scan_skipped_reason', reason)
      .update({ scanned_version: null, last_scanned_at: null });
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

  byIds(ids: readonly string[]): Promise<File[]> {
    return this.mirror.byIds(ids);
  }

  /** Live files matching `filter`, newest change first. */
  list(filter: FileFilter, page: PageRequest): Promise<Connection<File>> {
    return this.mirror.list(() => this.filtered(filter), page);
  }

  private filtered(filter: FileFilter): Knex.QueryBuilder {
    const qb = this.mirror.from().whereNull('f.deleted_at');
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
  filesOfOwners(ownerIds: readonly string[], page: PageRequest): Promise<Map<string, Connection<File>>> {
    const live = () => this.mirror.from().whereNull('f.deleted_at');
    return this.mirror.listByParent(
      ownerIds,
      page,
      (parent) => live().select('f.*').where('f.owner_id', parent),
      () => countsByParent(live(), 'f.owner_id', ownerIds),
    );
  }
}
