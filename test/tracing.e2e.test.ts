import http from 'node:http';
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSimulator, type Simulator } from '../connectors/simulated/server.js';
import { startTestStack, waitFor, type TestStack } from './harness.js';
import { waitConnected } from './truth.js';

/**
 * Request ids and traces through the graph: the gateway answers the client's X-Request-Id (or a new
 * one), and with OTEL_EXPORTER_OTLP_ENDPOINT set the spans of one request — the gateway's server span,
 * Apollo's own gateway spans, each subgraph's server span — arrive at an OTLP/HTTP receiver in the
 * client's trace, each subgraph's span a child of a gateway span.
 */

interface Span {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  attributes: { key: string; value: { stringValue?: string } }[];
}

let t: TestStack;
let simulator: Simulator;
let instanceId: string;
let receiver: http.Server;
const received: { service: string; span: Span }[] = [];

beforeAll(async () => {
  // An OTLP/HTTP receiver (JSON encoding, https://opentelemetry.io/docs/specs/otlp/#otlphttp).
  receiver = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      if (req.url === '/v1/traces' && req.headers['content-type']?.startsWith('application/json')) {
        const body = JSON.parse(Buffer.concat(chunks).toString()) as {
          resourceSpans: { resource: { attributes: Span['attributes'] }; scopeSpans: { spans: Span[] }[] }[];
        };
        for (const resource of body.resourceSpans) {
          const service = resource.resource.attributes.find((a) => a.key === 'service.name')?.value.stringValue ?? '';
          for (const scope of resource.scopeSpans) for (const span of scope.spans) received.push({ service, span });
        }
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  const { port } = receiver.address() as AddressInfo;
  t = await startTestStack(
    {
      OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${port}`,
      OTEL_SERVICE_NAME: 'tenantwatch-test',
      OTEL_EXPORT_DELAY_MS: '50',
    },
    { scheduler: true },
  );
  simulator = await startSimulator({
    tenants: [
      {
        id: 'traced',
        token: 'traced-token-123456',
        seed: 3,
        users: 5,
        groups: 1,
        files: 5,
        grants: 2,
        backfillDays: 0,
        activityPerMinute: 0,
      },
    ],
  });
  const { connectApp } = await t.query<{ connectApp: { id: string } }>(
    `mutation ($config: JSON!) { connectApp(input: { provider: "simulated", name: "traced", config: $config }) { id } }`,
    { config: { endpoint: simulator.url, token: 'traced-token-123456' } },
  );
  instanceId = connectApp.id;
  await waitConnected(t, instanceId, 60_000);
}, 120_000);

afterAll(async () => {
  await t?.stop();
  await simulator?.stop();
  await new Promise((resolve) => receiver?.close(resolve));
});

const TRACE = '0af7651916cd43dd8448eb211c80319c';
const PARENT = 'b7ad6b7169203331';

describe('request ids and traces', () => {
  it('answers the client’s X-Request-Id, or a new one', async () => {
    const ask = (headers: Record<string, string>) =>
      fetch(t.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${t.token('viewer')}`, ...headers },
        body: JSON.stringify({ query: '{ appInstances { id } }' }),
      });
    expect((await ask({ 'x-request-id': 'client-chosen-1' })).headers.get('x-request-id')).toBe('client-chosen-1');
    expect((await ask({})).headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
    expect((await ask({ 'x-request-id': 'no spaces allowed' })).headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('exports one trace across the gateway and the subgraphs, in the client’s trace', async () => {
    const response = await fetch(t.url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        authorization: `Bearer ${t.token('viewer')}`,
        traceparent: `00-${TRACE}-${PARENT}-01`,
        'x-request-id': 'traced-1',
      },
      body: JSON.stringify({
        query: '{ accounts(first: 1) { edges { node { id files(first: 1) { totalCount } } } } detections(first: 1) { totalCount } }',
      }),
    });
    expect(response.status).toBe(200);
    const spans = await waitFor('the subgraphs’ spans', async () => {
      const inTrace = received.filter((r) => r.span.traceId === TRACE);
      const subgraphs = new Set(inTrace.map((r) => r.span.attributes.find((a) => a.key === 'tenantwatch.service')?.value.stringValue));
      return subgraphs.has('gateway') && subgraphs.has('accounts') && subgraphs.has('activities') ? inTrace : undefined;
    });
    expect(new Set(spans.map((s) => s.service))).toEqual(new Set(['tenantwatch-test']));
    const service = (s: Span) => s.attributes.find((a) => a.key === 'tenantwatch.service')?.value.stringValue;
    const gateway = spans.filter((s) => service(s.span) === 'gateway');
    expect(gateway).toHaveLength(1);
    // The gateway's server span continues the client's span; every subgraph span descends from a gateway span.
    expect(gateway[0]!.span.parentSpanId).toBe(PARENT);
    expect(gateway[0]!.span.attributes).toContainEqual({ key: 'tenantwatch.request_id', value: { stringValue: 'traced-1' } });
    const byId = new Map(spans.map((s) => [s.span.spanId, s.span]));
    const rootOf = (span: Span): Span => {
      let current = span;
      while (current.parentSpanId && byId.has(current.parentSpanId)) current = byId.get(current.parentSpanId)!;
      return current;
    };
    for (const { span } of spans.filter((s) => service(s.span) === 'accounts' || service(s.span) === 'activities')) {
      expect(span.parentSpanId, span.name).toBeDefined();
      expect(rootOf(span).spanId, span.name).toBe(gateway[0]!.span.spanId);
    }
  });

  it('runs each scheduler job in a trace of its own, and a governance action’s job in the trace of the mutation that asked for it', async () => {
    const attribute = (span: Span, key: string) => span.attributes.find((a) => a.key === key)?.value.stringValue;
    // The connect flow's scans: one consumer span per job run, named after the job, with its instance.
    const scan = await waitFor('a scan job’s span', async () =>
      received.find((r) => r.span.name === 'scheduler scan.users' && attribute(r.span, 'tenantwatch.instance_id') === instanceId),
    );
    expect(attribute(scan.span, 'tenantwatch.request_id')).toMatch(/^scan\.users:/);

    const { accounts } = await t.query<{ accounts: { edges: { node: { id: string } }[] } }>(
      `{ accounts(first: 1, filter: { instanceId: "${instanceId}", status: ACTIVE }) { edges { node { id } } } }`,
    );
    const trace = '4bf92f3577b34da6a3ce929d0e0e4736';
    const response = await fetch(t.url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        authorization: `Bearer ${t.token('responder')}`,
        traceparent: `00-${trace}-00f067aa0ba902b7-01`,
        'x-request-id': 'governed-1',
      },
      body: JSON.stringify({
        query: `mutation { suspendAccount(input: { targetId: "${accounts.edges[0]!.node.id}", reason: "traced" }) { id } }`,
      }),
    });
    expect(response.status).toBe(200);
    expect(((await response.json()) as { errors?: unknown }).errors).toBeUndefined();
    const job = await waitFor('the governance job’s span in the mutation’s trace', async () =>
      received.find((r) => r.span.traceId === trace && r.span.name === 'scheduler governance.execute'),
    );
    // The job carries the mutation's request id, and descends from the gateway's span of the mutation.
    expect(attribute(job.span, 'tenantwatch.request_id')).toBe('governed-1');
    const inTrace = new Map(received.filter((r) => r.span.traceId === trace).map((r) => [r.span.spanId, r.span]));
    let current: Span = job.span;
    while (current.parentSpanId && inTrace.has(current.parentSpanId)) current = inTrace.get(current.parentSpanId)!;
    expect(attribute(current, 'tenantwatch.service')).toBe('gateway');
    expect(current.parentSpanId).toBe('00f067aa0ba902b7');
  });

  it('runs a websocket’s connection and each subscribe in the request id and trace its upgrade request carried', async () => {
    const trace = '5bf92f3577b34da6a3ce929d0e0e4737';
    const headers = { 'x-request-id': 'socket-1', traceparent: `00-${trace}-10f067aa0ba902b8-01` };
    // Node clients may send headers with the upgrade (browsers cannot: their sockets get a new id).
    class WithHeaders extends WebSocket {
      constructor(address: string, protocols?: string | string[]) {
        super(address, protocols, { headers });
      }
    }
    const client = createClient({
      url: t.url.replace(/^http/, 'ws'),
      webSocketImpl: WithHeaders,
      connectionParams: { authorization: `Bearer ${t.token('analyst')}` },
      retryAttempts: 0,
    });
    try {
      const subscribed = new Promise<void>((resolve, reject) => {
        client.on('connected', () => resolve());
        client.on('error', reject);
      });
      const dispose = client.subscribe(
        { query: 'subscription Watched { detectionRaised { cursor } }', operationName: 'Watched' },
        {
          next: () => undefined,
          error: () => undefined,
          complete: () => undefined,
        },
      );
      await subscribed;
      const spans = await waitFor('the websocket’s spans', async () => {
        const inTrace = received.filter((r) => r.span.traceId === trace).map((r) => r.span);
        const names = inTrace.map((s) => s.name);
        return names.includes('gateway websocket connect') && names.includes('gateway subscribe Watched') ? inTrace : undefined;
      });
      for (const span of spans.filter((s) => s.name.startsWith('gateway '))) {
        expect(span.parentSpanId).toBe('10f067aa0ba902b8');
        expect(span.attributes).toContainEqual({ key: 'tenantwatch.request_id', value: { stringValue: 'socket-1' } });
      }
      dispose();
    } finally {
      await client.dispose();
    }
  });
});
