/**
 * Client spans around the calls the adapters make (GCS read, STS, S3 upload),
 * through @opentelemetry/api only. Until a tracer provider is registered
 * (TRACE_EXPORTER, see start-tracing.ts) the API hands out no-op spans, and
 * the adapters are not even wrapped (src/main/runtime.ts), so tracing costs
 * nothing when it is off.
 */
import type { Readable } from 'node:stream';
import { context, SpanKind, SpanStatusCode, trace, type Attributes, type Span } from '@opentelemetry/api';
import { redactSecrets } from '../errors.js';
import { PACKAGE_VERSION } from '../log/version.js';

/** Runs `fn` inside a new client span, a child of the active one (the push request's, for `serve`). */
export function inClientSpan<T>(name: string, attributes: Attributes, fn: () => Promise<T>): Promise<T> {
  return inSpan(startClientSpan(name, attributes), fn);
}

/** Runs `fn` with `span` active, marks it failed if `fn` throws, and ends it. */
async function inSpan<T>(span: Span, fn: () => Promise<T>): Promise<T> {
  try {
    return await context.with(trace.setSpan(context.active(), span), fn);
  } catch (err) {
    markFailed(span, err);
    throw err;
  } finally {
    span.end();
  }
}

/**
 * A span that lasts as long as the stream `open` returns: it ends when the
 * stream ends (ok), errors, or is closed before its end (a reader that gave
 * up). Only `end`/`error`/`close` listeners are added: the stream's flow is
 * left alone.
 */
export function spanOverStream<S extends Readable>(name: string, attributes: Attributes, open: () => S): S {
  const span = startClientSpan(name, attributes);
  let stream: S;
  try {
    stream = context.with(trace.setSpan(context.active(), span), open);
  } catch (err) {
    markFailed(span, err);
    span.end();
    throw err;
  }
  let ended = false;
  const end = (err?: unknown): void => {
    if (ended) return;
    ended = true;
    if (err !== undefined) markFailed(span, err);
    span.end();
  };
  stream.once('end', () => end());
  stream.on('error', (err) => end(err));
  stream.once('close', () => end(stream.readableEnded ? undefined : new Error('stream closed before its end')));
  return stream;
}

/**
 * Runs one object's replication inside an internal span, so its GCS read, STS
 * call and S3 upload share one parent (and one trace outside `serve`, where no
 * request brings one).
 */
export function inReplicationSpan<T>(attributes: Attributes, fn: () => Promise<T>): Promise<T> {
  return inSpan(trace.getTracer('gcs2s3', PACKAGE_VERSION).startSpan('replicate', { kind: SpanKind.INTERNAL, attributes }), fn);
}

function startClientSpan(name: string, attributes: Attributes): Span {
  return trace.getTracer('gcs2s3', PACKAGE_VERSION).startSpan(name, { kind: SpanKind.CLIENT, attributes });
}

/** Spans leave the process: their error text is redacted like a log line's. */
function markFailed(span: Span, err: unknown): void {
  const e = err instanceof Error ? err : new Error(String(err));
  const message = redactSecrets(e.message);
  span.recordException({ name: e.name, message, ...(e.stack === undefined ? {} : { stack: redactSecrets(e.stack) }) });
  const code = (e as { code?: unknown }).code;
  span.setAttribute('error.type', typeof code === 'string' ? code : e.name);
  span.setStatus({ code: SpanStatusCode.ERROR, message });
}
