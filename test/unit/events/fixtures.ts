import { readdirSync, readFileSync } from 'node:fs';
import type { NotificationMessage } from '../../../src/events/decode-notification.js';
import type { StorageCloudEvent } from '../../../src/events/decode-cloudevent.js';
import type { EventPolicy } from '../../../src/events/types.js';

const FIXTURES = new URL('../../fixtures/', import.meta.url);

function readJson(path: string): Record<string, unknown> {
  return JSON.parse(readFileSync(new URL(path, FIXTURES), 'utf8')) as Record<string, unknown>;
}

/** Every `.json` fixture under a fixtures folder (not recursive), e.g. `notifications/`. */
export function fixtureFiles(folder: string): string[] {
  return readdirSync(new URL(folder, FIXTURES))
    .filter((f) => f.endsWith('.json'))
    .map((f) => `${folder}${f}`)
    .sort();
}

interface StoredMessage {
  attributes: Record<string, string>;
  data: string | null;
  messageId?: string;
  publishTime?: string;
}

/** A notification fixture as the pull worker would hand it over: data as bytes. */
export function notificationFixture(path: string): NotificationMessage {
  const m = readJson(path).message as StoredMessage;
  return {
    attributes: m.attributes,
    data: m.data === null ? undefined : Buffer.from(m.data, 'utf8'),
    messageId: m.messageId,
    publishTime: m.publishTime,
  };
}

/** A push fixture: headers as Node presents them (lower-cased names) and the body bytes. */
export function pushFixture(path: string): { headers: Record<string, string>; rawHeaders: Record<string, string>; body: Buffer } {
  const f = readJson(path) as { headers: Record<string, string>; body: string };
  const headers = Object.fromEntries(Object.entries(f.headers).map(([k, v]) => [k.toLowerCase(), v]));
  // Header values are stored as Node decodes them (Latin-1), so their bytes are the wire bytes.
  return { headers, rawHeaders: f.headers, body: Buffer.from(f.body, 'utf8') };
}

/** A CloudEvent fixture in structured form. */
export function cloudEventFixture(path: string): StorageCloudEvent {
  return readJson(path).event as StorageCloudEvent;
}

export const ALL: EventPolicy = { sourceBuckets: [], includePrefixes: [], excludePrefixes: [], replicateDeletes: false };
export const WITH_DELETES: EventPolicy = { ...ALL, replicateDeletes: true };

/** A policy with some fields changed. */
export function policy(overrides: Partial<EventPolicy> = {}): EventPolicy {
  return { ...ALL, ...overrides };
}
