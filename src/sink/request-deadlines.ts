import { Agent as HttpAgent } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import { Readable } from 'node:stream';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import type { InitializeHandlerArguments, MetadataBearer, MiddlewareStack } from '@smithy/types';
import { ReplicationError, TimeoutError, TransientError } from '../errors.js';

/** Deadlines of every request (CONNECT_TIMEOUT_SECONDS, STALL_TIMEOUT_SECONDS). */
export interface Deadlines {
  /** The TCP (and TLS) connection must be up within this, ms. */
  connectTimeoutMs: number;
  /** The socket may move no byte, either way, for at most this long, ms. */
  stallTimeoutMs: number;
}

/**
 * The HTTP handler of an AWS SDK client, with deadlines on every request:
 * `connectionTimeout` bounds the connection, `socketTimeout` the silence of
 * the socket while the body is sent, the answer awaited and read. Not
 * `requestTimeout`: in node-http-handler 4.x that is a wall-clock limit on the
 * whole request, which only warns unless `throwOnRequestTimeout`, and which
 * would cut a large part upload that is still moving. The handler arms its
 * inactivity timer 3 s into the request when the timeout is 6 s or more, so a
 * stall is noticed up to 3 s late.
 */
export function deadlineHandler(deadlines: Deadlines, maxSockets: number): NodeHttpHandler {
  return new ChunkedBodyHandler({
    httpAgent: new HttpAgent({ keepAlive: true, maxSockets }),
    httpsAgent: new HttpsAgent({ keepAlive: true, maxSockets }),
    connectionTimeout: deadlines.connectTimeoutMs,
    socketTimeout: deadlines.stallTimeoutMs,
  });
}

/**
 * Size of the writes a request body is sent in: small enough that each
 * completes well within a stall timeout on a slow link (5 s at 200 KiB/s),
 * large enough to cost no more CPU than one write (64 KiB writes cost a
 * quarter more on a loopback upload, measured).
 */
const BODY_CHUNK_BYTES = 1024 * 1024;

type HandlerRequest = Parameters<NodeHttpHandler['handle']>[0];

/**
 * Sends large in-memory bodies (parts) as a stream of 1 MiB writes. A
 * socket's inactivity timer restarts when a write completes, and the handler
 * writes a buffer body in one write that completes only when its last byte has
 * left: a 16 MiB part over a link slower than 16 MiB per stall timeout would be
 * cut while moving. Each attempt gets a fresh stream over the same buffer, so
 * the SDK's retries still resend it.
 *
 * What remains unseen is the kernel's send buffer (a few MiB) draining after
 * the last write: the stall timeout must exceed that buffer's worth of the
 * link's time, about 4 s at 1 MiB/s (20 s, the default, suits links from
 * about 200 KiB/s per connection up).
 */
class ChunkedBodyHandler extends NodeHttpHandler {
  override handle(request: HandlerRequest, options?: Parameters<NodeHttpHandler['handle']>[1]): ReturnType<NodeHttpHandler['handle']> {
    const { body } = request as { body?: unknown };
    if (!(body instanceof Uint8Array) || body.byteLength <= BODY_CHUNK_BYTES) return super.handle(request, options);
    const chunked = Object.assign(Object.create(Object.getPrototypeOf(request) as object) as HandlerRequest, request, { body: Readable.from(chunksOf(body)) });
    return super.handle(chunked, options);
  }
}

function* chunksOf(body: Uint8Array): Generator<Buffer> {
  const bytes = Buffer.from(body.buffer, body.byteOffset, body.byteLength);
  for (let offset = 0; offset < bytes.length; offset += BODY_CHUNK_BYTES) yield bytes.subarray(offset, offset + BODY_CHUNK_BYTES);
}

/** What an error message calls the request: `S3 PutObject http://127.0.0.1:9000 s3://bucket/key part 3`. */
export interface RequestNaming {
  /** `S3`, `STS`. */
  service: string;
  /** Where requests go, as the operator configured it (AWS_ENDPOINT_URL_S3…) or the AWS default. */
  endpoint: string;
}

/**
 * Rewrites a failure that got no HTTP answer at all (a deadline, a reset, a
 * refused connection), after the SDK's own retries, into a transient error
 * naming the service, operation, endpoint and object: the SDK's own message
 * says only "socket timed out", which leaves an operator guessing which of
 * several endpoints hangs. Answers from the server (4xx, 5xx) pass unchanged.
 */
export function nameNetworkFailures<I extends object, O extends MetadataBearer>(stack: MiddlewareStack<I, O>, naming: RequestNaming, deadlines: Deadlines): void {
  stack.add(
    (next, context) => async (args: InitializeHandlerArguments<I>) => {
      try {
        return await next(args);
      } catch (err) {
        throw describeNetworkFailure(err, `${naming.service} ${String(context.commandName ?? 'request').replace(/Command$/, '')} ${naming.endpoint}${targetOf(args.input)}`, deadlines);
      }
    },
    { step: 'initialize', name: 'gcs2s3NetworkFailureNames', priority: 'high', override: true },
  );
}

/** The error `err` becomes, for a request described as `request`. */
export function describeNetworkFailure(err: unknown, request: string, deadlines: Deadlines): unknown {
  if (!(err instanceof Error) || err instanceof ReplicationError || err.name === 'AbortError') return err;
  const e = err as Error & { code?: string; $metadata?: { httpStatusCode?: number; attempts?: number }; $response?: unknown };
  if (e.$metadata?.httpStatusCode !== undefined || e.$response !== undefined) return err;
  const attempts = e.$metadata?.attempts === undefined || e.$metadata.attempts < 2 ? '' : ` (${e.$metadata.attempts} attempts)`;
  if (/did not establish a connection/.test(e.message)) {
    return new TimeoutError(`${request}: no connection within ${seconds(deadlines.connectTimeoutMs)}${attempts}`, { cause: err });
  }
  if (/of inactivity/.test(e.message) || e.code === 'ETIMEDOUT') {
    return new TimeoutError(`${request}: no progress for ${seconds(deadlines.stallTimeoutMs)}${attempts}`, { cause: err });
  }
  if (e.name === 'TimeoutError' || typeof e.code === 'string') {
    return new TransientError(`${request}: ${e.code ?? e.name}: ${e.message}${attempts}`, { code: e.code ?? e.name, cause: err });
  }
  return err;
}

function targetOf(input: object): string {
  const { Bucket, Key, PartNumber } = input as { Bucket?: unknown; Key?: unknown; PartNumber?: unknown };
  if (typeof Bucket !== 'string') return '';
  const object = typeof Key === 'string' ? ` s3://${Bucket}/${Key}` : ` s3://${Bucket}`;
  return typeof PartNumber === 'number' ? `${object} part ${PartNumber}` : object;
}

function seconds(ms: number): string {
  return `${Math.round(ms / 100) / 10} s`;
}
