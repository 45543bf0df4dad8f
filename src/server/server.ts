/**
 * `gcs2s3 serve`: the HTTP way in (Pub/Sub push and Eventarc CloudEvents).
 * It is exposed to the network, so every POST is authenticated before its
 * body is read, bodies are bounded, work is bounded (no queue: 429), and each
 * copy is tied to its request: cancelled when the client goes away, when the
 * request outlives the ack deadline, or when shutdown runs out of time.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { EventPolicy } from '../events/types.js';
import type { Logger } from '../log/logger.js';
import type { EventPipeline } from '../pipeline/event-pipeline.js';
import { MIB } from '../units.js';
import type { PushAuthenticator } from './authenticate.js';
import { ConcurrencyGate } from './concurrency-gate.js';
import { decodeCloudEventRequest, decodePushRequest, type RequestVerdict } from './decode-request.js';
import { inRequestContext } from './request-context.js';
import { BodyTooLargeError, declaredLength, readBody } from './read-body.js';
import { requestSignal, type RequestSignal } from './request-signal.js';
import { send, statusFor } from './respond.js';

export interface ServerOptions {
  /** Replicates, logs and drains: shared with every other way in. Its drain time bounds `close`. */
  pipeline: EventPipeline;
  policy: EventPolicy;
  logger: Logger;
  /** Judges each POST's bearer token (`noAuthentication` for PUSH_AUTH=disabled). */
  authenticator: PushAuthenticator;
  /** MAX_CONCURRENT_OBJECTS: requests worked on at once; beyond it, 429. */
  maxConcurrentObjects: number;
  /** PORT; 0 picks a free one (tests). */
  port: number;
  /** Interface to listen on. Default: all (Cloud Run sends traffic to 0.0.0.0:$PORT). */
  host?: string;
  /** Largest accepted body, bytes. Default 1 MiB: a GCS notification is a few KB. */
  maxBodyBytes?: number;
  /**
   * How long one request may run before its copy is aborted (503), ms.
   * Pub/Sub abandons a push at the subscription's ack deadline (10–600 s), so
   * work past it is wasted. Default 600 000 (the largest ack deadline).
   */
  requestTimeoutMs?: number;
}

export interface RunningServer {
  /** e.g. http://127.0.0.1:8080 */
  url: string;
  port: number;
  /** Requests holding a copy slot now. */
  inFlight(): number;
  /**
   * Graceful stop: refuse new connections and requests (503), let in-flight
   * ones finish for the pipeline's drain time, abort the rest (503), then
   * close every connection.
   * Idempotent.
   */
  close(): Promise<void>;
}

const DEFAULT_MAX_BODY_BYTES = MIB;
const DEFAULT_REQUEST_TIMEOUT_MS = 600_000;

type Route = 'push' | 'cloudevent';
const ROUTES: Record<string, Route> = { '/pubsub/push': 'push', '/': 'cloudevent' };

/** Listens and serves until `close()`. Resolves once listening. */
export async function startServer(options: ServerOptions): Promise<RunningServer> {
  const { logger, pipeline } = options;
  const gate = new ConcurrencyGate(options.maxConcurrentObjects);
  const ctx: HandlerContext = { ...options, gate, isClosing: () => pipeline.draining };

  const server = createServer((req, res) => {
    // Tracked whole (body read included), so a drain waits for the answer too;
    // run in the request's context, so every line logged for it carries its trace.
    void pipeline.track(
      inRequestContext(req, res, logger, () =>
        handleRequest(req, res, ctx).catch((err: unknown) => {
          // A bug must cost one request, never the process.
          logger.error(`request handler failed: ${err instanceof Error ? err.message : String(err)}`, { error: err, path: pathOf(req) });
          send(res, 503, { close: true });
        }),
      ),
    );
  });
  // Receiving a request (headers and body) is fast for Pub/Sub; a client that
  // trickles one is cut off instead of holding a socket for Node's default 300 s.
  server.headersTimeout = 20_000;
  server.requestTimeout = 30_000;
  server.keepAliveTimeout = 65_000;

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  server.on('error', (err) => logger.error(`HTTP server error: ${err.message}`, { error: err }));
  const address = server.address() as AddressInfo;
  const host = options.host === undefined || options.host === '0.0.0.0' || options.host === '::' ? '127.0.0.1' : options.host;
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${address.port}`;

  let closing: Promise<void> | undefined;
  const close = async (): Promise<void> => {
    logger.info('server stopping: refusing new requests', { inflight: gate.inUse });
    const closed = stopListening(server);
    await pipeline.drain();
    server.closeAllConnections();
    await closed;
    logger.info('server stopped');
  };

  return {
    url,
    port: address.port,
    inFlight: () => gate.inUse,
    close: () => (closing ??= close()),
  };
}

interface HandlerContext extends ServerOptions {
  gate: ConcurrencyGate;
  isClosing(): boolean;
}

async function handleRequest(req: IncomingMessage, res: ServerResponse, ctx: HandlerContext): Promise<void> {
  const path = pathOf(req);
  if (path === '/healthz') {
    if (req.method !== 'GET' && req.method !== 'HEAD') return send(res, 405, { headers: { allow: 'GET, HEAD' } });
    // 503 when stopping, and when copies are stuck (no progress for LIVENESS_TIMEOUT_SECONDS): the liveness probe restarts the instance.
    return send(res, ctx.isClosing() || !ctx.pipeline.health().healthy ? 503 : 200, { close: ctx.isClosing() });
  }
  const route = ROUTES[path];
  if (route === undefined) return send(res, 404, { close: !bodyIsSmall(req, ctx) });
  if (req.method !== 'POST') return send(res, 405, { headers: { allow: 'POST' }, close: !bodyIsSmall(req, ctx) });
  if (ctx.isClosing()) return send(res, 503, { close: true });

  const log = ctx.logger;
  // Busy: refuse before spending a signature check. Under a push backlog most
  // requests are these, so they must cost next to nothing. It tells an
  // unauthenticated caller only that the server is busy; slots themselves are
  // taken only after authentication, so such a caller can never hold one.
  if (ctx.gate.inUse >= ctx.gate.limit) return refuseBusy(req, res, route, ctx);
  const auth = await ctx.authenticator.authenticate(req.headers.authorization);
  if (!auth.ok) {
    // The reason names the check that failed (a jose error code, "audience"…),
    // never the token or a claim's value; the caller gets a generic body.
    log.warn(`push request refused (${auth.status}): ${auth.reason}`, { via: route, path, status: auth.status, remoteAddress: req.socket.remoteAddress });
    const headers: Record<string, string> = auth.status === 401 ? { 'www-authenticate': req.headers.authorization === undefined ? 'Bearer' : 'Bearer error="invalid_token"' } : {};
    return send(res, auth.status, { headers, close: !bodyIsSmall(req, ctx) });
  }

  const release = ctx.gate.tryAcquire();
  if (release === undefined) return refuseBusy(req, res, route, ctx);
  const request = requestSignal(res, { hardStop: ctx.pipeline.stopSignal });
  try {
    await serveDelivery(req, res, route, request, ctx);
  } finally {
    request.dispose();
    release();
  }
}

/** 429 at once, never a queue: Pub/Sub's push flow control backs off on it. */
function refuseBusy(req: IncomingMessage, res: ServerResponse, route: Route, ctx: HandlerContext): void {
  ctx.logger.debug('push request refused (429): every copy slot is busy', { via: route, limit: ctx.gate.limit });
  send(res, 429, { headers: { 'retry-after': '1' }, close: !bodyIsSmall(req, ctx) });
}

/** Reads, decodes, replicates and answers one authenticated delivery. */
async function serveDelivery(req: IncomingMessage, res: ServerResponse, route: Route, request: RequestSignal, ctx: HandlerContext): Promise<void> {
  const { signal } = request;
  const log = ctx.logger;
  const via = route;
  let body: Buffer;
  try {
    body = await readBody(req, ctx.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES, signal);
  } catch (err) {
    if (err instanceof BodyTooLargeError) {
      log.warn(`push request refused (413): ${err.message}`, { via, status: 413, declaredBytes: declaredLength(req) || undefined });
      return send(res, 413, { close: true });
    }
    log.warn(`push request not read: ${err instanceof Error ? err.message : String(err)}`, { via, status: 503 });
    return send(res, 503, { close: true });
  }

  let verdict: RequestVerdict;
  try {
    verdict = route === 'push' ? decodePushRequest(req.headers, body, ctx.policy) : decodeCloudEventRequest(req.headers, body, ctx.policy);
  } catch (err) {
    // The decoders never throw by contract; if one does, the request is still answered.
    verdict = { kind: 'not-a-push', reason: `decoder failed: ${err instanceof Error ? err.name : 'unknown error'}` };
  }
  if (verdict.kind === 'not-a-push') {
    log.warn(`bad request (400): ${verdict.reason}`, { via, status: 400, bytes: body.length });
    return send(res, 400);
  }

  const handled = await ctx.pipeline.handle(verdict.decoded, {
    via,
    signal,
    deadline: { ms: ctx.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS, name: 'request timeout' },
    fields: { ...verdict.ids },
    // No status on the line when nobody is left to receive it.
    finalFields: (h) => ({ status: request.clientGone() ? undefined : statusFor(h.disposition) }),
  });
  send(res, statusFor(handled.disposition), { close: ctx.isClosing() });
}

/**
 * An answer sent before the body is read leaves the body on the socket, and
 * Node reads and discards it to reuse the connection. That is fine for a small
 * declared body; anything else (chunked, or over the limit) closes instead.
 */
function bodyIsSmall(req: IncomingMessage, ctx: HandlerContext): boolean {
  return req.headers['content-length'] !== undefined && declaredLength(req) <= (ctx.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES);
}

function pathOf(req: IncomingMessage): string {
  const url = req.url ?? '/';
  const q = url.indexOf('?');
  return q < 0 ? url : url.slice(0, q);
}

/** Stops accepting connections; resolves when the last one has closed. Idle keep-alive sockets close now (Node ≥ 19). */
function stopListening(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeIdleConnections();
  });
}
