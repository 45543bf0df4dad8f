/**
 * Decodes Eventarc's Cloud Storage CloudEvents (already parsed from HTTP binary
 * or structured mode by the server) into the same verdicts as notifications.
 *
 * `data` is the object resource (StorageObjectData: bucket, name, generation as
 * a decimal string, timeCreated, …), `source` is
 * `//storage.googleapis.com/projects/_/buckets/BUCKET` and `subject` is
 * `objects/NAME`; when they are present they must agree with `data`.
 *
 * Limitation: unlike a notification, a `.deleted` / `.archived` CloudEvent does
 * not say whether the generation was removed by an overwrite: StorageObjectData
 * has no overwrittenByGeneration, and Eventarc sends `.deleted` for overwritten
 * objects too. Such an event is decoded as a delete (under REPLICATE_DELETES)
 * and relies on the core's generation guard: it deletes only an S3 copy holding
 * this generation or older, and the overwrite's own `.finalized` writes the
 * newer generation. If the delete is handled first, the S3 object is briefly
 * absent until that copy lands; it is never lost.
 *
 * An Eventarc trigger on a Pub/Sub topic (type
 * `google.cloud.pubsub.topic.v1.messagePublished`) carries a push envelope in
 * `data`; pointed at a bucket's notification topic it is decoded as such.
 */
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
import { decodePushEnvelope } from './decode-push.js';
import type { Decoded, EventPolicy, GcsEventType } from './types.js';

/** The CloudEvent context attributes and data the decoder reads. */
export interface StorageCloudEvent {
  type: string;
  source?: string;
  subject?: string;
  id?: string;
  /** RFC 3339: when GCS emitted the event. */
  time?: string;
  data: unknown;
}

/** Eventarc's Cloud Storage event types and the notification event each one corresponds to. */
const STORAGE_CLOUDEVENT_TYPES: Readonly<Record<string, GcsEventType>> = {
  'google.cloud.storage.object.v1.finalized': 'OBJECT_FINALIZE',
  'google.cloud.storage.object.v1.metadataUpdated': 'OBJECT_METADATA_UPDATE',
  'google.cloud.storage.object.v1.deleted': 'OBJECT_DELETE',
  'google.cloud.storage.object.v1.archived': 'OBJECT_ARCHIVE',
};

/** Eventarc's type for a Pub/Sub message: `data` is a push envelope. */
const PUBSUB_MESSAGE_PUBLISHED = 'google.cloud.pubsub.topic.v1.messagePublished';

const SOURCE_PATTERN = /^\/\/storage\.googleapis\.com\/projects\/_\/buckets\/([^/]+)$/;
const SUBJECT_PREFIX = 'objects/';

/** Turns a Cloud Storage CloudEvent into an event, an ignored one or a malformed one. Never throws. */
export function decodeStorageCloudEvent(ce: StorageCloudEvent, policy: EventPolicy): Decoded {
  if (!isRecord(ce)) return malformed(`CloudEvent is ${describeType(ce)}, not an object`);
  if (typeof ce.type !== 'string' || ce.type === '') return malformed('CloudEvent has no type');
  if (ce.type === PUBSUB_MESSAGE_PUBLISHED) return decodePushEnvelope(ce.data, policy);
  const eventType = Object.hasOwn(STORAGE_CLOUDEVENT_TYPES, ce.type) ? STORAGE_CLOUDEVENT_TYPES[ce.type] : undefined;
  if (eventType === undefined) {
    return { type: 'ignored', reason: `CloudEvent type ${quote(ce.type)} is not a Cloud Storage object event` };
  }

  const data = objectData(ce.data);
  if (!data.ok) return malformed(data.reason);

  const bucket = resolveBucket(data.value, ce.source);
  if (!bucket.ok) return malformed(bucket.reason);
  const name = resolveName(data.value, ce.subject);
  if (!name.ok) return malformed(name.reason);
  const generation = generationField(data.value.generation, 'CloudEvent data.generation');
  if (!generation.ok) return malformed(generation.reason);
  if (generation.value === undefined) return malformed('CloudEvent data.generation is missing');

  return applyPolicy(
    {
      eventType,
      ref: { bucket: bucket.value, name: name.value, generation: generation.value },
      eventTime: timeOrUndefined(ce.time),
      timeCreated: timeOrUndefined(data.value.timeCreated),
      size: sizeOrUndefined(data.value.size),
    },
    policy,
  );
}

/** The SDK hands JSON data over parsed; text or bytes (binary mode, odd content type) are parsed here. */
function objectData(data: unknown): Parsed<Record<string, unknown>> {
  if (typeof data === 'string' || data instanceof Uint8Array) {
    const text = dataToText(data, 'CloudEvent data');
    if (!text.ok) return text;
    return parseJsonObject(text.value, 'CloudEvent data');
  }
  if (!isRecord(data)) return { ok: false, reason: `CloudEvent data is ${describeType(data)}, not the object resource` };
  return { ok: true, value: data };
}

function resolveBucket(data: Record<string, unknown>, source: unknown): Parsed<string> {
  const field = stringField(data, 'bucket', 'CloudEvent data');
  if (!field.ok) return field;
  let fromSource: string | undefined;
  if (source !== undefined && source !== null) {
    const match = typeof source === 'string' ? SOURCE_PATTERN.exec(source) : null;
    if (match === null) {
      return { ok: false, reason: `CloudEvent source ${quote(source)} is not //storage.googleapis.com/projects/_/buckets/BUCKET` };
    }
    fromSource = match[1];
  }
  if (field.value !== undefined && fromSource !== undefined && field.value !== fromSource) {
    return { ok: false, reason: `CloudEvent data.bucket ${quote(field.value)} contradicts source bucket ${quote(fromSource)}` };
  }
  const bucket = field.value || fromSource;
  if (!bucket) return { ok: false, reason: 'CloudEvent names no bucket (data.bucket and source are missing)' };
  return { ok: true, value: bucket };
}

function resolveName(data: Record<string, unknown>, subject: unknown): Parsed<string> {
  const field = stringField(data, 'name', 'CloudEvent data');
  if (!field.ok) return field;
  let fromSubject: string | undefined;
  if (subject !== undefined && subject !== null) {
    if (typeof subject !== 'string' || !subject.startsWith(SUBJECT_PREFIX)) {
      return { ok: false, reason: `CloudEvent subject ${quote(subject)} is not objects/NAME` };
    }
    fromSubject = subject.slice(SUBJECT_PREFIX.length);
  }
  if (field.value !== undefined && fromSubject !== undefined && !sameName(field.value, fromSubject)) {
    return { ok: false, reason: `CloudEvent data.name ${quote(field.value)} contradicts subject ${quote(SUBJECT_PREFIX + fromSubject)}` };
  }
  const name = field.value || fromSubject;
  if (!name) return { ok: false, reason: 'CloudEvent names no object (data.name and subject are missing)' };
  return { ok: true, value: name };
}

/** The subject may be percent-encoded; the data's name never is. */
function sameName(name: string, fromSubject: string): boolean {
  if (name === fromSubject) return true;
  try {
    return decodeURIComponent(fromSubject) === name;
  } catch {
    return false;
  }
}

function malformed(reason: string): Decoded {
  return { type: 'malformed', reason };
}
