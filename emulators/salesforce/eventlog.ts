/**
 * Event Monitoring's log files: events of a type gathered per hour (Interval Hourly) and per day
 * (Daily) into CSV files with the columns the event type's page documents
 * (https://developer.salesforce.com/docs/atlas.en-us.object_reference.meta/object_reference/sforce_api_objects_eventlogfile_supportedeventtypes.htm).
 */

export const EVENT_TYPES = ['Login', 'ReportExport', 'ContentTransfer', 'API'] as const;
export type EventType = (typeof EVENT_TYPES)[number];

/** Columns of each type, in the order the files carry them, with their LogFileFieldTypes. */
const COLUMNS: Record<EventType, readonly (readonly [string, string])[]> = {
  // https://developer.salesforce.com/docs/atlas.en-us.object_reference.meta/object_reference/sforce_api_objects_eventlogfile_login.htm
  Login: [
    ['EVENT_TYPE', 'String'],
    ['TIMESTAMP', 'String'],
    ['REQUEST_ID', 'String'],
    ['ORGANIZATION_ID', 'Id'],
    ['USER_ID', 'Id'],
    ['RUN_TIME', 'Number'],
    ['CPU_TIME', 'Number'],
    ['URI', 'String'],
    ['SESSION_KEY', 'String'],
    ['LOGIN_KEY', 'String'],
    ['USER_TYPE', 'String'],
    ['REQUEST_STATUS', 'String'],
    ['DB_TOTAL_TIME', 'Number'],
    ['LOGIN_STATUS', 'String'],
    ['USER_NAME', 'String'],
    ['BROWSER_TYPE', 'String'],
    ['API_TYPE', 'String'],
    ['API_VERSION', 'String'],
    ['SOURCE_IP', 'IP'],
    ['TLS_PROTOCOL', 'String'],
    ['CIPHER_SUITE', 'String'],
    ['TIMESTAMP_DERIVED', 'DateTime'],
    ['USER_ID_DERIVED', 'Id'],
    ['CLIENT_IP', 'IP'],
    ['URI_ID_DERIVED', 'Id'],
  ],
  // https://developer.salesforce.com/docs/atlas.en-us.object_reference.meta/object_reference/sforce_api_objects_eventlogfile_reportexport.htm
  ReportExport: [
    ['EVENT_TYPE', 'String'],
    ['TIMESTAMP', 'String'],
    ['REQUEST_ID', 'String'],
    ['ORGANIZATION_ID', 'Id'],
    ['USER_ID', 'Id'],
    ['CPU_TIME', 'Number'],
    ['LOGIN_KEY', 'String'],
    ['SESSION_KEY', 'String'],
    ['CLIENT_INFO', 'String'],
    ['REPORT_DESCRIPTION', 'String'],
    ['URI', 'String'],
    ['TIMESTAMP_DERIVED', 'DateTime'],
    ['USER_ID_DERIVED', 'Id'],
    ['CLIENT_IP', 'IP'],
    ['URI_ID_DERIVED', 'Id'],
  ],
  // https://developer.salesforce.com/docs/atlas.en-us.object_reference.meta/object_reference/sforce_api_objects_eventlogfile_contenttransfer.htm
  ContentTransfer: [
    ['EVENT_TYPE', 'String'],
    ['TIMESTAMP', 'String'],
    ['REQUEST_ID', 'String'],
    ['ORGANIZATION_ID', 'Id'],
    ['USER_ID', 'Id'],
    ['RUN_TIME', 'Number'],
    ['CPU_TIME', 'Number'],
    ['URI', 'String'],
    ['SESSION_KEY', 'String'],
    ['LOGIN_KEY', 'String'],
    ['USER_TYPE', 'String'],
    ['REQUEST_STATUS', 'String'],
    ['DB_TOTAL_TIME', 'Number'],
    ['TRANSACTION_TYPE', 'String'],
    ['SIZE_BYTES', 'Number'],
    ['FILE_TYPE', 'String'],
    ['FILE_PREVIEW_TYPE', 'String'],
    ['VERSION_ID', 'Id'],
    ['DOCUMENT_ID', 'Id'],
    ['TIMESTAMP_DERIVED', 'DateTime'],
    ['USER_ID_DERIVED', 'Id'],
    ['CLIENT_IP', 'IP'],
    ['VERSION_ID_DERIVED', 'Id'],
    ['DOCUMENT_ID_DERIVED', 'Id'],
  ],
  // https://developer.salesforce.com/docs/atlas.en-us.object_reference.meta/object_reference/sforce_api_objects_eventlogfile_api.htm
  API: [
    ['EVENT_TYPE', 'String'],
    ['TIMESTAMP', 'String'],
    ['REQUEST_ID', 'String'],
    ['ORGANIZATION_ID', 'Id'],
    ['USER_ID', 'Id'],
    ['RUN_TIME', 'Number'],
    ['CPU_TIME', 'Number'],
    ['URI', 'String'],
    ['SESSION_KEY', 'String'],
    ['LOGIN_KEY', 'String'],
    ['USER_TYPE', 'String'],
    ['REQUEST_STATUS', 'String'],
    ['DB_TOTAL_TIME', 'Number'],
    ['API_TYPE', 'String'],
    ['API_VERSION', 'String'],
    ['CLIENT_NAME', 'String'],
    ['METHOD_NAME', 'String'],
    ['ENTITY_NAME', 'String'],
    ['ROWS_PROCESSED', 'Number'],
    ['REQUEST_SIZE', 'Number'],
    ['RESPONSE_SIZE', 'Number'],
    ['TIMESTAMP_DERIVED', 'DateTime'],
    ['USER_ID_DERIVED', 'Id'],
    ['CLIENT_IP', 'IP'],
    ['URI_ID_DERIVED', 'Id'],
  ],
};

/** One event of a log file: its type, when it happened, and its column values. */
export interface LogEvent {
  readonly eventType: EventType;
  readonly requestId: string;
  readonly at: number;
  readonly values: Readonly<Record<string, string>>;
  /** The EventLogFile ids that carry it (hourly and daily). */
  readonly files: string[];
}

export const fieldNames = (type: EventType) => COLUMNS[type].map(([name]) => name).join(',');
export const fieldTypes = (type: EventType) => COLUMNS[type].map(([, t]) => t).join(',');

/** `20130715233322.670`: TIMESTAMP's format. */
export function logTimestamp(ms: number): string {
  return new Date(ms).toISOString().replace(/[-:T]/g, '').replace('Z', '').slice(0, 18);
}

const quote = (value: string) => `"${value.replaceAll('"', '""')}"`;

/** A log file's CSV: a header row, then one row per event, every value quoted as Salesforce writes them. */
export function logFileCsv(type: EventType, events: readonly LogEvent[]): string {
  const columns = COLUMNS[type].map(([name]) => name);
  const rows = events.map((event) => columns.map((c) => quote(event.values[c] ?? '')).join(','));
  return `${columns.map(quote).join(',')}\n${rows.map((r) => `${r}\n`).join('')}`;
}
