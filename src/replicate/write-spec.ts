import { PermanentError } from '../errors.js';
import type { SourceObject } from '../model.js';
import type { WriteSpec } from './ports.js';

/** Provenance keys, always written: they make replication idempotent by generation. */
export const PROVENANCE = {
  bucket: 'gcs-bucket',
  generation: 'gcs-generation',
  crc32c: 'gcs-crc32c',
  /**
   * The metageneration whose headers and metadata the copy carries: GCS bumps
   * it on every metadata change of a generation, so copies and metadata
   * updates converge on the newest (see metadata-diff.ts).
   */
  metageneration: 'gcs-metageneration',
} as const;

const PROVENANCE_KEYS = new Set<string>(Object.values(PROVENANCE));

/**
 * What lands at the destination for one GCS generation: the five copied
 * headers, custom metadata as user metadata (keys lower-cased: they travel as
 * HTTP headers, which are case-insensitive), and provenance. Throws
 * PermanentError when two keys collide once lower-cased: dropping one
 * silently would be worse than not copying. The destination's own limits
 * (size, characters) are checked by the sink.
 */
export function buildWriteSpec(object: SourceObject): WriteSpec {
  const metadata: Record<string, string> = {};
  for (const [rawKey, value] of Object.entries(object.metadata)) {
    const key = rawKey.toLowerCase();
    if (PROVENANCE_KEYS.has(key)) continue; // ours wins: provenance must describe the copy
    if (key in metadata) {
      throw new PermanentError(`custom metadata keys of gs://${object.bucket}/${object.name} collide when lower-cased ("${rawKey}"): metadata keys are HTTP headers, which ignore case`, { code: 'MetadataKeyCollision' });
    }
    metadata[key] = value;
  }
  metadata[PROVENANCE.bucket] = object.bucket;
  metadata[PROVENANCE.generation] = object.generation;
  if (object.crc32c !== undefined) metadata[PROVENANCE.crc32c] = object.crc32c;
  metadata[PROVENANCE.metageneration] = object.metageneration;
  return {
    size: object.size,
    contentType: object.contentType,
    contentEncoding: object.contentEncoding,
    contentDisposition: object.contentDisposition,
    contentLanguage: object.contentLanguage,
    cacheControl: object.cacheControl,
    metadata,
  };
}
