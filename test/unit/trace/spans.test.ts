import { Readable } from 'node:stream';
import { SpanKind, SpanStatusCode } from '@opentelemetry/api';
import { InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { PermanentError } from '../../../src/errors.js';
import type { EventPolicy } from '../../../src/events/types.js';
import { createLogger } from '../../../src/log/logger.js';
import { PACKAGE_VERSION } from '../../../src/log/version.js';
import { noAuthentication } from '../../../src/server/authenticate.js';
import { startServer, type RunningServer } from '../../../src/server/server.js';
import { EventPipeline } from '../../../src/pipeline/event-pipeline.js';
import { registerTracing } from '../../../src/trace/register-tracing.js';
import { spanOverStream } from '../../../src/trace/spans.js';
import type { Tracing } from '../../../src/trace/start-tracing.js';
import { tracedFakeDeps } from '../../support/traced-deps.js';

const POLICY: EventPolicy = { sourceBuckets: [], includePrefixes: [], excludePrefixes: [], replicateDeletes: false };
const TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';
const CALLER_SPAN = '00f067aa0ba902b7';
const JWT = 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiIxMjM0NSJ9.c2lnbmF0dXJlLXZhbHVl';

// The same registration TRACE_EXPORTER=cloud-trace makes, with an in-memory exporter in place of Cloud Trace's.
const exporter = new InMemorySpanExporter();
let tracing: Tracing;
let server: RunningServer | undefined;

beforeAll(() => {
  tracing = registerTracing(new SimpleSpanProcessor(exporter), { service: 'gcs2s3-test', version: PACKAGE_VERSION });
});
afterEach(async () => {
  await server?.close();
  server = undefined;
  exporter.reset();
});
afterAll(() => tracing.shutdown());

async function start() {
  const lines: Array<Record<string, unknown>> = [];
  const logger = createLogger({ level: 'debug', write: (l) => lines.push(JSON.parse(l) as Record<string, unknown>), traceProject: 'proj' });
  const { deps, source, sink } = tracedFakeDeps(logger);
  server = await startServer({ pipeline: new EventPipeline({ deps, logger, drainMs: 300 }), policy: POLICY, logger, authenticator: noAuthentication, maxConcurrentObjects: 4, port: 0, host: '127.0.0.1' });
  return { source, sink, lines, url: server.url };
}

async function push(url: string, name: string, generation: string, traceparent: string): Promise<number> {
  const attributes = { eventType: 'OBJECT_FINALIZE', payloadFormat: 'JSON_API_V1', bucketId: 'src', objectId: name, objectGeneration: generation };
  const data = Buffer.from(JSON.stringify({ bucket: 'src', name, generation })).toString('base64');
  const body = JSON.stringify({ message: { data, attributes, messageId: `m-${name}` }, subscription: 'projects/p/subscriptions/s' });
  const res = await fetch(`${url}/pubsub/push`, { method: 'POST', body, headers: { 'content-type': 'application/json', traceparent } });
  return res.status;
}

const byName = (spans: ReadableSpan[]) => Object.fromEntries(spans.map((s) => [s.name, s]));

describe('spans of a push request\'s copy (in-memory exporter)', () => {
  it('records the GCS read, the STS call and the S3 upload in the caller\'s trace, parented to its span', async () => {
    const { source, url } = await start();
    const meta = source.put('src', 'a.bin', Buffer.alloc(5000, 7));
    expect(await push(url, 'a.bin', meta.generation, `00-${TRACE}-${CALLER_SPAN}-01`)).toBe(204);

    const all = exporter.getFinishedSpans();
    expect(all.map((s) => s.name).sort()).toEqual(['gcs.read', 'replicate', 's3.upload', 'sts.AssumeRoleWithWebIdentity']);
    const { replicate, 'gcs.read': read, 's3.upload': upload, 'sts.AssumeRoleWithWebIdentity': sts } = byName(all);
    // One internal span per object, the push request's child, parents its client spans.
    expect(replicate!.kind).toBe(SpanKind.INTERNAL);
    expect(replicate!.parentSpanContext).toMatchObject({ spanId: CALLER_SPAN, isRemote: true });
    expect(replicate!.attributes).toMatchObject({ 'gcs.bucket': 'src', 'gcs.object': 'a.bin', 'gcs2s3.via': 'push' });
    const spans = all.filter((s) => s !== replicate);
    for (const span of spans) {
      expect(span.spanContext().traceId).toBe(TRACE);
      expect(span.kind).toBe(SpanKind.CLIENT);
      expect(span.status.code).not.toBe(SpanStatusCode.ERROR);
      expect(span.resource.attributes).toMatchObject({ 'service.name': 'gcs2s3-test', 'service.version': PACKAGE_VERSION });
    }
    // The upload is the object's span's child; the STS call (made here for the upload) and the GCS
    // read (opened when the upload first reads its body) are the upload's children.
    expect(read!.parentSpanContext?.spanId).toBe(upload!.spanContext().spanId);
    expect(upload!.parentSpanContext?.spanId).toBe(replicate!.spanContext().spanId);
    expect(sts!.parentSpanContext?.spanId).toBe(upload!.spanContext().spanId);
    expect(read!.attributes).toMatchObject({ 'gcs.bucket': 'src', 'gcs.object': 'a.bin', 'gcs.generation': meta.generation, 'object.size': 5000 });
    expect(upload!.attributes).toMatchObject({ 'aws.s3.bucket': 'dest', 'aws.s3.key': 'p/a.bin', 'object.size': 5000 });
    expect(sts!.attributes).toMatchObject({ 'rpc.service': 'STS', 'aws.iam.role_arn': 'arn:aws:iam::123456789012:role/r' });
    expect(JSON.stringify(sts!.attributes)).not.toContain('id-token');
  });

  it('records nothing for a request its caller did not sample (parent-based sampling)', async () => {
    const { source, url } = await start();
    const meta = source.put('src', 'b.bin', Buffer.from('b'));
    expect(await push(url, 'b.bin', meta.generation, `00-${TRACE}-${CALLER_SPAN}-00`)).toBe(204);
    expect(exporter.getFinishedSpans()).toEqual([]);
  });

  it('marks a failed upload ERROR, with the error redacted', async () => {
    const { source, sink, url } = await start();
    sink.beforeCommit = () => {
      throw new PermanentError(`S3 refused it; token ${JWT}`, { code: 'AccessDenied' });
    };
    const meta = source.put('src', 'c.bin', Buffer.from('c'));
    expect(await push(url, 'c.bin', meta.generation, `00-${TRACE}-${CALLER_SPAN}-01`)).toBe(204);
    const upload = byName(exporter.getFinishedSpans())['s3.upload']!;
    expect(upload.status).toEqual({ code: SpanStatusCode.ERROR, message: 'S3 refused it; token [redacted-jwt]' });
    expect(upload.attributes['error.type']).toBe('AccessDenied');
    expect(upload.events[0]?.name).toBe('exception');
    expect(JSON.stringify(upload.events)).not.toContain(JWT);
  });
});

describe('spanOverStream', () => {
  it('ends the span when the stream ends, or marks it ERROR when the reader gives up first', async () => {
    const whole = spanOverStream('whole', {}, () => Readable.from([Buffer.from('x'), Buffer.from('y')]));
    for await (const _ of whole) void _;
    const cut = spanOverStream('cut', {}, () => Readable.from([Buffer.from('x'), Buffer.from('y')]));
    cut.destroy();
    await new Promise((r) => setImmediate(r));
    const spans = byName(exporter.getFinishedSpans());
    expect(spans.whole!.status.code).toBe(SpanStatusCode.UNSET);
    expect(spans.cut!.status).toEqual({ code: SpanStatusCode.ERROR, message: 'stream closed before its end' });
  });
});

describe('tracing off', () => {
  it('gives no-op spans once the provider is gone', async () => {
    await tracing.shutdown();
    const stream = spanOverStream('after', {}, () => Readable.from([Buffer.from('x')]));
    for await (const _ of stream) void _;
    expect(exporter.getFinishedSpans().map((s) => s.name)).not.toContain('after');
  });
});
