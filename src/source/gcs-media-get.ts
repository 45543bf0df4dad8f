import { Agent as HttpAgent, request as httpRequest, type ClientRequest, type IncomingMessage, type RequestOptions } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import type { Storage } from '@google-cloud/storage';

/** Where media GETs go and how they are authorized. */
export interface MediaEndpoint {
  /** The JSON API's origin, as the storage client has it: `https://storage.googleapis.com`, or an emulator's. */
  apiEndpoint: string;
  /** The request's Authorization header (google-auth-library); absent for an emulator, which takes none. */
  authorize?: (url: string) => Promise<Headers>;
}

/**
 * The storage client's own endpoint and credentials, as it would use them: a
 * custom endpoint (STORAGE_EMULATOR_HOST / apiEndpoint) goes without auth
 * unless `useAuthWithCustomEndpoint` (nodejs-storage's makeAuthenticatedRequestFactory).
 */
export function mediaEndpointOf(storage: Storage): MediaEndpoint {
  const needsAuth = !storage.customEndpoint || storage.useAuthWithCustomEndpoint === true;
  return { apiEndpoint: storage.apiEndpoint, ...(needsAuth ? { authorize: (url: string) => storage.authClient.getRequestHeaders(url) } : {}) };
}

/** One media read: a generation of an object, from byte `start` to the end. */
export interface MediaRange {
  bucket: string;
  name: string;
  generation: string;
  start: number;
}

/**
 * A GCS answer other than the bytes asked for, shaped like the storage
 * library's ApiError (`code` the HTTP status, `errors[0].reason` GCS's
 * reason) so that one classifier serves both.
 */
export class GcsHttpError extends Error {
  override readonly name = 'GcsHttpError';
  readonly code: number;
  readonly errors: Array<{ reason?: string }>;
  constructor(status: number, message: string, reason?: string) {
    super(message);
    this.code = status;
    this.errors = reason === undefined ? [] : [{ reason }];
  }
}

/** An error body is read up to this much (GCS's JSON errors are a few hundred bytes). */
const ERROR_BODY_BYTES = 16 * 1024;

/**
 * Idle keep-alive sockets are closed after this long. Below the idle timeouts
 * of Google's front ends (600 s and more) and of Node's own server (5 s
 * keepAliveTimeout, which it announces in a Keep-Alive header that Node's
 * agent honours first).
 */
const IDLE_SOCKET_MS = 4_000;

/**
 * Media reads as one plain `GET …?alt=media` on node:http(s), in place of the
 * storage library's download stack (retry-request, teeny-request, gaxios and
 * several PassThroughs per read): the response itself is the stream. bench
 * section `gcsread` measured that stack against this GET into the same
 * VerifyingStream (bench/account.md). No retries here: a failed read is
 * classified and the whole delivery is retried (GcsSourceOptions).
 *
 * One keep-alive agent per reader: consecutive small objects reuse their
 * connection (and TLS session on GCS) instead of opening one each.
 */
export class GcsMediaGet {
  readonly #endpoint: MediaEndpoint;
  readonly #base: URL;
  readonly #agent: HttpAgent;
  readonly #request: typeof httpRequest;

  constructor(endpoint: MediaEndpoint) {
    this.#endpoint = endpoint;
    this.#base = new URL(endpoint.apiEndpoint.replace(/\/+$/, ''));
    const https = this.#base.protocol === 'https:';
    const options = { keepAlive: true, timeout: IDLE_SOCKET_MS, scheduling: 'lifo' as const };
    this.#agent = https ? new HttpsAgent(options) : new HttpAgent(options);
    this.#request = https ? httpsRequest : httpRequest;
  }

  /** The media URL of one generation (the storage library's: `/storage/v1/b/B/o/NAME?alt=media&generation=G`). */
  url(range: MediaRange): string {
    const path = `${this.#base.pathname.replace(/\/$/, '')}/storage/v1/b/${encodeURIComponent(range.bucket)}/o/${encodeURIComponent(range.name)}`;
    return `${this.#base.origin}${path}?alt=media&generation=${encodeURIComponent(range.generation)}`;
  }

  /**
   * The response carrying the object's bytes from `range.start`, or a
   * rejection: a GcsHttpError for any other answer, a socket error as Node
   * raised it. Aborting `signal` destroys the request and its response.
   */
  async open(range: MediaRange, signal: AbortSignal): Promise<IncomingMessage> {
    const url = this.url(range);
    const headers: Record<string, string> = {
      // Stored bytes, never GCS's decompressive transcoding: GCS skips it for
      // a request that accepts gzip, and a gzip-stored object comes back as
      // stored, with Content-Encoding: gzip (Node's http does not decode it).
      'accept-encoding': 'gzip',
      // As the storage library sends it: no cached copy of another generation's bytes.
      'cache-control': 'no-store',
      ...(range.start > 0 ? { range: `bytes=${range.start}-` } : {}),
    };
    if (this.#endpoint.authorize !== undefined) {
      for (const [name, value] of (await this.#endpoint.authorize(url)).entries()) headers[name] = value;
    }
    signal.throwIfAborted();
    const res = await this.#get(url, { agent: this.#agent, headers, signal });
    try {
      return await checked(res, range);
    } catch (err) {
      throw withoutCredential(err, headers.authorization);
    }
  }

  /** Closes the idle sockets; requests in flight go on. */
  close(): void {
    this.#agent.destroy();
  }

  /**
   * One GET, sent again once if a reused keep-alive socket turns out closed by
   * the server before any answer (Node's documented remedy: `reusedSocket`).
   */
  #get(url: string, options: RequestOptions, retried = false): Promise<IncomingMessage> {
    return new Promise<IncomingMessage>((resolve, reject) => {
      const req: ClientRequest = this.#request(url, options, resolve);
      req.once('error', (err: NodeJS.ErrnoException) => {
        if (!retried && req.reusedSocket && err.code === 'ECONNRESET') resolve(this.#get(url, options, true));
        else reject(err);
      });
      req.end();
    });
  }
}

/**
 * `err` with the request's credential cut out of its message: an error body
 * is the server's text, and one that quotes the request (a proxy's, say)
 * would carry the access token into a log. redactSecrets (errors.ts) knows
 * JWTs and named fields; an opaque `ya29.` token after "Bearer" is not one.
 */
function withoutCredential(err: unknown, authorization: string | undefined): unknown {
  if (!(err instanceof GcsHttpError) || authorization === undefined) return err;
  const secrets = [authorization, authorization.replace(/^\S+\s+/, '')].filter((s) => s.length >= 8);
  const message = secrets.reduce((text, secret) => text.split(secret).join('[redacted]'), err.message);
  return message === err.message ? err : new GcsHttpError(err.code, message, err.errors[0]?.reason);
}

/** `res` when it carries the bytes asked for; otherwise its error, read and thrown. */
async function checked(res: IncomingMessage, range: MediaRange): Promise<IncomingMessage> {
  const status = res.statusCode ?? 0;
  if (range.start === 0 && status === 200) return res;
  if (range.start > 0 && status === 206) {
    const first = /^bytes (\d+)-/.exec(res.headers['content-range'] ?? '')?.[1];
    if (first === String(range.start)) return res;
    res.destroy();
    throw new GcsHttpError(status, `asked for bytes from ${range.start}, got Content-Range ${res.headers['content-range'] ?? 'none'}`);
  }
  if (status >= 200 && status < 300) {
    // A 200 to a ranged request is the whole object: appending it would corrupt the copy.
    res.destroy();
    throw new GcsHttpError(status, `asked for bytes from ${range.start}, got HTTP ${status}`);
  }
  const { message, reason } = await errorOf(res);
  throw new GcsHttpError(status, message, reason);
}

/** GCS's JSON error (`{error:{message, errors:[{reason}]}}`), or the start of whatever else the body holds. */
async function errorOf(res: IncomingMessage): Promise<{ message: string; reason?: string }> {
  const chunks: Buffer[] = [];
  let length = 0;
  for await (const chunk of res as AsyncIterable<Buffer>) {
    chunks.push(chunk);
    length += chunk.length;
    if (length >= ERROR_BODY_BYTES) break;
  }
  const text = Buffer.concat(chunks).subarray(0, ERROR_BODY_BYTES).toString('utf8');
  try {
    const body = JSON.parse(text) as { error?: { message?: unknown; errors?: Array<{ reason?: unknown }> } };
    const reason = body.error?.errors?.[0]?.reason;
    const message = body.error?.message;
    if (typeof message === 'string') return { message, ...(typeof reason === 'string' ? { reason } : {}) };
  } catch {
    // Not JSON: a proxy's page, say.
  }
  return { message: text.trim().slice(0, 300) || (res.statusMessage ?? `HTTP ${res.statusCode}`) };
}
