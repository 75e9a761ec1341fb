import { parseCSV } from 'jsforce/lib/csv.js';
import { PermanentError, type Page, type PageToken, type ProviderEvent, type TimeWindow } from '../contract.js';
import type { Org } from './org.js';
import {
  EVENT_LOG_TYPES,
  eventLogEvent,
  loginEvent,
  setupEvent,
  soqlDateTime,
  type LoginHistoryRecord,
  type SetupAuditTrailRecord,
} from './records.js';

/**
 * Where a read of the audit trail stands: the stream (0 sign-ins, 1 setup changes, 2 event log files),
 * the next page of its query, and the event log files listed but not read yet.
 */
interface AuditToken {
  readonly part: 0 | 1 | 2;
  readonly link: string | null;
  readonly files?: readonly { readonly id: string; readonly type: string }[];
}

const encode = (token: AuditToken): PageToken => Buffer.from(JSON.stringify(token)).toString('base64url');
function decode(page: PageToken | null): AuditToken {
  if (!page) return { part: 0, link: null };
  try {
    const token = JSON.parse(Buffer.from(page, 'base64url').toString('utf8')) as AuditToken;
    if ([0, 1, 2].includes(token.part) && (token.link === null || typeof token.link === 'string')) return token;
  } catch {
    // refused below
  }
  throw new PermanentError('The page token is not one this connector made');
}

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;

/**
 * The audit trail of a window, one request per page: sign-ins (LoginHistory by LoginTime, the
 * country from LoginGeo), setup changes (SetupAuditTrail by CreatedDate), then — where the
 * integration user may read them — event log files of report exports and file transfers.
 *
 * Event log files are made hours after their events (hourly files typically 3 to 6 hours later,
 * daily ones the next day: https://developer.salesforce.com/docs/atlas.en-us.object_reference.meta/object_reference/sforce_api_objects_eventlogfile.htm):
 * a window is read from the files whose LogDate (the hour or day they cover) overlaps it, and only
 * the rows of the window are kept. The activity scan, minutes behind, finds none of a recent hour's
 * files; the daily late-activities scan re-reads the last {@link SALESFORCE_MAX_AUDIT_LAG_MS} and
 * finds them once they exist. Rows are deduplicated by event type and request id.
 */
export async function readAuditPage(
  org: Org,
  window: TimeWindow,
  page: PageToken | null,
  eventLogs: boolean,
): Promise<Page<ProviderEvent>> {
  const token = decode(page);
  const from = soqlDateTime(window.from);
  const to = soqlDateTime(window.to);
  if (token.part === 0) {
    const result = await org.page<LoginHistoryRecord>(
      `SELECT Id, UserId, LoginTime, SourceIp, LoginType, Status, Browser, Platform, Application, LoginGeo.CountryIso FROM LoginHistory WHERE LoginTime >= ${from} AND LoginTime < ${to} ORDER BY LoginTime, Id`,
      token.link,
    );
    return {
      items: result.records.map(loginEvent),
      next: encode(result.nextRecordsUrl ? { part: 0, link: result.nextRecordsUrl } : { part: 1, link: null }),
    };
  }
  if (token.part === 1) {
    const result = await org.page<SetupAuditTrailRecord>(
      `SELECT Id, Action, Section, Display, CreatedDate, CreatedById, DelegateUser FROM SetupAuditTrail WHERE CreatedDate >= ${from} AND CreatedDate < ${to} ORDER BY CreatedDate, Id`,
      token.link,
    );
    const next = result.nextRecordsUrl
      ? encode({ part: 1, link: result.nextRecordsUrl })
      : eventLogs
        ? encode({ part: 2, link: null })
        : null;
    return { items: result.records.map(setupEvent), next };
  }
  const [file, ...rest] = token.files ?? [];
  if (file) {
    const rows = await readLogFile(org, file.id);
    const start = window.from.getTime();
    const end = window.to.getTime();
    const items = rows
      .map((row) => eventLogEvent(file.type, row))
      .filter((e): e is ProviderEvent => e !== null && Date.parse(e.occurredAt) >= start && Date.parse(e.occurredAt) < end);
    return { items, next: rest.length || token.link ? encode({ part: 2, link: token.link, files: rest }) : null };
  }
  if (token.files && !token.link) return { items: [], next: null };
  // LogDate is the start of the hour (hourly files) or the day (daily files) a file covers.
  const since = soqlDateTime(Math.floor((window.from.getTime() - DAY_MS) / HOUR_MS) * HOUR_MS);
  const types = EVENT_LOG_TYPES.map((t) => `'${t}'`).join(',');
  const result = await org.page<{ Id: string; EventType: string; LogDate: string; Interval?: string | null }>(
    `SELECT Id, EventType, LogDate, Interval, CreatedDate FROM EventLogFile WHERE EventType IN (${types}) AND LogDate >= ${since} AND LogDate < ${to} ORDER BY LogDate, Id`,
    token.link,
  );
  const files = result.records.filter((f) => overlaps(f.LogDate, f.Interval, window)).map((f) => ({ id: f.Id, type: f.EventType }));
  const link = result.nextRecordsUrl ?? null;
  return { items: [], next: files.length || link ? encode({ part: 2, link, files }) : null };
}

/** Whether the hour or day a log file covers (from its LogDate) overlaps the window. */
function overlaps(logDate: string, interval: string | null | undefined, window: TimeWindow): boolean {
  const start = Date.parse(logDate.replace(/([+-]\d\d)(\d\d)$/, '$1:$2'));
  if (!Number.isFinite(start)) return true;
  const end = start + (interval === 'Hourly' ? HOUR_MS : DAY_MS);
  return start < window.to.getTime() && end > window.from.getTime();
}

/** An event log file's rows (its LogFile field is a CSV: https://developer.salesforce.com/docs/atlas.en-us.api_rest.meta/api_rest/dome_event_log_file_download.htm). */
async function readLogFile(org: Org, id: string): Promise<Record<string, string>[]> {
  const body = await org.connection.request<unknown>(`${org.base}/sobjects/EventLogFile/${encodeURIComponent(id)}/LogFile`, {
    responseType: 'text/csv',
  });
  if (Array.isArray(body)) return body as Record<string, string>[];
  return typeof body === 'string' && body.length > 0 ? (parseCSV(body) as Record<string, string>[]) : [];
}

/**
 * The longest between an audit event and its appearance: event log files, the latest of the
 * streams, come hourly 3 to 6 hours after the hour and daily the day after
 * (the EventLogFile reference above); two days leaves room for a daily file made late.
 */
export const SALESFORCE_MAX_AUDIT_LAG_MS = 2 * DAY_MS;
