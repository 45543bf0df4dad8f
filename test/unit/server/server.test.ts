import { afterEach, describe, expect, it } from 'vitest';
import { AbortedError, PermanentError, TransientError } from '../../../src/errors.js';
import type { EventPolicy } from '../../../src/events/types.js';
import { createLogger } from '../../../src/log/logger.js';
import type { SinkObject } from '../../../src/model.js';
import type { AuthResult, PushAuthenticator } from '../../../src/server/authenticate.js';
import { EventPipeline } from '../../../src/pipeline/event-pipeline.js';
import { startServer, type RunningServer, type ServerOptions } from '../../../src/server/server.js';
import { FakeSink, FakeSource } from '../../support/fakes.js';

const BUCKET = 'src';
const POLICY: EventPolicy = { sourceBuckets: [], includePrefixes: [], excludePrefixes: [], replicateDeletes: false };
const GOOD = 'Bearer good.token.value';

/** Accepts exactly GOOD; `Bearer other-account…` is a genuine token for someone else; `Bearer keys-down` cannot be judged. */
const stubAuth: PushAuthenticator = {
  async authenticate(header): Promise<AuthResult> {
    if (header === GOOD) return { ok: true };
    if (header?.startsWith('Bearer other-account')) return { ok: false, status: 403, reason: 'token email is not PUSH_SERVICE_ACCOUNT' };
    if (header === 'Bearer keys-down') return { ok: false, status: 503, reason: 'signing keys unavailable (TypeError)' };
    return { ok: false, status: 401, reason: header === undefined ? 'no bearer token' : 'token refused: ERR_JWS_INVALID' };
  },
};

/** A sink whose HEAD waits until released (or aborted), to hold requests in flight. */
class HeldSink extends FakeSink {
  #release: () => void = () => undefined;
  #held = new Promise<void>((resolve) => (this.#release = resolve));
  entered = 0;
  abortedBy: unknown[] = [];
  failWith?: Error;

  release(): void {
    this.#release();
  }

  override async head(key: string, signal?: AbortSignal): Promise<SinkObject | undefined> {
    this.entered++;
    if (this.failWith) throw this.failWith;
    await new Promise<void>((resolve, reject) => {
      const onAbort = (): void => {
        this.abortedBy.push(signal!.reason);
        reject(new AbortedError('aborted in head'));
      };
      if (signal?.aborted) return onAbort();
      signal?.addEventListener('abort', onAbort, { once: true });
      void this.#held.then(() => {
        signal?.removeEventListener('abort', onAbort);
        resolve();
      });
    });
    return super.head(key);
  }
}

let server: RunningServer | undefined;
let lines: Array<Record<string, unknown>>;

afterEach(async () => {
  await server?.close();
  server = undefined;
});

async function start(overrides: Partial<ServerOptions> & { sink?: FakeSink; source?: FakeSource; drainMs?: number } = {}) {
  const source = overrides.source ?? new FakeSource();
  const sink = overrides.sink ?? new FakeSink();
  lines = [];
  const logger = createLogger({ level: 'debug', write: (line) => lines.push(JSON.parse(line) as Record<string, unknown>) });
  const { drainMs = 300, ...options } = overrides;
  server = await startServer({
    pipeline: new EventPipeline({ deps: { source, sink, keyPrefix: 'p/' }, logger, drainMs }),
    policy: POLICY,
    logger,
    authenticator: stubAuth,
    maxConcurrentObjects: 4,
    port: 0,
    host: '127.0.0.1',
    ...options,
  });
  return { source, sink, url: server.url };
}

function pushBody(name: string, generation: string, extra: Record<string, string> = {}): string {
  const attributes = { eventType: 'OBJECT_FINALIZE', payloadFormat: 'JSON_API_V1', bucketId: BUCKET, objectId: name, objectGeneration: generation, ...extra };
  const data = Buffer.from(JSON.stringify({ bucket: BUCKET, name, generation })).toString('base64');
  return JSON.stringify({ message: { data, attributes, messageId: `m-${name}` }, subscription: 'projects/p/subscriptions/s' });
}

function post(url: string, body: string | Buffer, headers: Record<string, string> = { authorization: GOOD }, path = '/pubsub/push', signal?: AbortSignal) {
  return fetch(`${url}${path}`, { method: 'POST', body, headers: { 'content-type': 'application/json', ...headers }, signal });
}

const waitUntil = async (check: () => boolean, timeoutMs = 5000): Promise<void> => {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 10));
  }
};

describe('startServer', () => {
  it('copies on a valid push and answers 204, with one log line naming the object', async () => {
    const { source, sink, url } = await start();
    const meta = source.put(BUCKET, 'a.txt', Buffer.from('hello'));
    const res = await post(url, pushBody('a.txt', meta.generation));
    expect(res.status).toBe(204);
    expect(sink.objects.get('p/a.txt')?.bytes.toString()).toBe('hello');
    expect(lines).toContainEqual(expect.objectContaining({ severity: 'INFO', via: 'push', outcome: 'copied', object: `gs://${BUCKET}/a.txt`, messageId: 'm-a.txt', status: 204 }));
  });

  it('copies on a binary-mode CloudEvent at POST /', async () => {
    const { source, sink, url } = await start();
    const meta = source.put(BUCKET, 'ce.txt', Buffer.from('event'));
    const res = await post(url, JSON.stringify({ bucket: BUCKET, name: 'ce.txt', generation: meta.generation }), {
      authorization: GOOD,
      'ce-id': 'e1',
      'ce-specversion': '1.0',
      'ce-type': 'google.cloud.storage.object.v1.finalized',
      'ce-source': `//storage.googleapis.com/projects/_/buckets/${BUCKET}`,
      'ce-subject': 'objects/ce.txt',
    }, '/');
    expect(res.status).toBe(204);
    expect(sink.objects.has('p/ce.txt')).toBe(true);
    expect(lines).toContainEqual(expect.objectContaining({ via: 'cloudevent', ceId: 'e1', outcome: 'copied' }));
  });

  it.each([
    ['GET /healthz → 200', 'GET', '/healthz', 200],
    ['POST /healthz → 405', 'POST', '/healthz', 405],
    ['GET /pubsub/push → 405', 'GET', '/pubsub/push', 405],
    ['POST /elsewhere → 404', 'POST', '/elsewhere', 404],
  ])('%s', async (_label, method, path, status) => {
    const { url } = await start();
    const res = await fetch(`${url}${path}`, { method, ...(method === 'POST' ? { body: '{}' } : {}) });
    expect(res.status).toBe(status);
  });

  it.each([
    ['no token: 401', {}, 401],
    ['an invalid token: 401', { authorization: 'Bearer eyJhbGciOiJub25lIn0.eyJzZWNyZXQiOiJ4In0.' }, 401],
    ['a token for another account: 403', { authorization: 'Bearer other-account.eyJzZWNyZXQiOiJ4In0.sig' }, 403],
    ['a token that cannot be judged (keys unreachable): 503', { authorization: 'Bearer keys-down' }, 503],
  ])('answers %s, with a generic body, and copies nothing', async (_label, headers, status) => {
    const { source, sink, url } = await start();
    const meta = source.put(BUCKET, 'x.txt', Buffer.from('x'));
    const res = await post(url, pushBody('x.txt', meta.generation), headers as Record<string, string>);
    expect(res.status).toBe(status);
    const text = await res.text();
    expect(text).not.toMatch(/eyJ|other-account|secret|ERR_|PUSH_/);
    if (status === 401) expect(res.headers.get('www-authenticate')).toMatch(/^Bearer/);
    expect(sink.objects.size).toBe(0);
    expect(source.reads).toBe(0);
    const refusal = lines.find((l) => l.status === status);
    expect(refusal?.severity).toBe('WARNING');
    expect(JSON.stringify(lines)).not.toContain('eyJzZWNyZXQiOiJ4In0');
  });

  it('answers 400 to a body that is not JSON and 204 (acked, ERROR log) to a malformed message', async () => {
    const { sink, url } = await start();
    expect((await post(url, 'not json')).status).toBe(400);
    const bad = JSON.stringify({ message: { data: '%%%', attributes: { eventType: 'OBJECT_FINALIZE' }, messageId: 'bad-1' } });
    expect((await post(url, bad)).status).toBe(204);
    expect(lines).toContainEqual(expect.objectContaining({ severity: 'ERROR', outcome: 'malformed', messageId: 'bad-1' }));
    expect(sink.objects.size).toBe(0);
  });

  it('answers 413 to a body over the limit, declared or chunked, and still serves the next request', async () => {
    const { source, sink, url } = await start({ maxBodyBytes: 1024 });
    expect((await post(url, Buffer.alloc(2048, 'a'))).status).toBe(413);
    const chunked = new ReadableStream<Uint8Array>({
      start(controller) {
        for (let i = 0; i < 4; i++) controller.enqueue(new Uint8Array(512).fill(0x61));
        controller.close();
      },
    });
    const res = await fetch(`${url}/pubsub/push`, { method: 'POST', body: chunked, headers: { authorization: GOOD }, duplex: 'half' } as RequestInit);
    expect(res.status).toBe(413);
    const meta = source.put(BUCKET, 'after.txt', Buffer.from('ok'));
    expect((await post(url, pushBody('after.txt', meta.generation))).status).toBe(204);
    expect(sink.objects.has('p/after.txt')).toBe(true);
  });

  it('answers 429 at once when every slot is busy, and 204 to the held requests once they finish', async () => {
    const sink = new HeldSink();
    const { source, url } = await start({ sink, maxConcurrentObjects: 2 });
    const names = ['h1', 'h2', 'h3'];
    const gens = names.map((n) => source.put(BUCKET, n, Buffer.from(n)).generation);
    const held = [post(url, pushBody('h1', gens[0]!)), post(url, pushBody('h2', gens[1]!))];
    await waitUntil(() => sink.entered === 2);
    const refused = await post(url, pushBody('h3', gens[2]!));
    expect(refused.status).toBe(429);
    expect(refused.headers.get('retry-after')).toBe('1');
    // Busy is answered before the signature check; without a token, only that is learnt.
    expect((await post(url, pushBody('h3', gens[2]!), {})).status).toBe(429);
    sink.release();
    expect((await Promise.all(held)).map((r) => r.status)).toEqual([204, 204]);
    expect((await post(url, pushBody('h3', gens[2]!), {})).status).toBe(401);
    expect([...sink.objects.keys()].sort()).toEqual(['p/h1', 'p/h2']);
    expect(server!.inFlight()).toBe(0);
  });

  it('answers 503 to a transient failure and 204 to a permanent one, logged at ERROR naming the object', async () => {
    const sink = new HeldSink();
    sink.release();
    const { source, url } = await start({ sink });
    const meta = source.put(BUCKET, 'f.txt', Buffer.from('f'));
    sink.failWith = new TransientError('S3 is down', { code: 'ServiceUnavailable' });
    expect((await post(url, pushBody('f.txt', meta.generation))).status).toBe(503);
    expect(lines).toContainEqual(expect.objectContaining({ severity: 'WARNING', outcome: 'failed', retryable: true, status: 503 }));
    sink.failWith = new PermanentError('metadata over 2 KB', { code: 'MetadataTooLarge' });
    expect((await post(url, pushBody('f.txt', meta.generation))).status).toBe(204);
    expect(lines).toContainEqual(expect.objectContaining({ severity: 'ERROR', outcome: 'failed', retryable: false, object: `gs://${BUCKET}/f.txt`, status: 204 }));
    sink.failWith = undefined;
    expect((await post(url, pushBody('f.txt', meta.generation))).status).toBe(204);
    expect(sink.objects.has('p/f.txt')).toBe(true);
  });

  it('aborts the copy when the client disconnects, and frees its slot', async () => {
    const sink = new HeldSink();
    const { source, url } = await start({ sink, maxConcurrentObjects: 1 });
    const meta = source.put(BUCKET, 'gone.txt', Buffer.from('g'));
    const client = new AbortController();
    const pending = post(url, pushBody('gone.txt', meta.generation), { authorization: GOOD }, '/pubsub/push', client.signal).catch((err: unknown) => err);
    await waitUntil(() => sink.entered === 1);
    client.abort();
    await pending;
    await waitUntil(() => sink.abortedBy.length === 1 && server!.inFlight() === 0);
    expect(String(sink.abortedBy[0])).toMatch(/client disconnected/);
    expect(lines).toContainEqual(expect.objectContaining({ outcome: 'failed', abortedBy: 'client disconnected' }));
    // The slot is free again.
    sink.release();
    expect((await post(url, pushBody('gone.txt', meta.generation))).status).toBe(204);
  });

  it('aborts a request that outlives the request timeout with 503', async () => {
    const sink = new HeldSink();
    const { source, url } = await start({ sink, requestTimeoutMs: 200 });
    const meta = source.put(BUCKET, 'slow.txt', Buffer.from('s'));
    const res = await post(url, pushBody('slow.txt', meta.generation));
    expect(res.status).toBe(503);
    expect(String(sink.abortedBy[0])).toMatch(/request timeout/);
  });

  it('on close, lets in-flight requests finish within the drain time, then aborts the rest with 503', async () => {
    const sink = new HeldSink();
    const { source, url } = await start({ sink, drainMs: 300 });
    const meta = source.put(BUCKET, 'd.txt', Buffer.from('d'));
    const pending = post(url, pushBody('d.txt', meta.generation));
    await waitUntil(() => sink.entered === 1);
    const started = Date.now();
    const closing = server!.close();
    const res = await pending;
    expect(res.status).toBe(503);
    await closing;
    expect(Date.now() - started).toBeGreaterThanOrEqual(250);
    expect(String(sink.abortedBy[0])).toMatch(/shutting down/);
    await expect(fetch(`${url}/healthz`)).rejects.toThrow();
  });

  it('on close, a request that finishes within the drain time is answered normally', async () => {
    const sink = new HeldSink();
    const { source, url } = await start({ sink, drainMs: 5000 });
    const meta = source.put(BUCKET, 'q.txt', Buffer.from('q'));
    const pending = post(url, pushBody('q.txt', meta.generation));
    await waitUntil(() => sink.entered === 1);
    const closing = server!.close();
    setTimeout(() => sink.release(), 100);
    expect((await pending).status).toBe(204);
    await closing;
    expect(sink.objects.has('p/q.txt')).toBe(true);
  });
});
