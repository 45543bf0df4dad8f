import { createHash } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gunzipSync } from 'node:zlib';
import { Storage } from '@google-cloud/storage';
import { crc32c } from '@node-rs/crc32';
import { crc32cBase64 } from '../../src/replicate/verify-stream.js';

/** A request as the fake received it. */
export interface GcsRequest {
  path: string;
  query: URLSearchParams;
  headers: IncomingHttpHeaders;
  /** The client's port: the same for two requests on one kept-alive connection. */
  remotePort: number | undefined;
  /** Resolves when the exchange is over: `answered`, or `cancelled` when the client dropped it first. */
  settled: Promise<'answered' | 'cancelled'>;
}

/** One stored generation: its bytes and the resource fields beyond the ones derived from them. */
export interface FakeGcsObject {
  bytes: Buffer;
  /** JSON API resource fields to add or override (contentType, metadata, contentEncoding…). */
  resource?: Record<string, unknown>;
}

/** Answer with these instead of the fake's semantics (an error, say). */
export interface GcsReply {
  status: number;
  json: unknown;
}

/**
 * A small in-process GCS speaking the JSON API the storage library uses:
 * object metadata (`GET /storage/v1/b/B/o/NAME`) and media (`?alt=media`),
 * by generation. Like GCS, it sends a gzip-encoded object as stored only to a
 * client that accepts gzip, and decompresses it for others.
 */
export class FakeGcsServer {
  readonly requests: GcsRequest[] = [];
  /** Generations by `bucket/name`, oldest first. */
  readonly #objects = new Map<string, Array<{ generation: string; object: FakeGcsObject }>>();
  #generation = 1_700_000_000_000_000n;
  /** Runs before the fake answers: return a reply to answer instead, or undefined to go on. */
  intercept: ((request: GcsRequest) => GcsReply | undefined) | undefined;
  /** Media is sent in chunks of this size, each after `chunkDelayMs`. */
  chunkBytes = 64 * 1024;
  chunkDelayMs = 0;
  /** Answer a `Range: bytes=N-` request with the whole object (200), as GCS does when it transcodes. */
  ignoreRange = false;
  /** Cut the connection once this many media bytes are sent (a reset mid-body). */
  cutAfterBytes: number | undefined;
  readonly #server: Server;
  #url = '';

  private constructor() {
    this.#server = createServer((req, res) => {
      const url = new URL(req.url ?? '/', 'http://fake');
      const settled = new Promise<'answered' | 'cancelled'>((resolve) => res.once('close', () => resolve(res.writableFinished ? 'answered' : 'cancelled')));
      const request: GcsRequest = { path: decodeURIComponent(url.pathname), query: url.searchParams, headers: req.headers, remotePort: req.socket.remotePort, settled };
      this.requests.push(request);
      void this.#answer(request, res).catch(() => res.destroy());
    });
  }

  static async start(): Promise<FakeGcsServer> {
    const fake = new FakeGcsServer();
    await new Promise<void>((resolve) => fake.#server.listen(0, '127.0.0.1', resolve));
    fake.#url = `http://127.0.0.1:${(fake.#server.address() as AddressInfo).port}`;
    return fake;
  }

  /** Its origin, `http://127.0.0.1:PORT`. */
  get url(): string {
    return this.#url;
  }

  /** A storage client for this fake, with the library's own retries off, so a failure the test injects is the one the code sees. */
  storage(): Storage {
    return new Storage({ apiEndpoint: this.#url, projectId: 'test-project', retryOptions: { autoRetry: false } });
  }

  /** Stores a new generation of `bucket/name`; returns its generation. */
  put(bucket: string, name: string, object: FakeGcsObject): string {
    const generation = String(++this.#generation);
    const versions = this.#objects.get(`${bucket}/${name}`) ?? [];
    versions.push({ generation, object });
    this.#objects.set(`${bucket}/${name}`, versions);
    return generation;
  }

  async close(): Promise<void> {
    this.#server.closeAllConnections();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  async #answer(request: GcsRequest, res: ServerResponse): Promise<void> {
    const intercepted = this.intercept?.(request);
    if (intercepted !== undefined) return sendJson(res, intercepted.status, intercepted.json);
    const match = /^\/storage\/v1\/b\/([^/]+)\/o\/(.+)$/.exec(request.path);
    const versions = match === null ? undefined : this.#objects.get(`${match[1]}/${match[2]}`);
    const wanted = request.query.get('generation');
    const found = wanted === null ? versions?.at(-1) : versions?.find((v) => v.generation === wanted);
    if (match === null || found === undefined) {
      return sendJson(res, 404, { error: { code: 404, message: `No such object: ${match?.[1]}/${match?.[2]}`, errors: [{ reason: 'notFound', domain: 'global' }] } });
    }
    const resource = this.#resource(match[1]!, match[2]!, found.generation, found.object);
    if (request.query.get('alt') !== 'media') return sendJson(res, 200, resource);
    await this.#sendMedia(request, res, resource, found.object.bytes);
  }

  #resource(bucket: string, name: string, generation: string, object: FakeGcsObject): Record<string, unknown> {
    return {
      kind: 'storage#object',
      id: `${bucket}/${name}/${generation}`,
      bucket,
      name,
      generation,
      metageneration: '1',
      size: String(object.bytes.length),
      crc32c: crc32cBase64(crc32c(object.bytes)),
      md5Hash: createHash('md5').update(object.bytes).digest('base64'),
      contentType: 'application/octet-stream',
      timeCreated: '2024-05-01T12:00:00.000Z',
      ...object.resource,
    };
  }

  async #sendMedia(request: GcsRequest, res: ServerResponse, resource: Record<string, unknown>, stored: Buffer): Promise<void> {
    const gzipped = resource.contentEncoding === 'gzip';
    const acceptsGzip = /\bgzip\b/.test(String(request.headers['accept-encoding'] ?? ''));
    // Decompressive transcoding: a client that does not accept gzip gets the object decompressed.
    const whole = gzipped && !acceptsGzip ? gunzipSync(stored) : stored;
    // `bytes=N-` only (what a resumed read sends), on the bytes as served.
    const from = this.ignoreRange ? undefined : /^bytes=(\d+)-$/.exec(String(request.headers.range ?? ''))?.[1];
    const bytes = from === undefined ? whole : whole.subarray(Number(from));
    res.writeHead(from === undefined ? 200 : 206, {
      ...(from === undefined ? {} : { 'content-range': `bytes ${from}-${whole.length - 1}/${whole.length}` }),
      'content-type': String(resource.contentType),
      'x-goog-generation': String(resource.generation),
      'x-goog-stored-content-encoding': gzipped ? 'gzip' : 'identity',
      'x-goog-hash': `crc32c=${String(resource.crc32c)},md5=${String(resource.md5Hash)}`,
      ...(gzipped && acceptsGzip ? { 'content-encoding': 'gzip' } : {}),
    });
    for (let i = 0; i < bytes.length && !res.destroyed; i += this.chunkBytes) {
      if (this.chunkDelayMs > 0) await new Promise((resolve) => setTimeout(resolve, this.chunkDelayMs));
      if (this.cutAfterBytes !== undefined && i >= this.cutAfterBytes) return void res.socket?.destroy();
      res.write(bytes.subarray(i, i + this.chunkBytes));
    }
    res.end();
  }
}

function sendJson(res: ServerResponse, status: number, json: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json; charset=UTF-8' });
  res.end(JSON.stringify(json));
}
