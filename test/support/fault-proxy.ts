import { createServer, request as httpRequest, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * An HTTP proxy in front of a real server that answers chosen requests itself
 * with the faults Toxiproxy cannot make (it works on TCP, these are HTTP
 * answers): S3's 503 SlowDown, a 200 whose body is an <Error>, STS's
 * IDPCommunicationError, GCS's 429. Everything else is forwarded unchanged,
 * the Host header included (SigV4 signs it).
 */
export interface FaultProxy {
  /** http://127.0.0.1:PORT */
  url: string;
  /** Requests seen, by kind (`kindOf`), answered here or forwarded. */
  counts: Map<string, number>;
  count(kind: string): number;
  /** Answers the next `times` requests of `kind` with `fault` instead of forwarding them. */
  inject(kind: string, fault: Fault, times: number): Injection;
  /** Drops every injection not used up yet. */
  clear(): void;
  close(): Promise<void>;
}

export interface Fault {
  status: number;
  body: string;
  contentType?: string;
}

export interface Injection {
  /** How many requests it answered so far. */
  readonly hits: number;
}

/** Names a request's kind from its method, URL and headers. */
export type KindOf = (req: IncomingMessage, url: URL) => string;

export interface FaultProxyOptions {
  /**
   * Receives the whole body of every answer the upstream gave (forwarded
   * requests only): the soak records the credentials STS and the metadata
   * server hand out, to look for them in logs. Leave unset where bodies are big.
   */
  onAnswer?: (kind: string, url: URL, body: Buffer) => void;
}

export async function startFaultProxy(upstreamPort: number, kindOf: KindOf, options: FaultProxyOptions = {}): Promise<FaultProxy> {
  const counts = new Map<string, number>();
  let rules: Array<{ kind: string; fault: Fault; left: number; hits: number }> = [];

  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://proxy.invalid');
    const kind = kindOf(req, url);
    counts.set(kind, (counts.get(kind) ?? 0) + 1);
    const rule = rules.find((r) => r.kind === kind && r.left > 0);
    if (rule === undefined) {
      const onAnswer = options.onAnswer;
      return forward(req, res, upstreamPort, onAnswer && ((body) => onAnswer(kind, url, body)));
    }
    rule.left--;
    rule.hits++;
    // Read the request body first, as a server does: answering mid-upload would make this a reset instead.
    req.resume();
    req.once('end', () => {
      res.writeHead(rule.fault.status, { 'content-type': rule.fault.contentType ?? 'application/xml', 'content-length': Buffer.byteLength(rule.fault.body) });
      res.end(rule.fault.body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    counts,
    count: (kind) => counts.get(kind) ?? 0,
    inject(kind, fault, times) {
      const rule = { kind, fault, left: times, hits: 0 };
      rules.push(rule);
      return {
        get hits() {
          return rule.hits;
        },
      };
    },
    clear() {
      rules = [];
    },
    close: () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

function forward(req: IncomingMessage, res: ServerResponse, upstreamPort: number, onAnswer?: (body: Buffer) => void): void {
  const upstream = httpRequest({ host: '127.0.0.1', port: upstreamPort, method: req.method, path: req.url, headers: req.headers }, (answer) => {
    res.writeHead(answer.statusCode ?? 502, answer.headers);
    if (onAnswer !== undefined) {
      const chunks: Buffer[] = [];
      answer.on('data', (chunk: Buffer) => chunks.push(chunk));
      answer.on('end', () => onAnswer(Buffer.concat(chunks)));
    }
    answer.pipe(res);
    answer.on('error', () => res.destroy());
  });
  upstream.on('error', () => res.destroy());
  req.pipe(upstream);
  res.on('close', () => {
    if (!res.writableFinished) upstream.destroy();
  });
}

/** S3 REST operations, as far as the worker uses them. */
export const s3Kind: KindOf = (req, url) => {
  const q = url.searchParams;
  switch (req.method) {
    case 'HEAD':
      return 'HeadObject';
    case 'GET':
      return q.has('uploads') ? 'ListMultipartUploads' : q.has('list-type') ? 'ListObjectsV2' : 'GetObject';
    case 'PUT':
      if (q.has('partNumber')) return 'UploadPart';
      return req.headers['x-amz-copy-source'] === undefined ? 'PutObject' : 'CopyObject';
    case 'POST':
      return q.has('uploads') ? 'CreateMultipartUpload' : q.has('uploadId') ? 'CompleteMultipartUpload' : 'Post';
    case 'DELETE':
      return q.has('uploadId') ? 'AbortMultipartUpload' : 'DeleteObject';
    default:
      return req.method ?? 'unknown';
  }
};

/** The worker sends STS one kind of POST. */
export const stsKind: KindOf = (req) => (req.method === 'POST' ? 'AssumeRoleWithWebIdentity' : req.method ?? 'unknown');

/** GCS JSON API: an object's metadata, or its bytes. */
export const gcsKind: KindOf = (req, url) => {
  if (req.method !== 'GET' || !/\/b\/[^/]+\/o\/[^/]+$/.test(url.pathname)) return `${req.method} other`;
  return url.searchParams.get('alt') === 'media' ? 'media' : 'metadata';
};

export const s3Error = (code: string, message: string): string =>
  `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>${message}</Message><RequestId>fault-proxy</RequestId></Error>`;

export const stsError = (code: string, message: string): string =>
  `<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error><Type>Sender</Type><Code>${code}</Code><Message>${message}</Message></Error><RequestId>fault-proxy</RequestId></ErrorResponse>`;

export const gcsError = (status: number, reason: string, message: string): Fault => ({
  status,
  contentType: 'application/json',
  body: JSON.stringify({ error: { code: status, message, errors: [{ reason, message, domain: 'global' }] } }),
});
