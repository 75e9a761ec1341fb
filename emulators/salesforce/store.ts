import { OBJECTS, type ObjectDef, type ObjectName } from './schema.js';

/**
 * A record as the org keeps it: field values by their API names (datetimes as epoch milliseconds,
 * dates as `YYYY-MM-DD`, base64 fields as Buffers), plus `_visibleAt` for records that exist but are
 * not yet visible to queries (late audit data).
 */
export interface Row {
  Id: string;
  _visibleAt?: number;
  [field: string]: unknown;
}

/** Undo steps of the writes of one all-or-none transaction (composite `allOrNone`, collections). */
export class Journal {
  private readonly undo: (() => void)[] = [];
  push(step: () => void): void {
    this.undo.push(step);
  }
  rollback(): void {
    for (const step of this.undo.splice(0).reverse()) step();
  }
}

/** One object's records, by id (in id order, which is creation order), with an index on every lookup field. */
export class Table {
  readonly rows = new Map<string, Row>();
  /** Rows removed for good (no recycle bin), kept for the ground truth. */
  readonly removed = new Map<string, Row>();
  private readonly indexes = new Map<string, Map<string, Set<Row>>>();

  constructor(
    readonly def: ObjectDef,
    private readonly journal: () => Journal | null,
  ) {
    // Audit lookups (who created or changed a row) are left unindexed: a filter on them scans.
    for (const field of def.fields)
      if (field.type === 'reference' && field.name !== 'CreatedById' && field.name !== 'LastModifiedById')
        this.indexes.set(field.name, new Map());
  }

  get(id: string): Row | undefined {
    return this.rows.get(id);
  }

  /** Live and deleted rows whose lookup `field` holds `id`. */
  byRef(field: string, id: string): readonly Row[] {
    const set = this.indexes.get(field)?.get(id);
    return set ? [...set] : [];
  }

  hasIndex(field: string): boolean {
    return this.indexes.has(field);
  }

  insert(row: Row): Row {
    this.rows.set(row.Id, row);
    this.removed.delete(row.Id);
    this.index(row, true);
    this.journal()?.push(() => this.remove(row));
    return row;
  }

  update(row: Row, changes: Record<string, unknown>): void {
    const before: Record<string, unknown> = {};
    for (const key of Object.keys(changes)) before[key] = row[key];
    const indexed = Object.keys(changes).filter((key) => this.indexes.has(key));
    this.index(row, false, indexed);
    Object.assign(row, changes);
    this.index(row, true, indexed);
    this.journal()?.push(() => {
      this.index(row, false, indexed);
      Object.assign(row, before);
      this.index(row, true, indexed);
    });
  }

  /** Removes the row for good (objects without a recycle bin). */
  remove(row: Row): void {
    if (!this.rows.delete(row.Id)) return;
    this.removed.set(row.Id, row);
    this.index(row, false);
    this.journal()?.push(() => this.insert(row));
  }

  private index(row: Row, add: boolean, fields: Iterable<string> = this.indexes.keys()): void {
    for (const field of fields) {
      const index = this.indexes.get(field)!;
      const value = row[field];
      if (typeof value !== 'string') continue;
      let set = index.get(value);
      if (add) {
        if (!set) index.set(value, (set = new Set()));
        set.add(row);
      } else {
        set?.delete(row);
        if (set?.size === 0) index.delete(value);
      }
    }
  }
}

/** All of one org's records. */
export class Store {
  private readonly tables = new Map<string, Table>();
  private readonly byPrefix = new Map<string, Table>();
  private journal: Journal | null = null;

  constructor() {
    for (const def of OBJECTS.values()) {
      const table = new Table(def, () => this.journal);
      this.tables.set(def.name, table);
      this.byPrefix.set(def.keyPrefix, table);
    }
  }

  table(name: ObjectName | string): Table {
    const table = this.tables.get(name);
    if (!table) throw new Error(`no table ${name}`);
    return table;
  }

  /** The table of the object whose key prefix the id has. */
  tableFor(id: string): Table | undefined {
    return this.byPrefix.get(id.slice(0, 3));
  }

  /** The row with this (canonical) id in whichever table holds it. */
  find(id: string): Row | undefined {
    return this.byPrefix.get(id.slice(0, 3))?.get(id);
  }

  /** Runs `work` as one transaction: on a throw, or when `work` answers false, every write it made is undone. */
  transaction<T>(work: () => T, failed: (result: T) => boolean): T {
    if (this.journal) return work();
    const journal = (this.journal = new Journal());
    let result: T;
    try {
      result = work();
    } catch (error) {
      this.journal = null;
      journal.rollback();
      throw error;
    }
    // Undo steps write through the tables too: they must not be journaled themselves.
    this.journal = null;
    if (failed(result)) journal.rollback();
    return result;
  }

  /** Records an undo step for state kept outside the tables (the governance log). */
  onRollback(step: () => void): void {
    this.journal?.push(step);
  }
}
