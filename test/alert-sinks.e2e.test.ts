import { createHmac } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startScheduler, type Scheduler } from '../scheduler/scheduler.js';
import { freePort } from '../scripts/ports.js';
import { PolicyKind, Severity } from '../subgraphs/activities/policy.entity.js';
import { startTestStack, waitFor, type TestStack } from './harness.js';

/**
 * Alert export end to end: a receiver that verifies signatures, fails, hangs and restarts; the
 * scheduler delivering detection events to it in order, at least once, and resuming after its own
 * restart from the sink's cursor; CEF; expiry; the graph's sink management and delivery log.
 */

interface Received {
  readonly deliveryId: string;
  readonly timestamp: string;
  readonly signature: string;
  readonly contentType: string;
  readonly body: string;
}

/** An HTTP receiver on a fixed port: each request takes the next scripted answer (default 200). */
class Receiver {
  readonly received: Received[] = [];
  /** Answers for the next requests: a status, or 'hang' (never answers). */
  script: (number | 'hang')[] = [];
  private server?: Server;
  private readonly hanging: ServerResponse[] = [];
  constructor(readonly port: number) {}
  get url(): string {
    return `http://127.0.0.1:${this.port}/alerts`;
  }
  async start(): Promise<void> {
    this.server = createServer((request: IncomingMessage, response: ServerResponse) => {
      const chunks: Buffer[] = [];
      request.on('data', (c: Buffer) => chunks.push(c));
      request.on('end', () => {
        this.received.push({
          deliveryId: String(request.headers['tenantwatch-delivery']),
          timestamp: String(request.headers['tenantwatch-timestamp']),
          signature: String(request.headers['tenantwatch-signature']),
          contentType: String(request.headers['content-type']),
          body: Buffer.concat(chunks).toString('utf8'),
        });
        const answer = this.script.shift() ?? 200;
        if (answer === 'hang') this.hanging.push(response);
        else response.writeHead(answer).end();
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(this.port, '127.0.0.1', resolve));
  }
  async stop(): Promise<void> {
    for (const r of this.hanging.splice(0)) r.destroy();
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
    this.server = undefined;
  }
}

let t: TestStack;
let receiver: Receiver;
let scheduler: Scheduler | undefined;
let instanceId: string;
let policyId: string;

const sign = (secret: string, r: Received) =>
  `v1=${createHmac('sha256', secret).update(`${r.timestamp}.${r.deliveryId}.${r.body}`).digest('hex')}`;

beforeAll(async () => {
  // The stack's own scheduler runs the delivery; tests restart it by hand (startScheduler below).
  t = await startTestStack(
    { ALERT_DELIVERY_RETRY_MS: '20', ALERT_DELIVERY_TIMEOUT_MS: '500', ALERT_DELIVERY_EXPIRY_HOURS: '0.0003' },
    { scheduler: true },
  );
  receiver = new Receiver(await freePort());
  await receiver.start();
  instanceId = await t.fixtures.instance('Alerts org');
  policyId = await t.fixtures.policy({ name: 'alerts', kind: PolicyKind.ACTIVITY, severity: Severity.HIGH, condition: { action: 'x' } });
}, 60_000);

afterAll(async () => {
  await scheduler?.stop();
  await receiver?.stop();
  await t?.stop();
});

const raise = (title: string, severity: Severity = Severity.HIGH) =>
  t.fixtures.detection({ policyId, severity, title, description: `${title} happened`, instanceId });

async function createSink(input: Record<string, unknown>): Promise<{ id: string; secret: string }> {
  const { createAlertSink } = await t.query<{ createAlertSink: { sink: { id: string }; secret: string } }>(
    `mutation ($input: AlertSinkInput!) { createAlertSink(input: $input) { sink { id } secret } }`,
    { input },
  );
  return { id: createAlertSink.sink.id, secret: createAlertSink.secret };
}

/** The JSON events received for `sinkId`, in arrival order. */
const eventsOf = (sinkId: string) =>
  receiver.received.filter((r) => r.deliveryId.startsWith(`${sinkId}.`) && r.contentType.startsWith('application/json'));

describe('alert sinks', () => {
  let json: { id: string; secret: string };

  it('deliver matching detection events, signed, in order, each with its delivery id', async () => {
    json = await createSink({ name: 'SIEM', url: receiver.url, severityAtLeast: 'MEDIUM' });
    const ids = [await raise('first'), await raise('ignored', Severity.LOW), await raise('second'), await raise('third')];
    await waitFor('three events', async () => (eventsOf(json.id).length >= 3 ? true : undefined), 15_000, 20);
    const got = eventsOf(json.id);
    expect(got.map((r) => (JSON.parse(r.body) as { detection: { id: string } }).detection.id)).toEqual([ids[0], ids[2], ids[3]]);
    for (const r of got) expect(r.signature).toBe(sign(json.secret, r));
    expect(JSON.parse(got[0]!.body)).toMatchObject({
      change: 'RAISED',
      deliveryId: got[0]!.deliveryId,
      detection: { title: 'first', severity: 'HIGH' },
    });
    const cursors = got.map((r) => BigInt(r.deliveryId.split('.')[1]!));
    expect([...cursors].sort((a, b) => (a < b ? -1 : 1))).toEqual(cursors);
  });

  it('retry a refusal and a hung request with the same delivery id, the next event never first', async () => {
    receiver.script = [500, 503, 'hang', 200];
    const [a, b] = [await raise('retried'), await raise('after it')];
    await waitFor(
      'both delivered',
      async () => {
        const bodies = eventsOf(json.id).map((r) => (JSON.parse(r.body) as { detection: { id: string } }).detection.id);
        return bodies.includes(b) ? bodies : undefined;
      },
      15_000,
      20,
    );
    const attempts = eventsOf(json.id).filter((r) => (JSON.parse(r.body) as { detection: { id: string } }).detection.id === a);
    expect(attempts.length).toBe(4);
    expect(new Set(attempts.map((r) => r.deliveryId)).size).toBe(1);
    const order = eventsOf(json.id).map((r) => (JSON.parse(r.body) as { detection: { id: string } }).detection.id);
    expect(order.lastIndexOf(a)).toBeLessThan(order.indexOf(b));
    const { alertSinks } = await t.query<{
      alertSinks: {
        id: string;
        lag: number;
        failingSince: string | null;
        deliveries: { status: string; attempts: number; lastStatusCode: number | null }[];
      }[];
    }>('{ alertSinks { id lag failingSince deliveries(first: 2) { status attempts lastStatusCode } } }');
    const sink = alertSinks.find((s) => s.id === json.id)!;
    expect(sink.failingSince).toBeNull();
    expect(sink.deliveries).toEqual([
      { status: 'DELIVERED', attempts: 1, lastStatusCode: 200 },
      { status: 'DELIVERED', attempts: 4, lastStatusCode: 200 },
    ]);
  });

  it('lose nothing while the receiver is down, nor across a scheduler restart', async () => {
    await receiver.stop();
    const during = await raise('while down');
    await waitFor(
      'an attempt failing',
      async () => {
        const { alertSinks } = await t.query<{ alertSinks: { id: string; lastError: string | null }[] }>('{ alertSinks { id lastError } }');
        return alertSinks.find((s) => s.id === json.id)?.lastError ? true : undefined;
      },
      10_000,
      20,
    );
    // The stack's scheduler stops; events raised meanwhile go once a new one starts.
    await t.stack.scheduler!.stop();
    const whileStopped = await raise('while no scheduler');
    await receiver.start();
    scheduler = await startScheduler({ config: t.config, databaseUrl: t.stack.databaseUrl });
    await waitFor(
      'both delivered',
      async () => {
        const ids = eventsOf(json.id).map((r) => (JSON.parse(r.body) as { detection: { id: string } }).detection.id);
        return ids.includes(during) && ids.includes(whileStopped) ? true : undefined;
      },
      20_000,
      50,
    );
  });

  it('speak CEF, give up an event refused past the expiry and go on', async () => {
    const cef = await createSink({ name: 'CEF', url: receiver.url, format: 'CEF' });
    receiver.script = Array.from({ length: 1000 }, () => 500);
    const refused = await raise('refused | for good');
    await waitFor(
      'the refused event expired',
      async () => {
        const { alertSinks } = await t.query<{ alertSinks: { id: string; deliveries: { status: string }[] }[] }>(
          '{ alertSinks { id deliveries(first: 1) { status } } }',
        );
        return alertSinks.find((s) => s.id === cef.id)?.deliveries[0]?.status === 'EXPIRED' ? true : undefined;
      },
      20_000,
      50,
    );
    receiver.script = [];
    const next = await raise('next one');
    await waitFor(
      'the next event delivered',
      async () => (receiver.received.some((r) => r.body.includes(next) && r.deliveryId.startsWith(cef.id)) ? true : undefined),
      10_000,
      20,
    );
    const line = receiver.received.find((r) => r.body.includes(refused) && r.deliveryId.startsWith(cef.id))!;
    expect(line.contentType).toContain('text/plain');
    expect(line.body).toMatch(
      new RegExp(
        `^CEF:0\\|Tenantwatch\\|Tenantwatch\\|0\\.1\\.0\\|${policyId}\\|refused \\\\\\| for good\\|8\\|rt=\\d+ externalId=${refused} act=RAISED`,
      ),
    );
    expect(line.signature).toBe(sign(cef.secret, line));
  });

  it('are managed by admins only, with clear refusals', async () => {
    const viewer = await t.request('{ alertSinks { id } }', {}, t.token('responder'));
    expect(viewer.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    for (const [url, why] of [
      ['ftp://siem.example.com/in', 'http(s)'],
      ['https://user:pw@siem.example.com/in', 'credentials'],
      ['not a url', 'absolute'],
    ] as const) {
      const answer = await t.request(`mutation ($input: AlertSinkInput!) { createAlertSink(input: $input) { secret } }`, {
        input: { name: 'x', url },
      });
      expect(answer.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
      expect(answer.errors?.[0]?.message).toContain('"input.url"');
      expect(answer.errors?.[0]?.message).toContain(why);
    }
    const { rotateAlertSinkSecret } = await t.query<{ rotateAlertSinkSecret: { secret: string } }>(
      `mutation ($id: ID!) { rotateAlertSinkSecret(id: $id) { secret } }`,
      { id: json.id },
    );
    expect(rotateAlertSinkSecret.secret).not.toBe(json.secret);
    expect(
      (await t.query<{ deleteAlertSink: boolean }>(`mutation ($id: ID!) { deleteAlertSink(id: $id) }`, { id: json.id })).deleteAlertSink,
    ).toBe(true);
  });
});
