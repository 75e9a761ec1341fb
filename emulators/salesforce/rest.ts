import { randomBytes } from 'node:crypto';
import { ApiError, notFound } from './errors.js';
import { checksumSuffix, KEY_PREFIXES } from './ids.js';
import { OBJECTS, type ObjectDef } from './schema.js';
import {
  createRecord,
  deleteRecord,
  getBlob,
  getRecord,
  objectDef,
  updateRecord,
  userPassword,
  type Reply,
  type WriteContext,
} from './sobjects.js';
import { formatDateTime } from './soql/dates.js';
import { runSoql } from './soql/engine.js';

/**
 * The REST API under `/services/data/vXX.X` (https://developer.salesforce.com/docs/atlas.en-us.api_rest.meta/api_rest/resources_list.htm):
 * query and queryAll with locators, sObject rows, describe, limits, composite and sObject collections.
 */

export interface RestRequest extends WriteContext {
  readonly method: string;
  /** The path after `/services/data/vXX.X`, e.g. `/query`. */
  readonly path: string;
  readonly query: URLSearchParams;
  readonly headers: Readonly<Record<string, string | undefined>>;
  readonly body: unknown;
}

const json = (value: unknown, status = 200): Reply => ({ status, json: value });

/** `Sforce-Query-Options: batchSize=N`: 200 to 2,000, default 2,000 (https://developer.salesforce.com/docs/atlas.en-us.api_rest.meta/api_rest/headers_queryoptions.htm). */
function batchSize(req: RestRequest): number {
  const option = /batchSize\s*=\s*(\d+)/i.exec(req.headers['sforce-query-options'] ?? '');
  const asked = option ? Math.min(2000, Math.max(200, Number(option[1]))) : 2000;
  return Math.min(asked, req.org.settings.pageSize);
}

function page(
  req: RestRequest,
  cursorId: string | null,
  rows: readonly import('./store.js').Row[],
  start: number,
  batch: number,
  project: (row: import('./store.js').Row, version: string) => object,
): Reply {
  const end = Math.min(rows.length, start + batch);
  const records = rows.slice(start, end).map((row) => project(row, req.version));
  const done = end >= rows.length;
  return json({
    totalSize: rows.length,
    done,
    ...(done ? {} : { nextRecordsUrl: `/services/data/v${req.version}/query/${cursorId}-${end}` }),
    records,
  });
}

function query(req: RestRequest, includeDeleted: boolean): Reply {
  const soql = req.query.get('q');
  if (soql === null || soql.trim() === '') throw new ApiError(400, 'MALFORMED_QUERY', 'A query string has to be specified');
  const outcome = runSoql(soql, { store: req.org.state.store, now: req.now, includeDeleted });
  if (outcome.kind === 'count') return json({ totalSize: outcome.count, done: true, records: [] });
  if (outcome.kind === 'aggregate') return json({ totalSize: outcome.records.length, done: true, records: outcome.records });
  const batch = batchSize(req);
  let cursorId: string | null = null;
  if (outcome.rows.length > batch) {
    const id15 = `${KEY_PREFIXES.QueryLocator}${randomBytes(9).toString('base64url').replace(/[-_]/g, 'A').slice(0, 12)}`;
    cursorId = id15 + checksumSuffix(id15);
    req.org.openCursor(
      { id: cursorId, userId: req.userId, rows: outcome.rows, project: outcome.project, batch, lastUsed: req.now },
      req.now,
    );
  }
  return page(req, cursorId, outcome.rows, 0, batch, outcome.project);
}

/** The next batch of an open query locator; an unknown, released or foreign one answers INVALID_QUERY_LOCATOR. */
function queryMore(req: RestRequest, locator: string): Reply {
  const match = /^(01g[a-zA-Z0-9]{15})-(\d+)$/.exec(locator);
  const cursor = match ? req.org.cursors.get(match[1]!) : undefined;
  const start = match ? Number(match[2]) : NaN;
  if (!cursor || cursor.userId !== req.userId || !(start >= 0 && start < cursor.rows.length) || req.now - cursor.lastUsed > 15 * 60_000)
    throw new ApiError(400, 'INVALID_QUERY_LOCATOR', 'invalid query locator');
  cursor.lastUsed = req.now;
  return page(req, cursor.id, cursor.rows, start, cursor.batch, cursor.project);
}

/** `GET /limits` (https://developer.salesforce.com/docs/atlas.en-us.api_rest.meta/api_rest/resources_limits.htm). */
function limits(req: RestRequest): Reply {
  const org = req.org;
  const fixed = (max: number) => ({ Max: max, Remaining: max });
  const files = [...org.state.table('ContentVersion').rows.values()].reduce((sum, v) => sum + Number(v.ContentSize ?? 0), 0);
  return json({
    ConcurrentAsyncGetReportInstances: fixed(200),
    ConcurrentSyncReportRuns: fixed(20),
    DailyApiRequests: { Max: org.quota.max, Remaining: org.quota.remaining(req.now) },
    DailyAsyncApexExecutions: fixed(250_000),
    DailyBulkApiBatches: fixed(15_000),
    DailyBulkV2QueryFileStorageMB: fixed(976_562),
    DailyBulkV2QueryJobs: fixed(10_000),
    DailyStreamingApiEvents: fixed(1_000_000),
    DataStorageMB: { Max: 10_240, Remaining: 10_200 },
    FileStorageMB: { Max: 10_240, Remaining: Math.max(0, 10_240 - Math.ceil(files / 1_048_576)) },
    HourlyPublishedPlatformEvents: fixed(250_000),
    MassEmail: fixed(5000),
    PermissionSets: { Max: 1500, Remaining: 1500 - org.state.table('PermissionSet').rows.size },
    SingleEmail: fixed(5000),
  });
}

function describeField(def: ObjectDef, name: string) {
  const field = def.byName.get(name.toLowerCase())!;
  return {
    name: field.name,
    label: field.name.replace(/([a-z])([A-Z])/g, '$1 $2').replace(/ Id$/, ' ID'),
    type: field.type,
    nillable: field.nillable ?? false,
    createable: field.createable ?? false,
    updateable: field.updateable ?? false,
    filterable: field.type !== 'base64',
    sortable: field.type !== 'base64',
    referenceTo: field.referenceTo ?? [],
    relationshipName: field.relationshipName ?? null,
    picklistValues: [],
  };
}

function describeObject(def: ObjectDef, version: string, full: boolean) {
  const urls = {
    sobject: `/services/data/v${version}/sobjects/${def.name}`,
    describe: `/services/data/v${version}/sobjects/${def.name}/describe`,
    rowTemplate: `/services/data/v${version}/sobjects/${def.name}/{ID}`,
  };
  return {
    name: def.name,
    label: def.name,
    keyPrefix: def.keyPrefix,
    createable: def.createable,
    deletable: def.deletable,
    updateable: def.updateable,
    queryable: true,
    retrieveable: true,
    replicateable: def.replicateable,
    custom: false,
    urls,
    ...(full ? { fields: def.fields.map((f) => describeField(def, f.name)) } : {}),
  };
}

/** `getDeleted` and `getUpdated` (https://developer.salesforce.com/docs/atlas.en-us.api_rest.meta/api_rest/resources_getdeleted.htm, …/resources_getupdated.htm). */
function changedBetween(req: RestRequest, def: ObjectDef, deleted: boolean): Reply {
  const start = Date.parse(req.query.get('start') ?? '');
  const end = Date.parse(req.query.get('end') ?? '');
  if (Number.isNaN(start) || Number.isNaN(end)) throw new ApiError(400, 'MALFORMED_QUERY', 'start and end must be dateTimes');
  if (!def.replicateable) throw new ApiError(400, 'INVALID_TYPE', `sObject type '${def.name}' is not supported for replication`);
  if (start < req.now - 30 * 86_400_000)
    throw new ApiError(400, 'INVALID_REPLICATION_DATE', 'startDate before org replication enabled date');
  const rows = [...req.org.state.table(def.name as never).rows.values()].filter((r) => {
    const stamp = Number(r.SystemModstamp);
    return (r.IsDeleted === true) === deleted && stamp >= start && stamp <= end && !(r._visibleAt !== undefined && r._visibleAt > req.now);
  });
  const covered = formatDateTime(Math.min(end, req.now));
  if (deleted)
    return json({
      deletedRecords: rows.map((r) => ({ id: r.Id, deletedDate: formatDateTime(Number(r.SystemModstamp)) })),
      earliestDateAvailable: formatDateTime(req.now - 15 * 86_400_000),
      latestDateCovered: covered,
    });
  return json({ ids: rows.map((r) => r.Id), latestDateCovered: covered });
}

/** sObject collections (https://developer.salesforce.com/docs/atlas.en-us.api_rest.meta/api_rest/resources_composite_sobjects_collections.htm): up to 200 records per request. */
function collections(req: RestRequest, rest: string[]): Reply {
  const outcome = (work: () => Reply) => {
    try {
      const reply = work();
      const id = reply.json && typeof reply.json === 'object' && 'id' in reply.json ? (reply.json as { id: string }).id : undefined;
      return { id, success: true, errors: [] as unknown[] };
    } catch (error) {
      if (!(error instanceof ApiError)) throw error;
      return { success: false, errors: [{ statusCode: error.errorCode, message: error.message, fields: error.fields ?? [] }] };
    }
  };
  const allOrNone = (items: { success: boolean }[]) => items.some((i) => !i.success);
  if (req.method === 'GET' && rest.length === 1) {
    const def = objectDef(rest[0]!);
    const ids = (req.query.get('ids') ?? '').split(',').filter(Boolean);
    if (ids.length > 2000)
      throw new ApiError(400, 'EXCEEDED_ID_LIMIT', 'record limit reached. cannot submit more than 2000 records into this call');
    return json(
      ids.map((id) => {
        try {
          return getRecord(req.org, def, id, req.query.get('fields'), req).json;
        } catch {
          return null;
        }
      }),
    );
  }
  if (rest.length) throw notFound();
  if (req.method === 'DELETE') {
    const ids = (req.query.get('ids') ?? '').split(',').filter(Boolean);
    if (ids.length > 200)
      throw new ApiError(400, 'EXCEEDED_ID_LIMIT', 'record limit reached. cannot submit more than 200 records into this call');
    const all = req.query.get('allOrNone') === 'true';
    const run = () => ids.map((id) => ({ ...outcome(() => deleteRecord(req, objectOfRecord(id), id)), id }));
    return json(all ? rollbackIfFailed(req, run, allOrNone) : run());
  }
  const body = (req.body ?? {}) as { allOrNone?: boolean; records?: { attributes?: { type?: string }; id?: string; Id?: string }[] };
  const records = Array.isArray(body.records) ? body.records : [];
  if (records.length > 200)
    throw new ApiError(400, 'EXCEEDED_ID_LIMIT', 'record limit reached. cannot submit more than 200 records into this call');
  const typeOf = (r: (typeof records)[number]) => {
    if (!r.attributes?.type) throw new ApiError(400, 'INVALID_TYPE', 'No SObject Type defined in the record');
    return objectDef(r.attributes.type);
  };
  const run = () =>
    records.map((r) => {
      if (req.method === 'POST') return outcome(() => createRecord(req, typeOf(r), r));
      if (req.method === 'PATCH') {
        const id = r.id ?? r.Id ?? '';
        return { ...outcome(() => updateRecord(req, typeOf(r), id, r)), id };
      }
      throw new ApiError(405, 'METHOD_NOT_ALLOWED', `HTTP Method '${req.method}' not allowed. Allowed are GET,POST,PATCH,DELETE`);
    });
  return json(body.allOrNone ? rollbackIfFailed(req, run, allOrNone) : run());
}

function rollbackIfFailed<T extends { success: boolean }>(req: RestRequest, run: () => T[], failed: (items: T[]) => boolean): T[] {
  const items = req.org.state.store.transaction(run, failed);
  if (!failed(items)) return items;
  return items.map((item) =>
    item.success
      ? {
          ...item,
          success: false,
          errors: [
            {
              statusCode: 'ALL_OR_NONE_OPERATION_ROLLED_BACK',
              message: 'Record rolled back because not all records were valid and the request was using AllOrNone header',
              fields: [],
            },
          ],
        }
      : item,
  );
}

function objectOfRecord(id: string): ObjectDef {
  const def = [...OBJECTS.values()].find((d) => d.keyPrefix === id.slice(0, 3));
  if (!def) throw notFound();
  return def;
}

/** Routes one REST request (composite subrequests come through here too). */
export function dispatch(req: RestRequest): Reply {
  let parts: string[];
  try {
    parts = req.path.split('/').filter(Boolean).map(decodeURIComponent);
  } catch {
    throw notFound();
  }
  const [head, ...rest] = parts;
  const method = req.method;
  if (!head)
    return json(
      Object.fromEntries(['sobjects', 'query', 'queryAll', 'limits', 'composite'].map((r) => [r, `/services/data/v${req.version}/${r}`])),
    );
  switch (head) {
    case 'query':
    case 'queryAll':
      if (method !== 'GET') break;
      if (rest.length === 0) return query(req, head === 'queryAll');
      if (rest.length === 1) return queryMore(req, rest[0]!);
      break;
    case 'limits':
      if (method === 'GET' && rest.length === 0) return limits(req);
      break;
    case 'composite':
      if (rest[0] === 'sobjects') return collections(req, rest.slice(1));
      break;
    case 'sobjects': {
      if (rest.length === 0 && method === 'GET')
        return json({
          encoding: 'UTF-8',
          maxBatchSize: 200,
          sobjects: [...OBJECTS.values()].map((d) => describeObject(d, req.version, false)),
        });
      const def = objectDef(rest[0]!);
      const [, second, third] = rest;
      if (rest.length === 1) {
        if (method === 'GET') return json({ objectDescribe: describeObject(def, req.version, false), recentItems: [] });
        if (method === 'POST') return createRecord(req, def, req.body);
        break;
      }
      if (second === 'describe' && rest.length === 2 && method === 'GET') return json(describeObject(def, req.version, true));
      if ((second === 'deleted' || second === 'updated') && rest.length === 2 && method === 'GET')
        return changedBetween(req, def, second === 'deleted');
      if (rest.length === 2) {
        if (method === 'GET') return getRecord(req.org, def, second!, req.query.get('fields'), req);
        if (method === 'PATCH') return updateRecord(req, def, second!, req.body);
        if (method === 'DELETE') return deleteRecord(req, def, second!);
        break;
      }
      if (rest.length === 3 && def.name === 'User' && third === 'password') return userPassword(req, method, second!, req.body);
      if (rest.length === 3 && method === 'GET') return getBlob(req.org, def, second!, third!, req.now);
      break;
    }
  }
  throw notFound();
}
