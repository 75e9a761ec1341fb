import { ApiError, soqlError } from '../errors.js';
import { canonicalId } from '../ids.js';
import { OBJECTS, OBJECTS_BY_PREFIX, OBJECTS_CI, type FieldDef, type ObjectDef } from '../schema.js';
import type { Row, Store } from '../store.js';
import { dateConstantRange, dateToMs, formatDateTime } from './dates.js';
import { parseSoql, type Condition, type Literal, type Path, type SoqlQuery } from './parser.js';

/** A field path resolved against the schema: the lookups to follow, then the field read. */
interface Resolved {
  readonly lookups: readonly FieldDef[];
  readonly leaf: FieldDef;
  readonly text: string;
}

/** What a query found: matching rows in order, or a count. */
export type QueryOutcome =
  | {
      readonly kind: 'rows';
      readonly def: ObjectDef;
      readonly rows: readonly Row[];
      readonly project: (row: Row, version: string) => object;
    }
  | { readonly kind: 'count'; readonly count: number }
  | { readonly kind: 'aggregate'; readonly records: readonly object[] };

export interface QueryScope {
  readonly store: Store;
  readonly now: number;
  /** queryAll: deleted records (IsDeleted = true) are included. */
  readonly includeDeleted: boolean;
}

const STRING_TYPES = new Set(['string', 'picklist', 'email', 'url']);
const ID_TYPES = new Set(['id', 'reference']);
const NUMBER_TYPES = new Set(['int', 'double']);

const noSuchColumn = (q: SoqlQuery, path: Path, name: string, object: string) =>
  soqlError(
    'INVALID_FIELD',
    q.text,
    path.pos,
    `No such column '${name}' on entity '${object}'. If you are attempting to use a custom field, be sure to append the '__c' after the custom field name. Please reference your WSDL or the describe call for the appropriate names.`,
  );

function resolve(q: SoqlQuery, def: ObjectDef, path: Path): Resolved {
  const lookups: FieldDef[] = [];
  let current = def;
  const names: string[] = [];
  for (const [k, part] of path.parts.entries()) {
    if (k < path.parts.length - 1) {
      const lookup = current.byRelationship.get(part.toLowerCase());
      if (!lookup)
        throw soqlError(
          'INVALID_FIELD',
          q.text,
          path.pos,
          `Didn't understand relationship '${part}' in field path. If you are attempting to use a custom relationship, be sure to append the '__r' after the custom relationship name. Please reference your WSDL or the describe call for the appropriate names.`,
        );
      lookups.push(lookup);
      names.push(lookup.relationshipName!);
      current = OBJECTS.get(lookup.referenceTo![0]!) ?? current;
      continue;
    }
    const leaf = current.byName.get(part.toLowerCase());
    if (!leaf) throw noSuchColumn(q, path, part, current.name);
    names.push(leaf.name);
    return { lookups, leaf, text: names.join('.') };
  }
  throw noSuchColumn(q, path, path.parts.join('.'), def.name);
}

/** The row a lookup chain ends at (null where a lookup is empty), and its value. */
function follow(store: Store, row: Row, lookups: readonly FieldDef[]): Row | null {
  let current: Row | undefined = row;
  for (const lookup of lookups) {
    const id: unknown = current[lookup.name];
    current = typeof id === 'string' ? store.find(id) : undefined;
    if (!current) return null;
  }
  return current;
}

function valueOf(store: Store, row: Row, r: Resolved): unknown {
  const target = follow(store, row, r.lookups);
  return target ? (target[r.leaf.name] ?? null) : null;
}

/** A comparable key for ordering and comparisons: ids by their case-sensitive 15 characters, text case-insensitively. */
function key(type: string, value: unknown): string | number | boolean | null {
  if (value === null || value === undefined) return null;
  if (ID_TYPES.has(type)) return String(value).slice(0, 15);
  if (type === 'date') return dateToMs(String(value));
  if (typeof value === 'string') return value.toLowerCase();
  if (typeof value === 'number' || typeof value === 'boolean') return value;
  return null;
}

type Predicate = (row: Row) => boolean;

function likeMatcher(pattern: string): (value: string) => boolean {
  let source = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    if (c === '\\' && (pattern[i + 1] === '%' || pattern[i + 1] === '_')) source += `\\${pattern[++i]}`;
    else if (c === '%') source += '.*';
    else if (c === '_') source += '.';
    else source += c.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  }
  const regex = new RegExp(`^${source}$`, 'is');
  return (value) => regex.test(value);
}

class Compiler {
  constructor(
    private readonly q: SoqlQuery,
    private readonly def: ObjectDef,
    private readonly scope: QueryScope,
  ) {}

  private typeError(field: FieldDef, literal: Literal, expected: string, quoted: boolean): ApiError {
    return soqlError(
      'INVALID_QUERY_FILTER_OPERATOR',
      this.q.text,
      literal.pos,
      `value of filter criterion for field '${field.name}' must be of type ${expected} and ${quoted ? 'should be enclosed in quotes' : 'should not be enclosed in quotes'}`,
    );
  }

  /** The literal as a comparable key for the field, or a range for date literals; refuses a literal of the wrong type. */
  private operand(field: FieldDef, literal: Literal): { key: string | number | boolean | null } | { start: number; end: number } {
    const type = field.type;
    if (literal.kind === 'null') return { key: null };
    if (ID_TYPES.has(type)) {
      if (literal.kind !== 'string') throw this.typeError(field, literal, 'id', true);
      const id = canonicalId(literal.value);
      if (!id) throw soqlError('INVALID_QUERY_FILTER_OPERATOR', this.q.text, literal.pos, `invalid ID field: ${literal.value}`);
      return { key: id.slice(0, 15) };
    }
    if (STRING_TYPES.has(type)) {
      if (literal.kind !== 'string') throw this.typeError(field, literal, 'string', true);
      return { key: literal.value.toLowerCase() };
    }
    if (type === 'boolean') {
      if (literal.kind !== 'boolean') throw this.typeError(field, literal, 'boolean', false);
      return { key: literal.value };
    }
    if (NUMBER_TYPES.has(type)) {
      if (literal.kind !== 'number') throw this.typeError(field, literal, type === 'int' ? 'integer' : 'double', false);
      return { key: literal.value };
    }
    if (type === 'datetime' || type === 'date') {
      if (literal.kind === 'dateConstant') return dateConstantRange(literal.name, literal.n, this.scope.now);
      if (type === 'datetime' && literal.kind === 'datetime') return { key: literal.value };
      if (type === 'date' && literal.kind === 'date') return { key: dateToMs(literal.value) };
      throw this.typeError(field, literal, type === 'datetime' ? 'dateTime' : 'date', false);
    }
    throw soqlError('INVALID_FIELD', this.q.text, literal.pos, `field '${field.name}' can not be filtered in a query call`);
  }

  condition(c: Condition): Predicate {
    switch (c.kind) {
      case 'and': {
        const items = c.items.map((i) => this.condition(i));
        return (row) => items.every((p) => p(row));
      }
      case 'or': {
        const items = c.items.map((i) => this.condition(i));
        return (row) => items.some((p) => p(row));
      }
      case 'not': {
        const inner = this.condition(c.item);
        return (row) => !inner(row);
      }
      case 'in': {
        const r = resolve(this.q, this.def, c.path);
        const keys = new Set(
          c.values.map((v) => {
            const operand = this.operand(r.leaf, v);
            if (!('key' in operand)) throw soqlError('MALFORMED_QUERY', this.q.text, v.pos, 'unexpected token: date literal in an IN list');
            return operand.key;
          }),
        );
        return (row) => keys.has(key(r.leaf.type, valueOf(this.scope.store, row, r))) !== c.negate;
      }
      case 'compare':
        return this.compare(c.path, c.op, c.value);
    }
  }

  private compare(path: Path, op: string, literal: Literal): Predicate {
    const r = resolve(this.q, this.def, path);
    const store = this.scope.store;
    if (op === 'LIKE') {
      if (!STRING_TYPES.has(r.leaf.type))
        throw soqlError('INVALID_QUERY_FILTER_OPERATOR', this.q.text, literal.pos, `invalid operator on ${r.leaf.type} field`);
      if (literal.kind !== 'string') throw this.typeError(r.leaf, literal, 'string', true);
      const match = likeMatcher(literal.value);
      return (row) => {
        const value = valueOf(store, row, r);
        return typeof value === 'string' && match(value);
      };
    }
    if ((r.leaf.type === 'boolean' || literal.kind === 'null') && op !== '=' && op !== '!=')
      throw soqlError('INVALID_QUERY_FILTER_OPERATOR', this.q.text, literal.pos, `invalid operator on ${r.leaf.type} field`);
    const operand = this.operand(r.leaf, literal);
    if ('start' in operand) {
      const { start, end } = operand;
      const inRange: Record<string, (v: number) => boolean> = {
        '=': (v) => v >= start && v < end,
        '!=': (v) => v < start || v >= end,
        '<': (v) => v < start,
        '<=': (v) => v < end,
        '>': (v) => v >= end,
        '>=': (v) => v >= start,
      };
      const test = inRange[op]!;
      return (row) => {
        const v = key(r.leaf.type, valueOf(store, row, r));
        return typeof v === 'number' ? test(v) : op === '!=';
      };
    }
    const want = operand.key;
    return (row) => {
      const v = key(r.leaf.type, valueOf(store, row, r));
      if (op === '=') return v === want;
      if (op === '!=') return v !== want;
      if (v === null || want === null) return false;
      if (op === '<') return v < want;
      if (op === '<=') return v <= want;
      if (op === '>') return v > want;
      return v >= want;
    };
  }

  /** Sorts rows by ORDER BY, reading each row's keys once (decorate, sort, undecorate). */
  sorter(): ((rows: Row[]) => Row[]) | null {
    if (!this.q.orderBy.length) return null;
    const keys = this.q.orderBy.map((item) => {
      const r = resolve(this.q, this.def, item.path);
      if (r.leaf.type === 'base64')
        throw soqlError('INVALID_FIELD', this.q.text, item.path.pos, `field '${r.leaf.name}' can not be sorted in a query call`);
      return { r, item };
    });
    // Rows come in id order already (the table's, or sorted index candidates).
    if (keys.length === 1 && keys[0]!.r.leaf.type === 'id' && !keys[0]!.r.lookups.length && !keys[0]!.item.descending)
      return (rows) => rows;
    const store = this.scope.store;
    const compare = (a: (string | number | boolean | null)[], b: (string | number | boolean | null)[]) => {
      for (const [k, { item }] of keys.entries()) {
        const x = a[k]!;
        const y = b[k]!;
        if (x === y) continue;
        if (x === null) return item.nullsLast ? 1 : -1;
        if (y === null) return item.nullsLast ? -1 : 1;
        const order = x < y ? -1 : 1;
        return item.descending ? -order : order;
      }
      return 0;
    };
    return (rows) =>
      rows
        .map((row) => ({ row, k: keys.map(({ r }) => key(r.leaf.type, valueOf(store, row, r))) }))
        .sort((a, b) => compare(a.k, b.k))
        .map((x) => x.row);
  }
}

/** Ids that an `Id`/lookup `=` or `IN` at the top of the WHERE clause allows, for an index lookup (null: scan everything). */
function indexedCandidates(q: SoqlQuery, def: ObjectDef, scope: QueryScope): Row[] | null {
  const table = scope.store.table(def.name);
  const top = q.where ? (q.where.kind === 'and' ? q.where.items : [q.where]) : [];
  for (const c of top) {
    if (c.kind !== 'compare' && c.kind !== 'in') continue;
    if (c.path.parts.length !== 1 || (c.kind === 'compare' && c.op !== '=') || (c.kind === 'in' && c.negate)) continue;
    const field = def.byName.get(c.path.parts[0]!.toLowerCase());
    if (!field || !(field.type === 'id' || table.hasIndex(field.name))) continue;
    const literals = c.kind === 'in' ? c.values : [c.value];
    const ids = literals.map((l) => (l.kind === 'string' ? canonicalId(l.value) : null));
    if (ids.some((id) => id === null)) continue; // the compiler reports the bad literal
    const rows = new Set<Row>();
    for (const id of ids as string[]) {
      if (field.type === 'id') {
        const row = table.get(id);
        if (row) rows.add(row);
      } else for (const row of table.byRef(field.name, id)) rows.add(row);
    }
    return [...rows].sort((a, b) => (a.Id < b.Id ? -1 : a.Id > b.Id ? 1 : 0));
  }
  return null;
}

/**
 * ContentDocumentLink can only be queried by document, linked entity or id
 * (https://developer.salesforce.com/docs/atlas.en-us.object_reference.meta/object_reference/sforce_api_objects_contentdocumentlink.htm).
 */
function checkContentDocumentLinkFilter(q: SoqlQuery): void {
  const top = q.where ? (q.where.kind === 'and' ? q.where.items : [q.where]) : [];
  const ok = top.some((c) =>
    (c.kind === 'compare' && c.op === '=') || (c.kind === 'in' && !c.negate)
      ? ['contentdocumentid', 'linkedentityid', 'id'].includes((c as { path: Path }).path.parts.join('.').toLowerCase())
      : false,
  );
  if (!ok)
    throw new ApiError(
      400,
      'MALFORMED_QUERY',
      "Implementation restriction: ContentDocumentLink requires a filter by a single Id on ContentDocumentId or LinkedEntityId using the equals operator or multiple Id's using the IN operator.",
    );
}

function formatValue(field: FieldDef, value: unknown, type: string, id: string, version: string): unknown {
  if (value === undefined || value === null) return null;
  if (field.type === 'datetime' && typeof value === 'number') return formatDateTime(value);
  // A base64 field answers the URL its blob is downloaded from (https://developer.salesforce.com/docs/atlas.en-us.api_rest.meta/api_rest/dome_sobject_blob_retrieve.htm).
  if (field.type === 'base64') return `/services/data/v${version}/sobjects/${type}/${id}/${field.name}`;
  return value;
}

/** A record as the REST API answers it, with `attributes { type, url }` (fields: the ones asked for, nested per relationship). */
export function wireRecord(store: Store, def: ObjectDef, row: Row, fields: readonly Resolved[] | null, version: string): object {
  const out: Record<string, unknown> = { attributes: { type: def.name, url: `/services/data/v${version}/sobjects/${def.name}/${row.Id}` } };
  const list = fields ?? def.fields.map((leaf) => ({ lookups: [], leaf, text: leaf.name }));
  for (const r of list) {
    let target: Record<string, unknown> = out;
    let current: Row | null = row;
    for (const lookup of r.lookups) {
      const name = lookup.relationshipName!;
      const id: unknown = current?.[lookup.name];
      const next: Row | null = typeof id === 'string' ? (store.find(id) ?? null) : null;
      if (!next) {
        target[name] = null;
        current = null;
        break;
      }
      const nextDef = OBJECTS_BY_PREFIX.get(next.Id.slice(0, 3))!;
      if (!target[name])
        target[name] = { attributes: { type: nextDef.name, url: `/services/data/v${version}/sobjects/${nextDef.name}/${next.Id}` } };
      target = target[name] as Record<string, unknown>;
      current = next;
    }
    if (!current) continue;
    const currentDef = OBJECTS_BY_PREFIX.get(current.Id.slice(0, 3))!;
    const leaf = currentDef.byName.get(r.leaf.name.toLowerCase()) ?? r.leaf;
    target[leaf.name] = formatValue(leaf, current[leaf.name], currentDef.name, current.Id, version);
  }
  return out;
}

/** Runs a SOQL statement against the org's records. */
export function runSoql(text: string, scope: QueryScope): QueryOutcome {
  const q = parseSoql(text);
  const def = OBJECTS_CI.get(q.from.name.toLowerCase());
  if (!def)
    throw soqlError(
      'INVALID_TYPE',
      text,
      q.from.pos,
      `sObject type '${q.from.name}' is not supported. If you are attempting to use a custom object, be sure to append the '__c' after the entity name. Please reference your WSDL or the describe call for the appropriate names.`,
    );
  const compiler = new Compiler(q, def, scope);
  const counts = q.select.filter((s) => s.kind === 'count');
  const fields = q.select.flatMap((s) => (s.kind === 'field' ? [{ path: s.path, r: resolve(q, def, s.path) }] : []));
  if (counts.length && fields.length)
    throw soqlError('MALFORMED_QUERY', text, fields[0]!.path.pos, `Field must be grouped or aggregated: ${fields[0]!.r.text}`);
  const seen = new Set<string>();
  for (const { path, r } of fields) {
    if (seen.has(r.text.toLowerCase())) throw soqlError('MALFORMED_QUERY', text, path.pos, `duplicate field selected: ${r.text}`);
    seen.add(r.text.toLowerCase());
  }
  if (def.name === 'ContentDocumentLink') checkContentDocumentLinkFilter(q);
  const predicate = q.where ? compiler.condition(q.where) : () => true;
  const sorter = compiler.sorter();
  const table = scope.store.table(def.name);
  const candidates = indexedCandidates(q, def, scope) ?? table.rows.values();
  let rows: Row[] = [];
  for (const row of candidates) {
    if (row._visibleAt !== undefined && row._visibleAt > scope.now) continue;
    if (row.IsDeleted === true && !scope.includeDeleted) continue;
    if (predicate(row)) rows.push(row);
  }
  if (sorter) rows = sorter(rows);
  const start = q.offset ?? 0;
  const sliced = rows.slice(start, q.limit === null ? undefined : start + q.limit);
  if (counts.length) {
    const count = counts[0]!;
    if (count.kind !== 'count' || count.path === null) return { kind: 'count', count: sliced.length };
    const r = resolve(q, def, count.path);
    const n = sliced.filter((row) => valueOf(scope.store, row, r) !== null).length;
    return { kind: 'aggregate', records: [{ attributes: { type: 'AggregateResult' }, expr0: n }] };
  }
  const resolved = fields.map((x) => x.r);
  return { kind: 'rows', def, rows: sliced, project: (row, version) => wireRecord(scope.store, def, row, resolved, version) };
}
