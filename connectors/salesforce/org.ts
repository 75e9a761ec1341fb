import type { Connection } from 'jsforce';
import { PermanentError, type ProviderHttp } from '../contract.js';
import { salesforceConnection } from './jsforce-http.js';

/** One page of a SOQL query (https://developer.salesforce.com/docs/atlas.en-us.api_rest.meta/api_rest/resources_query.htm). */
export interface QueryPage<T> {
  readonly records: T[];
  readonly done: boolean;
  /** `/services/data/vXX.X/query/01g…-2000`, the next page's locator. */
  readonly nextRecordsUrl?: string;
}

/**
 * Query subrequests in one composite request: of its 25 subrequests, at most 5 may be queries (Query,
 * QueryAll) or sObject Collections, else the whole request is refused 400 LIMIT_EXCEEDED
 * (https://developer.salesforce.com/docs/atlas.en-us.api_rest.meta/api_rest/resources_composite_composite.htm).
 */
export const COMPOSITE_MAX_QUERIES = 5;
/** Ids in one `IN (…)` filter: 200 ids keep a query URL near 5,000 characters, well under the REST API's URI limit. */
export const IN_CHUNK = 200;

/** The records a listing page asks for: Salesforce's largest query batch. */
const PAGE_LIMIT = 2000;

/** An Id in a SOQL filter; anything but 15 or 18 letters and digits is refused (a page token is input). */
function quoteId(id: string): string {
  if (!/^[a-zA-Z0-9]{15}([a-zA-Z0-9]{3})?$/.test(id)) throw new PermanentError('The page token is not one this connector made');
  return `'${id}'`;
}

const isNotFound = (error: unknown) => (error as { status?: number }).status === 404;

/**
 * An org's REST API through jsforce (queries, records, composite), every request through the
 * scheduler's {@link ProviderHttp}.
 */
export class Org {
  readonly connection: Connection;

  constructor(
    http: ProviderHttp,
    instanceUrl: string,
    readonly version: string,
  ) {
    this.connection = salesforceConnection(http, instanceUrl, version);
  }

  /** The REST API's base path, e.g. `/services/data/v62.0`. */
  get base(): string {
    return `/services/data/v${this.version}`;
  }

  /** A page token is a query's `nextRecordsUrl`: only such a path of this org's API is followed. */
  private locator(link: string): string {
    if (!new RegExp(`^/services/data/v\\d+\\.\\d/query(All)?/[A-Za-z0-9-]+$`).test(link))
      throw new PermanentError('The page token is not one this connector made');
    return link;
  }

  /** The first page of `soql` (through `/queryAll` with `all`: deleted and archived records too), or the page at `link`. */
  async page<T>(soql: string | null, link: string | null = null, all = false): Promise<QueryPage<T>> {
    if (link) return this.connection.request<QueryPage<T>>(this.locator(link));
    return this.connection.request<QueryPage<T>>(`${this.base}/${all ? 'queryAll' : 'query'}?q=${encodeURIComponent(soql!)}`);
  }

  /**
   * A page of records ordered by Id, from after `after` (an Id; null: the first page): `WHERE Id > after
   * ORDER BY Id LIMIT 2000`, and the next page starts after its last record. Unlike a query locator,
   * which Salesforce closes after 15 minutes unused, such a position survives a scan resumed hours
   * later, and a query done in one batch leaves no cursor open. Where Salesforce answers a smaller batch,
   * the rest is asked for by position too.
   */
  async byId<T extends { Id: string }>(
    select: string,
    from: string,
    where: string | null,
    after: string | null,
  ): Promise<{ records: T[]; next: string | null }> {
    const conditions = [where, after ? `Id > ${quoteId(after)}` : null].filter(Boolean).join(' AND ');
    const result = await this.page<T>(
      `SELECT ${select} FROM ${from}${conditions ? ` WHERE ${conditions}` : ''} ORDER BY Id LIMIT ${PAGE_LIMIT}`,
    );
    const last = result.records.at(-1);
    const more = !result.done || result.records.length >= PAGE_LIMIT;
    return { records: result.records, next: more && last ? last.Id : null };
  }

  /** Every record of `soql`, page after page (for small result sets: permission sets, frozen users, one file's links). */
  async all<T>(soql: string, all = false): Promise<T[]> {
    const out: T[] = [];
    let page = await this.page<T>(soql, null, all);
    out.push(...page.records);
    while (!page.done && page.nextRecordsUrl) {
      page = await this.page<T>(null, page.nextRecordsUrl);
      out.push(...page.records);
    }
    return out;
  }

  /**
   * Several queries in as few requests as the composite API allows (5 query subrequests in one
   * request, which counts as one API request against the org's limit), each followed to its last page.
   */
  async many<T>(soqls: readonly string[]): Promise<T[][]> {
    if (soqls.length === 0) return [];
    if (soqls.length === 1) return [await this.all<T>(soqls[0]!)];
    const results: T[][] = [];
    for (let start = 0; start < soqls.length; start += COMPOSITE_MAX_QUERIES) {
      const chunk = soqls.slice(start, start + COMPOSITE_MAX_QUERIES);
      const answer = await this.connection.request<{ compositeResponse: { body: unknown; httpStatusCode: number; referenceId: string }[] }>(
        {
          method: 'POST',
          url: `${this.base}/composite`,
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({
            allOrNone: false,
            compositeRequest: chunk.map((soql, i) => ({
              method: 'GET',
              url: `${this.base}/query?q=${encodeURIComponent(soql)}`,
              referenceId: `q${i}`,
            })),
          }),
        },
      );
      const byRef = new Map(answer.compositeResponse.map((r) => [r.referenceId, r]));
      for (let i = 0; i < chunk.length; i++) {
        const sub = byRef.get(`q${i}`);
        if (!sub || sub.httpStatusCode >= 400)
          throw new PermanentError(
            `The org refused a query of a composite request (HTTP ${sub?.httpStatusCode ?? 'none'})`,
            sub?.httpStatusCode,
          );
        let page = sub.body as QueryPage<T>;
        const records = [...page.records];
        while (!page.done && page.nextRecordsUrl) {
          page = await this.page<T>(null, page.nextRecordsUrl);
          records.push(...page.records);
        }
        results.push(records);
      }
    }
    return results;
  }

  /** `ids` split into `IN (…)` lists of at most {@link IN_CHUNK}. */
  static chunks(ids: readonly string[]): string[][] {
    const out: string[][] = [];
    for (let i = 0; i < ids.length; i += IN_CHUNK) out.push(ids.slice(i, i + IN_CHUNK) as string[]);
    return out;
  }

  request<T>(method: 'GET' | 'POST' | 'PATCH' | 'DELETE', path: string, body?: unknown): Promise<T> {
    return this.connection.request<T>({
      method,
      url: path.startsWith('/services/') ? path : `${this.base}${path}`,
      ...(body !== undefined ? { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) } : {}),
    });
  }

  /** Deletes a record; one already gone is no failure (a governance action read back before it is retried). */
  async remove(sobject: string, id: string): Promise<boolean> {
    try {
      await this.request('DELETE', `/sobjects/${sobject}/${encodeURIComponent(id)}`);
      return true;
    } catch (error) {
      if (isNotFound(error)) return false;
      throw error;
    }
  }
}
