import { describe, expect, it } from 'vitest';
import { PermanentError } from '../../../src/errors.js';
import { destinationKey, keyPrefixFor } from '../../../src/replicate/key-mapping.js';
import { replicateObject, type ReplicateDeps } from '../../../src/replicate/replicate-object.js';
import { FakeSink, FakeSource } from '../../support/fakes.js';

const signal = new AbortController().signal;

describe('destinationKey', () => {
  it.each([
    ['', 'a', 'x/y.txt', 'x/y.txt'],
    ['gcs/', 'a', 'x/y.txt', 'gcs/x/y.txt'],
    ['{bucket}/', 'bucket-a', 'x/y.txt', 'bucket-a/x/y.txt'],
    ['mirror/{bucket}/in/', 'b', 'n', 'mirror/b/in/n'],
  ])('S3_KEY_PREFIX %j maps gs://%s/%s to %j', (prefix, bucket, name, key) => {
    expect(destinationKey(prefix, { bucket, name })).toBe(key);
    expect(keyPrefixFor(prefix, bucket) + name).toBe(key);
  });
});

describe('two source buckets at one key', () => {
  function setup(keyPrefix: string, replicateDeletes = false) {
    const source = new FakeSource();
    const sink = new FakeSink();
    const deps: ReplicateDeps = { source, sink, keyPrefix, replicateDeletes };
    return { source, sink, deps };
  }

  it('refuses to overwrite, update or delete another bucket\'s object (ForeignBucket), keeping its bytes', async () => {
    const { source, sink, deps } = setup('', true);
    const a = source.put('bucket-a', 'same/name.txt', Buffer.from('from a'));
    // Bucket b's generation is newer: generation order must not decide between buckets.
    const b = source.put('bucket-b', 'same/name.txt', Buffer.from('from b'), { generation: String(BigInt(a.generation) + 10n) });
    expect(await replicateObject({ kind: 'finalize', ref: { bucket: 'bucket-a', name: 'same/name.txt', generation: a.generation } }, deps, signal)).toMatchObject({ status: 'copied' });
    const events = [
      { kind: 'finalize', ref: { bucket: 'bucket-b', name: 'same/name.txt', generation: b.generation } },
      { kind: 'finalize', ref: { bucket: 'bucket-b', name: 'same/name.txt' } },
      { kind: 'metadataUpdate', ref: { bucket: 'bucket-b', name: 'same/name.txt', generation: b.generation } },
      { kind: 'delete', ref: { bucket: 'bucket-b', name: 'same/name.txt', generation: b.generation } },
    ] as const;
    for (const event of events) {
      const outcome = await replicateObject(event, deps, signal);
      expect(outcome).toMatchObject({ status: 'failed', retryable: false, key: 'same/name.txt' });
      if (outcome.status !== 'failed') continue;
      expect(outcome.error).toBeInstanceOf(PermanentError);
      expect((outcome.error as PermanentError).code).toBe('ForeignBucket');
      expect(outcome.error.message).toMatch(/holds gs:\/\/bucket-a\/same\/name\.txt .*gs:\/\/bucket-b\/same\/name\.txt.*\{bucket\} in S3_KEY_PREFIX/);
    }
    expect(sink.objects.get('same/name.txt')!.bytes.toString()).toBe('from a');
    expect(source.reads).toBe(1);
  });

  it('with {bucket} in S3_KEY_PREFIX both land, each at its own key', async () => {
    const { source, sink, deps } = setup('{bucket}/');
    for (const bucket of ['bucket-a', 'bucket-b']) {
      source.put(bucket, 'same/name.txt', Buffer.from(`from ${bucket}`));
      expect(await replicateObject({ kind: 'finalize', ref: { bucket, name: 'same/name.txt' } }, deps, signal)).toMatchObject({ status: 'copied', key: `${bucket}/same/name.txt` });
    }
    expect(sink.objects.get('bucket-a/same/name.txt')!.bytes.toString()).toBe('from bucket-a');
    expect(sink.objects.get('bucket-b/same/name.txt')!.bytes.toString()).toBe('from bucket-b');
  });

  it('an object without provenance at the key is still replaced (not written by gcs2s3)', async () => {
    const { source, sink, deps } = setup('');
    sink.seed('o', Buffer.from('by hand'), undefined);
    source.put('bucket-b', 'o', Buffer.from('from b'));
    expect(await replicateObject({ kind: 'finalize', ref: { bucket: 'bucket-b', name: 'o' } }, deps, signal)).toMatchObject({ status: 'copied' });
  });
});
