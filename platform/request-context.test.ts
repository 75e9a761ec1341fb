import { Writable } from 'node:stream';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { LOGGER_OPTIONS } from './logger.js';
import { onwardHeaders, requestFrom, runWithRequest } from './request-context.js';

const TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';
const PARENT = '00f067aa0ba902b7';

describe('requestFrom', () => {
  it('keeps a sensible X-Request-Id and continues the caller’s trace with a span of its own', () => {
    const request = requestFrom({ 'x-request-id': 'client-42.a:b_c', traceparent: `00-${TRACE}-${PARENT}-01` });
    expect(request).toMatchObject({ requestId: 'client-42.a:b_c', traceId: TRACE, sampled: true });
    expect(request.spanId).toMatch(/^[0-9a-f]{16}$/);
    expect(request.spanId).not.toBe(PARENT);
    expect(requestFrom({ traceparent: `00-${TRACE}-${PARENT}-00` }).sampled).toBe(false);
  });

  it('replaces an id that is too long or holds odd characters, and starts a trace for a malformed or all-zero traceparent', () => {
    for (const id of ['x'.repeat(129), 'has space', 'new\nline', ''])
      expect(requestFrom({ 'x-request-id': id }).requestId).toMatch(/^[0-9a-f-]{36}$/);
    for (const traceparent of [
      'nonsense',
      `01-${TRACE}-${PARENT}-01`,
      `00-${'0'.repeat(32)}-${PARENT}-01`,
      `00-${TRACE}-${'0'.repeat(16)}-01`,
    ]) {
      const request = requestFrom({ traceparent });
      expect(request.traceId).toMatch(/^[0-9a-f]{32}$/);
      expect(request.traceId, traceparent).not.toBe(TRACE);
    }
  });

  it('carries the request id and the trace onward, this hop as the parent', () => {
    const request = requestFrom({ 'x-request-id': 'r1', traceparent: `00-${TRACE}-${PARENT}-01` });
    expect(onwardHeaders(request)).toEqual({ 'x-request-id': 'r1', traceparent: `00-${TRACE}-${request.spanId}-01` });
  });
});

describe('the logger', () => {
  it('writes requestId and traceId on every line logged while a request is served, and none outside', () => {
    const lines: Record<string, unknown>[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _encoding, done) {
        lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>);
        done();
      },
    });
    const log = pino({ ...LOGGER_OPTIONS, level: 'info' }, sink);
    const request = requestFrom({ 'x-request-id': 'r2', traceparent: `00-${TRACE}-${PARENT}-01` });
    runWithRequest(request, () => log.info('inside'));
    log.info('outside');
    expect(lines[0]).toMatchObject({ msg: 'inside', requestId: 'r2', traceId: TRACE });
    expect(lines[1]).not.toHaveProperty('requestId');
  });
});
