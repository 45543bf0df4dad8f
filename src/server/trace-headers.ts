/**
 * The caller's trace, from the request headers Cloud Run sets on every request
 * it forwards (Pub/Sub push and Eventarc included): W3C `traceparent`, and
 * Google's older `X-Cloud-Trace-Context: TRACE_ID/SPAN_ID;o=OPTIONS` (span id
 * in decimal). Both name the same trace; `traceparent` wins when both parse.
 */
import type { IncomingHttpHeaders } from 'node:http';
import type { TraceContext } from '../log/log-context.js';

const TRACEPARENT = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(-.*)?$/;
const CLOUD_TRACE = /^([0-9a-fA-F]{32})(?:\/(\d{1,20}))?(?:;o=(\d+))?$/;
const ZERO_TRACE = '0'.repeat(32);
const ZERO_SPAN = '0'.repeat(16);

export function traceContextFromHeaders(headers: IncomingHttpHeaders): TraceContext | undefined {
  return parseTraceparent(single(headers.traceparent)) ?? parseCloudTraceContext(single(headers['x-cloud-trace-context']));
}

/** W3C Trace Context §3.2: version 00 has exactly four fields; ff is invalid; all-zero ids are invalid. */
export function parseTraceparent(value: string | undefined): TraceContext | undefined {
  const m = value === undefined ? null : TRACEPARENT.exec(value.trim());
  if (m === null) return undefined;
  const [, version, traceId, spanId, flags, rest] = m as unknown as [string, string, string, string, string, string | undefined];
  if (version === 'ff' || (version === '00' && rest !== undefined)) return undefined;
  if (traceId === ZERO_TRACE || spanId === ZERO_SPAN) return undefined;
  return { traceId, spanId, sampled: (Number.parseInt(flags, 16) & 1) === 1 };
}

/** `TRACE_ID/SPAN_ID;o=1`: span id decimal (uint64), `o=1` sampled. */
export function parseCloudTraceContext(value: string | undefined): TraceContext | undefined {
  const m = value === undefined ? null : CLOUD_TRACE.exec(value.trim());
  if (m === null) return undefined;
  const traceId = m[1]!.toLowerCase();
  if (traceId === ZERO_TRACE) return undefined;
  const span = m[2] === undefined ? 0n : BigInt(m[2]);
  // Cloud Logging and OpenTelemetry both write span ids as 16 hex digits.
  const spanId = span > 0n && span < 2n ** 64n ? span.toString(16).padStart(16, '0') : undefined;
  return { traceId, ...(spanId === undefined ? {} : { spanId }), sampled: m[3] !== undefined && (Number(m[3]) & 1) === 1 };
}

/** A repeated header arrives joined or as an array: then it names no single trace. */
function single(value: string | string[] | undefined): string | undefined {
  return typeof value === 'string' && !value.includes(',') ? value : undefined;
}
