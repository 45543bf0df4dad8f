/**
 * Turns an authenticated POST into a decoded event, or says it is not a push
 * or CloudEvent request at all. Two layers, two answers (see `statusFor` in
 * respond.ts for the reasoning):
 *
 * - the HTTP request is not a Pub/Sub push envelope / not a CloudEvent
 *   (body not JSON, no `message`, no `ce-*` headers…): Pub/Sub and Eventarc
 *   never send that, so the caller is told with 400;
 * - the request is a well-formed push or CloudEvent, but the message inside it
 *   cannot be decoded (bad base64, missing attributes…): that is a real
 *   delivery of a poison message, decoded as `malformed` by src/events, and is
 *   acked (204) with an ERROR log so it is not redelivered forever.
 */
import type { IncomingHttpHeaders } from 'node:http';
import { CloudEvent, HTTP } from 'cloudevents';
import { decodeStorageCloudEvent } from '../events/decode-cloudevent.js';
import { decodePushEnvelope, decodeUnwrappedPush, isUnwrappedPush } from '../events/decode-push.js';
import type { Decoded, EventPolicy } from '../events/types.js';

export type RequestVerdict =
  /** Not a push / CloudEvent request: 400. `reason` is ours (never echoes the input) and goes to the log only. */
  | { kind: 'not-a-push'; reason: string }
  /** A delivery: decoded into an event, an ignored one, or a malformed message. */
  | { kind: 'delivery'; decoded: Decoded; ids: DeliveryIds };

/** Identifiers for the log line. */
export interface DeliveryIds {
  messageId?: string;
  /** CloudEvent `id`. */
  ceId?: string;
}

/**
 * `POST /pubsub/push`: the wrapped envelope, or an unwrapped push (payload
 * unwrapping with write-metadata: attributes arrive as headers).
 */
export function decodePushRequest(headers: IncomingHttpHeaders, body: Buffer, policy: EventPolicy): RequestVerdict {
  if (isUnwrappedPush(headers)) {
    const decoded = decodeUnwrappedPush(headers, body, policy);
    return delivery(decoded, { messageId: decoded.messageId });
  }
  const text = utf8(body);
  if (text === undefined) return notAPush('push body is not UTF-8 text');
  let envelope: unknown;
  try {
    envelope = JSON.parse(text);
  } catch {
    return notAPush('push body is not JSON');
  }
  if (!isObject(envelope) || !isObject(envelope.message)) {
    // An unwrapped push *without* write-metadata also lands here (its body is the
    // bare object resource, its event type lost): 400 keeps those messages in
    // the subscription until it is fixed, instead of acking them unread.
    return notAPush('push body is not a Pub/Sub push envelope (no message object); an unwrapped push needs --push-no-wrapper-write-metadata');
  }
  const decoded = decodePushEnvelope(envelope, policy);
  return delivery(decoded, { messageId: decoded.messageId });
}

/** `POST /`: a CloudEvent in binary or structured mode, parsed by the CloudEvents SDK. */
export function decodeCloudEventRequest(headers: IncomingHttpHeaders, body: Buffer, policy: EventPolicy): RequestVerdict {
  const text = utf8(body);
  if (text === undefined) return notAPush('CloudEvent body is not UTF-8 text');
  const contentType = mediaType(headers['content-type']);
  if (contentType.startsWith('application/cloudevents-batch')) return notAPush('batched CloudEvents are not accepted');
  // The SDK looks parsers up by the exact media type, so `; charset=utf-8`
  // would make it refuse a structured event; the body is UTF-8 text already.
  const sdkHeaders: IncomingHttpHeaders = { ...headers, 'content-type': contentType === '' ? undefined : contentType };
  let event: CloudEvent<unknown>;
  try {
    const parsed = HTTP.toEvent<unknown>({ headers: sdkHeaders, body: text });
    if (Array.isArray(parsed)) return notAPush('batched CloudEvents are not accepted');
    event = parsed as CloudEvent<unknown>;
  } catch (err) {
    // The SDK's messages can quote the body: only the error's kind is kept.
    return notAPush(`not a CloudEvent (${err instanceof Error ? err.name : 'unparsable'})`);
  }
  // The SDK parses leniently (it fills in a missing id or time); the spec's
  // required attributes and version are checked here.
  let valid = false;
  try {
    valid = event.validate();
  } catch {
    valid = false;
  }
  if (!valid || event.specversion !== '1.0') return notAPush('not a valid CloudEvents 1.0 event (specversion, id, source, type)');
  const decoded = decodeStorageCloudEvent(
    { type: event.type, source: event.source, subject: event.subject, id: event.id, time: event.time, data: event.data },
    policy,
  );
  return delivery(decoded, { ceId: event.id, ...('messageId' in decoded && typeof decoded.messageId === 'string' ? { messageId: decoded.messageId } : {}) });
}

function delivery(decoded: Decoded, ids: DeliveryIds): RequestVerdict {
  const clean: DeliveryIds = {};
  if (ids.messageId !== undefined) clean.messageId = ids.messageId;
  if (ids.ceId !== undefined) clean.ceId = ids.ceId;
  return { kind: 'delivery', decoded, ids: clean };
}

function notAPush(reason: string): RequestVerdict {
  return { kind: 'not-a-push', reason };
}

function utf8(body: Buffer): string | undefined {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(body);
  } catch {
    return undefined;
  }
}

/** `application/json; charset=utf-8` → `application/json`. */
function mediaType(value: string | undefined): string {
  return (value ?? '').split(';', 1)[0]!.trim().toLowerCase();
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
