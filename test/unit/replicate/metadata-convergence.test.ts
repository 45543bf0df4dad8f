import { describe, expect, it } from 'vitest';
import type { ObjectEvent } from '../../../src/model.js';
import { replicateObject, type ReplicateDeps } from '../../../src/replicate/replicate-object.js';
import { FakeSink, FakeSource } from '../../support/fakes.js';

const signal = new AbortController().signal;

function setup() {
  const source = new FakeSource();
  const sink = new FakeSink();
  const deps: ReplicateDeps = { source, sink, keyPrefix: '' };
  return { source, sink, deps };
}

const finalize = (generation?: string): ObjectEvent => ({ kind: 'finalize', ref: { bucket: 'src', name: 'o', generation } });
const metadataUpdate = (generation: string): ObjectEvent => ({ kind: 'metadataUpdate', ref: { bucket: 'src', name: 'o', generation } });

describe('metadata updates and copies converge on the newest metageneration', () => {
  it('records the metageneration in provenance', async () => {
    const { source, sink, deps } = setup();
    const g = source.put('src', 'o', Buffer.from('x'), { metageneration: '3' });
    await replicateObject(finalize(g.generation), deps, signal);
    expect(sink.objects.get('o')!.spec.metadata['gcs-metageneration']).toBe('3');
  });

  it.each([
    ['GCS bumps the metageneration', true],
    ['the metageneration stays (fake-gcs-server), headers differ', false],
  ])('an update arriving while the copy streams is not lost (%s)', async (_label, bump) => {
    const { source, sink, deps } = setup();
    const g = source.put('src', 'o', Buffer.from('streaming'), { contentType: 'text/plain', metadata: { state: 'draft' } });
    let raced: Awaited<ReturnType<typeof replicateObject>> | undefined;
    sink.beforeCommit = async () => {
      sink.beforeCommit = undefined;
      // The copy read the old metadata; the change and its event land before the copy completes.
      source.patch('src', 'o', { contentType: 'text/csv', metadata: { state: 'final' } }, { bumpMetageneration: bump });
      raced = await replicateObject(metadataUpdate(g.generation), deps, signal);
    };
    const copied = await replicateObject(finalize(g.generation), deps, signal);
    expect(raced).toMatchObject({ status: 'skipped', reason: 'absent-at-destination' });
    expect(copied).toMatchObject({ status: 'copied', generation: g.generation });
    const stored = sink.objects.get('o')!;
    expect(stored.spec.contentType).toBe('text/csv');
    expect(stored.spec.metadata.state).toBe('final');
    expect(stored.spec.metadata['gcs-metageneration']).toBe(bump ? '2' : '1');
  });

  it.each([
    ['a pinned FINALIZE redelivered', true],
    ['`gcs2s3 copy` without a generation', false],
  ])('%s applies metadata changed since the copy, in place', async (_label, pinned) => {
    const { source, sink, deps } = setup();
    const g = source.put('src', 'o', Buffer.from('bytes'), { cacheControl: 'no-cache' });
    await replicateObject(finalize(g.generation), deps, signal);
    source.patch('src', 'o', { cacheControl: 'public, max-age=60' });
    const outcome = await replicateObject(finalize(pinned ? g.generation : undefined), deps, signal);
    expect(outcome).toMatchObject({ status: 'updated', generation: g.generation });
    expect(sink.writes).toBe(1);
    expect(sink.objects.get('o')!.spec).toMatchObject({ cacheControl: 'public, max-age=60', metadata: { 'gcs-metageneration': '2' } });
    // Nothing changed since: skipped again, no write.
    expect(await replicateObject(finalize(pinned ? g.generation : undefined), deps, signal)).toMatchObject({ status: 'skipped', reason: 'already-current' });
  });

  it('two racing metadata updates end with the newest, whatever order their writes land in', async () => {
    const { source, sink, deps } = setup();
    // In-place copies keep the ETag: the condition alone cannot order the two writes.
    sink.etagFromBytes = true;
    const g = source.put('src', 'o', Buffer.from('bytes'));
    await replicateObject(finalize(g.generation), deps, signal);
    source.patch('src', 'o', { contentLanguage: 'fr' });
    sink.beforeUpdate = async () => {
      sink.beforeUpdate = undefined;
      // Update A read metageneration 2; B reads and applies 3 before A writes.
      source.patch('src', 'o', { contentLanguage: 'de' });
      await replicateObject(metadataUpdate(g.generation), deps, signal);
    };
    const a = await replicateObject(metadataUpdate(g.generation), deps, signal);
    expect(a).toMatchObject({ status: 'updated' });
    expect(sink.objects.get('o')!.spec).toMatchObject({ contentLanguage: 'de', metadata: { 'gcs-metageneration': '3' } });
  });

  it('a stale read never takes back a newer metageneration at the destination', async () => {
    const { source, sink, deps } = setup();
    const g = source.put('src', 'o', Buffer.from('bytes'), { metageneration: '5', contentType: 'a/b' });
    await replicateObject(finalize(g.generation), deps, signal);
    // The destination says 5; a copy holding a read of metageneration 4 finds it current.
    const stale = { ...g, metageneration: '4', contentType: 'old/type' };
    const outcome = await replicateObject(finalize(g.generation), deps, signal, { source: stale });
    expect(outcome).toMatchObject({ status: 'skipped', reason: 'already-current' });
    expect(sink.objects.get('o')!.spec.contentType).toBe('a/b');
  });
});
