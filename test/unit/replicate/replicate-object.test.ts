import { describe, expect, it } from 'vitest';
import { IntegrityError, PermanentError } from '../../../src/errors.js';
import { replicateObject, type ReplicateDeps } from '../../../src/replicate/replicate-object.js';
import { FakeSink, FakeSource } from '../../support/fakes.js';

const signal = new AbortController().signal;

function setup(keyPrefix = 'gcs/', options: { replicateDeletes?: boolean } = {}) {
  const source = new FakeSource();
  const sink = new FakeSink();
  const deps: ReplicateDeps = { source, sink, keyPrefix, ...options };
  return { source, sink, deps };
}

describe('replicateObject: finalize', () => {
  it('copies bytes, headers, custom metadata and provenance', async () => {
    const { source, sink, deps } = setup();
    const bytes = Buffer.from('hello, world');
    const meta = source.put('src', 'a/b.txt', bytes, {
      contentType: 'text/plain',
      cacheControl: 'no-cache',
      contentLanguage: 'fr',
      contentDisposition: 'attachment',
      metadata: { Owner: 'team-x' },
    });
    const outcome = await replicateObject({ kind: 'finalize', ref: { bucket: 'src', name: 'a/b.txt', generation: meta.generation } }, deps, signal);
    expect(outcome).toEqual({ status: 'copied', key: 'gcs/a/b.txt', generation: meta.generation, bytes: bytes.length });
    const stored = sink.objects.get('gcs/a/b.txt')!;
    expect(stored.bytes.equals(bytes)).toBe(true);
    expect(stored.spec).toMatchObject({ contentType: 'text/plain', cacheControl: 'no-cache', contentLanguage: 'fr', contentDisposition: 'attachment' });
    expect(stored.spec.metadata).toEqual({ owner: 'team-x', 'gcs-bucket': 'src', 'gcs-generation': meta.generation, 'gcs-crc32c': meta.crc32c, 'gcs-metageneration': '1' });
  });

  it('copies the live generation when none is given', async () => {
    const { source, sink, deps } = setup('');
    source.put('src', 'o', Buffer.from('v1'));
    const v2 = source.put('src', 'o', Buffer.from('v2'));
    const outcome = await replicateObject({ kind: 'finalize', ref: { bucket: 'src', name: 'o' } }, deps, signal);
    expect(outcome).toMatchObject({ status: 'copied', generation: v2.generation });
    expect(sink.objects.get('o')!.bytes.toString()).toBe('v2');
  });

  it('skips the same generation without reading the object', async () => {
    const { source, sink, deps } = setup();
    const meta = source.put('src', 'o', Buffer.from('x'));
    const event = { kind: 'finalize' as const, ref: { bucket: 'src', name: 'o', generation: meta.generation } };
    await replicateObject(event, deps, signal);
    const readsBefore = source.reads;
    const second = await replicateObject(event, deps, signal);
    expect(second).toMatchObject({ status: 'skipped', reason: 'already-current' });
    expect(source.reads).toBe(readsBefore);
    expect(sink.writes).toBe(1);
  });

  it('never replaces a newer generation with an older one', async () => {
    const { source, sink, deps } = setup('');
    const g1 = source.put('src', 'o', Buffer.from('old'));
    const g2 = source.put('src', 'o', Buffer.from('new'));
    await replicateObject({ kind: 'finalize', ref: { bucket: 'src', name: 'o', generation: g2.generation } }, deps, signal);
    const late = await replicateObject({ kind: 'finalize', ref: { bucket: 'src', name: 'o', generation: g1.generation } }, deps, signal);
    expect(late).toMatchObject({ status: 'skipped', reason: 'newer-at-destination', destinationGeneration: g2.generation });
    expect(sink.objects.get('o')!.bytes.toString()).toBe('new');
  });

  it('replaces an older generation', async () => {
    const { source, sink, deps } = setup('');
    const g1 = source.put('src', 'o', Buffer.from('old'));
    await replicateObject({ kind: 'finalize', ref: { bucket: 'src', name: 'o', generation: g1.generation } }, deps, signal);
    const g2 = source.put('src', 'o', Buffer.from('new'));
    const outcome = await replicateObject({ kind: 'finalize', ref: { bucket: 'src', name: 'o', generation: g2.generation } }, deps, signal);
    expect(outcome.status).toBe('copied');
    expect(sink.objects.get('o')!.bytes.toString()).toBe('new');
  });

  it('skips a generation GCS no longer has as superseded, and a deleted object as missing', async () => {
    const { source, deps, sink } = setup('');
    const g1 = source.put('src', 'o', Buffer.from('old'));
    source.put('src', 'o', Buffer.from('new'));
    source.dropOldGenerations('src', 'o');
    const superseded = await replicateObject({ kind: 'finalize', ref: { bucket: 'src', name: 'o', generation: g1.generation } }, deps, signal);
    expect(superseded).toMatchObject({ status: 'skipped', reason: 'superseded' });
    const missing = await replicateObject({ kind: 'finalize', ref: { bucket: 'src', name: 'gone', generation: '5' } }, deps, signal);
    expect(missing).toMatchObject({ status: 'skipped', reason: 'source-missing' });
    expect(sink.writes).toBe(0);
  });

  it('fails, retryably, and stores nothing when the stream is corrupted', async () => {
    const { source, sink, deps } = setup('');
    const meta = source.put('src', 'o', Buffer.alloc(50_000, 7));
    source.corrupt = true;
    const outcome = await replicateObject({ kind: 'finalize', ref: { bucket: 'src', name: 'o', generation: meta.generation } }, deps, signal);
    expect(outcome.status).toBe('failed');
    if (outcome.status !== 'failed') return;
    expect(outcome.retryable).toBe(true);
    expect(outcome.error).toBeInstanceOf(IntegrityError);
    expect(outcome.error.message).toMatch(/CRC32C of the streamed bytes/);
    expect(sink.objects.size).toBe(0);
    expect(sink.aborted).toBe(1);
  });

  it('with hints from a listing, copies with one read and one write: no HEAD, one metadata read (after the copy, for changes made meanwhile)', async () => {
    const { source, sink, deps } = setup('');
    const meta = source.put('src', 'o', Buffer.from('listed'), { contentType: 'text/plain' });
    const outcome = await replicateObject({ kind: 'finalize', ref: { bucket: 'src', name: 'o', generation: meta.generation } }, deps, signal, { source: meta, absentInSink: true });
    expect(outcome).toMatchObject({ status: 'copied', generation: meta.generation });
    expect({ heads: sink.heads, stats: source.stats, reads: source.reads, writes: sink.writes }).toEqual({ heads: 0, stats: 1, reads: 1, writes: 1 });
    expect(sink.objects.get('o')!.spec.contentType).toBe('text/plain');
  });

  it('with stale hints, decides afresh: S3 written meanwhile, or the generation gone from GCS', async () => {
    const { source, sink, deps } = setup('');
    const g1 = source.put('src', 'o', Buffer.from('one'));
    const g2 = source.put('src', 'o', Buffer.from('two'));
    // Someone copied g2 after the listing said the key was absent.
    await replicateObject({ kind: 'finalize', ref: { bucket: 'src', name: 'o', generation: g2.generation } }, deps, signal);
    const late = await replicateObject({ kind: 'finalize', ref: { bucket: 'src', name: 'o', generation: g1.generation } }, deps, signal, { source: g1, absentInSink: true });
    expect(late).toMatchObject({ status: 'skipped', reason: 'newer-at-destination' });
    expect(sink.objects.get('o')!.bytes.toString()).toBe('two');
    // The listed generation was replaced and dropped before the copy ran.
    const g3 = source.put('src', 'p', Buffer.from('three'));
    source.put('src', 'p', Buffer.from('four'));
    source.dropOldGenerations('src', 'p');
    const gone = await replicateObject({ kind: 'finalize', ref: { bucket: 'src', name: 'p', generation: g3.generation } }, deps, signal, { source: g3, absentInSink: true });
    expect(gone).toMatchObject({ status: 'skipped', reason: 'superseded' });
    expect(sink.objects.has('p')).toBe(false);
  });

  it('ignores a hint for another generation', async () => {
    const { source, sink, deps } = setup('');
    const g1 = source.put('src', 'o', Buffer.from('one'));
    const g2 = source.put('src', 'o', Buffer.from('two'));
    const outcome = await replicateObject({ kind: 'finalize', ref: { bucket: 'src', name: 'o', generation: g2.generation } }, deps, signal, { source: g1 });
    expect(outcome).toMatchObject({ status: 'copied', generation: g2.generation });
    expect(sink.objects.get('o')!.bytes.toString()).toBe('two');
  });

  it('fails for good, writing nothing, when the destination refuses the object permanently', async () => {
    const { source, sink, deps } = setup('');
    const meta = source.put('src', 'o', Buffer.from('x'), { metadata: { big: 'v'.repeat(2000) } });
    sink.refuseWith = new PermanentError('metadata over the limit', { code: 'MetadataTooLarge' });
    const outcome = await replicateObject({ kind: 'finalize', ref: { bucket: 'src', name: 'o', generation: meta.generation } }, deps, signal);
    expect(outcome).toMatchObject({ status: 'failed', retryable: false });
    if (outcome.status === 'failed') expect(outcome.error).toBeInstanceOf(PermanentError);
    expect(sink.objects.has('o')).toBe(false);
  });

  it('opens no GCS read when the destination refuses the write before reading its body (a listing-hinted copy makes no other request first)', async () => {
    const { source, sink, deps } = setup('');
    const meta = source.put('src', 'o', Buffer.from('x'));
    sink.refuseWith = new PermanentError('key of 1100 bytes is over the key limit', { code: 'KeyTooLongError' });
    const outcome = await replicateObject({ kind: 'finalize', ref: { bucket: 'src', name: 'o', generation: meta.generation } }, deps, signal, { source: meta, absentInSink: true });
    expect(outcome).toMatchObject({ status: 'failed', retryable: false });
    expect(source.reads).toBe(0);
  });

  it('re-decides after losing a race: a newer generation written meanwhile wins', async () => {
    const { source, sink, deps } = setup('');
    const g1 = source.put('src', 'o', Buffer.from('old'));
    // g2 is written to GCS, and copied by another worker, while g1 streams.
    sink.beforeCommit = (key) => {
      sink.beforeCommit = undefined;
      const g2 = source.put('src', 'o', Buffer.from('new'));
      sink.seed(key, Buffer.from('new'), g2.generation);
    };
    const outcome = await replicateObject({ kind: 'finalize', ref: { bucket: 'src', name: 'o', generation: g1.generation } }, deps, signal);
    expect(outcome).toMatchObject({ status: 'skipped', reason: 'newer-at-destination' });
    expect(sink.objects.get('o')!.bytes.toString()).toBe('new');
  });

  it('overwrites an S3 object not written by gcs2s3 (no generation)', async () => {
    const { source, sink, deps } = setup('');
    sink.seed('o', Buffer.from('foreign'), undefined);
    const meta = source.put('src', 'o', Buffer.from('ours'));
    const outcome = await replicateObject({ kind: 'finalize', ref: { bucket: 'src', name: 'o', generation: meta.generation } }, deps, signal);
    expect(outcome.status).toBe('copied');
    expect(sink.objects.get('o')!.bytes.toString()).toBe('ours');
  });

  it('returns an aborted failure when the signal has fired', async () => {
    const { source, deps, sink } = setup('');
    const meta = source.put('src', 'o', Buffer.from('x'));
    const controller = new AbortController();
    controller.abort();
    const outcome = await replicateObject({ kind: 'finalize', ref: { bucket: 'src', name: 'o', generation: meta.generation } }, deps, controller.signal);
    expect(outcome).toMatchObject({ status: 'failed', retryable: true });
    expect(sink.writes).toBe(0);
  });
});

describe('replicateObject: delete and metadata update', () => {
  it('deletes the same or an older generation, never a newer one', async () => {
    const { source, sink, deps } = setup('');
    const g1 = source.put('src', 'o', Buffer.from('1'));
    const g2 = source.put('src', 'o', Buffer.from('2'));
    await replicateObject({ kind: 'finalize', ref: { bucket: 'src', name: 'o', generation: g2.generation } }, deps, signal);
    const old = await replicateObject({ kind: 'delete', ref: { bucket: 'src', name: 'o', generation: g1.generation } }, deps, signal);
    expect(old).toMatchObject({ status: 'skipped', reason: 'newer-at-destination' });
    expect(sink.objects.has('o')).toBe(true);
    const current = await replicateObject({ kind: 'delete', ref: { bucket: 'src', name: 'o', generation: g2.generation } }, deps, signal);
    expect(current).toMatchObject({ status: 'deleted' });
    expect(sink.objects.has('o')).toBe(false);
    const again = await replicateObject({ kind: 'delete', ref: { bucket: 'src', name: 'o', generation: g2.generation } }, deps, signal);
    expect(again).toMatchObject({ status: 'skipped', reason: 'absent-at-destination' });
  });

  it('refreshes metadata only on the generation S3 holds', async () => {
    const { source, sink, deps } = setup('');
    const g1 = source.put('src', 'o', Buffer.from('1'), { contentType: 'text/plain' });
    await replicateObject({ kind: 'finalize', ref: { bucket: 'src', name: 'o', generation: g1.generation } }, deps, signal);
    g1.contentType = 'application/json';
    g1.metadata = { tag: 'v2' };
    const updated = await replicateObject({ kind: 'metadataUpdate', ref: { bucket: 'src', name: 'o', generation: g1.generation } }, deps, signal);
    expect(updated).toMatchObject({ status: 'updated' });
    expect(sink.objects.get('o')!.spec).toMatchObject({ contentType: 'application/json', metadata: { tag: 'v2', 'gcs-generation': g1.generation } });
    const other = await replicateObject({ kind: 'metadataUpdate', ref: { bucket: 'src', name: 'o', generation: '1' } }, deps, signal);
    expect(other).toMatchObject({ status: 'skipped', reason: 'newer-at-destination' });
  });
});

describe('replicateObject: deleted objects never come back (versioned source bucket)', () => {
  const finalize = (generation: string) => ({ kind: 'finalize' as const, ref: { bucket: 'src', name: 'o', generation } });
  const del = (generation: string) => ({ kind: 'delete' as const, ref: { bucket: 'src', name: 'o', generation } });

  it.each([true, false])('FINALIZE(N) failed once, the object was deleted, ARCHIVE(N) found nothing: the retry copies nothing (REPLICATE_DELETES=%s)', async (replicateDeletes) => {
    const { source, sink, deps } = setup('', { replicateDeletes });
    const n = source.put('src', 'o', Buffer.from('doomed'));
    source.corrupt = true;
    expect(await replicateObject(finalize(n.generation), deps, signal)).toMatchObject({ status: 'failed', retryable: true });
    source.corrupt = false;
    source.archive('src', 'o');
    if (replicateDeletes) expect(await replicateObject(del(n.generation), deps, signal)).toMatchObject({ status: 'skipped', reason: 'absent-at-destination' });
    const retry = await replicateObject(finalize(n.generation), deps, signal);
    expect(retry).toMatchObject({ status: 'skipped', reason: 'source-missing', generation: n.generation });
    expect(sink.objects.has('o')).toBe(false);
  });

  it('a pinned copy of a generation that is noncurrent because a newer one is live is superseded, not copied', async () => {
    const { source, sink, deps } = setup('');
    const n = source.put('src', 'o', Buffer.from('old'));
    source.put('src', 'o', Buffer.from('new'));
    const outcome = await replicateObject(finalize(n.generation), deps, signal);
    expect(outcome).toMatchObject({ status: 'skipped', reason: 'superseded' });
    expect(source.reads).toBe(0);
    expect(sink.objects.has('o')).toBe(false);
  });

  it('deleted while the copy streams, after the delete found nothing in S3: the copy removes what it wrote', async () => {
    const { source, sink, deps } = setup('', { replicateDeletes: true });
    const n = source.put('src', 'o', Buffer.from('doomed'));
    let racingDelete: unknown;
    sink.beforeCommit = async () => {
      sink.beforeCommit = undefined;
      source.archive('src', 'o');
      racingDelete = await replicateObject(del(n.generation), deps, signal);
    };
    const outcome = await replicateObject(finalize(n.generation), deps, signal);
    expect(racingDelete).toMatchObject({ status: 'skipped', reason: 'absent-at-destination' });
    expect(outcome).toMatchObject({ status: 'skipped', reason: 'source-missing', generation: n.generation });
    expect(sink.objects.has('o')).toBe(false);
  });

  it('deleted while the copy streams, the delete not yet delivered: the copy removes what it wrote, and the delete then finds nothing', async () => {
    const { source, sink, deps } = setup('', { replicateDeletes: true });
    const n = source.put('src', 'o', Buffer.from('doomed'));
    sink.beforeCommit = () => {
      sink.beforeCommit = undefined;
      source.archive('src', 'o');
    };
    expect(await replicateObject({ kind: 'finalize', ref: { bucket: 'src', name: 'o' } }, deps, signal)).toMatchObject({ status: 'skipped', reason: 'source-missing' });
    expect(sink.objects.has('o')).toBe(false);
    expect(await replicateObject(del(n.generation), deps, signal)).toMatchObject({ status: 'skipped', reason: 'absent-at-destination' });
  });

  it('deleted after the copy completed: the delete removes it (the other order)', async () => {
    const { source, sink, deps } = setup('', { replicateDeletes: true });
    const n = source.put('src', 'o', Buffer.from('short-lived'));
    expect(await replicateObject(finalize(n.generation), deps, signal)).toMatchObject({ status: 'copied' });
    source.archive('src', 'o');
    expect(await replicateObject(del(n.generation), deps, signal)).toMatchObject({ status: 'deleted' });
    expect(await replicateObject(finalize(n.generation), deps, signal)).toMatchObject({ status: 'skipped', reason: 'source-missing' });
    expect(sink.objects.has('o')).toBe(false);
  });

  it('a redelivered FINALIZE(N) finding N in S3 while GCS has no live object removes it (a copy stopped between its write and its check)', async () => {
    const { source, sink, deps } = setup('', { replicateDeletes: true });
    const n = source.put('src', 'o', Buffer.from('x'));
    sink.seed('o', Buffer.from('x'), n.generation);
    source.archive('src', 'o');
    expect(await replicateObject(finalize(n.generation), deps, signal)).toMatchObject({ status: 'skipped', reason: 'source-missing' });
    expect(sink.objects.has('o')).toBe(false);
  });

  it('with REPLICATE_DELETES=false, a copy that completes after the delete is kept, as every deleted object is', async () => {
    const { source, sink, deps } = setup('', { replicateDeletes: false });
    const n = source.put('src', 'o', Buffer.from('kept'));
    sink.beforeCommit = () => {
      sink.beforeCommit = undefined;
      source.archive('src', 'o');
    };
    expect(await replicateObject(finalize(n.generation), deps, signal)).toMatchObject({ status: 'copied' });
    expect(sink.objects.get('o')!.bytes.toString()).toBe('kept');
  });

  it('replaced (not deleted) while the copy streams: the copy stays until the newer generation replaces it', async () => {
    const { source, sink, deps } = setup('', { replicateDeletes: true });
    const n = source.put('src', 'o', Buffer.from('old'));
    let m: { generation: string } | undefined;
    sink.beforeCommit = () => {
      sink.beforeCommit = undefined;
      m = source.put('src', 'o', Buffer.from('new'));
    };
    expect(await replicateObject(finalize(n.generation), deps, signal)).toMatchObject({ status: 'copied' });
    expect(await replicateObject(finalize(m!.generation), deps, signal)).toMatchObject({ status: 'copied' });
    expect(sink.objects.get('o')!.bytes.toString()).toBe('new');
  });

  it('a listing hint does not bring back an object deleted since the listing', async () => {
    const { source, sink, deps } = setup('', { replicateDeletes: true });
    const n = source.put('src', 'o', Buffer.from('listed'));
    source.archive('src', 'o');
    const outcome = await replicateObject(finalize(n.generation), deps, signal, { source: n, absentInSink: true });
    expect(outcome).toMatchObject({ status: 'skipped', reason: 'source-missing' });
    expect(sink.objects.has('o')).toBe(false);
  });
});

describe('replicateObject: objects at its keys that gcs2s3 did not write', () => {
  it.each([
    ['no provenance', undefined],
    ['a generation that is not a number', 'v2-final'],
    ['an empty generation', ''],
    ['a generation beyond int64', '99999999999999999999'],
  ])('with %s: a copy replaces it, a metadata update leaves it, a delete removes it; none loops', async (_label, foreign) => {
    const { source, sink, deps } = setup('', { replicateDeletes: true });
    const n = source.put('src', 'o', Buffer.from('ours'));
    sink.seed('o', Buffer.from('theirs'), foreign);
    const update = await replicateObject({ kind: 'metadataUpdate', ref: { bucket: 'src', name: 'o', generation: n.generation } }, deps, signal);
    expect(update).toMatchObject({ status: 'skipped', reason: 'absent-at-destination' });
    expect(sink.objects.get('o')!.bytes.toString()).toBe('theirs');

    expect(await replicateObject({ kind: 'finalize', ref: { bucket: 'src', name: 'o', generation: n.generation } }, deps, signal)).toMatchObject({ status: 'copied' });
    expect(sink.objects.get('o')!.bytes.toString()).toBe('ours');

    sink.seed('o', Buffer.from('theirs again'), foreign);
    source.archive('src', 'o');
    expect(await replicateObject({ kind: 'delete', ref: { bucket: 'src', name: 'o', generation: n.generation } }, deps, signal)).toMatchObject({ status: 'deleted' });
    expect(sink.objects.has('o')).toBe(false);
  });
});

describe('replicateObject: a metadata update never replaces a newer generation', () => {
  it('a newer generation with the same bytes (same ETag) copied between the update\'s HEAD and its CopyObject ends in S3, with its own metadata', async () => {
    const { source, sink, deps } = setup('');
    sink.etagFromBytes = true;
    const n = source.put('src', 'o', Buffer.from('same bytes'), { contentType: 'text/plain' });
    await replicateObject({ kind: 'finalize', ref: { bucket: 'src', name: 'o', generation: n.generation } }, deps, signal);
    n.contentType = 'text/csv';
    let m: { generation: string } | undefined;
    sink.beforeUpdate = async () => {
      sink.beforeUpdate = undefined;
      m = source.put('src', 'o', Buffer.from('same bytes'), { contentType: 'application/json' });
      expect(await replicateObject({ kind: 'finalize', ref: { bucket: 'src', name: 'o', generation: m.generation } }, deps, signal)).toMatchObject({ status: 'copied' });
    };
    const outcome = await replicateObject({ kind: 'metadataUpdate', ref: { bucket: 'src', name: 'o', generation: n.generation } }, deps, signal);
    expect(outcome.status).not.toBe('failed');
    const stored = sink.objects.get('o')!;
    expect(stored.spec.metadata['gcs-generation']).toBe(m!.generation);
    expect(stored.spec.contentType).toBe('application/json');
  });

  it('a newer generation with other bytes written meanwhile fails the condition, and the update is skipped', async () => {
    const { source, sink, deps } = setup('');
    sink.etagFromBytes = true;
    const n = source.put('src', 'o', Buffer.from('old bytes'));
    await replicateObject({ kind: 'finalize', ref: { bucket: 'src', name: 'o', generation: n.generation } }, deps, signal);
    let m: { generation: string } | undefined;
    sink.beforeUpdate = async () => {
      sink.beforeUpdate = undefined;
      m = source.put('src', 'o', Buffer.from('new bytes'));
      await replicateObject({ kind: 'finalize', ref: { bucket: 'src', name: 'o', generation: m.generation } }, deps, signal);
    };
    const outcome = await replicateObject({ kind: 'metadataUpdate', ref: { bucket: 'src', name: 'o', generation: n.generation } }, deps, signal);
    expect(outcome).toMatchObject({ status: 'skipped', reason: 'newer-at-destination' });
    expect(sink.objects.get('o')!.spec.metadata['gcs-generation']).toBe(m!.generation);
  });
});

describe('replicateObject: objects in archive storage classes (GLACIER, DEEP_ARCHIVE)', () => {
  it('skips an archived copy of the same generation from its HEAD alone: no byte is read anywhere', async () => {
    const { source, sink, deps } = setup('');
    const g1 = source.put('src', 'o', Buffer.from('archived bytes'));
    await replicateObject({ kind: 'finalize', ref: { bucket: 'src', name: 'o', generation: g1.generation } }, deps, signal);
    sink.archivedKeys.add('o');
    const readsBefore = source.reads;
    const again = await replicateObject({ kind: 'finalize', ref: { bucket: 'src', name: 'o', generation: g1.generation } }, deps, signal);
    expect(again).toMatchObject({ status: 'skipped', reason: 'already-current' });
    expect(source.reads).toBe(readsBefore);
    // The Sink port has no read at all: the archived object is untouched.
    expect(sink.objects.get('o')!.bytes.toString()).toBe('archived bytes');
  });

  it('applies a metadata change to an archived copy by writing it again from GCS, never by an in-place copy', async () => {
    const { source, sink, deps } = setup('');
    const g1 = source.put('src', 'o', Buffer.from('cold'), { contentType: 'text/plain' });
    await replicateObject({ kind: 'finalize', ref: { bucket: 'src', name: 'o', generation: g1.generation } }, deps, signal);
    sink.archivedKeys.add('o');
    source.patch('src', 'o', { contentType: 'application/json', metadata: { tier: 'cold' } });
    const updated = await replicateObject({ kind: 'metadataUpdate', ref: { bucket: 'src', name: 'o', generation: g1.generation } }, deps, signal);
    expect(updated).toMatchObject({ status: 'updated' });
    const stored = sink.objects.get('o')!;
    expect(stored.bytes.toString()).toBe('cold');
    expect(stored.spec).toMatchObject({ contentType: 'application/json', metadata: { tier: 'cold', 'gcs-generation': g1.generation, 'gcs-metageneration': '2' } });
  });

  it('a newer generation replaces an archived copy of an older one', async () => {
    const { source, sink, deps } = setup('');
    const g1 = source.put('src', 'o', Buffer.from('old'));
    await replicateObject({ kind: 'finalize', ref: { bucket: 'src', name: 'o', generation: g1.generation } }, deps, signal);
    sink.archivedKeys.add('o');
    const g2 = source.put('src', 'o', Buffer.from('new'));
    const copied = await replicateObject({ kind: 'finalize', ref: { bucket: 'src', name: 'o', generation: g2.generation } }, deps, signal);
    expect(copied).toMatchObject({ status: 'copied', generation: g2.generation });
    expect(sink.objects.get('o')!.bytes.toString()).toBe('new');
  });
});
