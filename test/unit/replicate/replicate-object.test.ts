import { describe, expect, it } from 'vitest';
import { IntegrityError, PermanentError } from '../../../src/errors.js';
import { replicateObject, type ReplicateDeps } from '../../../src/replicate/replicate-object.js';
import { FakeSink, FakeSource } from '../../support/fakes.js';

const signal = new AbortController().signal;

function setup(keyPrefix = 'gcs/') {
  const source = new FakeSource();
  const sink = new FakeSink();
  const deps: ReplicateDeps = { source, sink, keyPrefix };
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
    expect(stored.spec.metadata).toEqual({ owner: 'team-x', 'gcs-bucket': 'src', 'gcs-generation': meta.generation, 'gcs-crc32c': meta.crc32c });
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

  it('with hints from a listing, copies with one read and one write: no HEAD, no metadata read', async () => {
    const { source, sink, deps } = setup('');
    const meta = source.put('src', 'o', Buffer.from('listed'), { contentType: 'text/plain' });
    const outcome = await replicateObject({ kind: 'finalize', ref: { bucket: 'src', name: 'o', generation: meta.generation } }, deps, signal, { source: meta, absentInSink: true });
    expect(outcome).toMatchObject({ status: 'copied', generation: meta.generation });
    expect({ heads: sink.heads, stats: source.stats, reads: source.reads, writes: sink.writes }).toEqual({ heads: 0, stats: 0, reads: 1, writes: 1 });
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

  it('re-decides after losing a race: a newer generation written meanwhile wins', async () => {
    const { source, sink, deps } = setup('');
    const g1 = source.put('src', 'o', Buffer.from('old'));
    const g2 = source.put('src', 'o', Buffer.from('new'));
    sink.beforeCommit = (key) => {
      sink.beforeCommit = undefined;
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
