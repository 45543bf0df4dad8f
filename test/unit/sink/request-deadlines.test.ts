import { createServer, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { HeadObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { afterEach, describe, expect, it } from 'vitest';
import { AbortedError, TimeoutError, TransientError } from '../../../src/errors.js';
import { deadlineHandler, describeNetworkFailure, nameNetworkFailures } from '../../../src/sink/request-deadlines.js';

const DEADLINES = { connectTimeoutMs: 1000, stallTimeoutMs: 2000 };
const REQUEST = 'S3 PutObject http://127.0.0.1:9000 s3://b/k';
const named = (name: string, message: string, extra: object = {}) => Object.assign(new Error(message), { name }, extra);

describe('describeNetworkFailure', () => {
  it.each([
    ['a connection that never came up', named('TimeoutError', '@smithy/node-http-handler - the request socket did not establish a connection with the server within the configured timeout of 1000 ms.', { $metadata: { attempts: 3 } }), TimeoutError, `${REQUEST}: no connection within 1 s (3 attempts)`],
    ['a socket silent for the stall timeout', named('TimeoutError', '@smithy/node-http-handler - the request socket timed out after 2000 ms of inactivity (configured by client requestHandler).', { $metadata: { attempts: 1 } }), TimeoutError, `${REQUEST}: no progress for 2 s`],
    ['a reset connection', named('Error', 'read ECONNRESET', { code: 'ECONNRESET', $metadata: { attempts: 2 } }), TransientError, `${REQUEST}: ECONNRESET: read ECONNRESET (2 attempts)`],
  ])('%s becomes a transient error naming the request', (_label, err, type, message) => {
    const out = describeNetworkFailure(err, REQUEST, DEADLINES) as TransientError;
    expect(out).toBeInstanceOf(type);
    expect(out.message).toBe(message);
    expect(out.retryable).toBe(true);
    expect(out.cause).toBe(err);
  });

  it.each([
    ['an answer from the server', named('SlowDown', 'Please reduce your request rate.', { $metadata: { httpStatusCode: 503 } })],
    ['an abort', named('AbortError', 'Request aborted')],
    ['an error already classified', new AbortedError('aborted')],
    ['an error with no network code', new Error('something else')],
  ])('leaves %s as it is', (_label, err) => {
    expect(describeNetworkFailure(err, REQUEST, DEADLINES)).toBe(err);
  });

  it('gives timeouts the code ETIMEDOUT, which the STS retry policy treats as a network failure', () => {
    const out = describeNetworkFailure(named('TimeoutError', 'timed out after 2000 ms of inactivity'), REQUEST, DEADLINES) as TimeoutError;
    expect(out.code).toBe('ETIMEDOUT');
  });
});

describe('an S3 client with deadlines', () => {
  let server: Server | undefined;
  const sockets = new Set<Socket>();
  afterEach(async () => {
    for (const s of sockets) s.destroy();
    if (server !== undefined) await new Promise((r) => server!.close(r));
  });

  it('gives up on a server that accepts connections and never answers, naming the operation, endpoint and object', async () => {
    // Reads every request and never answers: the blackhole.
    server = createServer(() => undefined);
    server.on('connection', (s) => sockets.add(s));
    await new Promise<void>((r) => server!.listen(0, '127.0.0.1', r));
    const endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const deadlines = { connectTimeoutMs: 500, stallTimeoutMs: 300 };
    const client = new S3Client({
      region: 'us-east-1',
      endpoint,
      forcePathStyle: true,
      maxAttempts: 2,
      credentials: { accessKeyId: 'a', secretAccessKey: 'b' },
      requestHandler: deadlineHandler(deadlines, 4),
    });
    nameNetworkFailures(client.middlewareStack, { service: 'S3', endpoint }, deadlines);
    const started = Date.now();
    try {
      const err = await client.send(new HeadObjectCommand({ Bucket: 'bucket', Key: 'a/b.txt' })).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(TimeoutError);
      expect((err as Error).message).toBe(`S3 HeadObject ${endpoint} s3://bucket/a/b.txt: no progress for 0.3 s (2 attempts)`);
      expect(Date.now() - started).toBeLessThan(3000);
    } finally {
      client.destroy();
    }
  });
});
