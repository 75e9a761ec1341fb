import { createHash } from 'node:crypto';
import { fieldNames, fieldTypes, logFileCsv, type EventType, type LogEvent } from './eventlog.js';
import { IdFactory, type KeyPrefixed } from './ids.js';
import { Rng } from './prng.js';
import type { ResolvedOrgSpec } from './spec.js';
import { Store, type Row, type Table } from './store.js';

/** What a provider-side action did, as the org recorded it: the conformance suite's ground truth. */
export interface GovernanceRecord {
  readonly operation: string;
  /** The User (freeze, unfreeze, password) or the ContentDocument (files, links, versions) or the OauthToken acted on. */
  readonly targetId: string;
  readonly at: string;
  /** The record acted on when it is not the target (the UserLogin, ContentDocumentLink, ContentDistribution, new ContentVersion). */
  readonly detail?: string;
}

const HOUR = 3_600_000;

/** One emulated org's records and history; changed by the REST API, the generator and the control API. */
export class OrgState {
  readonly store = new Store();
  readonly ids: IdFactory;
  readonly rng: Rng;
  readonly governance: GovernanceRecord[] = [];
  readonly logEvents: LogEvent[] = [];
  /** Users whose password was reset (the sObject User Password resource's `isExpired`). */
  readonly expiredPasswords = new Set<string>();
  /** The integration user of each connected app, by consumer key. */
  readonly appUsers = new Map<string, string>();
  /** The last SystemModstamp given: every change gets a later one, so a poller never misses a change in the same millisecond. */
  private lastStamp = 0;

  constructor(
    readonly spec: ResolvedOrgSpec,
    readonly organizationId: string,
  ) {
    this.ids = new IdFactory(organizationId);
    this.rng = new Rng(spec.seed);
  }

  table(name: Exclude<KeyPrefixed, 'AppMenuItem' | 'QueryLocator'>): Table {
    return this.store.table(name);
  }

  /** A new record with a fresh id and the system fields its object has. */
  insert(object: Exclude<KeyPrefixed, 'AppMenuItem' | 'QueryLocator'>, fields: Record<string, unknown>, at: number, by?: string): Row {
    const table = this.table(object);
    const row: Row = { Id: this.ids.next(object), ...fields };
    const stamp = this.stamp(at);
    for (const [name, value] of [
      ['CreatedDate', at],
      ['LastModifiedDate', at],
      ['SystemModstamp', stamp],
      ['CreatedById', by ?? null],
      ['LastModifiedById', by ?? null],
      ['IsDeleted', false],
    ] as const)
      if (table.def.byName.has(name.toLowerCase()) && !(name in row)) row[name] = value;
    return table.insert(row);
  }

  /** Changes a record; LastModifiedDate and SystemModstamp advance. */
  update(row: Row, changes: Record<string, unknown>, now: number, by?: string): void {
    const table = this.tableOf(row);
    const system: Record<string, unknown> = {};
    if (table.def.byName.has('lastmodifieddate')) system.LastModifiedDate = now;
    if (table.def.byName.has('systemmodstamp')) system.SystemModstamp = this.stamp(now);
    if (by && table.def.byName.has('lastmodifiedbyid')) system.LastModifiedById = by;
    table.update(row, { ...changes, ...system });
  }

  /** Deletes a record: to the recycle bin (IsDeleted, visible to queryAll) where the object has one, else for good. */
  delete(row: Row, now: number): void {
    const table = this.tableOf(row);
    if (table.def.recycleBin) this.update(row, { IsDeleted: true }, now);
    else table.remove(row);
  }

  tableOf(row: Row): Table {
    const table = this.store.tableFor(row.Id);
    if (!table) throw new Error(`no table for ${row.Id}`);
    return table;
  }

  /** A SystemModstamp for a change at `at`: later than one given in the same instant, so changes never share a stamp. */
  stamp(at: number): number {
    const stamp = at <= this.lastStamp && at > this.lastStamp - 1000 ? this.lastStamp + 1 : at;
    this.lastStamp = Math.max(this.lastStamp, stamp);
    return stamp;
  }

  record(operation: string, targetId: string, now: number, detail?: string): void {
    const entry: GovernanceRecord = { operation, targetId, at: new Date(now).toISOString(), ...(detail ? { detail } : {}) };
    this.governance.push(entry);
    this.store.onRollback(() => {
      const at = this.governance.lastIndexOf(entry);
      if (at >= 0) this.governance.splice(at, 1);
    });
  }

  /** A ContentVersion with `content` becomes the document's latest (https://developer.salesforce.com/docs/atlas.en-us.object_reference.meta/object_reference/sforce_api_objects_contentversion.htm). */
  addVersion(
    document: Row,
    content: Buffer,
    fields: { PathOnClient?: string; ReasonForChange?: string | null; Title?: string },
    now: number,
    by: string,
  ): Row {
    const versions = this.table('ContentVersion').byRef('ContentDocumentId', document.Id);
    for (const old of versions) if (old.IsLatest) this.update(old, { IsLatest: false }, now);
    const pathOnClient = fields.PathOnClient ?? `${String(document.Title)}.${String(document.FileExtension)}`;
    const extension = pathOnClient.includes('.')
      ? pathOnClient.slice(pathOnClient.lastIndexOf('.') + 1).toLowerCase()
      : String(document.FileExtension);
    const version = this.insert(
      'ContentVersion',
      {
        ContentDocumentId: document.Id,
        Title: fields.Title ?? document.Title,
        Description: null,
        PathOnClient: pathOnClient,
        VersionData: content,
        VersionNumber: String(versions.length + 1),
        IsLatest: true,
        Checksum: createHash('md5').update(content).digest('hex'),
        ContentSize: content.length,
        FileType: fileType(extension),
        FileExtension: extension,
        ReasonForChange: fields.ReasonForChange ?? null,
        OwnerId: by,
        FirstPublishLocationId: null,
        ContentModifiedDate: now,
      },
      now,
      by,
    );
    this.update(
      document,
      {
        LatestPublishedVersionId: version.Id,
        ContentSize: content.length,
        ContentModifiedDate: now,
        FileType: version.FileType,
        FileExtension: extension,
      },
      now,
      by,
    );
    return version;
  }

  /** Writes log events into a new EventLogFile for (type, interval, period), with the next Sequence of that period. */
  addLogFile(type: EventType, interval: 'Hourly' | 'Daily', logDate: number, events: LogEvent[], visibleAt: number, now: number): Row {
    const table = this.table('EventLogFile');
    const sequences = [...table.rows.values()].filter(
      (r) => r.EventType === type && r.Interval === interval && r.LogDate === logDate,
    ).length;
    const csv = logFileCsv(type, events);
    const row = this.insert(
      'EventLogFile',
      {
        EventType: type,
        LogDate: logDate,
        Interval: interval,
        Sequence: sequences + 1,
        LogFile: Buffer.from(csv),
        LogFileLength: Buffer.byteLength(csv),
        LogFileContentType: 'CSV',
        LogFileFieldNames: fieldNames(type),
        LogFileFieldTypes: fieldTypes(type),
        ApiVersion: 62,
      },
      visibleAt,
    );
    if (visibleAt > now) row._visibleAt = visibleAt;
    for (const event of events) event.files.push(row.Id);
    return row;
  }

  /** The hour an instant falls in. */
  static hourOf(ms: number): number {
    return Math.floor(ms / HOUR) * HOUR;
  }
}

/** ContentDocument/ContentVersion FileType values for an extension (the object reference lists them). */
export function fileType(extension: string): string {
  const types: Record<string, string> = {
    pdf: 'PDF',
    docx: 'WORD_X',
    doc: 'WORD',
    xlsx: 'EXCEL_X',
    xls: 'EXCEL',
    csv: 'CSV',
    txt: 'TEXT',
    pptx: 'POWER_POINT_X',
    png: 'PNG',
    jpg: 'JPG',
    json: 'JSON',
    zip: 'ZIP',
  };
  return types[extension.toLowerCase()] ?? 'UNKNOWN';
}
