import { afterEach, describe, expect, it } from 'vitest';
import { PermanentError, WebhookRejectedError, type Capability, type Connector, type SubscriptionTarget } from '../contract.js';
import { simulatedConnectorFactory } from './connector.js';
import { directHttp } from './direct-http.js';
import type { SubscriptionTruth } from './subscriptions.js';
import { call, ManualClock, simulator, smallTenant, waitFor, webhookReceiver, type Receiver } from './test-support.js';
import { subscriptionClientState } from './webhook-verify.js';
import type { WireSubscription } from './wire.js';

const stops: (() => Promise<void>)[] = [];
const track = (stop: () => Promise<void>) => stops.push(stop);
afterEach(async () => {
  await Promise.all(stops.splice(0).map((stop) => stop()));
});

const TOKEN = 'acme-test-token';
const SECRET = 'instance-webhook-secret-0123456789';
const CLIENT_STATE = subscriptionClientState(SECRET);
const FILES: readonly Capability[] = ['ACCOUNT_INFO', 'DATA_SCAN'];

async function receiver(echo: boolean): Promise<Receiver> {
  const r = await webhookReceiver({ echo });
  track(() => r.close());
  return r;
}

function connectorFor(url: string, webhookSecret: string | null = SECRET): Connector {
  const config = { endpoint: url, token: TOKEN, ...(webhookSecret ? { webhookSecret } : {}) };
  return simulatedConnectorFactory.create(config, directHttp(simulatedConnectorFactory, config));
}

/** The instance's target: its address under the receiver, owning any address ending in its id. */
const target = (hooks: Receiver, more: Partial<SubscriptionTarget> = {}): SubscriptionTarget => ({
  url: `${hooks.url}/webhooks/instance-1`,
  owns: (address) => address.endsWith('/webhooks/instance-1'),
  capabilities: FILES,
  ...more,
});

const bodyOf = (r: Receiver, i: number) => JSON.parse(r.deliveries[i]!.rawBody.toString('utf8')) as Record<string, unknown>;

describe('change subscriptions at the simulator', () => {
  it('makes one after the handshake on both URLs, once; each change comes with the clientState and the connector reads it', async () => {
    const hooks = await receiver(true);
    const sim = await simulator(track);
    const connector = connectorFor(sim.url);
    const sync = await connector.subscriptions!.sync(target(hooks));
    expect(sync).toMatchObject({ active: 1, created: 1, renewed: 0, deleted: 0 });
    // Notifications and lifecycle notifications share the address: it was validated once.
    expect(hooks.handshakes).toHaveLength(1);
    expect(await connector.subscriptions!.sync(target(hooks))).toMatchObject({ active: 1, created: 0 });
    const listed = await call<{ items: WireSubscription[] }>(sim.url, '/api/v1/subscriptions', TOKEN);
    expect(listed.body.items).toHaveLength(1);
    expect(listed.body.items[0]).toMatchObject({
      resource: 'files',
      notificationUrl: target(hooks).url,
      lifecycleNotificationUrl: target(hooks).url,
    });
    expect(JSON.stringify(listed.body)).not.toContain(CLIENT_STATE);
    // The default maximum life is an hour: the renewal is due at half of it.
    const made = listed.body.items[0]!;
    expect(sync.renewAt!.getTime()).toBe(Date.parse(made.expiresAt) - (Date.parse(made.expiresAt) - Date.parse(made.createdAt)) / 2);

    const file = sim.tenant('acme').truth().files[0]!;
    sim.tenant('acme').touchFile(file.id);
    await waitFor('the notification', () => hooks.deliveries.length === 1);
    expect(bodyOf(hooks, 0)).toMatchObject({ subscriptionId: made.id, clientState: CLIENT_STATE });
    expect(connector.verifyWebhook(hooks.deliveries[0]!).notices).toEqual([{ kind: 'file.changed', externalId: file.id }]);
    // A change nobody hears of: recorded in the feed, not notified.
    sim.tenant('acme').touchFile(file.id, { notify: false });
    expect(sim.tenant('acme').subscriptions()[0]!.deliveries).toBe(1);
    // Another instance's secret does not verify this instance's deliveries.
    expect(() => connectorFor(sim.url, 'another-instance-secret-987654').verifyWebhook(hooks.deliveries[0]!)).toThrow(/wrong clientState/);
  });

  it('makes none when the endpoint does not echo the validation token, without a webhookSecret, or without DATA_SCAN', async () => {
    const silent = await receiver(false);
    const sim = await simulator(track);
    const failure = await connectorFor(sim.url)
      .subscriptions!.sync(target(silent))
      .catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(PermanentError);
    expect((failure as PermanentError).status).toBe(400);
    expect(silent.handshakes).toHaveLength(1);
    expect(sim.tenant('acme').subscriptions()).toEqual([]);
    await expect(connectorFor(sim.url, null).subscriptions!.sync(target(silent))).rejects.toThrow(/need the instance’s webhookSecret/);
    expect(await connectorFor(sim.url).subscriptions!.sync(target(silent, { capabilities: ['ACCOUNT_INFO'] }))).toMatchObject({
      active: 0,
    });

    const bad = await call<{ error: string; message: string }>(sim.url, '/api/v1/subscriptions', TOKEN, {
      method: 'POST',
      body: { resource: 'calendars', notificationUrl: 'ftp://x', clientState: 'x'.repeat(129) },
    });
    expect(bad.status).toBe(400);
    expect(bad.body.message).toContain('body.resource');
    expect(bad.body.message).toContain('body.notificationUrl: must be an http(s) URL');
    expect(bad.body.message).toContain('body.clientState: must be 1 to 128 characters');
  });

  it('renews at half its life (capped by the provider), makes it again once lapsed, and moves or deletes what it no longer needs', async () => {
    const clock = new ManualClock();
    const hooks = await receiver(true);
    const sim = await simulator(track, { clock: clock.now, tenants: [smallTenant({ maxSubscriptionLifetimeSeconds: 60 })] });
    const connector = connectorFor(sim.url);
    const at = () => new Date(clock.now());
    const first = await connector.subscriptions!.sync(target(hooks), at());
    expect(sim.tenant('acme').subscriptions()[0]!.expiresAt).toBe(new Date(clock.now() + 60_000).toISOString());
    expect(first.renewAt!.getTime()).toBe(clock.now() + 30_000);
    clock.advance(20_000);
    expect(await connector.subscriptions!.sync(target(hooks), at())).toMatchObject({ renewed: 0 });
    clock.advance(15_000);
    expect(await connector.subscriptions!.sync(target(hooks), at())).toMatchObject({ active: 1, renewed: 1, created: 0 });
    expect(sim.tenant('acme').subscriptions()[0]!.expiresAt).toBe(new Date(clock.now() + 60_000).toISOString());
    // Lapsed (no scheduler ran): the provider delivers nothing and forgets it; the next sync makes it again.
    clock.advance(61_000);
    sim.tenant('acme').touchFile(sim.tenant('acme').truth().files[0]!.id);
    expect(sim.tenant('acme').subscriptions()).toEqual([]);
    expect(await connector.subscriptions!.sync(target(hooks), at())).toMatchObject({ active: 1, created: 1 });
    // A new address (PUBLIC_WEBHOOK_URL changed): the old one goes; no address: none is left.
    const moved = await connector.subscriptions!.sync(target(hooks, { url: `${hooks.url}/moved/webhooks/instance-1` }), at());
    expect(moved).toMatchObject({ active: 1, created: 1, deleted: 1 });
    expect(await connector.subscriptions!.sync(target(hooks, { url: null }), at())).toMatchObject({ active: 0, deleted: 1 });
    expect(sim.tenant('acme').subscriptions()).toEqual([]);
  });

  it('answers lifecycle notifications: reauthorization pauses deliveries until a renewal, removal asks for a new one, missed reads the feed', async () => {
    const hooks = await receiver(true);
    const sim = await simulator(track);
    const connector = connectorFor(sim.url);
    await connector.subscriptions!.sync(target(hooks));
    const tenant = sim.tenant('acme');
    const id = tenant.subscriptions()[0]!.id;
    const file = tenant.truth().files[0]!.id;
    const lifecycle = (event: string) =>
      call<SubscriptionTruth>(sim.url, `/admin/tenants/acme/subscriptions/${id}/lifecycle`, null, { method: 'POST', body: { event } });
    const lastNotices = () => connector.verifyWebhook(hooks.deliveries.at(-1)!).notices;

    expect((await lifecycle('reauthorizationRequired')).body.reauthorizationRequired).toBe(true);
    await waitFor('the reauthorization request', () => hooks.deliveries.length === 1);
    expect(lastNotices()).toEqual([{ kind: 'subscriptions.stale', externalId: id }]);
    tenant.touchFile(file);
    expect(tenant.subscriptions()[0]!.deliveries).toBe(0);
    expect(await connector.subscriptions!.sync(target(hooks, { renew: new Set([id]) }))).toMatchObject({ renewed: 1 });
    tenant.touchFile(file);
    await waitFor('the notification after the renewal', () => hooks.deliveries.length === 2);

    await lifecycle('missed');
    await waitFor('the missed notice', () => hooks.deliveries.length === 3);
    expect(lastNotices()).toEqual([{ kind: 'files.changed', externalId: '*' }]);

    await lifecycle('subscriptionRemoved');
    await waitFor('the removal notice', () => hooks.deliveries.length === 4);
    expect(lastNotices()).toEqual([{ kind: 'subscriptions.stale', externalId: id }]);
    expect(tenant.subscriptions()).toEqual([]);
    expect(await connector.subscriptions!.sync(target(hooks))).toMatchObject({ active: 1, created: 1 });
    expect((await lifecycle('missed')).status).toBe(404);
    expect(
      (await call(sim.url, '/admin/tenants/acme/subscriptions/x/lifecycle', null, { method: 'POST', body: { event: 'x' } })).status,
    ).toBe(400);
  });

  it('refuses a subscription delivery that is stale, malformed, names an unknown lifecycle event or carries a wrong clientState', () => {
    const connector = connectorFor('http://127.0.0.1:9');
    const now = new Date();
    const headers = (at: Date) => new Headers({ 'x-simulator-timestamp': String(Math.floor(at.getTime() / 1000)) });
    const delivery = (fields: Record<string, unknown>, at = now) => ({
      headers: headers(at),
      rawBody: Buffer.from(
        JSON.stringify({ tenantId: 'acme', deliveryId: 'd-1', subscriptionId: 's-1', clientState: CLIENT_STATE, ...fields }),
      ),
    });
    const rejected = (d: ReturnType<typeof delivery>) => {
      try {
        connector.verifyWebhook(d, now);
      } catch (error) {
        expect(error).toBeInstanceOf(WebhookRejectedError);
        return (error as Error).message;
      }
      throw new Error('expected a rejection');
    };
    expect(rejected(delivery({}, new Date(now.getTime() - 10 * 60_000)))).toMatch(/outside the 5-minute replay window/);
    expect(rejected(delivery({ lifecycleEvent: 'subscriptionDeleted' }))).toMatch(/^unknown lifecycleEvent/);
    expect(rejected(delivery({ clientState: 'x'.repeat(129) }))).toMatch(/clientState must be 1 to 128 characters/);
    expect(rejected(delivery({ clientState: 'y'.repeat(43) }))).toMatch(/wrong clientState/);
    expect(rejected(delivery({ clientState: 7 }))).toMatch(/^body is not a subscription delivery/);
    expect(connector.verifyWebhook(delivery({ notices: [] }), now)).toMatchObject({ deliveryId: 'd-1', notices: [] });
  });
});
