import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PermanentError, type Capability, type Connector, type SubscriptionTarget } from '../connectors/contract.js';
import { type M365Emulator, type M365TenantControl } from '../emulators/m365/index.js';
import { startTrustedM365, type TrustedM365Emulator } from './m365-emulator.js';
import { waitFor } from './harness.js';

/**
 * The Microsoft 365 connector keeps its drive subscriptions against the emulator's Graph
 * `/subscriptions`: made once per document library (after the validation handshake), renewed before
 * they expire and when Graph asks for reauthorization, deleted when the address changes or the
 * instance stops needing them — and never touching another instance's subscriptions.
 */

const TENANT_ID = '6b1d2c3e-4f5a-4b6c-8d7e-9f0a1b2c3d4e';
const CLIENT_ID = '7c2e3d4f-5a6b-4c7d-9e8f-0a1b2c3d4e5f';
const SECRET = 'subscription-test-secret';
const CLIENT_STATE = 'subscription-test-client-state';
const DAY = 24 * 3_600_000;
const ALL: readonly Capability[] = ['ACCOUNT_INFO', 'DATA_SCAN'];

let now = Date.now();
let emulator: M365Emulator;
let m365: TrustedM365Emulator;
let tenant: M365TenantControl;
let receiver: http.Server;
let base: string;
/** Bodies POSTed to the receiver (notifications), by path; validation requests are answered and not kept. */
const received: { path: string; body: string }[] = [];

beforeAll(async () => {
  receiver = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://receiver');
    const token = url.searchParams.get('validationToken');
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString()));
    req.on('end', () => {
      if (token !== null) {
        res.writeHead(200, { 'content-type': 'text/plain' }).end(token);
        return;
      }
      received.push({ path: url.pathname, body });
      res.writeHead(202).end();
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/webhooks`;
  m365 = await startTrustedM365({
    clock: () => now,
    tenants: [{ tenantId: TENANT_ID, users: 6, files: 6, clients: [{ clientId: CLIENT_ID, clientSecret: SECRET }] }],
  });
  emulator = m365.emulator;
  tenant = emulator.tenant(TENANT_ID);
});

afterAll(async () => {
  await m365?.stop();
  await new Promise((resolve) => receiver?.close(resolve));
});

const connector = (extra: Record<string, unknown> = {}): Connector =>
  m365.connector({ tenantId: TENANT_ID, clientId: CLIENT_ID, clientSecret: SECRET, clientState: CLIENT_STATE, ...extra }).connector;

/** What instance `id` asks for: its address (or none), owning any address that ends with its id. */
const target = (id: string, url: string | null = `${base}/${id}`, more: Partial<SubscriptionTarget> = {}): SubscriptionTarget => ({
  url,
  owns: (address) => address.endsWith(`/webhooks/${id}`),
  capabilities: ALL,
  ...more,
});
const drives = () => tenant.truth().drives.map((d) => `/drives/${d.id}/root`);
const to = (url: string) => tenant.subscriptions().filter((s) => s.notificationUrl === url);

describe('Microsoft 365 change subscriptions', () => {
  it('makes one subscription per document library, with lifecycle notifications to the same address, once', async () => {
    const sync = await connector().subscriptions!.sync(target('a'), new Date(now));
    expect(sync).toMatchObject({ active: drives().length, created: drives().length, renewed: 0, deleted: 0 });
    const made = to(`${base}/a`);
    expect(made.map((s) => s.resource).sort()).toEqual(drives().sort());
    for (const sub of made) {
      expect(sub).toMatchObject({ changeType: 'updated', lifecycleNotificationUrl: `${base}/a`, clientState: CLIENT_STATE });
      // Graph's limit for driveItem is 42,300 minutes; the connector stays an hour below it.
      expect(Date.parse(sub.expirationDateTime) - now).toBe((42_300 - 60) * 60_000);
    }
    // The renewal is due three days before the earliest expiry.
    expect(sync.renewAt!.getTime()).toBe(now + (42_300 - 60) * 60_000 - 3 * DAY);

    const again = await connector().subscriptions!.sync(target('a'), new Date(now));
    expect(again).toMatchObject({ active: drives().length, created: 0, renewed: 0, deleted: 0 });
    expect(to(`${base}/a`)).toHaveLength(drives().length);
  });

  it('renews subscriptions that expire within three days, and only those', async () => {
    const before = to(`${base}/a`).map((s) => s.expirationDateTime);
    now += 26 * DAY;
    const early = await connector().subscriptions!.sync(target('a'), new Date(now));
    expect(early.renewed).toBe(0);
    expect(to(`${base}/a`).map((s) => s.expirationDateTime)).toEqual(before);
    now += 2 * DAY;
    const due = await connector().subscriptions!.sync(target('a'), new Date(now));
    expect(due).toMatchObject({ active: drives().length, created: 0, renewed: drives().length });
    for (const sub of to(`${base}/a`)) expect(Date.parse(sub.expirationDateTime) - now).toBe((42_300 - 60) * 60_000);
  });

  it('answers reauthorizationRequired: the notice asks for a sync, which renews every subscription and resumes notifications', async () => {
    const c = connector();
    received.length = 0;
    expect(tenant.requireReauthorization()).toBe(drives().length);
    await waitFor('the lifecycle notifications', async () => (received.length >= drives().length ? true : undefined), 10_000, 20);
    const notices = received.flatMap(
      ({ body }) => c.verifyWebhook({ headers: new Headers({ 'content-type': 'application/json' }), rawBody: Buffer.from(body) }).notices,
    );
    expect(new Set(notices.map((n) => n.kind))).toEqual(new Set(['subscriptions.stale']));
    expect(notices.map((n) => n.externalId).sort()).toEqual(
      to(`${base}/a`)
        .map((s) => s.id)
        .sort(),
    );

    // Paused: a change sends nothing until the subscription is reauthorized.
    received.length = 0;
    const file = tenant.truth().items.find((i) => !i.folder && !i.deleted)!;
    tenant.changeFile(file.id);
    // Each notice names its subscription: those are renewed, and only those.
    const [one, ...others] = notices.map((n) => n.externalId);
    expect(await c.subscriptions!.sync(target('a', `${base}/a`, { renew: new Set([one!]) }), new Date(now))).toMatchObject({ renewed: 1 });
    expect(
      tenant
        .subscriptions()
        .filter((s) => s.reauthorizationRequired)
        .map((s) => s.id),
    ).toEqual(others);
    const sync = await c.subscriptions!.sync(target('a', `${base}/a`, { renew: new Set(others) }), new Date(now));
    expect(sync).toMatchObject({ renewed: others.length, created: 0 });
    expect(received).toEqual([]);
    expect(tenant.subscriptions().every((s) => !s.reauthorizationRequired)).toBe(true);
    tenant.changeFile(file.id);
    await waitFor('a change notification after the renewal', async () => (received.length > 0 ? true : undefined), 10_000, 20);
    const changed = c.verifyWebhook({ headers: new Headers(), rawBody: Buffer.from(received[0]!.body) }).notices;
    expect(changed).toEqual([{ kind: 'files.changed', externalId: file.driveId }]);
  });

  it('moves to a new address, leaves other instances’ subscriptions alone, and deletes its own when it needs none', async () => {
    await connector().subscriptions!.sync(target('b'), new Date(now));
    expect(to(`${base}/b`)).toHaveLength(drives().length);

    // PUBLIC_WEBHOOK_URL changed: the old address's subscriptions go, new ones are made.
    const moved = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/moved/webhooks/a`;
    const sync = await connector().subscriptions!.sync(target('a', moved), new Date(now));
    expect(sync).toMatchObject({ active: drives().length, created: drives().length, deleted: drives().length });
    expect(to(`${base}/a`)).toEqual([]);
    expect(to(moved)).toHaveLength(drives().length);

    // A second subscription on each library (made by a sync that did not see the first): the one that lives longer is kept.
    await connector().subscriptions!.sync({ ...target('a', moved), owns: () => false }, new Date(now + 60_000));
    expect(to(moved)).toHaveLength(2 * drives().length);
    const deduplicated = await connector().subscriptions!.sync(target('a', moved), new Date(now));
    expect(deduplicated).toMatchObject({ active: drives().length, created: 0, renewed: 0, deleted: drives().length });
    for (const sub of to(moved)) expect(Date.parse(sub.expirationDateTime) - now).toBe((42_300 - 60) * 60_000 + 60_000);

    // Without the files capability, and then without an address: nothing of its own is left.
    const noFiles = await connector().subscriptions!.sync(target('a', moved, { capabilities: ['ACCOUNT_INFO'] }), new Date(now));
    expect(noFiles).toMatchObject({ active: 0, deleted: drives().length, renewAt: null });
    await connector().subscriptions!.sync(target('a', moved), new Date(now));
    const none = await connector().subscriptions!.sync(target('a', null), new Date(now));
    expect(none).toMatchObject({ active: 0, created: 0, deleted: drives().length });
    expect(to(moved)).toEqual([]);
    expect(to(`${base}/b`)).toHaveLength(drives().length);
  });

  it('refuses to subscribe without a clientState to verify notifications with, in Tenantwatch’s words', async () => {
    const failure = connector({ clientState: undefined }).subscriptions!.sync(target('c'), new Date(now));
    await expect(failure).rejects.toBeInstanceOf(PermanentError);
    await expect(failure).rejects.toThrow(/need a clientState/);
    expect(to(`${base}/c`)).toEqual([]);
  });
});
