import { describe, expect, it } from 'vitest';
import type { SinkObject, SourceObject, StoredHeaders } from '../../../src/model.js';
import { headerMismatches, metadataChanged } from '../../../src/replicate/metadata-diff.js';
import type { WriteSpec } from '../../../src/replicate/ports.js';
import { buildWriteSpec } from '../../../src/replicate/write-spec.js';

const spec = (extra: Partial<WriteSpec> = {}): WriteSpec => ({ size: 1, metadata: { owner: 'team' }, ...extra });
const stored = (extra: Partial<StoredHeaders> = {}): StoredHeaders => ({ metadata: { owner: 'team' }, ...extra });

describe('headerMismatches', () => {
  it.each<[string, WriteSpec, StoredHeaders, string[]]>([
    ['the same', spec({ contentType: 'text/csv' }), stored({ contentType: 'text/csv' }), []],
    ['default Content-Type spellings', spec({ contentType: 'application/octet-stream' }), stored({ contentType: 'binary/octet-stream' }), []],
    ['no Content-Type against S3 default', spec(), stored({ contentType: 'binary/octet-stream' }), []],
    ['values trimmed as HTTP does', spec({ cacheControl: ' no-cache ', metadata: { owner: ' team' } }), stored({ cacheControl: 'no-cache' }), []],
    ['metadata key case', spec({ metadata: { Owner: 'team' } }), stored(), []],
    ['another Content-Type', spec({ contentType: 'text/csv' }), stored({ contentType: 'text/plain' }), ['contentType']],
    ['a header only on one side', spec({ contentDisposition: 'inline' }), stored(), ['contentDisposition']],
    ['other custom metadata', spec({ metadata: { owner: 'x' } }), stored(), ['metadata']],
  ])('%s', (_label, expected, actual, fields) => {
    expect(headerMismatches(expected, actual).map((m) => m.field)).toEqual(fields);
  });
});

describe('metadataChanged', () => {
  const live: SourceObject = { bucket: 'b', name: 'o', generation: '5', metageneration: '3', size: 1, contentType: 'text/csv', metadata: {} };
  const copyOf = (object: SourceObject, extra: Partial<SinkObject> = {}): SinkObject => {
    const written = buildWriteSpec(object);
    return { key: 'o', etag: '"e"', size: 1, generation: '5', metageneration: object.metageneration, headers: written, ...extra };
  };
  it.each<[string, SinkObject, boolean]>([
    ['same metageneration and headers', copyOf(live), false],
    ['older metageneration', copyOf({ ...live, metageneration: '2' }), true],
    ['newer metageneration at the destination (a stale read of GCS)', copyOf({ ...live, metageneration: '4', contentType: 'x/y' }), false],
    ['same metageneration, other headers (an emulator that never bumps it)', copyOf({ ...live, contentType: 'text/plain' }), true],
    ['no metageneration recorded (a copy made before it was): updated once to record it', copyOf(live, { metageneration: undefined, headers: { ...buildWriteSpec(live), metadata: {} } }), true],
    ['no headers known, same metageneration', copyOf(live, { headers: undefined }), false],
  ])('%s: %s', (_label, existing, changed) => {
    expect(metadataChanged(live, existing)).toBe(changed);
  });
});
