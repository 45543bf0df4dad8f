import { describe, expect, it } from 'vitest';
import type { ObjectEvent } from '../../../src/model.js';
import { replicateObject, type ReplicateDeps } from '../../../src/replicate/replicate-object.js';
import { FakeSink, FakeSource } from '../../support/fakes.js';

const signal = new AbortController().signal;
const BIG = Buffer.from('sixteen bytes!!!');
const KEY = 'o';

/** A sink whose writes over 10 bytes would be multipart: BIG is "large", a few bytes are not. */
function setup() {
  const source = new FakeSource();
  const sink = new FakeSink();
  sink.multipartAbove = 10;
  const deps: ReplicateDeps = { source, sink, keyPrefix: '', replicateDeletes: true };
  return { source, sink, deps };
}

const finalize = (generation: string | undefined, size?: number): ObjectEvent => ({ kind: 'finalize', ref: { bucket: 'src', name: KEY, generation }, ...(size === undefined ? {} : { size }) });
/** S3 holds `generation` as a copy made it (headers and all), as before a repeated event. */
async function copied(deps: ReplicateDeps, generation: string): Promise<void> {
  expect(await replicateObject(finalize(generation), deps, signal)).toMatchObject({ status: 'copied' });
}
const uploadsAt = (sink: FakeSink): string[] => (sink.uploads.get(KEY) ?? []).map((u) => u.uploadId);

describe('stranded uploads: handling a key without a copy aborts what no copy will finish', () => {
  it.each([
    {
      name: 'delete of the object',
      arrange: async ({ source, deps }: ReturnType<typeof setup>) => {
        const g1 = source.put('src', KEY, BIG);
        await copied(deps, g1.generation);
        source.delete('src', KEY);
        return { kind: 'delete', ref: { bucket: 'src', name: KEY, generation: g1.generation }, size: BIG.length } satisfies ObjectEvent;
      },
      expected: { status: 'deleted' },
    },
    {
      name: 'the killed generation again, deleted from GCS since (source missing)',
      arrange: async ({ source }: ReturnType<typeof setup>) => {
        const g1 = source.put('src', KEY, BIG);
        source.delete('src', KEY);
        return finalize(g1.generation, BIG.length);
      },
      expected: { status: 'skipped', reason: 'source-missing' },
    },
    {
      name: 'the same generation again, already in S3 and still live',
      arrange: async ({ source, deps }: ReturnType<typeof setup>) => {
        const g1 = source.put('src', KEY, BIG);
        await copied(deps, g1.generation);
        return finalize(g1.generation, BIG.length);
      },
      expected: { status: 'skipped', reason: 'already-current' },
    },
    {
      name: 'an older generation, S3 holding the live one (newer at destination)',
      arrange: async ({ source, deps }: ReturnType<typeof setup>) => {
        const g1 = source.put('src', KEY, BIG);
        const g2 = source.put('src', KEY, Buffer.from('small'));
        await copied(deps, g2.generation);
        return finalize(g1.generation, BIG.length);
      },
      expected: { status: 'skipped', reason: 'newer-at-destination' },
    },
    {
      name: 'an event without a size (gcs2s3 copy of a pinned generation): looked for anyway',
      arrange: async ({ source }: ReturnType<typeof setup>) => {
        const g1 = source.put('src', KEY, BIG);
        source.delete('src', KEY);
        return finalize(g1.generation);
      },
      expected: { status: 'skipped', reason: 'source-missing' },
    },
  ])('$name: aborts the upload and counts it', async ({ arrange, expected }) => {
    const ctx = setup();
    const event = await arrange(ctx);
    ctx.sink.strand(KEY, 'killed-copy');
    ctx.sink.strand('o/longer-key', 'another-object');
    const outcome = await replicateObject(event, ctx.deps, signal);
    expect(outcome).toMatchObject({ ...expected, strandedUploadsAborted: 1 });
    expect(uploadsAt(ctx.sink)).toEqual([]);
    // Exactly the key: an upload at a longer key sharing it as a prefix is another object's.
    expect(ctx.sink.uploads.get('o/longer-key')?.map((u) => u.uploadId)).toEqual(['another-object']);
  });

  it('keeps the upload while GCS has a live generation S3 lacks: that generation\'s copy owns the key', async () => {
    const { source, sink, deps } = setup();
    const g1 = source.put('src', KEY, BIG);
    await copied(deps, g1.generation);
    const g2 = source.put('src', KEY, Buffer.from('another big object'));
    sink.strand(KEY, 'copy-of-g2-in-progress');
    // A late event for g1 after the overwrite, g2 not yet in S3.
    const outcome = await replicateObject(finalize(g1.generation, BIG.length), deps, signal);
    expect(outcome).toMatchObject({ status: 'skipped', reason: 'already-current', strandedUploadsAborted: 0 });
    expect(uploadsAt(sink)).toEqual(['copy-of-g2-in-progress']);
    expect(g2.generation).not.toBe(g1.generation);
  });

  it('never aborts an upload created after its listing, nor one for a generation written after it', async () => {
    const { source, sink, deps } = setup();
    const g1 = source.put('src', KEY, BIG);
    await copied(deps, g1.generation);
    sink.strand(KEY, 'stranded');
    sink.afterListUploads = () => sink.strand(KEY, 'started-after-the-listing');
    const outcome = await replicateObject(finalize(g1.generation, BIG.length), deps, signal);
    expect(outcome).toMatchObject({ status: 'skipped', reason: 'already-current', strandedUploadsAborted: 1 });
    expect(uploadsAt(sink)).toEqual(['started-after-the-listing']);

    // A new generation written between the listing and the check: its upload is left alone.
    sink.afterListUploads = () => {
      source.put('src', KEY, Buffer.from('a newer big generation'));
      sink.strand(KEY, 'copy-of-the-newer-generation');
    };
    const late = await replicateObject(finalize(g1.generation, BIG.length), deps, signal);
    expect(late).toMatchObject({ status: 'skipped', strandedUploadsAborted: 0 });
    expect(uploadsAt(sink)).toEqual(['started-after-the-listing', 'copy-of-the-newer-generation']);
  });

  it.each([
    { name: 'a small generation (no copy of it can be multipart): no listing at all', size: 5, copy: false },
    { name: 'a copy (its own upload clears other uploads at the key)', size: BIG.length, copy: true },
  ])('$name', async ({ size, copy }) => {
    const { source, sink, deps } = setup();
    const bytes = size === BIG.length ? BIG : Buffer.from('small');
    const g1 = source.put('src', KEY, bytes);
    if (!copy) await copied(deps, g1.generation);
    sink.strand(KEY, 'stranded');
    const outcome = await replicateObject(finalize(g1.generation, size), deps, signal);
    expect(outcome.status).toBe(copy ? 'copied' : 'skipped');
    expect(outcome.strandedUploadsAborted).toBeUndefined();
    expect(sink.uploadListings).toBe(0);
    expect(uploadsAt(sink)).toEqual(['stranded']);
  });

  it('an event without a size takes it from a backfill listing: a small generation, no listing', async () => {
    const { source, sink, deps } = setup();
    const small = Buffer.from('small');
    const g1 = source.put('src', KEY, small);
    await copied(deps, g1.generation);
    sink.strand(KEY, 'stranded');
    const listed = (await source.stat({ bucket: 'src', name: KEY }))!;
    const outcome = await replicateObject(finalize(g1.generation), deps, signal, { source: listed });
    expect(outcome.status).toBe('skipped');
    expect(sink.uploadListings).toBe(0);
  });

  it('a metadata update never looks', async () => {
    const { source, sink, deps } = setup();
    const g1 = source.put('src', KEY, BIG);
    await copied(deps, g1.generation);
    sink.strand(KEY, 'stranded');
    await replicateObject({ kind: 'metadataUpdate', ref: { bucket: 'src', name: KEY, generation: g1.generation }, size: BIG.length }, deps, signal);
    expect(sink.uploadListings).toBe(0);
  });

  it('nothing stranded: one listing, counted as zero', async () => {
    const { source, sink, deps } = setup();
    const g1 = source.put('src', KEY, BIG);
    await copied(deps, g1.generation);
    const outcome = await replicateObject(finalize(g1.generation, BIG.length), deps, signal);
    expect(outcome).toMatchObject({ status: 'skipped', strandedUploadsAborted: 0 });
    expect(sink.uploadListings).toBe(1);
  });
});
