import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Connector, ProviderEvent } from '../connectors/contract.js';
import { GRAPH_PERMISSIONS, type M365Emulator, type M365TenantControl } from '../emulators/m365/index.js';
import { startTrustedM365, type TrustedM365Emulator } from './m365-emulator.js';

/**
 * File activity from the Office 365 Management Activity API, against the emulator: the connector
 * starts the Audit.SharePoint subscription, lists content blobs by when they became available (paged
 * by NextPageUri), reads each, keeps the records of the window and names actors by their Graph id.
 * The emulator's own answers are checked against the API reference too.
 */

const TENANT_ID = '2a3b4c5d-6e7f-4a8b-9c0d-1e2f3a4b5c6d';
const CLIENT_ID = '3b4c5d6e-7f8a-4b9c-8d0e-1f2a3b4c5d6e';
const GRAPH_ONLY = '4c5d6e7f-8a9b-4c0d-9e1f-2a3b4c5d6e7f';
const SECRET = 'activity-test-secret';

let now = Date.parse('2026-12-01T12:00:00Z');
let emulator: M365Emulator;
let m365: TrustedM365Emulator;
let tenant: M365TenantControl;

beforeAll(async () => {
  m365 = await startTrustedM365({
    clock: () => now,
    tenants: [
      {
        tenantId: TENANT_ID,
        users: 8,
        files: 10,
        backfillDays: 0,
        maxPageSize: 2,
        activityBlobSeconds: 60,
        clients: [
          { clientId: CLIENT_ID, clientSecret: SECRET },
          { clientId: GRAPH_ONLY, clientSecret: SECRET, roles: [...GRAPH_PERMISSIONS] },
        ],
      },
    ],
  });
  emulator = m365.emulator;
  tenant = emulator.tenant(TENANT_ID);
});

afterAll(async () => {
  await m365?.stop();
});

const connector = (clientId = CLIENT_ID): Connector =>
  m365.connector({ tenantId: TENANT_ID, clientId, clientSecret: SECRET, managementEndpoint: emulator.managementEndpoint }).connector;

/** Every event of `window` the connector reads now, with how many pages it took. */
async function readAll(c: Connector, from: number, to: number): Promise<{ events: ProviderEvent[]; pages: number }> {
  const events: ProviderEvent[] = [];
  let page: string | null = null;
  let pages = 0;
  do {
    const result = await c.readAuditEvents({ from: new Date(from), to: new Date(to) }, page);
    events.push(...result.items);
    page = result.next;
    pages++;
  } while (page && pages < 500);
  return { events, pages };
}
const fileEvents = (events: ProviderEvent[]) => events.filter((e) => e.targetType === 'file');

describe('Microsoft 365 file activity (Office 365 Management Activity API)', () => {
  it('reports ActivityFeed.Read among the granted permissions, read from the Management APIs’ own token', async () => {
    expect((await connector().verify()).grantedPermissions).toContain('ActivityFeed.Read');
    const graphOnly = await connector(GRAPH_ONLY).verify();
    expect(graphOnly.grantedPermissions).not.toContain('ActivityFeed.Read');
    expect(graphOnly.missingPermissions).toContain('ActivityFeed.Read');
  });

  it('starts the Audit.SharePoint subscription and reads only what happened after it started, once available', async () => {
    const before = tenant.fileActivity(3, 0);
    expect(tenant.truth().activitySubscriptions).toEqual([]);
    now += 1_000;
    const start = now;
    const first = await readAll(connector(), start - 3_600_000, start);
    expect(tenant.truth().activitySubscriptions).toEqual(['Audit.SharePoint']);
    expect(fileEvents(first.events)).toEqual([]);

    now += 1_000;
    const ids = tenant.fileActivity(9, 5 * 60_000);
    // Not yet available: each record waits for its blob.
    expect(fileEvents((await readAll(connector(), start, now + 1)).events)).toEqual([]);
    now += 7 * 60_000;
    const read = await readAll(connector(), start, start + 2_000);
    const got = fileEvents(read.events);
    expect(got.map((e) => e.externalId).sort()).toEqual([...ids].sort());
    expect(got.map((e) => e.externalId)).not.toEqual(expect.arrayContaining(before));
    // Blobs of one minute each, listed two to a page: several listing pages and blob reads.
    expect(read.pages).toBeGreaterThan(4);
  });

  it('keeps only the records of the window, named as Tenantwatch names them, actors by their Graph id', async () => {
    const truth = tenant.truth();
    const record = truth.fileActivity.find((f) => f.aggregated)!;
    const occurred = Date.parse(record.occurredAt);
    const { events } = await readAll(connector(), occurred, occurred + 1);
    const event = fileEvents(events).find((e) => e.externalId === record.id)!;
    const user = truth.users.find((u) => u.userPrincipalName === record.userId)!;
    const action = { FileAccessed: 'file.access', FileDownloaded: 'file.download', FileModified: 'file.modify', SharingSet: 'file.share' }[
      record.operation
    ];
    expect(event).toMatchObject({ category: 'USER', action, actorExternalId: user.id, occurredAt: record.occurredAt, targetType: 'file' });
    expect(fileEvents(events).every((e) => Date.parse(e.occurredAt) >= occurred && Date.parse(e.occurredAt) < occurred + 1)).toBe(true);
    expect(fileEvents((await readAll(connector(), occurred - 60 * 60_000, occurred - 30 * 60_000)).events)).toEqual([]);
  });

  it('reads nothing from the feed without ActivityFeed.Read (the rest of the audit trail is unchanged)', async () => {
    const { events } = await readAll(connector(GRAPH_ONLY), now - 3_600_000, now);
    expect(fileEvents(events)).toEqual([]);
  });
});

describe('the emulated Management Activity API', () => {
  const token = async (scope: string) => {
    const answer = await fetch(`${emulator.authorityHost}/${TENANT_ID}/oauth2/v2.0/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'client_credentials', client_id: CLIENT_ID, client_secret: SECRET, scope }),
    });
    return ((await answer.json()) as { access_token: string }).access_token;
  };
  const feed = async (path: string, scope = `${emulator.managementEndpoint}/.default`) => {
    const response = await fetch(`${emulator.managementEndpoint}/api/v1.0/${TENANT_ID}/activity/feed/${path}`, {
      headers: { authorization: `Bearer ${await token(scope)}` },
    });
    return { status: response.status, body: (await response.json()) as { error?: { code: string } } };
  };

  it('refuses a Graph token, a window over 24 hours, a start over 7 days back, and an unknown content type, with the documented codes', async () => {
    expect((await feed('subscriptions/list', `${emulator.graphEndpoint}/.default`)).body.error?.code).toBe('AF10001');
    const iso = (at: number) => new Date(at).toISOString().slice(0, 19);
    const wide = await feed(
      `subscriptions/content?contentType=Audit.SharePoint&startTime=${iso(now - 25 * 3_600_000)}&endTime=${iso(now)}`,
    );
    expect(wide).toMatchObject({ status: 400, body: { error: { code: 'AF20030' } } });
    const old = await feed(
      `subscriptions/content?contentType=Audit.SharePoint&startTime=${iso(now - 8 * 86_400_000)}&endTime=${iso(now - 8 * 86_400_000 + 3_600_000)}`,
    );
    expect(old.body.error?.code).toBe('AF20030');
    expect((await feed('subscriptions/content?contentType=Audit.Nothing')).body.error?.code).toBe('AF20020');
    expect((await feed('subscriptions/content?contentType=Audit.Exchange')).body.error?.code).toBe('AF20022');
  });
});
