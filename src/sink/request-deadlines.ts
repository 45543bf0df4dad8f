import { Agent as HttpAgent } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
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
 * @smithy/node-http-handler arms its inactivity timer 3 s after the request
 * starts when the timeout is 6 s or more (DEFER_EVENT_LISTENER_TIME), so a
 * stall is noticed up to this much later than the configured timeout.
 */
export const STALL_DETECTION_SLACK_MS = 3000;

/**
 * The HTTP handler of an AWS SDK client, with deadlines on every request:
 * `connectionTimeout` bounds the connection, `socketTimeout` the silence of
 * the socket while the body is sent, the answer awaited and read. Not
 * `requestTimeout`: in node-http-handler 4.x that is a wall-clock limit on the
 * whole request, which only warns unless `throwOnRequestTimeout`, and which
 * would cut a large part upload that is still moving.
 */
export function deadlineHandler(deadlines: Deadlines, maxSockets: number): NodeHttpHandler {
  return new NodeHttpHandler({
    httpAgent: new HttpAgent({ keepAlive: true, maxSockets }),
    httpsAgent: new HttpsAgent({ keepAlive: true, maxSockets }),
    connectionTimeout: deadlines.connectTimeoutMs,
    socketTimeout: deadlines.stallTimeoutMs,
  });
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

export function seconds(ms: number): string {
  return `${Math.round(ms / 100) / 10} s`;
}
