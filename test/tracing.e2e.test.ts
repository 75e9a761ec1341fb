import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestStack, waitFor, type TestStack } from './harness.js';

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
  t = await startTestStack({
    OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${port}`,
    OTEL_SERVICE_NAME: 'tenantwatch-test',
    OTEL_EXPORT_DELAY_MS: '50',
  });
}, 60_000);

afterAll(async () => {
  await t?.stop();
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
});
