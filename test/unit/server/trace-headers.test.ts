import { describe, expect, it } from 'vitest';
import { parseCloudTraceContext, parseTraceparent, traceContextFromHeaders } from '../../../src/server/trace-headers.js';

const T = '4bf92f3577b34da6a3ce929d0e0e4736';

describe('parseTraceparent (W3C Trace Context)', () => {
  it.each([
    [`00-${T}-00f067aa0ba902b7-01`, { traceId: T, spanId: '00f067aa0ba902b7', sampled: true }],
    [`00-${T}-00f067aa0ba902b7-00`, { traceId: T, spanId: '00f067aa0ba902b7', sampled: false }],
    // A later version may add fields; its first four are read as version 00's.
    [`01-${T}-00f067aa0ba902b7-03-extra`, { traceId: T, spanId: '00f067aa0ba902b7', sampled: true }],
  ])('%s', (header, expected) => {
    expect(parseTraceparent(header)).toEqual(expected);
  });

  it.each([
    ['version ff', `ff-${T}-00f067aa0ba902b7-01`],
    ['version 00 with a fifth field', `00-${T}-00f067aa0ba902b7-01-extra`],
    ['an all-zero trace id', `00-${'0'.repeat(32)}-00f067aa0ba902b7-01`],
    ['an all-zero span id', `00-${T}-0000000000000000-01`],
    ['upper-case hex', `00-${T.toUpperCase()}-00f067aa0ba902b7-01`],
    ['a short trace id', `00-${T.slice(2)}-00f067aa0ba902b7-01`],
    ['garbage', 'not a traceparent'],
  ])('refuses %s', (_label, header) => {
    expect(parseTraceparent(header)).toBeUndefined();
  });
});

describe('parseCloudTraceContext (X-Cloud-Trace-Context)', () => {
  it.each([
    [`${T}/1;o=1`, { traceId: T, spanId: '0000000000000001', sampled: true }],
    // Decimal span id → 16 hex digits, as Cloud Logging and OpenTelemetry write it.
    [`${T}/18446744073709551615;o=0`, { traceId: T, spanId: 'ffffffffffffffff', sampled: false }],
    [`${T.toUpperCase()}/12345`, { traceId: T, spanId: '0000000000003039', sampled: false }],
    [T, { traceId: T, sampled: false }],
    // A span id past 64 bits is no span id; the trace still counts.
    [`${T}/18446744073709551616;o=1`, { traceId: T, sampled: true }],
  ])('%s', (header, expected) => {
    expect(parseCloudTraceContext(header)).toEqual(expected);
  });

  it.each([['zero trace', `${'0'.repeat(32)}/1;o=1`], ['short', 'abc/1'], ['hex span id', `${T}/ff;o=1`]])('refuses %s', (_label, header) => {
    expect(parseCloudTraceContext(header)).toBeUndefined();
  });
});

describe('traceContextFromHeaders', () => {
  it('prefers traceparent, falls back to X-Cloud-Trace-Context, and ignores repeated headers', () => {
    const other = 'a'.repeat(32);
    expect(traceContextFromHeaders({ traceparent: `00-${T}-00f067aa0ba902b7-01`, 'x-cloud-trace-context': `${other}/1;o=1` })?.traceId).toBe(T);
    expect(traceContextFromHeaders({ traceparent: 'bad', 'x-cloud-trace-context': `${other}/1;o=1` })?.traceId).toBe(other);
    expect(traceContextFromHeaders({ traceparent: `00-${T}-00f067aa0ba902b7-01, 00-${other}-00f067aa0ba902b7-01` })).toBeUndefined();
    expect(traceContextFromHeaders({})).toBeUndefined();
  });
});
