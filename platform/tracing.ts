import { context, propagation, ROOT_CONTEXT, SpanKind, SpanStatusCode, trace, type Tracer } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BatchSpanProcessor, TracerProvider } from '@opentelemetry/sdk-trace';
import type { NextFunction, Request, Response } from 'express';
import type { Config } from './config.js';
import { logger } from './logger.js';
import { currentRequest, onwardHeaders, REQUEST_ID_HEADER, requestFrom, runWithRequest, TRACEPARENT_HEADER } from './request-context.js';

/**
 * Request ids and traces. Always: every HTTP request a service serves runs as a {@link RequestContext}
 * (its `X-Request-Id`, its W3C trace), echoed in the answer's `X-Request-Id` and carried onward by the
 * gateway to the subgraphs, so that one request's log lines share `requestId` and `traceId` in every
 * service. When OTEL_EXPORTER_OTLP_ENDPOINT is set: OpenTelemetry spans as well, exported over
 * OTLP/HTTP — one server span per request in each service, the Apollo gateway's own spans (request,
 * plan, fetch) between them, all in the caller's trace. Unset: no exporter, no span, nothing sent.
 */

let provider: TracerProvider | undefined;
let tracer: Tracer | undefined;

/**
 * Starts exporting spans when OTEL_EXPORTER_OTLP_ENDPOINT is set, once per process (the gateway,
 * subgraphs and scheduler of one process share it). Safe to call again: later calls do nothing.
 */
export function startTracing(config: Config): void {
  if (provider || !config.OTEL_EXPORTER_OTLP_ENDPOINT) return;
  const url = `${config.OTEL_EXPORTER_OTLP_ENDPOINT.replace(/\/+$/, '')}/v1/traces`;
  provider = new TracerProvider({
    resource: resourceFromAttributes({ 'service.name': config.OTEL_SERVICE_NAME }),
    spanProcessors: [
      new BatchSpanProcessor({ exporter: new OTLPTraceExporter({ url }), scheduledDelayMillis: config.OTEL_EXPORT_DELAY_MS }),
    ],
  });
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  propagation.setGlobalPropagator(new W3CTraceContextPropagator());
  trace.setGlobalTracerProvider(provider);
  tracer = trace.getTracer('tenantwatch');
  logger.info({ url, service: config.OTEL_SERVICE_NAME }, 'exporting traces over OTLP/HTTP');
}

/** Sends the spans still buffered (a service that stops calls it). */
export async function flushTracing(): Promise<void> {
  await provider?.forceFlush().catch((error: unknown) => logger.warn({ err: error }, 'spans not exported'));
}

/**
 * Express middleware, first in every service: the request runs as its {@link RequestContext} (and, with
 * tracing on, inside a server span whose parent is the caller's `traceparent`); its answer says its
 * `X-Request-Id`.
 */
export function requestTracing(service: string) {
  return (req: Request, res: Response, next: NextFunction): void => {
    if (!tracer) {
      const request = requestFrom(req.headers);
      res.setHeader('X-Request-Id', request.requestId);
      runWithRequest(request, next);
      return;
    }
    const parent = propagation.extract(ROOT_CONTEXT, req.headers);
    const path = `${req.baseUrl}${req.path === '/' ? '' : req.path}`;
    const span = tracer.startSpan(
      `${service} ${req.method} ${path}`,
      { kind: SpanKind.SERVER, attributes: { 'tenantwatch.service': service, 'http.request.method': req.method, 'url.path': path } },
      parent,
    );
    const spanContext = span.spanContext();
    const request = {
      ...requestFrom(req.headers, spanContext.spanId),
      traceId: spanContext.traceId,
      sampled: (spanContext.traceFlags & 1) === 1,
    };
    span.setAttribute('tenantwatch.request_id', request.requestId);
    res.setHeader('X-Request-Id', request.requestId);
    res.once('finish', () => {
      span.setAttribute('http.response.status_code', res.statusCode);
      if (res.statusCode >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
      span.end();
    });
    runWithRequest(request, () => context.with(trace.setSpan(parent, span), next));
  };
}

/**
 * The headers a call to another service carries while a request is served: its request id, and its
 * trace (with tracing on, the active span — e.g. the gateway's fetch span — as the parent).
 */
export function tracingHeaders(): Record<string, string> {
  const request = currentRequest();
  if (!request) return {};
  if (!tracer) return onwardHeaders(request);
  const headers: Record<string, string> = { [REQUEST_ID_HEADER]: request.requestId };
  propagation.inject(context.active(), headers);
  return headers;
}

/** Where work that a request asked for came from, kept with the work (a governance action's row, its job's data). */
export interface JobOrigin {
  readonly requestId: string;
  /** The W3C `traceparent` of the request's active span. */
  readonly traceparent: string;
}

/** The request being served, as the work it asks for keeps it; undefined outside a request. */
export function requestOrigin(): JobOrigin | undefined {
  const headers = tracingHeaders();
  const requestId = headers[REQUEST_ID_HEADER];
  const traceparent = headers[TRACEPARENT_HEADER];
  return requestId && traceparent ? { requestId, traceparent } : undefined;
}

/**
 * Runs one job as a request of its own: its log lines carry a `requestId` (the origin's, when a
 * request asked for the work, else `<job name>:<job id>`) and a `traceId` (the origin's trace
 * continued, else a new one); with tracing on, inside a consumer span named `scheduler <job name>`
 * whose parent is the origin's span, ended with the job and marked failed when it throws.
 */
export async function runJob<T>(
  name: string,
  jobId: string | undefined,
  origin: Partial<JobOrigin> | undefined,
  attributes: Readonly<Record<string, string>>,
  fn: () => Promise<T>,
): Promise<T> {
  const headers = {
    [REQUEST_ID_HEADER]: typeof origin?.requestId === 'string' ? origin.requestId : `${name}:${jobId ?? 'unsaved'}`,
    ...(typeof origin?.traceparent === 'string' ? { [TRACEPARENT_HEADER]: origin.traceparent } : {}),
  };
  return runTraced(
    `scheduler ${name}`,
    SpanKind.CONSUMER,
    headers,
    { 'tenantwatch.service': 'scheduler', 'tenantwatch.job': name, ...attributes },
    fn,
  );
}

/**
 * Runs `fn` as a request whose ids come from `headers` (`X-Request-Id`, `traceparent`, as requestFrom
 * reads them): its log lines carry them; with tracing on, inside a span `name` whose parent is the
 * headers' trace, ended when `fn` settles and marked failed when it throws.
 */
export async function runTraced<T>(
  name: string,
  kind: SpanKind,
  headers: Readonly<Record<string, string | string[] | undefined>>,
  attributes: Readonly<Record<string, string>>,
  fn: () => Promise<T>,
): Promise<T> {
  if (!tracer) return runWithRequest(requestFrom(headers), fn);
  const parent = propagation.extract(ROOT_CONTEXT, headers);
  const span = tracer.startSpan(name, { kind, attributes }, parent);
  const spanContext = span.spanContext();
  const request = {
    ...requestFrom(headers, spanContext.spanId),
    traceId: spanContext.traceId,
    sampled: (spanContext.traceFlags & 1) === 1,
  };
  span.setAttribute('tenantwatch.request_id', request.requestId);
  try {
    return await runWithRequest(request, () => context.with(trace.setSpan(parent, span), fn));
  } catch (error) {
    span.recordException(error as Error);
    span.setStatus({ code: SpanStatusCode.ERROR, message: (error as Error).message });
    throw error;
  } finally {
    span.end();
  }
}
