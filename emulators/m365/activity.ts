import { createHash, randomUUID } from 'node:crypto';
import { Rng } from './prng.js';
import type { EmuItem, EmuUser, TenantState } from './tenant.js';

/**
 * The Office 365 Management Activity API's feed for one tenant, as its reference describes it
 * (https://learn.microsoft.com/en-us/office/office-365-management-api/office-365-management-activity-api-reference):
 * records are aggregated into content blobs per content type; a blob is listed by when it became
 * available (`contentCreated`), not by when its records happened, and its records are in no
 * particular order; only records that happened while a subscription to their content type was
 * started are aggregated; blobs expire after 7 days. The emulator makes one blob per content type
 * and `blobSeconds` slot: a record available at `t` is in the blob created at the end of its slot.
 */

export const CONTENT_TYPES = ['Audit.AzureActiveDirectory', 'Audit.Exchange', 'Audit.SharePoint', 'Audit.General', 'DLP.All'] as const;
export type ContentType = (typeof CONTENT_TYPES)[number];

/** The common and SharePoint schema fields (https://learn.microsoft.com/en-us/office/office-365-management-api/office-365-management-activity-api-schema). */
export interface SharePointRecord {
  readonly Id: string;
  /** 6: SharePointFileOperation; 14: SharePointSharingOperation. */
  readonly RecordType: 6 | 14;
  /** UTC, without a zone designator, as the schema shows it. */
  readonly CreationTime: string;
  readonly Operation: string;
  readonly OrganizationId: string;
  readonly UserType: 0;
  readonly UserKey: string;
  readonly Workload: 'SharePoint' | 'OneDrive';
  readonly ResultStatus?: string;
  readonly ObjectId: string;
  readonly UserId: string;
  readonly ClientIP: string;
  readonly UserAgent: string;
  readonly EventSource: 'SharePoint';
  readonly ItemType: 'File';
  readonly Site: string;
  readonly SiteUrl: string;
  readonly SourceRelativeUrl: string;
  readonly SourceFileName: string;
  readonly SourceFileExtension: string;
  readonly ListItemUniqueId: string;
}

export interface Blob {
  readonly contentType: ContentType;
  readonly contentId: string;
  readonly contentCreated: number;
  readonly contentExpiration: number;
}

interface Held {
  readonly record: SharePointRecord;
  readonly occurredAt: number;
  readonly availableAt: number;
}

const SEVEN_DAYS = 7 * 24 * 3_600_000;
const OPERATIONS: readonly { operation: string; recordType: 6 | 14 }[] = [
  { operation: 'FileAccessed', recordType: 6 },
  { operation: 'FileDownloaded', recordType: 6 },
  { operation: 'FileModified', recordType: 6 },
  { operation: 'SharingSet', recordType: 14 },
];

export class ActivityFeed {
  /** When each content type's subscription was started (absent: not started, or stopped). */
  readonly started = new Map<ContentType, number>();
  private readonly held: Held[] = [];
  private readonly rng: Rng;
  /** Until when background activity was generated. */
  private generatedUntil = 0;
  private burstDone = false;

  constructor(
    private readonly state: TenantState,
    private readonly tenantId: string,
    private readonly options: {
      readonly blobSeconds: number;
      /** Background file activity per minute while Audit.SharePoint is subscribed (0: none). */
      readonly perMinute: number;
      /** One user downloads 40 files, one a second, from half a minute after the subscription starts. */
      readonly massDownload: boolean;
      readonly seed: number;
    },
  ) {
    this.rng = new Rng(options.seed * 7919 + 17);
  }

  start(contentType: ContentType, now: number): void {
    if (!this.started.has(contentType)) this.started.set(contentType, now);
    this.generatedUntil = Math.max(this.generatedUntil, now);
  }

  stop(contentType: ContentType): void {
    this.started.delete(contentType);
  }

  private slotEnd(availableAt: number): number {
    const slot = this.options.blobSeconds * 1000;
    return Math.floor(availableAt / slot) * slot + slot;
  }

  private blobId(contentType: ContentType, created: number): string {
    const code = CONTENT_TYPES.indexOf(contentType);
    return `${created}$${this.tenantId.replaceAll('-', '')}${code}$${this.options.blobSeconds}`;
  }

  /** Blobs of `contentType` created in [from, to) and by `now`, oldest first. */
  blobs(contentType: ContentType, from: number, to: number, now: number): Blob[] {
    this.catchUp(now);
    const created = new Set<number>();
    for (const h of this.held) {
      if (!this.aggregated(h, contentType)) continue;
      const at = this.slotEnd(h.availableAt);
      if (at >= from && at < to && at <= now) created.add(at);
    }
    return [...created]
      .sort((a, b) => a - b)
      .map((at) => ({
        contentType,
        contentId: this.blobId(contentType, at),
        contentCreated: at,
        contentExpiration: at + SEVEN_DAYS,
      }));
  }

  /** A blob's records (null: no such blob; 'expired': older than 7 days). */
  content(contentId: string, now: number): SharePointRecord[] | null | 'expired' {
    this.catchUp(now);
    const m = /^(\d+)\$([0-9a-f]{32})(\d)\$(\d+)$/.exec(contentId);
    if (!m || m[2] !== this.tenantId.replaceAll('-', '') || Number(m[4]) !== this.options.blobSeconds) return null;
    const created = Number(m[1]);
    const contentType = CONTENT_TYPES[Number(m[3])];
    if (!contentType || created > now) return null;
    if (created + SEVEN_DAYS < now) return 'expired';
    const records = this.held.filter((h) => this.aggregated(h, contentType) && this.slotEnd(h.availableAt) === created);
    if (records.length === 0) return null;
    // Not in the order they happened (the reference's note on distributed aggregation).
    return records.map((h) => h.record).reverse();
  }

  private aggregated(h: Held, contentType: ContentType): boolean {
    const since = this.started.get(contentType);
    return contentType === 'Audit.SharePoint' && since !== undefined && h.occurredAt >= since;
  }

  /** Records `count` file operations that happen now, each available up to `lateMs` later; answers their ids. */
  record(count: number, lateMs: number, now: number, options: { user?: EmuUser; operation?: string; spreadMs?: number } = {}): string[] {
    const users = this.state.users.filter((u) => !u.deleted && u.accountEnabled);
    const files = [...this.state.items.values()].filter((i) => !i.folder && !i.deleted);
    const ids: string[] = [];
    if (users.length === 0 || files.length === 0) return ids;
    for (let k = 0; k < count; k++) {
      const user = options.user ?? this.rng.pick(users);
      // A planted burst reads distinct files; background activity picks any.
      const item = options.user ? files[k % files.length]! : this.rng.pick(files);
      const op = options.operation
        ? (OPERATIONS.find((o) => o.operation === options.operation) ?? { operation: options.operation, recordType: 6 as const })
        : this.rng.pick(OPERATIONS);
      const occurredAt = now - (options.spreadMs ? Math.floor(this.rng.next() * options.spreadMs) : 0);
      const record = this.toRecord(user, item, op.operation, op.recordType, occurredAt);
      this.held.push({ record, occurredAt, availableAt: occurredAt + Math.floor(this.rng.next() * lateMs) });
      ids.push(record.Id);
    }
    return ids;
  }

  private toRecord(user: EmuUser, item: EmuItem, operation: string, recordType: 6 | 14, at: number): SharePointRecord {
    const site = 'https://contoso.sharepoint.com/sites/root';
    const path = this.state.pathOf(item);
    const name = item.name;
    return {
      Id: randomUUID(),
      RecordType: recordType,
      CreationTime: new Date(at).toISOString().slice(0, 19),
      Operation: operation,
      OrganizationId: this.tenantId,
      UserType: 0,
      UserKey: `i:0h.f|membership|${user.id}@live.com`,
      Workload: 'SharePoint',
      ObjectId: `${site}/Shared Documents${path}`,
      UserId: user.userPrincipalName,
      ClientIP: `203.0.113.${1 + (user.id.charCodeAt(0) % 200)}`,
      UserAgent: 'Mozilla/5.0 (Windows NT 10.0; Win64; x64)',
      EventSource: 'SharePoint',
      ItemType: 'File',
      // SharePoint's own GUIDs (a site's, a list item's), not Graph's drive and item ids.
      Site: guidOf(`site:${item.driveId}`),
      SiteUrl: `${site}/`,
      SourceRelativeUrl: `Shared Documents${path.slice(0, path.length - name.length - 1)}`,
      SourceFileName: name,
      SourceFileExtension: name.includes('.') ? name.slice(name.lastIndexOf('.') + 1) : '',
      ListItemUniqueId: guidOf(`item:${item.id}`),
    };
  }

  /** Generates the background activity (and the planted mass download) up to `now`, once. */
  private catchUp(now: number): void {
    const since = this.started.get('Audit.SharePoint');
    if (since === undefined || now <= this.generatedUntil) return;
    const from = Math.max(this.generatedUntil, since);
    if (this.options.perMinute > 0) {
      const count = Math.floor(((now - from) / 60_000) * this.options.perMinute);
      if (count > 0) this.record(count, 0, now, { spreadMs: now - from });
    }
    // The burst happens 30 to 70 seconds after the subscription started, one download a second.
    if (this.options.massDownload && !this.burstDone && now >= since + 70_000) {
      this.burstDone = true;
      const users = this.state.users.filter((u) => !u.deleted && u.accountEnabled && u.userType === 'Member');
      const files = [...this.state.items.values()].filter((i) => !i.folder && !i.deleted);
      const user = users[users.length - 1];
      for (let k = 0; user && files.length > 0 && k < 40; k++) {
        const occurredAt = since + 30_000 + k * 1000;
        const record = this.toRecord(user, files[k % files.length]!, 'FileDownloaded', 6, occurredAt);
        this.held.push({ record, occurredAt, availableAt: occurredAt });
      }
    }
    this.generatedUntil = now;
  }

  /** The ground truth: every record with when it happened and became available, and whether a subscription aggregates it. */
  truth(): { id: string; operation: string; userId: string; occurredAt: string; availableAt: string; aggregated: boolean }[] {
    return this.held.map((h) => ({
      id: h.record.Id,
      operation: h.record.Operation,
      userId: h.record.UserId,
      occurredAt: new Date(h.occurredAt).toISOString(),
      availableAt: new Date(this.slotEnd(h.availableAt)).toISOString(),
      aggregated: this.aggregated(h, 'Audit.SharePoint'),
    }));
  }
}

function guidOf(seed: string): string {
  const hex = createHash('sha256').update(seed).digest('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-a${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

/** Datetimes the reference accepts for startTime and endTime: YYYY-MM-DD, YYYY-MM-DDTHH:MM, YYYY-MM-DDTHH:MM:SS (UTC). */
export function parseFeedTime(value: string): number | null {
  if (!/^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,7})?)?)?Z?$/.test(value)) return null;
  const at = Date.parse(value.endsWith('Z') ? value : value.length === 10 ? `${value}T00:00:00Z` : `${value}Z`);
  return Number.isNaN(at) ? null : at;
}
