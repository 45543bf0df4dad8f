/**
 * Each request's handling runs inside its caller's trace (Cloud Run forwards
 * `traceparent` / `X-Cloud-Trace-Context` on every request):
 * - every line logged meanwhile, however deep (replicate, sink, credentials),
 *   carries the trace fields that nest it under Cloud Run's request log;
 * - spans started meanwhile (TRACE_EXPORTER) are children of the caller's span;
 * - once the response is done, one line carries `httpRequest`.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { context, trace, TraceFlags, type Context } from '@opentelemetry/api';
import { runWithLogContext, type LogContext, type TraceContext } from '../log/log-context.js';
import type { Logger } from '../log/logger.js';
import { traceContextFromHeaders } from './trace-headers.js';

export function inRequestContext(req: IncomingMessage, res: ServerResponse, logger: Logger, handle: () => Promise<void>): Promise<void> {
  const started = performance.now();
  // Keep-alive requests on one socket come one after another: the bytes
  // written meanwhile are this response's, headers included (as Cloud Logging counts them).
  const { socket } = req;
  const writtenBefore = socket.bytesWritten;
  const caller = traceContextFromHeaders(req.headers);
  const logContext: LogContext = caller === undefined ? {} : { trace: caller };
  // 'close' follows 'finish', and also comes when the client leaves first.
  res.once('close', () => {
    const sent = { latencyMs: performance.now() - started, responseBytes: socket.bytesWritten - writtenBefore };
    runWithLogContext(logContext, () => logRequest(logger, req, res, sent));
  });
  return runWithLogContext(logContext, () => context.with(parentContext(caller), handle));
}

/** The caller's span as the remote parent of ours. A no-op context while tracing is off. */
function parentContext(caller: TraceContext | undefined): Context {
  const active = context.active();
  if (caller?.spanId === undefined) return active;
  return trace.setSpanContext(active, { traceId: caller.traceId, spanId: caller.spanId, traceFlags: caller.sampled ? TraceFlags.SAMPLED : TraceFlags.NONE, isRemote: true });
}

/**
 * The request's last line. Health checks and 429s (which a push backlog sends
 * by the thousand) are DEBUG; answers that make Pub/Sub retry, WARNING.
 */
function logRequest(logger: Logger, req: IncomingMessage, res: ServerResponse, sent: Sent): void {
  const httpRequest = httpRequestEntry(req, res, sent);
  const path = pathOf(req.url);
  const status = httpRequest.status;
  const message = `${req.method ?? 'GET'} ${path} ${status ?? '(client went away before the answer)'}`;
  if (path === '/healthz' || status === 429) logger.debug(message, { httpRequest });
  else if (status === undefined || status >= 500) logger.warn(message, { httpRequest });
  else logger.info(message, { httpRequest });
}

/** How long the answer took, and its size on the wire. */
export interface Sent {
  latencyMs: number;
  responseBytes: number;
}

/** Cloud Logging's HttpRequest (sizes are int64, hence strings in JSON). */
export interface HttpRequestEntry {
  requestMethod: string;
  requestUrl: string;
  status?: number;
  /** The body's declared length (Content-Length), when there is one. */
  requestSize?: string;
  /** Headers and body. */
  responseSize?: string;
  userAgent?: string;
  remoteIp?: string;
  /** A Duration: seconds with a fraction, e.g. "0.123s". */
  latency: string;
  protocol: string;
}

function httpRequestEntry(req: IncomingMessage, res: ServerResponse, sent: Sent): HttpRequestEntry {
  const entry: HttpRequestEntry = {
    requestMethod: req.method ?? 'GET',
    requestUrl: requestUrl(req),
    latency: `${(sent.latencyMs / 1000).toFixed(3)}s`,
    protocol: `HTTP/${req.httpVersion}`,
  };
  if (res.headersSent) entry.status = res.statusCode;
  const requestSize = req.headers['content-length'];
  if (requestSize !== undefined && /^\d+$/.test(requestSize)) entry.requestSize = requestSize;
  if (res.headersSent && sent.responseBytes > 0) entry.responseSize = String(sent.responseBytes);
  if (req.headers['user-agent'] !== undefined) entry.userAgent = req.headers['user-agent'];
  const remoteIp = forwardedFor(req) ?? req.socket.remoteAddress;
  if (remoteIp !== undefined) entry.remoteIp = remoteIp;
  return entry;
}

/**
 * Scheme, host and path. The query is left out: a push endpoint's URL may
 * carry a verification token there, and logs must never hold one.
 */
function requestUrl(req: IncomingMessage): string {
  const host = req.headers.host;
  const proto = firstOf(req.headers['x-forwarded-proto']) ?? 'http';
  const path = pathOf(req.url);
  return host === undefined ? path : `${proto}://${host}${path}`;
}

/** Behind Cloud Run's front end the peer is Google's proxy; the client is the first X-Forwarded-For entry. */
function forwardedFor(req: IncomingMessage): string | undefined {
  return firstOf(req.headers['x-forwarded-for'])?.split(',')[0]?.trim() || undefined;
}

function firstOf(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

function pathOf(url: string | undefined): string {
  const u = url ?? '/';
  const q = u.indexOf('?');
  return q < 0 ? u : u.slice(0, q);
}
