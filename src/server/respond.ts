/**
 * HTTP statuses for push and CloudEvent requests, and the short generic bodies
 * sent with them.
 *
 * Pub/Sub push (and Eventarc, which delivers through it) treats 102, 200, 201,
 * 202 and 204 as an ack and every other status as a nack, redelivering with
 * backoff until the message expires or reaches the dead-letter topic. So:
 *
 * | verdict | status | Pub/Sub |
 * | --- | --- | --- |
 * | copied, updated, deleted, skipped, ignored | 204 | ack |
 * | permanent failure (logged at ERROR naming the object) | 204 | ack: retrying cannot help |
 * | malformed message inside a well-formed push / CloudEvent (ERROR log) | 204 | ack: a poison message must not loop |
 * | request that is not a push envelope / CloudEvent at all | 400 | nack: Pub/Sub never sends one, so the caller is misconfigured and must be told |
 * | no or invalid token | 401 + `WWW-Authenticate: Bearer` | nack |
 * | genuine token, wrong audience or service account | 403 | nack |
 * | body over the limit | 413 | nack |
 * | every copy slot busy | 429 + `Retry-After` | nack: push flow control backs off |
 * | transient failure, signing keys unreachable, shutting down, timed out | 503 | nack: retried later |
 *
 * DESIGN.md's "400 malformed (acked, logged)" cannot be had literally: a 400
 * is not an ack. A malformed *message* is acked (204), and 400 is kept for
 * requests that are not deliveries at all.
 */
import type { ServerResponse } from 'node:http';
import type { Disposition } from '../pipeline/event-pipeline.js';

/** The status for a delivery's disposition: only work worth retrying is not an ack. */
export function statusFor(disposition: Disposition): 204 | 503 {
  return disposition === 'retry' ? 503 : 204;
}

/** Generic bodies: a fixed text per status, never anything from the request or token. */
const BODIES: Record<number, string> = {
  400: 'bad request: not a Pub/Sub push or CloudEvent',
  401: 'unauthenticated',
  403: 'forbidden',
  404: 'not found',
  405: 'method not allowed',
  413: 'request body too large',
  429: 'too many requests in flight; retry later',
  503: 'unavailable; retry later',
};

export interface SendOptions {
  headers?: Record<string, string>;
  /** Close the connection after this response (an unread or oversized body, shutdown). */
  close?: boolean;
}

/** Ends `res` with `status` and its generic JSON body (none for 2xx). Does nothing if the client is gone. */
export function send(res: ServerResponse, status: number, options: SendOptions = {}): void {
  if (res.headersSent || res.destroyed) return;
  const headers: Record<string, string> = { 'cache-control': 'no-store', ...options.headers };
  if (options.close) headers.connection = 'close';
  if (status === 204) {
    res.writeHead(204, headers).end();
    return;
  }
  if (status === 200) {
    res.writeHead(200, { ...headers, 'content-type': 'text/plain; charset=utf-8' }).end('ok\n');
    return;
  }
  const body = `${JSON.stringify({ error: BODIES[status] ?? 'error' })}\n`;
  res.writeHead(status, { ...headers, 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)) }).end(body);
}
