import { afterEach, describe, expect, it } from 'vitest';
import { CursorExpiredError, WebhookRejectedError, type WebhookDelivery } from '../contract.js';
import { simulatedConnectorFactory } from './connector.js';
import { directHttp } from './direct-http.js';
import { MAX_DELIVERY_ID_LENGTH, REPLAY_WINDOW_MS } from './webhook-verify.js';
import { signWebhook } from './webhooks.js';
import type { WireChange } from './wire.js';
import { call, ManualClock, simulator, smallTenant, waitFor, webhookReceiver } from './test-support.js';

const stops: (() => Promise<void>)[] = [];
const track = (stop: () => Promise<void>) => stops.push(stop);
afterEach(async () => {
  await Promise.all(stops.splice(0).map((stop) => stop()));
});

const TOKEN = 'acme-test-token';
const SECRET = 'whsec-test-0123456789';

interface ChangeAnswer {
  items: WireChange[];
  nextPageToken: string | null;
  deltaCursor: string | null;
}

describe('the file change feed', () => {
  it('starts at now, pages the changes since a cursor (each file once, as it is now) and hands a new cursor on the last page', async () => {
    const clock = new ManualClock();
    const sim = await simulator(track, { clock: clock.now });
    const tenant = sim.tenant('acme');
    const start = await call<ChangeAnswer>(sim.url, '/api/v1/files/changes', TOKEN);
    expect(start.body).toMatchObject({ items: [], nextPageToken: null });
    expect(start.body.deltaCursor).toEqual(expect.any(String));

    const files = tenant.truth().files;
    for (const file of files.slice(0, 4)) tenant.touchFile(file.id);
    tenant.touchFile(files[0]!.id); // twice: reported once
    tenant.delete('file', files[4]!.id);

    const seen: WireChange[] = [];
    let answer = await call<ChangeAnswer>(sim.url, `/api/v1/files/changes?cursor=${start.body.deltaCursor}&limit=2`, TOKEN);
    seen.push(...answer.body.items);
    while (answer.body.nextPageToken) {
      expect(answer.body.deltaCursor).toBeNull();
      answer = await call<ChangeAnswer>(sim.url, `/api/v1/files/changes?pageToken=${answer.body.nextPageToken}&limit=2`, TOKEN);
      seen.push(...answer.body.items);
    }
    expect(seen.map((c) => c.fileId).sort()).toEqual(
      files
        .slice(0, 5)
        .map((f) => f.id)
        .sort(),
    );
    const upsert = seen.find((c) => c.fileId === files[0]!.id);
    expect(upsert).toMatchObject({ type: 'file.upsert', file: { revision: 3 } });
    expect(seen.find((c) => c.fileId === files[4]!.id)).toEqual({ type: 'file.deleted', fileId: files[4]!.id });

    const next = await call<ChangeAnswer>(sim.url, `/api/v1/files/changes?cursor=${answer.body.deltaCursor}`, TOKEN);
    expect(next.body.items).toEqual([]);
    expect(next.body.deltaCursor).toEqual(expect.any(String));
  });

  it('answers 410 cursor_expired for a cursor older than the retention, which the connector reports as CursorExpiredError', async () => {
    const clock = new ManualClock();
    const sim = await simulator(track, { clock: clock.now, tenants: [smallTenant({ changeRetentionMs: 60_000 })] });
    const connector = simulatedConnectorFactory.create(
      { endpoint: sim.url, token: TOKEN },
      directHttp(simulatedConnectorFactory, { endpoint: sim.url, token: TOKEN }),
    );
    const first = await connector.readFileChanges(null, null);
    clock.advance(59_000);
    const fresh = await connector.readFileChanges(first.deltaCursor, null);
    expect(fresh.changes).toEqual([]);

    sim.tenant('acme').update({ changeRetentionMs: 1000 }); // a short retention, injected at run time
    clock.advance(1001);
    const expired = await call<{ error: string; message: string }>(sim.url, `/api/v1/files/changes?cursor=${fresh.deltaCursor}`, TOKEN);
    expect(expired.status).toBe(410);
    expect(expired.body.error).toBe('cursor_expired');
    await expect(connector.readFileChanges(fresh.deltaCursor, null)).rejects.toBeInstanceOf(CursorExpiredError);
  });
});

describe('webhooks', () => {
  it('delivers a signed notice for each file change, which the connector verifies; tampering, replays and missing secrets are rejected', async () => {
    const receiver = await webhookReceiver();
    track(() => receiver.close());
    const clock = new ManualClock(Date.now());
    const sim = await simulator(track, { clock: clock.now, tenants: [smallTenant({ webhook: { url: receiver.url, secret: SECRET } })] });
    const file = sim.tenant('acme').truth().files[2]!;
    sim.tenant('acme').touchFile(file.id);
    const [delivery] = await waitFor('a webhook delivery', () => receiver.deliveries.length > 0 && receiver.deliveries);
    const body = JSON.parse(delivery!.rawBody.toString('utf8')) as { tenantId: string; deliveryId: string; notices: unknown[] };
    expect(body).toMatchObject({ tenantId: 'acme', notices: [{ kind: 'file.changed', externalId: file.id }] });
    expect(delivery!.headers.get('x-simulator-signature')).toMatch(/^v1=[0-9a-f]{64}$/);

    const config = { endpoint: sim.url, token: TOKEN, webhookSecret: SECRET };
    const connector = simulatedConnectorFactory.create(config, directHttp(simulatedConnectorFactory, config));
    const now = new Date(clock.now());
    const signedAt = Number(delivery!.headers.get('x-simulator-timestamp'));
    // The delivery id is the signed body's, and the receiver must remember it until the signature expires.
    expect(connector.verifyWebhook(delivery!, now)).toEqual({
      deliveryId: body.deliveryId,
      expiresAt: new Date(signedAt * 1000 + REPLAY_WINDOW_MS),
      notices: [{ kind: 'file.changed', externalId: file.id }],
    });

    const rejected = (d: WebhookDelivery, at = now) => {
      try {
        connector.verifyWebhook(d, at);
      } catch (error) {
        expect(error).toBeInstanceOf(WebhookRejectedError);
        return (error as Error).message;
      }
      throw new Error('expected a rejection');
    };
    const tampered = { headers: delivery!.headers, rawBody: Buffer.from(delivery!.rawBody.toString('utf8').replace(file.id, 'fil_other')) };
    expect(rejected(tampered)).toBe('signature does not match the body and timestamp');
    const wrongSecret = new Headers(delivery!.headers);
    wrongSecret.set(
      'x-simulator-signature',
      signWebhook('another-secret', Number(delivery!.headers.get('x-simulator-timestamp')), delivery!.rawBody),
    );
    expect(rejected({ headers: wrongSecret, rawBody: delivery!.rawBody })).toBe('signature does not match the body and timestamp');
    expect(rejected(delivery!, new Date(now.getTime() + 6 * 60_000))).toMatch(
      /^timestamp is 36\d s old, outside the 5-minute replay window$/,
    );
    // A replay re-signed with an old timestamp is just as old.
    const oldTs = Math.floor(now.getTime() / 1000) - 600;
    const replayed = new Headers(delivery!.headers);
    replayed.set('x-simulator-timestamp', String(oldTs));
    replayed.set('x-simulator-signature', signWebhook(SECRET, oldTs, delivery!.rawBody));
    expect(rejected({ headers: replayed, rawBody: delivery!.rawBody })).toMatch(/old, outside the 5-minute replay window/);
    const unsigned = new Headers(delivery!.headers);
    unsigned.delete('x-simulator-signature');
    expect(rejected({ headers: unsigned, rawBody: delivery!.rawBody })).toMatch(/missing or malformed X-Simulator-Signature/);
    // Rotation: several signatures, one of them good.
    const rotated = new Headers(delivery!.headers);
    rotated.set(
      'x-simulator-signature',
      `${signWebhook('old-secret', Number(delivery!.headers.get('x-simulator-timestamp')), delivery!.rawBody)}, ${delivery!.headers.get('x-simulator-signature')}`,
    );
    expect(connector.verifyWebhook({ headers: rotated, rawBody: delivery!.rawBody }, now).notices).toHaveLength(1);
    // A delivery id outside the contract's bounds is refused, however well signed.
    for (const deliveryId of ['', 'x'.repeat(MAX_DELIVERY_ID_LENGTH + 1)]) {
      const rawBody = Buffer.from(JSON.stringify({ ...body, deliveryId }));
      const headers = new Headers(delivery!.headers);
      headers.set('x-simulator-signature', signWebhook(SECRET, signedAt, rawBody));
      expect(rejected({ headers, rawBody })).toBe(`deliveryId must be 1 to ${MAX_DELIVERY_ID_LENGTH} characters`);
    }

    const noSecret = simulatedConnectorFactory.create({ endpoint: sim.url, token: TOKEN }, directHttp(simulatedConnectorFactory, config));
    expect(() => noSecret.verifyWebhook(delivery!, now)).toThrow(/no webhookSecret is configured/);
  });

  it('announces governance changes and deletions too, and the webhook can be removed at run time', async () => {
    const receiver = await webhookReceiver();
    track(() => receiver.close());
    const sim = await simulator(track, { tenants: [smallTenant({ webhook: { url: receiver.url, secret: SECRET } })] });
    const tenant = sim.tenant('acme');
    const [file, user] = [tenant.truth().files[1]!, tenant.truth().users[2]!];
    await call(sim.url, `/api/v1/files/${file.id}/quarantine`, TOKEN, { method: 'POST' });
    await call(sim.url, `/api/v1/users/${user.id}/suspend`, TOKEN, { method: 'POST' });
    tenant.delete('file', file.id);
    const notices = () =>
      receiver.deliveries.flatMap(
        (d) => (JSON.parse(d.rawBody.toString('utf8')) as { notices: { kind: string; externalId: string }[] }).notices,
      );
    await waitFor('three notices', () => notices().length >= 3);
    expect(notices()).toEqual(
      expect.arrayContaining([
        { kind: 'file.changed', externalId: file.id },
        { kind: 'user.changed', externalId: user.id },
        { kind: 'file.deleted', externalId: file.id },
      ]),
    );
    tenant.update({ webhook: null });
    tenant.touchFile(tenant.truth().files[3]!.id);
    expect(tenant.spec().webhook).toBeUndefined();
  });
});
