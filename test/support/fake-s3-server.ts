import { createServer, type IncomingHttpHeaders, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { Agent } from 'node:http';
import type { AddressInfo } from 'node:net';
import { S3Client } from '@aws-sdk/client-s3';
import { crc32c } from '@node-rs/crc32';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { crc32cBase64 } from '../../src/replicate/verify-stream.js';
import { addUnsignedChecksummedPayload } from '../../src/sink/unsigned-payload.js';

export type S3Operation =
  | 'CreateMultipartUpload'
  | 'UploadPart'
  | 'CompleteMultipartUpload'
  | 'AbortMultipartUpload'
  | 'PutObject'
  | 'CopyObject'
  | 'HeadObject'
  | 'DeleteObject'
  | 'ListMultipartUploads'
  | 'ListParts';

/** A request as the fake received it. */
export interface S3Request {
  operation: S3Operation;
  key: string;
  query: URLSearchParams;
  headers: IncomingHttpHeaders;
  body: Buffer;
  /** UploadPart's part number. */
  partNumber?: number;
  /** Resolves when the exchange is over: `answered`, or `cancelled` when the client dropped it first. */
  settled: Promise<'answered' | 'cancelled'>;
}

/** An answer an interceptor gives instead of the fake's S3 semantics. */
export interface S3Reply {
  status: number;
  headers?: Record<string, string>;
  body?: string;
}

export interface StoredS3Object {
  bytes: Buffer;
  etag: string;
  /** Request headers it was written with (content-type, x-amz-meta-*, x-amz-checksum-*…). */
  headers: IncomingHttpHeaders;
}

export interface FakeMultipartUpload {
  key: string;
  headers: IncomingHttpHeaders;
  parts: Map<number, { bytes: Buffer; etag: string; crc32c: string }>;
  state: 'open' | 'completed' | 'aborted';
  /** The Complete request's part list (numbers, in the order sent) and headers. */
  completion?: { partNumbers: number[]; headers: IncomingHttpHeaders };
}

/** S3 answers parts smaller than this with EntityTooSmall, unless it is the last. */
const MIN_PART_BYTES = 5 * 1024 * 1024;

/**
 * A small in-process S3 for unit tests of the sink: path-style, one bucket,
 * the operations the sink uses, with S3's checks that matter here (part and
 * full-object CRC32C, conditional writes, part order and minimum size).
 * Everything it stores can be read back; `intercept` lets a test delay a
 * request or answer it itself.
 */
export class FakeS3Server {
  readonly bucket = 'bucket';
  readonly requests: S3Request[] = [];
  readonly objects = new Map<string, StoredS3Object>();
  readonly uploads = new Map<string, FakeMultipartUpload>();
  /** Runs before the fake answers: return a reply to answer instead, or undefined to go on. */
  intercept: ((request: S3Request) => Promise<S3Reply | undefined> | S3Reply | undefined) | undefined;
  /** The most UploadPart requests open at once. */
  peakOpenParts = 0;
  #openParts = 0;
  #uploads = 0;
  #etags = 0;
  readonly #server: Server;
  #url = '';

  private constructor() {
    // A request the client drops while its body is still arriving is simply gone.
    this.#server = createServer((req, res) => void this.#handle(req, res).catch(() => res.destroy()));
  }

  static async start(): Promise<FakeS3Server> {
    const fake = new FakeS3Server();
    await new Promise<void>((resolve) => fake.#server.listen(0, '127.0.0.1', resolve));
    fake.#url = `http://127.0.0.1:${(fake.#server.address() as AddressInfo).port}`;
    return fake;
  }

  /**
   * An S3 client for this fake, set up like the worker's (checksummed bodies
   * unsigned), but with one attempt per request, so a failure the test injects
   * is the one the code sees.
   */
  client(): S3Client {
    const client = new S3Client({
      endpoint: this.#url,
      region: 'us-east-1',
      forcePathStyle: true,
      credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
      maxAttempts: 1,
      requestHandler: new NodeHttpHandler({ httpAgent: new Agent({ keepAlive: true, maxSockets: 64 }) }),
    });
    addUnsignedChecksummedPayload(client);
    return client;
  }

  /** Requests of one operation, in arrival order. */
  received(operation: S3Operation): S3Request[] {
    return this.requests.filter((r) => r.operation === operation);
  }

  /** Resolves once a request matching `match` has arrived. */
  async arrival(match: (r: S3Request) => boolean): Promise<S3Request> {
    for (;;) {
      const found = this.requests.find(match);
      if (found !== undefined) return found;
      await new Promise((resolve) => setTimeout(resolve, 2));
    }
  }

  async close(): Promise<void> {
    this.#server.closeAllConnections();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const request = await this.#record(req, res);
    const part = request.operation === 'UploadPart';
    if (part && ++this.#openParts > this.peakOpenParts) this.peakOpenParts = this.#openParts;
    try {
      const intercepted = await this.intercept?.(request);
      // A request the client gave up on has no effect.
      if (res.destroyed) return;
      const reply = intercepted ?? this.#answer(request);
      res.writeHead(reply.status, { ...(reply.body === undefined ? {} : { 'content-type': 'application/xml' }), ...reply.headers });
      res.end(reply.body);
    } finally {
      if (part) await request.settled.then(() => this.#openParts--);
    }
  }

  async #record(req: IncomingMessage, res: ServerResponse): Promise<S3Request> {
    const settled = new Promise<'answered' | 'cancelled'>((resolve) => res.once('close', () => resolve(res.writableFinished ? 'answered' : 'cancelled')));
    const url = new URL(req.url ?? '/', 'http://fake');
    const key = decodeURIComponent(url.pathname.slice(`/${this.bucket}/`.length));
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const operation = operationOf(req.method ?? '', url.searchParams, req.headers);
    const partNumber = operation === 'UploadPart' ? Number(url.searchParams.get('partNumber')) : undefined;
    const request: S3Request = { operation, key, query: url.searchParams, headers: req.headers, body: Buffer.concat(chunks), partNumber, settled };
    this.requests.push(request);
    return request;
  }

  #answer(r: S3Request): S3Reply {
    switch (r.operation) {
      case 'CreateMultipartUpload': {
        const id = `upload-${++this.#uploads}`;
        this.uploads.set(id, { key: r.key, headers: r.headers, parts: new Map(), state: 'open' });
        return xml(200, `<InitiateMultipartUploadResult><Bucket>${this.bucket}</Bucket><Key>${escapeXml(r.key)}</Key><UploadId>${id}</UploadId></InitiateMultipartUploadResult>`);
      }
      case 'UploadPart':
        return this.#uploadPart(r);
      case 'CompleteMultipartUpload':
        return this.#complete(r);
      case 'AbortMultipartUpload': {
        const upload = this.uploads.get(r.query.get('uploadId') ?? '');
        if (upload === undefined) return s3Error(404, 'NoSuchUpload');
        upload.state = 'aborted';
        return { status: 204 };
      }
      case 'ListMultipartUploads':
        return this.#listUploads(r);
      case 'ListParts':
        return this.#listParts(r);
      case 'PutObject':
        return this.#put(r);
      case 'CopyObject':
        return this.#copy(r);
      case 'HeadObject': {
        const object = this.objects.get(r.key);
        if (object === undefined) return { status: 404 };
        return { status: 200, headers: { ...storedHeaders(object.headers), etag: object.etag, 'content-length': String(object.bytes.length) } };
      }
      case 'DeleteObject': {
        const object = this.objects.get(r.key);
        if (object === undefined) return r.headers['if-match'] === undefined ? { status: 204 } : s3Error(404, 'NoSuchKey');
        if (r.headers['if-match'] !== undefined && r.headers['if-match'] !== object.etag) return s3Error(412, 'PreconditionFailed');
        this.objects.delete(r.key);
        return { status: 204 };
      }
    }
  }

  #uploadPart(r: S3Request): S3Reply {
    const upload = this.uploads.get(r.query.get('uploadId') ?? '');
    if (upload === undefined || upload.state !== 'open') return s3Error(404, 'NoSuchUpload');
    const checksum = crc32cBase64(crc32c(r.body));
    const sent = r.headers['x-amz-checksum-crc32c'];
    if (sent !== undefined && sent !== checksum) return s3Error(400, 'BadDigest');
    const etag = this.#etag();
    upload.parts.set(r.partNumber!, { bytes: r.body, etag, crc32c: checksum });
    return { status: 200, headers: { etag, 'x-amz-checksum-crc32c': checksum } };
  }

  #complete(r: S3Request): S3Reply {
    const upload = this.uploads.get(r.query.get('uploadId') ?? '');
    if (upload === undefined || upload.state !== 'open') return s3Error(404, 'NoSuchUpload');
    const listed = [...r.body.toString('utf8').matchAll(/<Part>(.*?)<\/Part>/gs)].map((m) => ({
      number: Number(/<PartNumber>(\d+)<\/PartNumber>/.exec(m[1]!)?.[1]),
      etag: /<ETag>(.*?)<\/ETag>/s.exec(m[1]!)?.[1]?.replace(/&quot;/g, '"'),
    }));
    upload.completion = { partNumbers: listed.map((p) => p.number), headers: r.headers };
    const parts = listed.map((p) => upload.parts.get(p.number));
    if (listed.some((p, i) => i > 0 && p.number <= listed[i - 1]!.number)) return s3Error(400, 'InvalidPartOrder');
    if (parts.some((p, i) => p === undefined || p.etag !== listed[i]!.etag)) return s3Error(400, 'InvalidPart');
    if (parts.some((p, i) => i < parts.length - 1 && p!.bytes.length < MIN_PART_BYTES)) return s3Error(400, 'EntityTooSmall');
    const bytes = Buffer.concat(parts.map((p) => p!.bytes));
    const sent = r.headers['x-amz-checksum-crc32c'];
    if (sent !== undefined && sent !== crc32cBase64(crc32c(bytes))) return s3Error(400, 'BadDigest');
    const refused = this.#refusedByCondition(r);
    if (refused !== undefined) return refused;
    const etag = this.#etag(`-${parts.length}`);
    this.objects.set(upload.key, { bytes, etag, headers: { ...upload.headers, ...pick(r.headers, /^x-amz-checksum-/) } });
    upload.state = 'completed';
    return xml(200, `<CompleteMultipartUploadResult><Bucket>${this.bucket}</Bucket><Key>${escapeXml(upload.key)}</Key><ETag>${escapeXml(etag)}</ETag></CompleteMultipartUploadResult>`);
  }

  /** The open uploads whose key starts with `prefix`, in key order, on one page. */
  #listUploads(r: S3Request): S3Reply {
    const prefix = r.query.get('prefix') ?? '';
    const open = [...this.uploads].filter(([, u]) => u.state === 'open' && u.key.startsWith(prefix)).sort(([, a], [, b]) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    const uploads = open.map(([id, u]) => `<Upload><Key>${escapeXml(u.key)}</Key><UploadId>${id}</UploadId></Upload>`).join('');
    return xml(200, `<ListMultipartUploadsResult><Bucket>${this.bucket}</Bucket><Prefix>${escapeXml(prefix)}</Prefix><IsTruncated>false</IsTruncated>${uploads}</ListMultipartUploadsResult>`);
  }

  /** An upload's parts in number order, with their size and CRC32C, on one page. */
  #listParts(r: S3Request): S3Reply {
    const upload = this.uploads.get(r.query.get('uploadId') ?? '');
    if (upload === undefined || upload.state !== 'open') return s3Error(404, 'NoSuchUpload');
    const parts = [...upload.parts]
      .sort(([a], [b]) => a - b)
      .map(([n, p]) => `<Part><PartNumber>${n}</PartNumber><ETag>${escapeXml(p.etag)}</ETag><Size>${p.bytes.length}</Size><ChecksumCRC32C>${p.crc32c}</ChecksumCRC32C></Part>`)
      .join('');
    return xml(200, `<ListPartsResult><Bucket>${this.bucket}</Bucket><Key>${escapeXml(upload.key)}</Key><UploadId>${r.query.get('uploadId')}</UploadId><IsTruncated>false</IsTruncated>${parts}</ListPartsResult>`);
  }

  #put(r: S3Request): S3Reply {
    const sent = r.headers['x-amz-checksum-crc32c'];
    if (sent !== undefined && sent !== crc32cBase64(crc32c(r.body))) return s3Error(400, 'BadDigest');
    const refused = this.#refusedByCondition(r);
    if (refused !== undefined) return refused;
    const etag = this.#etag();
    this.objects.set(r.key, { bytes: r.body, etag, headers: r.headers });
    return { status: 200, headers: { etag } };
  }

  #copy(r: S3Request): S3Reply {
    // `bucket/key`, the key URL-encoded, as S3 reads it; a source other than the key itself is not needed here.
    const source = decodeURIComponent(String(r.headers['x-amz-copy-source']).replace(/^\//, ''));
    if (source !== `${this.bucket}/${r.key}`) return s3Error(400, 'InvalidRequest', `copy source ${source} is not the object itself`);
    const object = this.objects.get(r.key);
    if (object === undefined) return s3Error(404, 'NoSuchKey');
    const ifMatch = r.headers['x-amz-copy-source-if-match'];
    if (ifMatch !== undefined && ifMatch !== object.etag) return s3Error(412, 'PreconditionFailed');
    const etag = this.#etag();
    this.objects.set(r.key, { bytes: object.bytes, etag, headers: r.headers });
    return xml(200, `<CopyObjectResult><ETag>${escapeXml(etag)}</ETag></CopyObjectResult>`);
  }

  /** A fresh ETag (S3's are MD5s; any unique string does here, and costs no pass over the bytes). */
  #etag(suffix = ''): string {
    return `"etag-${++this.#etags}${suffix}"`;
  }

  /** S3's conditional writes: If-None-Match `*` needs no object at the key, If-Match the object's ETag. */
  #refusedByCondition(r: S3Request): S3Reply | undefined {
    const existing = this.objects.get(r.key);
    if (r.headers['if-none-match'] === '*' && existing !== undefined) return s3Error(412, 'PreconditionFailed');
    const ifMatch = r.headers['if-match'];
    if (ifMatch !== undefined && ifMatch !== existing?.etag) return s3Error(412, 'PreconditionFailed');
    return undefined;
  }
}

/** An S3 error answer, as S3 sends it. */
export function s3Error(status: number, code: string, message = `fake S3 says ${code}`): S3Reply {
  return xml(status, `<Error><Code>${code}</Code><Message>${escapeXml(message)}</Message><RequestId>fake</RequestId></Error>`);
}

function operationOf(method: string, query: URLSearchParams, headers: IncomingHttpHeaders): S3Operation {
  if (method === 'POST') return query.has('uploads') ? 'CreateMultipartUpload' : 'CompleteMultipartUpload';
  if (method === 'PUT' && query.has('partNumber')) return 'UploadPart';
  if (method === 'PUT') return headers['x-amz-copy-source'] === undefined ? 'PutObject' : 'CopyObject';
  if (method === 'HEAD') return 'HeadObject';
  if (method === 'DELETE') return query.has('uploadId') ? 'AbortMultipartUpload' : 'DeleteObject';
  if (method === 'GET' && query.has('uploads')) return 'ListMultipartUploads';
  if (method === 'GET' && query.has('uploadId')) return 'ListParts';
  throw new Error(`fake S3: no operation for ${method} ?${query.toString()}`);
}

/** The stored headers S3 sends back on HEAD. */
function storedHeaders(headers: IncomingHttpHeaders): Record<string, string> {
  // S3 answers HEAD with the storage class (when not STANDARD) and the encryption the object was written with.
  const kept = pick(headers, /^(x-amz-meta-|content-type$|content-encoding$|content-disposition$|content-language$|cache-control$|x-amz-checksum-(crc32c|type)$|x-amz-storage-class$|x-amz-archive-status$|x-amz-server-side-encryption)/);
  return Object.fromEntries(Object.entries(kept).map(([k, v]) => [k, String(v)]));
}

function pick(headers: IncomingHttpHeaders, pattern: RegExp): IncomingHttpHeaders {
  return Object.fromEntries(Object.entries(headers).filter(([k]) => pattern.test(k)));
}

function xml(status: number, body: string): S3Reply {
  return { status, body: `<?xml version="1.0" encoding="UTF-8"?>\n${body}` };
}

function escapeXml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}
