/**
 * Decodes Pub/Sub push deliveries of Cloud Storage notifications, in both forms
 * a push subscription can use:
 *
 * - wrapped (the default): the HTTP body is the JSON envelope
 *   `{message: {data (base64), attributes, messageId, publishTime}, subscription}`.
 *   Pub/Sub also sends snake_case duplicates (`message_id`, `publish_time`);
 *   either is accepted.
 * - unwrapped ("payload unwrapping", `--push-no-wrapper`): the body is the raw
 *   message data. Only with `--push-no-wrapper-write-metadata` does Pub/Sub add
 *   the metadata back as headers: `x-goog-pubsub-message-id`,
 *   `x-goog-pubsub-publish-time`, `x-goog-pubsub-subscription-name`
 *   (+ `x-goog-pubsub-ordering-key`), and every attribute as a header of its
 *   own name (`eventType: OBJECT_FINALIZE`, not prefixed). Without write
 *   metadata the event type is lost, so such a delivery is malformed.
 */
import { dataToText, describeType, isRecord, parseJsonObject, quote, type Parsed } from './decode-helpers.js';
import { decodeNotification, NOTIFICATION_ATTRIBUTES, type NotificationMessage } from './decode-notification.js';
import type { DecodedPush, EventPolicy } from './types.js';

/** HTTP request headers as Node delivers them (names lower-cased, repeated ones as arrays). */
export type PushHeaders = Record<string, string | string[] | undefined>;

const MESSAGE_ID_HEADER = 'x-goog-pubsub-message-id';
const PUBLISH_TIME_HEADER = 'x-goog-pubsub-publish-time';

/**
 * Decodes a wrapped push request body. `body` is the parsed JSON; raw JSON
 * text or bytes are parsed here. Never throws.
 */
export function decodePushEnvelope(body: unknown, policy: EventPolicy): DecodedPush {
  const parsed = typeof body === 'string' || body instanceof Uint8Array ? parseBody(body) : { ok: true as const, value: body };
  if (!parsed.ok) return { type: 'malformed', reason: parsed.reason };
  const envelope = parsed.value;
  if (!isRecord(envelope)) return { type: 'malformed', reason: `push body is ${describeType(envelope)}, not a JSON object` };
  const message = envelope.message;
  if (!isRecord(message)) {
    return { type: 'malformed', reason: `push body has no message object (message is ${describeType(message)}); an unwrapped push needs decodeUnwrappedPush` };
  }

  const messageId = firstString(message.messageId, message.message_id);
  const withId = (decoded: DecodedPush): DecodedPush => (messageId === undefined ? decoded : { ...decoded, messageId });

  const attributes = stringRecord(message.attributes);
  if (!attributes.ok) return withId({ type: 'malformed', reason: attributes.reason });
  const data = base64Data(message.data);
  if (!data.ok) return withId({ type: 'malformed', reason: data.reason });

  const notification: NotificationMessage = { attributes: attributes.value, data: data.value, messageId };
  const publishTime = firstString(message.publishTime, message.publish_time);
  if (publishTime !== undefined) notification.publishTime = publishTime;
  return withId(decodeNotification(notification, policy));
}

/**
 * Decodes an unwrapped push: attributes from the headers, data from the body.
 * Header names are matched case-insensitively. Never throws.
 */
export function decodeUnwrappedPush(headers: PushHeaders, body: Buffer | Uint8Array | string, policy: EventPolicy): DecodedPush {
  const lower = lowerCaseHeaders(headers);
  const messageId = lower.get(MESSAGE_ID_HEADER);
  const withId = (decoded: DecodedPush): DecodedPush => (messageId === undefined ? decoded : { ...decoded, messageId });

  const attributes: Record<string, string> = {};
  for (const name of NOTIFICATION_ATTRIBUTES) {
    const value = lower.get(name.toLowerCase());
    if (value !== undefined) attributes[name] = headerText(value);
  }
  if (Object.keys(attributes).length === 0) {
    return withId({
      type: 'malformed',
      reason: 'unwrapped push carries no notification attributes as headers: create the subscription with --push-no-wrapper-write-metadata',
    });
  }
  const notification: NotificationMessage = { attributes, data: body, messageId };
  const publishTime = lower.get(PUBLISH_TIME_HEADER);
  if (publishTime !== undefined) notification.publishTime = publishTime;
  return withId(decodeNotification(notification, policy));
}

/**
 * True when a push request looks unwrapped (write-metadata headers present),
 * so the endpoint can pick the decoder. A wrapped request has none of them.
 */
export function isUnwrappedPush(headers: PushHeaders): boolean {
  const lower = lowerCaseHeaders(headers);
  return lower.has(MESSAGE_ID_HEADER) || lower.has('eventtype');
}

function parseBody(body: string | Uint8Array): Parsed<unknown> {
  const text = dataToText(body, 'push body');
  if (!text.ok) return text;
  return parseJsonObject(text.value, 'push body');
}

function firstString(...values: unknown[]): string | undefined {
  return values.find((v): v is string => typeof v === 'string' && v !== '');
}

/** Attributes must all be strings: dropping one could hide `overwrittenByGeneration`. */
function stringRecord(value: unknown): Parsed<Record<string, string>> {
  if (value === undefined || value === null) return { ok: false, reason: 'push message has no attributes' };
  if (!isRecord(value)) return { ok: false, reason: `push message attributes is ${describeType(value)}, not an object` };
  const out: Record<string, string> = {};
  for (const [key, v] of Object.entries(value)) {
    if (typeof v !== 'string') return { ok: false, reason: `push message attribute ${quote(key)} is ${describeType(v)}, not a string` };
    out[key] = v;
  }
  return { ok: true, value: out };
}

/**
 * `message.data` is base64 (proto3 JSON bytes: standard or URL-safe alphabet,
 * padding optional). Node's decoder skips invalid characters silently, so the
 * alphabet and length are checked first.
 */
function base64Data(value: unknown): Parsed<Buffer> {
  if (value === undefined || value === null) return { ok: true, value: Buffer.alloc(0) };
  if (typeof value !== 'string') return { ok: false, reason: `push message data is ${describeType(value)}, not a base64 string` };
  const unpadded = value.replace(/={1,2}$/, '');
  const padded = unpadded.length !== value.length;
  const alphabetOk = /^[A-Za-z0-9+/]*$/.test(unpadded) || /^[A-Za-z0-9_-]*$/.test(unpadded);
  if (!alphabetOk || unpadded.length % 4 === 1 || (padded && value.length % 4 !== 0)) {
    return { ok: false, reason: `push message data is not valid base64 (${value.length} characters, starts ${quote(value.slice(0, 16))})` };
  }
  return { ok: true, value: Buffer.from(unpadded, unpadded.includes('-') || unpadded.includes('_') ? 'base64url' : 'base64') };
}

/** Header values by lower-cased name; repeated headers are joined as Node joins them. */
function lowerCaseHeaders(headers: PushHeaders): Map<string, string> {
  const out = new Map<string, string>();
  if (!isRecord(headers)) return out;
  for (const [key, value] of Object.entries(headers)) {
    if (value === undefined) continue;
    const text = Array.isArray(value) ? value.join(', ') : value;
    const name = key.toLowerCase();
    const existing = out.get(name);
    out.set(name, existing === undefined ? text : `${existing}, ${text}`);
  }
  return out;
}

/**
 * Node decodes header bytes as Latin-1. Pub/Sub writes attribute values (object
 * names are UTF-8) as raw UTF-8 bytes (seen with the emulator), so a non-ASCII
 * value is re-read as UTF-8 when its bytes are valid UTF-8.
 */
function headerText(value: string): string {
  if (/^[\x00-\x7f]*$/.test(value) || /[^\x00-\xff]/.test(value)) return value;
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(Buffer.from(value, 'latin1'));
  } catch {
    return value;
  }
}
