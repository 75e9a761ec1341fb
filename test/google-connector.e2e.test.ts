import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CredentialError, type ChangePage, type Connector, type WebhookNotice } from '../connectors/contract.js';
import { SCOPE } from '../connectors/google/scopes.js';
import { SCOPES } from '../emulators/google/index.js';
import { scanContent } from '../scheduler/data-scan/scan.js';
import { waitFor } from './harness.js';
import { PUBLIC_KEY, SERVICE_ACCOUNT, startTrustedGoogle, type TrustedGoogleEmulator } from './google-emulator.js';

/** Reads a change feed to its end from `cursor`: the changes and the next cursor. */
async function readAll(connector: Connector, cursor: string): Promise<{ changes: ChangePage['changes']; cursor: string }> {
  const changes: ChangePage['changes'][number][] = [];
  for (let page: string | null = null; ;) {
    const result = await connector.readFileChanges(cursor, page);
    changes.push(...result.changes);
    if (!(page = result.next)) return { changes, cursor: result.deltaCursor ?? cursor };
  }
}

describe('the Google Workspace connector against the emulator', () => {
  let g: TrustedGoogleEmulator;
  beforeAll(async () => {
    g = await startTrustedGoogle({ users: 14, files: 24, oversizeDocs: 1, tokens: 12 });
  });
  afterAll(async () => g?.stop());

  it('reports the capabilities whose scopes the delegation refuses as missing, and works with the rest', async () => {
    // The admin authorized every read scope but neither the Reports API nor user security (tokens, sign-out) nor Drive writes.
    g.control.update({
      serviceAccounts: [
        {
          ...SERVICE_ACCOUNT,
          publicKeyPem: PUBLIC_KEY,
          scopes: [SCOPES.user, SCOPES.groupReadonly, SCOPES.rolesReadonly, SCOPES.driveReadonly],
        },
      ],
    });
    try {
      const { connector } = g.connector();
      const report = await connector.verify();
      expect(report.capabilities).toEqual(['ACCOUNT_INFO', 'DATA_SCAN']);
      expect([...report.missingPermissions].sort()).toEqual([SCOPE.audit, SCOPE.drive, SCOPE.userSecurity].sort());
      expect([...report.grantedPermissions].sort()).toEqual(
        [SCOPE.user, SCOPE.groupReadonly, SCOPE.rolesReadonly, SCOPE.driveReadonly].sort(),
      );
      expect(report.tenantId).toBe('C03az79cb');
      // Tokens name only the granted scopes: users and files are read.
      expect((await connector.listUsers(null)).items.length).toBeGreaterThan(0);
      expect((await connector.listFiles(null)).items.length).toBeGreaterThan(0);
      // What is not granted is refused in Tenantwatch's words.
      await expect(connector.readAuditEvents({ from: new Date(Date.now() - 3_600_000), to: new Date() }, null)).rejects.toThrow(
        CredentialError,
      );
    } finally {
      g.control.update({ serviceAccounts: [{ ...SERVICE_ACCOUNT, publicKeyPem: PUBLIC_KEY }] });
    }
    // Every scope granted again: every capability (a new connector finds them anew).
    expect((await g.connector().connector.verify()).capabilities).toHaveLength(7);
  });

  it('reports a refused delegation as a credential problem, without Google’s description', async () => {
    g.control.refuseTokens(true);
    try {
      const error = await g
        .connector()
        .connector.listUsers(null)
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(CredentialError);
      expect((error as Error).message).toBe(
        'The identity provider refused to issue an access token (HTTP 401: unauthorized_client for every directory scope)',
      );
    } finally {
      g.control.refuseTokens(false);
    }
  });

  it('exports Google Docs and Sheets as text for the data scan, which finds what was planted in them', async () => {
    const { connector } = g.connector();
    const truth = g.control.truth();
    const planted = truth.files.filter((f) => f.googleDoc && f.planted.length > 0 && f.driveId === null && !f.name.startsWith('Data dump'));
    expect(planted.length).toBeGreaterThan(0);
    for (const file of planted) {
      const content = await connector.downloadFile(file.id);
      expect(content.mimeType).toBe(file.mimeType === 'application/vnd.google-apps.spreadsheet' ? 'text/csv' : 'text/plain');
      const found = scanContent(content.bytes, content.mimeType, file.name);
      const kinds = new Set(found.filter((m) => m.count > 0).map((m) => m.type.toLowerCase()));
      for (const kind of file.planted)
        expect(
          [...kinds].some((k) => k.includes(kind.split('_')[0]!)),
          `${kind} in ${file.name}`,
        ).toBe(true);
    }
    // Past Drive's 10 MB export limit a Doc is answered without content rather than failing the scan.
    const oversize = truth.files.find((f) => f.name.startsWith('Data dump'))!;
    expect((await connector.downloadFile(oversize.id)).bytes.length).toBe(0);
  });

  it('keeps a changes channel per feed; a push notification names the feed, whose change feed then holds the file', async () => {
    const { connector } = g.connector();
    const received: { headers: Headers }[] = [];
    const server = http.createServer((req, res) => {
      const headers = new Headers();
      for (const [name, value] of Object.entries(req.headers)) if (typeof value === 'string') headers.set(name, value);
      received.push({ headers });
      req.resume();
      res.writeHead(202).end();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/webhooks/instance-1`;
    try {
      const target = { url, owns: (address: string) => address.endsWith('/webhooks/instance-1'), capabilities: connector.capabilities };
      const truth = g.control.truth();
      const feeds = truth.users.filter((u) => !u.suspended && !u.archived && !u.deleted).length + truth.drives.length;
      const first = await connector.subscriptions!.sync(target);
      expect(first).toMatchObject({ active: feeds, created: feeds, renewed: 0, deleted: 0 });
      expect(g.control.channels().filter((c) => c.address === url)).toHaveLength(feeds);
      // Kept as they are by the next sync; replaced (a new channel each) when they would expire within a day.
      expect(await g.connector().connector.subscriptions!.sync(target)).toMatchObject({
        active: feeds,
        created: 0,
        renewed: 0,
        deleted: 0,
      });
      const later = new Date(Date.now() + 6.5 * 24 * 3_600_000);
      expect(await connector.subscriptions!.sync(target, later)).toMatchObject({ active: feeds, created: 0, renewed: feeds, deleted: 0 });
      expect(g.control.channels().filter((c) => c.address === url)).toHaveLength(feeds);

      // Every channel sent its sync message, which says nothing.
      const syncs = () => received.filter((r) => r.headers.get('x-goog-resource-state') === 'sync');
      await waitFor('the sync messages', async () => (syncs().length >= 2 * feeds ? true : undefined), 10_000);
      for (const r of syncs()) expect(connector.verifyWebhook({ headers: r.headers, rawBody: Buffer.alloc(0) }).notices).toEqual([]);

      const { deltaCursor } = await connector.readFileChanges(null, null);
      const file = truth.files.find((f) => !f.folder && !f.googleDoc && f.driveId === null && f.ownerId)!;
      const before = received.length;
      g.control.changeFile(file.id);
      const notices = await waitFor(
        'a change notification',
        async () => {
          const notices: WebhookNotice[] = received
            .slice(before)
            .flatMap((r) => connector.verifyWebhook({ headers: r.headers, rawBody: Buffer.alloc(0) }).notices);
          return notices.some((n) => n.externalId === `u:${file.ownerId}`) ? notices : undefined;
        },
        10_000,
      );
      expect(notices.every((n) => n.kind === 'files.changed')).toBe(true);
      // The notification's read: the notified feeds only (one request each), the cursor answered as it was.
      const feedsNamed = [...new Set(notices.map((n) => n.externalId))];
      const lists = () => Object.values(g.control.stats().requests['drive drive.changes.list'] ?? {}).reduce((sum, n) => sum + n, 0);
      const before2 = lists();
      const notified: ChangePage['changes'][number][] = [];
      for (let page: string | null = null; ;) {
        const result: ChangePage = await connector.readFileChanges(deltaCursor, page, feedsNamed);
        notified.push(...result.changes);
        if (!(page = result.next)) {
          expect(result.deltaCursor).toBe(deltaCursor);
          break;
        }
      }
      expect(lists() - before2).toBe(feedsNamed.length);
      expect(notified.find((c) => c.kind === 'upsert' && c.file.externalId === file.id)).toBeDefined();
      expect(notified.some((c) => c.kind === 'deleted')).toBe(false);
      // The full read finds it too, and moves the cursor on.
      const { changes, cursor: after } = await readAll(connector, deltaCursor!);
      expect(changes.find((c) => c.kind === 'upsert' && c.file.externalId === file.id)).toBeDefined();
      expect(after).not.toBe(deltaCursor);

      // Disconnected: every channel is stopped at Drive.
      expect(await connector.subscriptions!.sync({ ...target, url: null })).toMatchObject({ active: 0, deleted: feeds });
      expect(g.control.channels().filter((c) => c.address === url)).toHaveLength(0);
    } finally {
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });

  it('answers a deleted file once, and not a file that only lost one of its viewers', async () => {
    const { connector } = g.connector();
    const start = (await connector.readFileChanges(null, null)).deltaCursor!;
    const truth = g.control.truth();
    const live = truth.files.filter((f) => !f.folder && !f.deleted && f.driveId === null && f.ownerId);
    const gone = live.at(-1)!;
    g.control.remove('file', gone.id);
    // Quarantined: its other internal viewers lose it (their feeds report it removed), its owner's feed reports the move.
    const domain = `@${truth.domain}`;
    const shared = live.find(
      (f) => f.id !== gone.id && f.permissions.some((p) => p.role !== 'owner' && p.type === 'user' && p.emailAddress?.endsWith(domain)),
    )!;
    expect(shared).toBeDefined();
    expect((await connector.quarantineFile(shared.id))?.quarantined).toBe(true);
    const { changes, cursor } = await readAll(connector, start);
    expect(changes.filter((c) => c.kind === 'deleted').map((c) => (c.kind === 'deleted' ? c.externalId : ''))).toEqual([gone.id]);
    expect(changes.find((c) => c.kind === 'upsert' && c.file.externalId === shared.id)).toMatchObject({
      file: { quarantined: true, sharing: 'PRIVATE', collaborators: [] },
    });
    // Read again from the new cursor: nothing more.
    expect((await readAll(connector, cursor)).changes).toEqual([]);
  });

  it('leaves out the Drive of a user suspended during a listing, and refuses to act on their files in Tenantwatch’s words', async () => {
    const { connector } = g.connector();
    const first = await connector.listFiles(null);
    const truth = g.control.truth();
    const owner = truth.users.find(
      (u) =>
        !u.isAdmin && !u.suspended && !u.archived && !u.deleted && truth.files.some((f) => f.ownerId === u.id && !f.folder && !f.deleted),
    )!;
    const owned = truth.files.find((f) => f.ownerId === owner.id && !f.folder && !f.deleted)!;
    await connector.suspendUser(owner.id);
    try {
      const files = [...first.items];
      for (let page = first.next; page;) {
        const result = await connector.listFiles(page);
        files.push(...result.items);
        page = result.next;
      }
      expect(files.some((f) => f.ownerExternalId === owner.id && !first.items.includes(f))).toBe(false);
      // Known from the listing: not gone (no 404), but nothing can be done to it while its owner is suspended.
      expect((await connector.downloadFile(owned.id)).bytes.length).toBe(0);
      await expect(connector.trashFile(owned.id)).rejects.toThrow(/owner (is|may be) suspended or archived/);
    } finally {
      await connector.unsuspendUser(owner.id);
    }
  });

  it('finds the owners of files it did not list with one listing, not a search of every Drive per file', async () => {
    // A customer this process never listed (after a restart, the data scan reads files a listing found earlier).
    const fresh = await startTrustedGoogle({ customerId: 'C0fresh42', domain: 'fresh.example.org', users: 12, files: 20, sharedDrives: 1 });
    try {
      const { connector } = fresh.connector();
      const truth = fresh.control.truth();
      const files = truth.files.filter((f) => !f.folder && !f.deleted && !f.googleDoc).slice(0, 8);
      const count = (name: string) => Object.values(fresh.control.stats().requests[`drive ${name}`] ?? {}).reduce((sum, n) => sum + n, 0);
      for (const file of files) expect((await connector.downloadFile(file.id)).bytes.length).toBeGreaterThan(0);
      const feeds = truth.users.filter((u) => !u.suspended && !u.archived).length + truth.drives.length;
      // One listing of each feed (its pages: at most 1,000 files each), then a get and a download per file.
      expect(count('drive.files.list')).toBe(feeds);
      expect(count('drive.files.get')).toBe(2 * files.length);
    } finally {
      await fresh.stop();
    }
  });

  it('refuses a change cursor Drive no longer knows with CursorExpiredError', async () => {
    const { connector } = g.connector();
    const stale = JSON.stringify({ v: 1, b: '999999999', x: {} });
    await expect(connector.readFileChanges(stale, null)).rejects.toMatchObject({ name: 'CursorExpiredError' });
  });
});
