/**
 * Decodes one Pub/Sub notification for Cloud Storage (the message GCS, or
 * fake-gcs-server, publishes on the bucket's notification topic).
 *
 * The attributes are authoritative: they name the bucket, object, generation and
 * event. The JSON_API_V1 payload (the object resource) only adds `timeCreated`,
 * and is checked against the attributes so that a message contradicting itself
 * is reported instead of acted on.
 */
import { isGeneration } from '../model.js';
import { applyPolicy } from './apply-policy.js';
import {
  dataToText,
  describeType,
  generationField,
  isRecord,
  parseJsonObject,
  quote,
  stringField,
  sizeOrUndefined,
  timeOrUndefined,
  type Parsed,
} from './decode-helpers.js';
import { GCS_EVENT_TYPES, type Decoded, type EventPolicy, type GcsEventType } from './types.js';

/**
 * A Pub/Sub message as the decoders need it; the pull worker, the push
 * endpoint and the unwrapped push endpoint each build one.
 */
export interface NotificationMessage {
  /** Message attributes. GCS always sets eventType, bucketId, objectId, objectGeneration. */
  attributes: Record<string, string>;
  /**
   * Message data: bytes as delivered (UTF-8 JSON for JSON_API_V1, empty for
   * NONE), or a string holding the already-decoded text (not base64).
   */
  data: Buffer | Uint8Array | string | undefined;
  messageId?: string;
  /** RFC 3339; stands in for `eventTime` when that attribute is absent. */
  publishTime?: string;
}

/** The attribute names GCS puts on a notification (fake-gcs-server omits notificationConfig). */
export const NOTIFICATION_ATTRIBUTES = [
  'notificationConfig',
  'eventType',
  'payloadFormat',
  'bucketId',
  'objectId',
  'objectGeneration',
  'eventTime',
  'overwroteGeneration',
  'overwrittenByGeneration',
] as const;

const PAYLOAD_FORMATS = ['JSON_API_V1', 'NONE'] as const;

/**
 * Turns a notification into an event to replicate, an ignored message, or a
 * malformed one. Never throws.
 */
export function decodeNotification(message: NotificationMessage, policy: EventPolicy): Decoded {
  const attributes: unknown = isRecord(message) ? message.attributes : undefined;
  if (!isRecord(attributes) || Object.keys(attributes).length === 0) {
    return malformed('message has no attributes (a Cloud Storage notification always has eventType, bucketId, objectId, objectGeneration)');
  }

  const required = requiredAttributes(attributes);
  if (!required.ok) return malformed(required.reason);
  const { eventType, bucket, name, generation } = required.value;

  const payloadFormat = attributes.payloadFormat;
  if (payloadFormat !== undefined && !(PAYLOAD_FORMATS as readonly unknown[]).includes(payloadFormat)) {
    return malformed(`attribute payloadFormat ${quote(payloadFormat)} is not one of ${PAYLOAD_FORMATS.join(', ')}`);
  }

  let timeCreated: string | undefined;
  let size: number | undefined;
  if (payloadFormat !== 'NONE') {
    const payload = readPayload(message.data, payloadFormat === 'JSON_API_V1');
    if (!payload.ok) return malformed(payload.reason);
    if (payload.value !== undefined) {
      const contradiction = contradictsAttributes(payload.value, { bucket, name, generation });
      if (contradiction !== undefined) return malformed(contradiction);
      timeCreated = timeOrUndefined(payload.value.timeCreated);
      size = sizeOrUndefined(payload.value.size);
    }
  }

  const overwrittenBy = attributes.overwrittenByGeneration;
  return applyPolicy(
    {
      eventType,
      ref: { bucket, name, generation },
      // Present at all means an overwrite: never let a garbled value turn it into a delete.
      overwrittenByGeneration: overwrittenBy === undefined ? undefined : String(overwrittenBy),
      eventTime: timeOrUndefined(attributes.eventTime) ?? timeOrUndefined(message.publishTime),
      timeCreated,
      size,
    },
    policy,
  );
}

interface RequiredAttributes {
  eventType: GcsEventType;
  bucket: string;
  name: string;
  generation: string;
}

function requiredAttributes(attributes: Record<string, unknown>): Parsed<RequiredAttributes> {
  const eventType = nonEmptyAttribute(attributes, 'eventType');
  if (!eventType.ok) return eventType;
  if (!(GCS_EVENT_TYPES as readonly string[]).includes(eventType.value)) {
    return { ok: false, reason: `attribute eventType ${quote(eventType.value)} is not one of ${GCS_EVENT_TYPES.join(', ')}` };
  }
  const bucket = nonEmptyAttribute(attributes, 'bucketId');
  if (!bucket.ok) return bucket;
  const name = nonEmptyAttribute(attributes, 'objectId');
  if (!name.ok) return name;
  const generation = nonEmptyAttribute(attributes, 'objectGeneration');
  if (!generation.ok) return generation;
  if (!isGeneration(generation.value)) {
    return { ok: false, reason: `attribute objectGeneration is not a decimal int64: ${quote(generation.value)}` };
  }
  return {
    ok: true,
    value: { eventType: eventType.value as GcsEventType, bucket: bucket.value, name: name.value, generation: generation.value },
  };
}

function nonEmptyAttribute(attributes: Record<string, unknown>, key: string): Parsed<string> {
  const value = attributes[key];
  if (value === undefined) return { ok: false, reason: `attribute ${key} is missing` };
  if (typeof value !== 'string') return { ok: false, reason: `attribute ${key} is ${describeType(value)}, not a string` };
  if (value === '') return { ok: false, reason: `attribute ${key} is empty` };
  return { ok: true, value };
}

/**
 * The object resource from the data, or undefined when there is none. Data is
 * required with JSON_API_V1; without a payloadFormat attribute it is optional.
 */
function readPayload(data: NotificationMessage['data'], required: boolean): Parsed<Record<string, unknown> | undefined> {
  const text = dataToText(data, 'data');
  if (!text.ok) return text;
  if (text.value.trim() === '') {
    return required ? { ok: false, reason: 'attribute payloadFormat is JSON_API_V1 but data is empty' } : { ok: true, value: undefined };
  }
  return parseJsonObject(text.value, 'data (JSON_API_V1 object resource)');
}

/** A reason when the payload names another bucket, object or generation than the attributes. */
function contradictsAttributes(resource: Record<string, unknown>, ref: { bucket: string; name: string; generation: string }): string | undefined {
  const checks: Array<[field: string, attribute: string, expected: string, actual: Parsed<string | undefined>]> = [
    ['bucket', 'bucketId', ref.bucket, stringField(resource, 'bucket', 'payload')],
    ['name', 'objectId', ref.name, stringField(resource, 'name', 'payload')],
    ['generation', 'objectGeneration', ref.generation, generationField(resource.generation, 'payload.generation')],
  ];
  for (const [field, attribute, expected, actual] of checks) {
    if (!actual.ok) return actual.reason;
    if (actual.value !== undefined && actual.value !== expected) {
      return `payload.${field} ${quote(actual.value)} contradicts attribute ${attribute} ${quote(expected)}`;
    }
  }
  return undefined;
}

function malformed(reason: string): Decoded {
  return { type: 'malformed', reason };
}
