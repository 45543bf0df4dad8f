import { compareGenerations, isGeneration, type SinkObject, type SourceObject, type StoredHeaders } from '../model.js';
import type { WriteSpec } from './ports.js';
import { buildWriteSpec } from './write-spec.js';

/**
 * Whether a destination copy of a generation carries other metadata than GCS
 * holds now. The metageneration decides where both sides have one (GCS bumps
 * it on every metadata change); equal metagenerations still compare the
 * headers and metadata themselves, so a change is seen where the
 * metageneration did not move (an emulator that never bumps it, a copy made
 * before it was recorded, an edit made in S3). A destination holding a newer
 * metageneration than `live` (a stale read of GCS) is never taken back.
 */
export function metadataChanged(live: SourceObject, existing: SinkObject): boolean {
  const order = compareMetagenerations(existing.metageneration, live.metageneration);
  if (order !== undefined && order !== 0) return order < 0;
  return existing.headers !== undefined && headerMismatches(buildWriteSpec(live), existing.headers).length > 0;
}

/** Whether GCS's metadata of a generation moved between two reads of it. */
export function sourceMetadataMoved(before: SourceObject, after: SourceObject): boolean {
  const order = compareMetagenerations(before.metageneration, after.metageneration);
  if (order !== undefined && order !== 0) return order < 0;
  return headerMismatches(buildWriteSpec(after), buildWriteSpec(before)).length > 0;
}

/** Negative when `held` is older than `live`; undefined when either is not a metageneration number. */
function compareMetagenerations(held: string | undefined, live: string): number | undefined {
  if (held === undefined || !isGeneration(held) || !isGeneration(live)) return undefined;
  return compareGenerations(held, live);
}

/** One copied header or the user metadata, differing between what should be and what is. */
export interface HeaderMismatch {
  field: 'contentType' | 'contentEncoding' | 'contentDisposition' | 'contentLanguage' | 'cacheControl' | 'metadata';
  expected: string | null;
  actual: string | null;
}

/**
 * The copied headers and user metadata that differ. Values are compared
 * trimmed (HTTP drops a header value's surrounding spaces), and the
 * spellings of the default Content-Type match each other.
 */
export function headerMismatches(expected: WriteSpec, actual: StoredHeaders): HeaderMismatch[] {
  const mismatches: HeaderMismatch[] = [];
  const fields = ['contentType', 'contentEncoding', 'contentDisposition', 'contentLanguage', 'cacheControl'] as const;
  for (const field of fields) {
    const want = expected[field]?.trim() ?? null;
    const have = actual[field]?.trim() ?? null;
    if (want === have || (field === 'contentType' && isDefaultContentType(want) && isDefaultContentType(have))) continue;
    mismatches.push({ field, expected: want, actual: have });
  }
  const want = canonicalMetadata(expected.metadata);
  const have = canonicalMetadata(actual.metadata);
  if (want !== have) mismatches.push({ field: 'metadata', expected: want, actual: have });
  return mismatches;
}

/**
 * "Unknown bytes", however spelled: unset, GCS's and MinIO's default
 * (application/octet-stream), or S3's for an object sent without one
 * (binary/octet-stream).
 */
function isDefaultContentType(value: string | null): boolean {
  return value === null || value === 'application/octet-stream' || value === 'binary/octet-stream';
}

/** Sorted keys, lower-cased, values trimmed: one string to compare and to report. */
function canonicalMetadata(metadata: Record<string, string>): string {
  const entries = Object.entries(metadata).map(([k, v]) => [k.toLowerCase(), v.trim()] as const);
  entries.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return JSON.stringify(Object.fromEntries(entries));
}
