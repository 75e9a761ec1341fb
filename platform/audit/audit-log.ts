import type { Knex } from '@mikro-orm/postgresql';
import { applyKeyset, countRows, type Ordering, type PageRequest } from '../pagination.js';
import type { AuditKind } from './audit-event.entity.js';
import { AUDIT_SCHEMA } from './module.js';

const TABLE = 'audit_event';

/** One entry to append (the database stamps nothing: `at` is when it happened). */
export interface AuditEntry {
  readonly at: Date;
  readonly kind: AuditKind;
  readonly action: string;
  readonly service: string;
  readonly subject: string | null;
  readonly role: string | null;
  readonly instances: readonly string[] | null;
  readonly operationName: string | null;
  /** Already redacted. */
  readonly input: Record<string, unknown>;
  readonly result: string;
  readonly clientAddress: string | null;
  readonly requestId: string | null;
  readonly occurrences: number;
}

/** A stored entry as the table holds it (`at` also as PostgreSQL's text, for exact cursors). */
export interface AuditRow extends AuditEntry {
  readonly id: string;
}

/** What `auditEvents` filters on; every member narrows. */
export interface AuditFilter {
  readonly subject?: string | null;
  readonly action?: string | null;
  readonly result?: string | null;
  readonly kind?: AuditKind | null;
  /** At or after. */
  readonly from?: Date | null;
  /** Before. */
  readonly to?: Date | null;
}

/** Newest first; the id orders entries (it grows with every append). */
export const AUDIT_ORDERING: Ordering = { direction: 'desc', columns: [{ column: 'id', type: 'bigint' }] };

/** Rows deleted per statement when pruning: short transactions, no long lock on the table. */
export const PRUNE_BATCH = 5_000;
/** Statements per pruning pass at most (the next pass goes on where this one stopped). */
export const PRUNE_BATCHES_PER_PASS = 100;

/**
 * The audit log's one reader and writer (Tenantwatch's own actions, not the providers' activities).
 * Appends and reads through any connection to the cluster (a subgraph's, the gateway's); it has no
 * update and no delete but {@link prune}, and the table's trigger refuses them anyway.
 */
export class AuditLog {
  constructor(private readonly knex: Knex) {}

  private table() {
    return this.knex.withSchema(AUDIT_SCHEMA).table(TABLE);
  }

  /** Appends entries in one statement. */
  async append(entries: readonly AuditEntry[]): Promise<void> {
    if (entries.length === 0) return;
    await this.table().insert(
      entries.map((e) => ({
        at: e.at,
        kind: e.kind,
        action: e.action,
        service: e.service,
        subject: e.subject,
        role: e.role,
        instances: e.instances ? JSON.stringify(e.instances) : null,
        operation_name: e.operationName,
        input: JSON.stringify(e.input),
        result: e.result,
        client_address: e.clientAddress,
        request_id: e.requestId,
        occurrences: e.occurrences,
      })),
    );
  }

  private filtered(filter: AuditFilter): Knex.QueryBuilder {
    const qb = this.knex.withSchema(AUDIT_SCHEMA).from(`${TABLE} as a`);
    if (filter.subject) void qb.where('a.subject', filter.subject);
    if (filter.action) void qb.where('a.action', filter.action);
    if (filter.result) void qb.where('a.result', filter.result);
    if (filter.kind) void qb.where('a.kind', filter.kind);
    if (filter.from) void qb.where('a.at', '>=', filter.from);
    if (filter.to) void qb.where('a.at', '<', filter.to);
    return qb;
  }

  /** One page, newest first (`first + 1` rows, to learn whether more follow). */
  async page(filter: AuditFilter, page: PageRequest): Promise<AuditRow[]> {
    const rows: Record<string, unknown>[] = await applyKeyset(this.filtered(filter).select('a.*'), 'a', AUDIT_ORDERING, page);
    return rows.map(toRow);
  }

  count(filter: AuditFilter): Promise<number> {
    return countRows(this.filtered(filter));
  }

  /**
   * Deletes entries older than `olderThan` (and than a day, by the database's clock: the trigger's
   * floor), oldest first, {@link PRUNE_BATCH} per statement and at
   * most {@link PRUNE_BATCHES_PER_PASS} statements; answers how many went.
   */
  async prune(olderThan: Date, batch = PRUNE_BATCH): Promise<number> {
    let deleted = 0;
    for (let i = 0; i < PRUNE_BATCHES_PER_PASS; i += 1) {
      const result = await this.knex.raw(
        `delete from "${AUDIT_SCHEMA}"."${TABLE}" where id in (select id from "${AUDIT_SCHEMA}"."${TABLE}" where at < least(?::timestamptz, now() - interval '1 day') order by id limit ?)`,
        [olderThan, batch],
      );
      const count = (result as { rowCount?: number }).rowCount ?? 0;
      deleted += count;
      if (count < batch) break;
    }
    return deleted;
  }
}

function toRow(row: Record<string, unknown>): AuditRow {
  return {
    id: String(row.id),
    // The ORM's connection reads timestamptz as text (microseconds kept), a plain pg client as a Date.
    at: row.at instanceof Date ? row.at : new Date(String(row.at)),
    kind: row.kind as AuditKind,
    action: row.action as string,
    service: row.service as string,
    subject: (row.subject as string | null) ?? null,
    role: (row.role as string | null) ?? null,
    instances: (row.instances as string[] | null) ?? null,
    operationName: (row.operation_name as string | null) ?? null,
    input: (row.input as Record<string, unknown>) ?? {},
    result: row.result as string,
    clientAddress: (row.client_address as string | null) ?? null,
    requestId: (row.request_id as string | null) ?? null,
    occurrences: Number(row.occurrences),
  };
}
