import type { EntityClass } from '@mikro-orm/core';
import type { EntityManager, Knex } from '@mikro-orm/postgresql';
import { upsertRows, type Row } from './bulk.js';
import { rowReader, type DbRow } from './database.js';
import { newId } from './ids.js';
import { EVERY_INSTANCE, restrictTo, type InstanceScope } from './scope.js';
import {
  applyKeyset,
  connectionsByParent,
  countRows,
  pagesByParent,
  toConnection,
  type Connection,
  type Ordering,
  type PageRequest,
  type SortValue,
} from './pagination.js';

/**
 * A table that mirrors what a provider lists: one row per item of an instance, keyed by
 * `(instance_id, external_id)` (the provider's id) with a uuid `id` of ours, read by keyset pages.
 * Listed tables (accounts, groups, files, grants) also carry `updated_at`, `deleted_at` (the provider
 * no longer lists the item) and `scan_pass` (the last full listing that saw it).
 */
export interface MirrorTable<E extends object> {
  /** `schema.table`. */
  readonly table: string;
  /** The entity a row hydrates into. */
  readonly entity: EntityClass<E>;
  /** The table's alias in list queries, e.g. `f` for `files.file as f`. */
  readonly alias: string;
  /** The keyset order of its lists. */
  readonly ordering: Ordering;
  /** A row's values for the ordering's columns (timestamps as PostgreSQL's text: see toConnection). */
  readonly sortKey: (row: DbRow) => readonly SortValue[];
  /** The columns a later listing of the same item overwrites. */
  readonly updatable: readonly string[];
}

/**
 * The code every provider-mirror service shares: upsert by instance and provider id, mark what a
 * finished full listing did not see as deleted, look ids up by provider id, load by ids, and list in
 * keyset pages (one statement for a page per parent). A service binds one per table to its
 * EntityManager and keeps what is its own: the record shape, filters and domain writes.
 */
export class ProviderMirror<E extends object> {
  /** `scope`: the instances a caller may read (null: every one); {@link byIds} and {@link from} keep to it. */
  constructor(
    private readonly em: EntityManager,
    readonly spec: MirrorTable<E>,
    readonly scope: InstanceScope = EVERY_INSTANCE,
  ) {
    this.read = rowReader(em, spec.entity);
  }

  /** Raw rows to entities, without the ORM's tracking (see rowReader). */
  private readonly read: (row: DbRow) => E;

  private get knex(): Knex {
    return this.em.getKnex();
  }

  /**
   * Inserts or updates `rows` (the table's own columns, `external_id` among them) by instance and
   * provider id, in as few statements as the parameter limit allows; an updated row takes the
   * `updatable` columns, comes back from deleted, and records `pass` (the full listing that saw it,
   * or null for a change feed). Answers externalId → id.
   */
  async upsert(instanceId: string, rows: readonly Row[], pass: string | null): Promise<Map<string, string>> {
    const now = new Date();
    const saved = await upsertRows<{ id: string; external_id: string }>(
      this.knex,
      this.spec.table,
      rows.map((row) => ({ id: newId(), instance_id: instanceId, ...row, updated_at: now, deleted_at: null, scan_pass: pass })),
      {
        conflict: ['instance_id', 'external_id'],
        update: [...this.spec.updatable, 'updated_at', 'deleted_at', 'scan_pass'],
        returning: ['id', 'external_id'],
      },
    );
    return new Map(saved.map((r) => [r.external_id, r.id]));
  }

  /**
   * Marks deleted every live row of the instance that the finished full listing `pass` did not see
   * (the provider no longer lists it). Answers how many rows it marked.
   */
  markMissingFrom(instanceId: string, pass: string): Promise<number> {
    return this.knex(this.spec.table)
      .where('instance_id', instanceId)
      .whereNull('deleted_at')
      .where((q) => q.whereNull('scan_pass').orWhereNot('scan_pass', pass))
      .update({ deleted_at: new Date() });
  }

  /** Marks deleted the instance's live rows with these provider ids (a change feed said so). */
  async markDeleted(instanceId: string, externalIds: readonly string[]): Promise<number> {
    if (externalIds.length === 0) return 0;
    return this.knex(this.spec.table)
      .where('instance_id', instanceId)
      .whereIn('external_id', [...externalIds])
      .whereNull('deleted_at')
      .update({ deleted_at: new Date() });
  }

  /** Answers externalId → id for the provider's ids of one instance (unknown ones are absent). */
  async idsByExternalId(instanceId: string, externalIds: readonly string[]): Promise<Map<string, string>> {
    if (externalIds.length === 0) return new Map();
    const rows: { id: string; external_id: string }[] = await this.knex(this.spec.table)
      .select('id', 'external_id')
      .where('instance_id', instanceId)
      .whereIn('external_id', [...externalIds]);
    return new Map(rows.map((r) => [r.external_id, r.id]));
  }

  /** The rows with these ids (deleted ones included) within the scope, in no particular order. */
  async byIds(ids: readonly string[]): Promise<E[]> {
    const rows: DbRow[] = await this.knex(this.spec.table)
      .select('*')
      .whereIn('id', [...ids])
      .modify(restrictTo(this.scope, 'instance_id'));
    return rows.map(this.read);
  }

  /** `schema.table as alias` within the scope, for a service's filtered queries. */
  from(): Knex.QueryBuilder {
    return this.knex(`${this.spec.table} as ${this.spec.alias}`).modify(restrictTo(this.scope, `${this.spec.alias}.instance_id`));
  }

  /**
   * One keyset page of the rows `base()` selects (a query over {@link from}, filtered); totalCount is
   * counted only if a client selects it.
   */
  async list(base: () => Knex.QueryBuilder, page: PageRequest): Promise<Connection<E>> {
    const { alias, ordering, sortKey } = this.spec;
    const rows: DbRow[] = await applyKeyset(base().select(`${alias}.*`), alias, ordering, page);
    return toConnection(
      rows,
      page,
      sortKey,
      (r) => this.hydrate(r),
      () => countRows(base()),
    );
  }

  /**
   * One keyset page per parent in one statement: `build(parent)` selects the rows of one parent
   * (`parent` standing for its id); `counts` (one grouped count over all the parents) runs only if a
   * client selects some parent's totalCount.
   */
  async listByParent(
    parentIds: readonly string[],
    page: PageRequest,
    build: (parent: Knex.Ref<string, { [K in string]: string }>) => Knex.QueryBuilder,
    counts: () => Promise<Map<string, number>>,
  ): Promise<Map<string, Connection<E>>> {
    const { alias, ordering, sortKey } = this.spec;
    const pages = await pagesByParent<DbRow>(this.knex, parentIds, alias, ordering, page, build);
    return connectionsByParent(pages, page, sortKey, (r) => this.hydrate(r), counts);
  }

  /** A raw row as the entity (read-only: the mirrors are written through SQL, never through the ORM). */
  hydrate(row: DbRow): E {
    return this.read(row);
  }
}
