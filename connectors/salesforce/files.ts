import {
  CursorExpiredError,
  PermanentError,
  type ChangePage,
  type FileChange,
  type Page,
  type PageToken,
  type ProviderFile,
} from '../contract.js';
import { Org } from './org.js';
import {
  isoOf,
  soqlDateTime,
  soqlId,
  toFile,
  type ContentDistributionRecord,
  type ContentDocumentLinkRecord,
  type ContentDocumentRecord,
} from './records.js';

export const DOCUMENT_FIELDS =
  'Id, Title, FileExtension, FileType, ContentSize, OwnerId, LatestPublishedVersionId, SystemModstamp, ContentModifiedDate';

/**
 * Deleted files stay in the recycle bin for 15 days
 * (https://help.salesforce.com/s/articleView?id=sf.home_delete.htm): a change cursor older than that
 * may have missed deletions, so it is refused and the files are listed again.
 */
const DELETIONS_KEPT_MS = 15 * 24 * 3_600_000;

/** Files of the org with their sharing: ContentDocumentLink and ContentDistribution of a page of documents, read in one composite request. */
export class OrgFiles {
  constructor(
    private readonly org: Org,
    private readonly externalUsers: () => Promise<ReadonlySet<string>>,
  ) {}

  /** The documents as files, with their links and public links (two queries per 200 documents, batched). */
  async withSharing(documents: readonly ContentDocumentRecord[]): Promise<ProviderFile[]> {
    if (documents.length === 0) return [];
    const chunks = Org.chunks(documents.map((d) => d.Id));
    const queries = chunks.flatMap((ids) => {
      const list = ids.map(soqlId).join(',');
      return [
        `SELECT Id, ContentDocumentId, LinkedEntityId, ShareType, Visibility FROM ContentDocumentLink WHERE ContentDocumentId IN (${list})`,
        `SELECT Id, ContentDocumentId, DistributionPublicUrl, ExpiryDate, PreferencesExpires FROM ContentDistribution WHERE ContentDocumentId IN (${list})`,
      ];
    });
    const results = await this.org.many<ContentDocumentLinkRecord & ContentDistributionRecord>(queries);
    const links = new Map<string, ContentDocumentLinkRecord[]>();
    const distributions = new Map<string, ContentDistributionRecord[]>();
    results.forEach((records, i) => {
      for (const r of records) {
        if (i % 2 === 0) links.set(r.ContentDocumentId, [...(links.get(r.ContentDocumentId) ?? []), r]);
        else distributions.set(r.ContentDocumentId, [...(distributions.get(r.ContentDocumentId) ?? []), r]);
      }
    });
    const external = await this.externalUsers();
    return documents.map((d) => toFile(d, links.get(d.Id) ?? [], distributions.get(d.Id) ?? [], external));
  }

  async list(page: PageToken | null): Promise<Page<ProviderFile>> {
    const result = await this.org.byId<ContentDocumentRecord>(DOCUMENT_FIELDS, 'ContentDocument', null, page);
    return { items: await this.withSharing(result.records), next: result.next };
  }

  /** One file as it is now: live, in the recycle bin (trashed), or null when gone. */
  async get(id: string): Promise<ProviderFile | null> {
    const [document] = await this.org.all<ContentDocumentRecord>(
      `SELECT ${DOCUMENT_FIELDS}, IsDeleted FROM ContentDocument WHERE Id = ${soqlId(id)}`,
      true,
    );
    if (!document) return null;
    return document.IsDeleted ? toFile(document, [], [], new Set()) : ((await this.withSharing([document]))[0] ?? null);
  }

  /**
   * The change feed, by polling SystemModstamp (https://developer.salesforce.com/docs/atlas.en-us.api.meta/api/system_fields.htm):
   * the cursor is the latest modstamp read (to the second, as SOQL compares) and the ids read at that
   * second, so a record changed in the same second after the read is read next time and none is read
   * twice. Each poll reads, from the cursor on: deleted documents (queryAll, IsDeleted: the recycle
   * bin), public links made, changed or deleted (their documents are read again), then changed
   * documents. Changes to a file's ContentDocumentLinks do not touch the document: the full listing
   * (on a new connection, or after the cursor expired) finds them.
   */
  async changes(cursor: string | null, page: PageToken | null): Promise<ChangePage> {
    if (!cursor) return { changes: [], next: null, deltaCursor: encodeCursor(await this.start()) };
    const at = decodeCursor(cursor);
    if (Date.now() - Date.parse(at.at) > DELETIONS_KEPT_MS)
      throw new CursorExpiredError('The change cursor is older than the recycle bin keeps deleted files', 410);
    const token = decodePage(page);
    const since = soqlDateTime(Date.parse(at.at));
    const seen = new Set(at.seen);
    const latest: FeedCursor = token.latest ?? at;
    const fresh = (id: string, modstamp: string) => !(seen.has(id) && secondOf(modstamp) === at.at);
    const advance = (cur: FeedCursor, id: string, modstamp: string): FeedCursor => {
      const second = secondOf(modstamp);
      if (second > cur.at) return { at: second, seen: [id] };
      return second === cur.at && !cur.seen.includes(id) ? { at: cur.at, seen: [...cur.seen, id] } : cur;
    };
    let next = latest;
    let changes: FileChange[] = [];
    let nextPage: FeedPage | null;
    if (token.part === 0) {
      const result = await this.org.page<{ Id: string; SystemModstamp: string }>(
        `SELECT Id, SystemModstamp FROM ContentDocument WHERE IsDeleted = true AND SystemModstamp >= ${since} ORDER BY SystemModstamp, Id`,
        token.link,
        true,
      );
      for (const r of result.records.filter((r) => fresh(r.Id, r.SystemModstamp))) {
        changes.push({ kind: 'deleted', externalId: r.Id });
        next = advance(next, r.Id, r.SystemModstamp);
      }
      nextPage = result.nextRecordsUrl ? { part: 0, link: result.nextRecordsUrl, latest: next } : { part: 1, link: null, latest: next };
    } else if (token.part === 1) {
      const result = await this.org.page<{ Id: string; ContentDocumentId: string; SystemModstamp: string; IsDeleted?: boolean }>(
        `SELECT Id, ContentDocumentId, SystemModstamp, IsDeleted FROM ContentDistribution WHERE SystemModstamp >= ${since} ORDER BY SystemModstamp, Id`,
        token.link,
        true,
      );
      const documents = [...new Set(result.records.filter((r) => fresh(r.Id, r.SystemModstamp)).map((r) => r.ContentDocumentId))];
      for (const r of result.records) next = advance(next, r.Id, r.SystemModstamp);
      const found = documents.length
        ? (
            await this.org.many<ContentDocumentRecord>(
              Org.chunks(documents).map(
                (ids) => `SELECT ${DOCUMENT_FIELDS} FROM ContentDocument WHERE Id IN (${ids.map(soqlId).join(',')})`,
              ),
            )
          ).flat()
        : [];
      changes = (await this.withSharing(found)).map((file) => ({ kind: 'upsert' as const, file }));
      nextPage = result.nextRecordsUrl ? { part: 1, link: result.nextRecordsUrl, latest: next } : { part: 2, link: null, latest: next };
    } else {
      const result = await this.org.page<ContentDocumentRecord>(
        `SELECT ${DOCUMENT_FIELDS} FROM ContentDocument WHERE SystemModstamp >= ${since} ORDER BY SystemModstamp, Id`,
        token.link,
      );
      const documents = result.records.filter((r) => fresh(r.Id, r.SystemModstamp));
      for (const r of documents) next = advance(next, r.Id, r.SystemModstamp);
      changes = (await this.withSharing(documents)).map((file) => ({ kind: 'upsert' as const, file }));
      nextPage = result.nextRecordsUrl ? { part: 2, link: result.nextRecordsUrl, latest: next } : null;
    }
    return nextPage ? { changes, next: encodePage(nextPage), deltaCursor: null } : { changes, next: null, deltaCursor: encodeCursor(next) };
  }

  /** A new feed starts at the latest modstamp of any document (Salesforce's clock, not ours), or now when there is none. */
  private async start(): Promise<FeedCursor> {
    const [latest] = await this.org.all<{ Id: string; SystemModstamp: string }>(
      'SELECT Id, SystemModstamp FROM ContentDocument ORDER BY SystemModstamp DESC LIMIT 1',
    );
    if (!latest) return { at: secondOf(new Date(Date.now() - 60_000).toISOString()), seen: [] };
    const at = secondOf(latest.SystemModstamp);
    const same = await this.org.all<{ Id: string }>(
      `SELECT Id FROM ContentDocument WHERE SystemModstamp >= ${soqlDateTime(Date.parse(at))} ORDER BY Id`,
    );
    return { at, seen: same.map((r) => r.Id) };
  }
}

/** The feed's position: the latest second read (ISO 8601) and the ids read in it. */
interface FeedCursor {
  readonly at: string;
  readonly seen: readonly string[];
}

interface FeedPage {
  readonly part: 0 | 1 | 2;
  readonly link: string | null;
  readonly latest?: FeedCursor;
}

/** A modstamp to the second (SOQL's dateTime literals have no fraction). */
function secondOf(modstamp: string): string {
  const iso = isoOf(modstamp) ?? modstamp;
  return `${iso.slice(0, 19)}Z`;
}

const encodeCursor = (cursor: FeedCursor) => JSON.stringify({ at: cursor.at, seen: cursor.seen });
function decodeCursor(cursor: string): FeedCursor {
  try {
    const parsed = JSON.parse(cursor) as FeedCursor;
    if (typeof parsed.at === 'string' && Number.isFinite(Date.parse(parsed.at)) && Array.isArray(parsed.seen)) return parsed;
  } catch {
    // refused below
  }
  throw new PermanentError('The change cursor is not one this connector made');
}

const encodePage = (page: FeedPage): PageToken => Buffer.from(JSON.stringify(page)).toString('base64url');
function decodePage(page: PageToken | null): FeedPage {
  if (!page) return { part: 0, link: null };
  try {
    const parsed = JSON.parse(Buffer.from(page, 'base64url').toString('utf8')) as FeedPage;
    if ([0, 1, 2].includes(parsed.part)) return parsed;
  } catch {
    // refused below
  }
  throw new PermanentError('The page token is not one this connector made');
}
