import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PolicyKind, Severity } from '../subgraphs/activities/policy.entity.js';
import { exited } from './scheduler-process.js';
import { startGatewayProcess, type GatewayProcess } from './gateway-process.js';
import { startTestStack, waitFor, type TestStack } from './harness.js';
import { connect, disposeClients, record, type Recording } from './subscription-client.js';

/**
 * The gateway restarted under 200 subscribers while detections keep being raised: each client's
 * subscription ends with the gateway, and the client resumes on the new one from the last cursor it
 * received. Every client ends with every event, in the log's order, none missing and none twice.
 */

const SUBSCRIBERS = 200;
let t: TestStack;
let gateway: GatewayProcess;
let instanceId: string;
let policyId: string;

beforeAll(async () => {
  t = await startTestStack();
  instanceId = await t.fixtures.instance('restarts');
  policyId = await t.fixtures.policy({ name: 'raised by the test', kind: PolicyKind.FILE, severity: Severity.LOW, condition: {} });
  gateway = await startGatewayProcess(t);
}, 120_000);

afterAll(async () => {
  await disposeClients();
  gateway?.kill('SIGKILL');
  if (gateway) await exited(gateway);
  await t?.stop();
});

type Event = { detectionRaised: { cursor: string } };
const SUBSCRIPTION = 'subscription ($after: String) { detectionRaised(after: $after) { cursor } }';

class Client {
  readonly recordings: Recording<Event>[] = [];
  constructor(url: string) {
    this.recordings.push(record<Event>(connect(url, t.token('analyst')), SUBSCRIPTION, { after: '0' }));
  }
  get cursors(): string[] {
    return this.recordings.flatMap((r) => r.events.map((e) => e.detectionRaised.cursor));
  }
  resume(url: string): void {
    this.recordings.push(record<Event>(connect(url, t.token('analyst')), SUBSCRIPTION, { after: this.cursors.at(-1) ?? '0' }));
  }
}

let raised = 0;
const raise = () =>
  t.fixtures.detection({ policyId, instanceId, severity: Severity.LOW, title: `event ${++raised}`, description: 'raised by the test' });

describe('the gateway restarted under 200 subscribers', () => {
  it('lets every client resume from its cursor with nothing lost or repeated', async () => {
    const clients = Array.from({ length: SUBSCRIBERS }, () => new Client(gateway.url));
    await raise();
    await waitFor('every client subscribed', async () => (clients.every((c) => c.cursors.length >= 1) ? true : undefined), 60_000);

    // Detections keep coming while the gateway stops and starts again on its port.
    let raising = true;
    const producer = (async () => {
      while (raising) await raise();
    })();
    await waitFor('events flowing', async () => (clients.every((c) => c.cursors.length >= 20) ? true : undefined), 60_000);
    const port = gateway.port;
    gateway.kill('SIGTERM');
    await exited(gateway);
    await Promise.all(clients.map((c) => c.recordings.at(-1)!.ended));
    gateway = await startGatewayProcess(t, port);
    for (const client of clients) client.resume(gateway.url);
    const after = raised;
    await waitFor('events after the restart', async () => (raised >= after + 50 ? true : undefined), 60_000);
    raising = false;
    await producer;

    const total = raised;
    await waitFor(
      'every client has every event',
      async () => (clients.every((c) => c.cursors.length >= total) ? true : undefined),
      120_000,
    );
    const reference = clients[0]!.cursors;
    expect(reference).toHaveLength(total);
    expect(new Set(reference).size).toBe(total);
    for (const client of clients) expect(client.cursors).toEqual(reference);
  }, 300_000);
});
