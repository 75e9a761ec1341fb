import type { drive_v3 } from '@googleapis/drive';
import {
  CursorExpiredError,
  PermanentError,
  type ChangePage,
  type FileChange,
  type FileContent,
  type Page,
  type PageToken,
  type ProviderFile,
} from '../contract.js';
import { domainsOf, type GoogleConfig } from './config.js';
import type { GoogleDirectory } from './directory.js';
import { SubjectUnavailableError } from './credentials.js';
import { compact, MAX_DISTINCT_FEEDS, MAX_PENDING, parsePositions, positionOf, type FeedKey, type FeedPositions } from './feeds.js';
import { isNotFound, type GoogleApis } from './google-http.js';
import { CHANNELS_FILE, EXPORTS, FOLDER, toFile } from './mapping.js';
import { decodeToken, encodeToken } from './page-token.js';

const PERMISSION_FIELDS = 'id,type,role,emailAddress,domain,deleted,permissionDetails';
export const FILE_FIELDS = `id,name,mimeType,size,md5Checksum,version,modifiedTime,trashed,parents,driveId,description,owners(emailAddress,me),permissions(${PERMISSION_FIELDS})`;
const PAGE_SIZE = 200;
/** The most files.export answers (https://developers.google.com/drive/api/reference/rest/v3/files/export). */
const EXPORT_LIMIT = 10 * 1024 * 1024;
/** Requests one page of a listing or of the change feed may make over feeds with nothing to answer. */
const REQUESTS_PER_PAGE = 12;
/** Where a quarantined file came from, kept in its description: `<mark><parent id>\n<the description it had>`. */
export const QUARANTINE_MARK = 'tenantwatch-quarantine:';

/**
 * Which feed each file was last seen in (the owner to act as), shared by the connectors of this
 * process (the data scan and governance read files the listing found; Drive answers a My Drive file
 * only to users it is shared with). At most {@link OWNER_HINTS} entries; a file not found here is
 * looked for in each user's Drive.
 */
const ownerHints = new Map<string, string>();
const OWNER_HINTS = 200_000;
/** When the hints were last filled from a listing, per instance. */
const warmed = new Map<string, { at: number | null; done: Promise<void> }>();
const WARM_EVERY_MS = 10 * 60_000;
function hint(scope: string, fileId: string, feed: FeedKey): void {
  const key = `${scope} ${fileId}`;
  ownerHints.delete(key);
  ownerHints.set(key, feed);
  if (ownerHints.size > OWNER_HINTS) ownerHints.delete(ownerHints.keys().next().value!);
}

const UNAVAILABLE = 'The file’s owner is suspended or archived: Drive acts on a file only as its owner, who cannot be impersonated now';

/** A file whose owner exists but cannot be impersonated (suspended, archived): nothing can be done to it through Drive now. */
export class OwnerUnavailableError extends PermanentError {
  constructor(message: string) {
    super(message, 409);
  }
}

/** A feed: a user's My Drive (read as that user) or a shared drive (read as the admin subject). */
export interface Feed {
  readonly key: FeedKey;
  /** The user it is read as (null: the admin subject). */
  readonly subject: string | null;
  readonly userId: string | null;
  readonly driveId: string | null;
  readonly name: string;
}

interface ListToken {
  readonly k: string;
  readonly p: string | null;
}

interface FeedToken {
  readonly k: string;
  readonly p: string | null;
  /** New positions gathered so far (compacted). */
  readonly g: FeedPositions | null;
  /** Removed ids pending, and ids seen alive in this read. */
  readonly r: readonly string[];
  readonly s: readonly string[];
  /** More distinct positions than a cursor keeps: this read's cursor is not kept. */
  readonly o?: true;
  /** A notification's read: only these feeds, their upserts only, the cursor answered as it was. */
  readonly q?: readonly string[];
}

/**
 * Drive v3 (https://developers.google.com/drive/api/reference/rest/v3): every active user's My Drive,
 * read as that user (domain-wide delegation), and every shared drive, read as the admin subject.
 */
export class GoogleDrive {
  private feedList?: Promise<Feed[]>;
  readonly domains: ReadonlySet<string>;

  constructor(
    private readonly apis: GoogleApis,
    private readonly config: GoogleConfig,
    private readonly directory: GoogleDirectory,
  ) {
    this.domains = domainsOf(config);
  }

  /** Shared drives and the users who can be impersonated (not suspended or archived), in the order of their keys. */
  feeds(): Promise<Feed[]> {
    this.feedList ??= (async () => {
      const users: Feed[] = [];
      for await (const u of this.directory.allUsers())
        if (!u.suspended && !u.archived && u.primaryEmail)
          users.push({ key: `u:${u.id!}`, subject: u.primaryEmail, userId: u.id!, driveId: null, name: 'My Drive' });
      const drives: Feed[] = [];
      for (let page: string | undefined; ;) {
        const result = await this.apis.call(this.apis.drive().drives.list({ useDomainAdminAccess: true, pageSize: 100, pageToken: page }));
        for (const d of result.drives ?? [])
          drives.push({ key: `d:${d.id!}`, subject: null, userId: null, driveId: d.id!, name: d.name ?? d.id! });
        if (!(page = result.nextPageToken ?? undefined)) break;
      }
      const byKey = (a: Feed, b: Feed) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0);
      // One order by key (shared drives, `d:`, before users, `u:`): a page token names the feed it is in.
      return [...drives, ...users].sort(byKey);
    })();
    this.feedList.catch(() => (this.feedList = undefined));
    return this.feedList;
  }

  /**
   * Whether a failure leaves one feed out rather than failing the read: a user who cannot be
   * impersonated any more (suspended since the users were listed), a shared drive the admin subject
   * is not a member of (Drive answers 404). The next read tries again.
   */
  private skippable(feed: Feed, error: unknown): boolean {
    return error instanceof SubjectUnavailableError || (feed.driveId !== null && isNotFound(error));
  }

  /** The feed after `key` in the current order (the first when null). */
  private async feedAfter(key: string | null, inclusive: boolean, only?: readonly string[]): Promise<Feed | undefined> {
    const feeds = await this.feeds();
    return feeds.find((f) => (!only || only.includes(f.key)) && (inclusive ? f.key >= (key ?? '') : key === null || f.key > key));
  }

  private drive(feed: Feed): drive_v3.Drive {
    return this.apis.drive(feed.subject ?? undefined);
  }

  private driveParams(feed: Feed) {
    return feed.driveId ? { driveId: feed.driveId, corpora: 'drive', includeItemsFromAllDrives: true, supportsAllDrives: true } : {};
  }

  /** The permissions of a shared drive item (files.list leaves them out: "Not populated for items in shared drives"). */
  private async permissionsOf(feed: Feed, file: drive_v3.Schema$File): Promise<drive_v3.Schema$Permission[]> {
    if (!file.driveId) return file.permissions ?? [];
    const out: drive_v3.Schema$Permission[] = [];
    for (let page: string | undefined; ;) {
      const result = await this.apis.call(
        this.drive(feed).permissions.list({
          fileId: file.id!,
          supportsAllDrives: true,
          pageSize: 100,
          pageToken: page,
          fields: `nextPageToken,permissions(${PERMISSION_FIELDS})`,
        }),
      );
      out.push(...(result.permissions ?? []));
      if (!(page = result.nextPageToken ?? undefined)) return out;
    }
  }

  /** The hint cache's scope: the service account and customer (two instances never share hints). */
  private get scope(): string {
    return `${this.config.serviceAccountKey.client_email} ${this.config.adminSubject}`;
  }

  async toProviderFile(feed: Feed, file: drive_v3.Schema$File): Promise<ProviderFile> {
    hint(this.scope, file.id!, feed.key);
    return toFile(file, {
      permissions: await this.permissionsOf(feed, file),
      domains: this.domains,
      ownerExternalId: feed.userId,
      folder: feed.name,
      quarantined: file.description?.startsWith(QUARANTINE_MARK) ?? false,
    });
  }

  /** Whether a file belongs to the feed: files (not folders) the feed's user owns, or any in the shared drive. */
  private belongs(feed: Feed, file: drive_v3.Schema$File): boolean {
    if (
      file.mimeType === FOLDER ||
      (file.name === CHANNELS_FILE && !file.driveId && feed.subject?.toLowerCase() === this.config.adminSubject.toLowerCase())
    )
      return false;
    if (feed.driveId) return file.driveId === feed.driveId;
    return !file.driveId && (file.owners ?? []).some((o) => o.me);
  }

  async listFiles(page: PageToken | null): Promise<Page<ProviderFile>> {
    let token = decodeToken<ListToken>(page, (t) => typeof t.k === 'string' && (t.p === null || typeof t.p === 'string'));
    const items: ProviderFile[] = [];
    for (let requests = 0; requests < REQUESTS_PER_PAGE; requests++) {
      const feed = await this.feedAfter(token?.k ?? null, token !== null && token.p !== null);
      if (!feed) return { items, next: null };
      let result: drive_v3.Schema$FileList;
      try {
        result = await this.apis.call(
          this.drive(feed).files.list({
            ...this.driveParams(feed),
            q: feed.driveId ? `mimeType != '${FOLDER}'` : `'me' in owners and mimeType != '${FOLDER}'`,
            pageSize: this.config.pageSize ?? PAGE_SIZE,
            pageToken: (token?.k === feed.key ? token.p : null) ?? undefined,
            fields: `nextPageToken,files(${FILE_FIELDS})`,
          }),
        );
      } catch (error) {
        if (!this.skippable(feed, error)) throw error;
        result = {};
      }
      for (const file of result.files ?? [])
        if (this.belongs(feed, file) && !items.some((i) => i.externalId === file.id)) items.push(await this.toProviderFile(feed, file));
      token = { k: feed.key, p: result.nextPageToken ?? null };
      if (items.length > 0) break;
    }
    const more = token && (token.p !== null || (await this.feedAfter(token.k, false)));
    return { items, next: more && token ? encodeToken(token) : null };
  }

  /**
   * The change feeds of every user's My Drive and every shared drive, after `cursor` ({@link FeedPositions}).
   * A user's feed reports what they see: files they own are answered, a removal is answered as a
   * deletion only when no feed read in the same pass still saw the file (an internal user who lost
   * access sees a removal of a file that lives on). A token Drive refuses (400) is a CursorExpiredError.
   *
   * A notification's read (`containers`: the feeds its channels name, `u:<user id>` or `d:<drive id>`)
   * reads only those feeds and answers what changed in them but no deletion (a removal in one user's
   * feed is decided against the others' at the next full read) and the cursor as it was: one request
   * per notified feed, not one per feed of the organization.
   */
  async readFileChanges(cursor: string | null, page: PageToken | null, containers?: readonly string[]): Promise<ChangePage> {
    if (!cursor) {
      // One start token per feed; feeds started together mostly share it (the cursor stays small).
      const tokens = new Map<string, string>();
      for (const feed of await this.feeds()) {
        const start = await this.startToken(feed).catch((error: unknown) => {
          if (this.skippable(feed, error)) return null;
          throw error;
        });
        if (start) tokens.set(feed.key, start);
      }
      const positions = compact(tokens);
      return { changes: [], next: null, deltaCursor: positions ? JSON.stringify(positions) : null };
    }
    const positions = parsePositions(cursor);
    const only = containers && !containers.includes('*') ? containers.filter((c) => /^[ud]:./.test(c)) : undefined;
    let token: FeedToken = decodeToken<FeedToken>(page, (t) => typeof t.k === 'string' && Array.isArray(t.r) && Array.isArray(t.s)) ?? {
      k: '',
      p: null,
      g: null,
      r: [],
      s: [],
      ...(only ? { q: only } : {}),
    };
    const notified = token.q;
    // New positions of the feeds read so far (they are read in key order): the first one's, and those that differ.
    let gathered: { b: string | null; x: Record<string, string> } = { b: token.g?.b ?? null, x: { ...token.g?.x } };
    // A file changed twice is answered once (its latest state): a page is stored in one statement.
    const upserts = new Map<string, FileChange>();
    const removed = new Set(token.r);
    const seen = new Set(token.s);
    let overflow = false;
    const alive = (id: string) => {
      removed.delete(id);
      if (seen.size < MAX_PENDING) seen.add(id);
      else overflow = true;
    };
    for (let requests = 0; requests < REQUESTS_PER_PAGE; requests++) {
      const feed = await this.feedAfter(token.k || null, token.p !== null, notified);
      if (!feed) break;
      const from = (token.k === feed.key ? token.p : null) ?? positionOf(positions, feed.key);
      if (!from) throw new CursorExpiredError('The change cursor holds no position for a feed');
      let result: drive_v3.Schema$ChangeList;
      try {
        result = await this.apis.call(
          this.drive(feed).changes.list({
            pageToken: from,
            pageSize: this.config.pageSize ?? PAGE_SIZE,
            includeRemoved: true,
            ...(feed.driveId ? { driveId: feed.driveId, supportsAllDrives: true, includeItemsFromAllDrives: true } : {}),
            fields: `nextPageToken,newStartPageToken,changes(fileId,removed,driveId,file(${FILE_FIELDS}))`,
          }),
        );
      } catch (error) {
        if (this.skippable(feed, error)) {
          // Left out of this read; its position stays.
          token = { ...token, k: feed.key, p: null };
          if (gathered.b !== from) gathered.x[feed.key] = from;
          continue;
        }
        // Drive refuses a page token it no longer knows with 400 "Invalid Value" at pageToken.
        if ((error as { status?: number }).status === 400)
          throw new CursorExpiredError('Drive no longer knows a change feed position (HTTP 400)', 400);
        throw error;
      }
      for (const change of result.changes ?? []) {
        const file = change.file;
        if (change.removed || !file) {
          if (!notified && change.fileId && !seen.has(change.fileId)) removed.add(change.fileId);
          continue;
        }
        alive(file.id!);
        if (this.belongs(feed, file)) upserts.set(file.id!, { kind: 'upsert', file: await this.toProviderFile(feed, file) });
      }
      if (result.nextPageToken) {
        token = { ...token, k: feed.key, p: result.nextPageToken };
      } else {
        const at = result.newStartPageToken ?? from;
        if (gathered.b === null) gathered = { b: at, x: gathered.x };
        else if (at !== gathered.b && Object.keys(gathered.x).length < MAX_DISTINCT_FEEDS) gathered.x[feed.key] = at;
        else if (at !== gathered.b) token = { ...token, o: true, g: null };
        token = { ...token, k: feed.key, p: null };
      }
      if (upserts.size > 0) break;
    }
    const changes = [...upserts.values()];
    // Removals no feed contradicted are deletions; past the carried bounds they are answered at once.
    const last = !(token.p !== null || (await this.feedAfter(token.k || null, false, notified)));
    if (last && notified) return { changes, next: null, deltaCursor: cursor };
    if (last || overflow || removed.size >= MAX_PENDING) {
      for (const id of removed) if (!upserts.has(id)) changes.push({ kind: 'deleted', externalId: id });
      removed.clear();
    }
    if (last) {
      const next = new Map<string, string>();
      for (const feed of await this.feeds()) {
        const at = gathered.x[feed.key] ?? gathered.b ?? positionOf(positions, feed.key);
        if (at) next.set(feed.key, at);
      }
      const kept = token.o ? null : compact(next);
      return { changes, next: null, deltaCursor: kept ? JSON.stringify(kept) : null };
    }
    return {
      changes,
      next: encodeToken({ ...token, g: { v: 1, ...gathered }, r: [...removed], s: [...seen] }),
      deltaCursor: null,
    };
  }

  private async startToken(feed: Feed): Promise<string> {
    const result = await this.apis.call(
      this.drive(feed).changes.getStartPageToken(feed.driveId ? { driveId: feed.driveId, supportsAllDrives: true } : {}),
    );
    if (!result.startPageToken) throw new PermanentError('Drive answered no start page token');
    return result.startPageToken;
  }

  /** The file as the user who owns it (or, in a shared drive, the admin subject) sees it, and that feed. */
  async locate(externalId: string): Promise<{ feed: Feed; file: drive_v3.Schema$File } | null> {
    let hinted = ownerHints.get(`${this.scope} ${externalId}`);
    if (!hinted) {
      await this.warmHints();
      hinted = ownerHints.get(`${this.scope} ${externalId}`);
    }
    const known = hinted ? (await this.feeds()).find((f) => f.key === hinted) : undefined;
    if (known) {
      let file: drive_v3.Schema$File | null;
      try {
        file = await this.get(known, externalId);
      } catch (error) {
        if (error instanceof SubjectUnavailableError) throw new OwnerUnavailableError(UNAVAILABLE);
        throw error;
      }
      // Its owner no longer sees it: it is gone (or given away, and the new owner's feed will say so).
      if (!file) return null;
      if (this.belongs(known, file)) return { feed: known, file };
    } else if (hinted?.startsWith('u:') && (await this.directory.getUser(hinted.slice(2)))) {
      // Its owner exists but cannot be impersonated (suspended, archived): Drive acts on a My Drive file only as its owner.
      throw new OwnerUnavailableError(UNAVAILABLE);
    }
    // Not among the listed files: the admin subject's view (shared drives, files shared with them), then the owner Drive names.
    const admin: Feed = { key: 'd:', subject: null, userId: null, driveId: null, name: '' };
    const asAdmin = await this.get(admin, externalId);
    const owner = asAdmin?.owners?.[0]?.emailAddress?.toLowerCase();
    if (asAdmin?.driveId) {
      const feed = (await this.feeds()).find((f) => f.driveId === asAdmin.driveId);
      return { feed: feed ?? { ...admin, key: `d:${asAdmin.driveId}`, driveId: asAdmin.driveId }, file: asAdmin };
    }
    if (owner) {
      const feed = (await this.feeds()).find((f) => f.subject?.toLowerCase() === owner);
      if (feed) return { feed, file: (await this.get(feed, externalId)) ?? asAdmin! };
    }
    // Found in no Drive Tenantwatch can act as: gone, unless its owner is one who cannot be impersonated.
    for await (const user of this.directory.allUsers())
      if (user.suspended || user.archived)
        throw new OwnerUnavailableError('The file is in no Drive Tenantwatch can act as: its owner may be suspended or archived');
    return null;
  }

  /**
   * Fills the owner hints with one listing of every feed (file ids only, the largest pages), at most
   * once per {@link WARM_EVERY_MS} per instance in this process: after a restart, finding the owners
   * of many files costs one listing, not a search of every user's Drive per file.
   */
  private warmHints(): Promise<void> {
    const last = warmed.get(this.scope);
    if (last && (last.at === null || Date.now() - last.at < WARM_EVERY_MS)) return last.done;
    const entry: { at: number | null; done: Promise<void> } = { at: null, done: Promise.resolve() };
    entry.done = (async () => {
      try {
        for (const feed of await this.feeds()) {
          for (let page: string | undefined; ;) {
            let result: drive_v3.Schema$FileList;
            try {
              result = await this.apis.call(
                this.drive(feed).files.list({
                  ...this.driveParams(feed),
                  q: feed.driveId ? `mimeType != '${FOLDER}'` : `'me' in owners and mimeType != '${FOLDER}'`,
                  pageSize: 1000,
                  pageToken: page,
                  fields: 'nextPageToken,files(id,name,mimeType,driveId,owners(me))',
                }),
              );
            } catch (error) {
              if (this.skippable(feed, error)) break;
              throw error;
            }
            for (const file of result.files ?? []) if (this.belongs(feed, file)) hint(this.scope, file.id!, feed.key);
            if (!(page = result.nextPageToken ?? undefined)) break;
          }
        }
      } finally {
        entry.at = Date.now();
      }
    })();
    entry.done.catch(() => warmed.delete(this.scope));
    warmed.set(this.scope, entry);
    return entry.done;
  }

  async get(feed: Feed, fileId: string): Promise<drive_v3.Schema$File | null> {
    try {
      const file = await this.apis.call(this.drive(feed).files.get({ fileId, supportsAllDrives: true, fields: FILE_FIELDS }));
      return file.id ? file : null;
    } catch (error) {
      if (isNotFound(error)) return null;
      throw error;
    }
  }

  async getFile(externalId: string): Promise<ProviderFile | null> {
    const found = await this.locate(externalId);
    return found ? this.toProviderFile(found.feed, found.file) : null;
  }

  /**
   * Binary content, or a Docs Editors file exported to text (Docs and Slides as text/plain, Sheets as
   * text/csv). A file whose owner cannot be impersonated now (suspended) answers no content: it cannot
   * be read, and it is not gone (a 404 would mark it deleted); its next change after the owner is
   * active again brings it back to the data scan.
   */
  async downloadFile(externalId: string): Promise<FileContent> {
    let found;
    try {
      found = await this.locate(externalId);
    } catch (error) {
      if (error instanceof OwnerUnavailableError) return { bytes: Buffer.alloc(0), mimeType: null };
      throw error;
    }
    if (!found) throw new PermanentError('The provider refused the request: it has no such item (HTTP 404)', 404);
    const drive = this.drive(found.feed);
    const exportAs = EXPORTS[found.file.mimeType ?? ''];
    // Drive refuses to export more than 10 MB (403 exportSizeLimitExceeded): such a file is answered without content.
    if (exportAs && Number(found.file.size ?? 0) > EXPORT_LIMIT) return { bytes: Buffer.alloc(0), mimeType: exportAs };
    if (exportAs) {
      const data = await this.apis.call(
        drive.files.export({ fileId: externalId, mimeType: exportAs }, { responseType: 'arraybuffer' }) as Promise<{ data: unknown }>,
      );
      return { bytes: Buffer.from(data as ArrayBuffer), mimeType: exportAs };
    }
    const data = await this.apis.call(
      drive.files.get({ fileId: externalId, alt: 'media', supportsAllDrives: true }, { responseType: 'arraybuffer' }) as Promise<{
        data: unknown;
      }>,
    );
    return { bytes: Buffer.from(data as ArrayBuffer), mimeType: found.file.mimeType ?? null };
  }
}
