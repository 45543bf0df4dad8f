import { describe, expect, it } from 'vitest';
import { IntegrityError } from '../../../src/errors.js';
import type { OpenBody, WriteCondition, WriteSpec } from '../../../src/replicate/ports.js';
import { replicateObject } from '../../../src/replicate/replicate-object.js';
import { FakeSink, FakeSource } from '../../support/fakes.js';

const signal = new AbortController().signal;

/** A sink that, like a resumed upload, opens the body at `start` and keeps what it read. */
class ResumingSink extends FakeSink {
  read: Buffer | undefined;
  constructor(private readonly start: number) {
    super();
  }

  override async write(key: string, body: OpenBody, spec: WriteSpec, condition: WriteCondition): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of body(this.start)) chunks.push(chunk as Buffer);
    this.read = Buffer.concat(chunks);
    await super.write(key, () => body(0), spec, condition);
  }
}

describe('replicateObject: the body a resumed upload opens', () => {
  it('reads from the byte asked for to the end, and checks the length of that range only', async () => {
    const source = new FakeSource();
    const bytes = Buffer.from(Array.from({ length: 5000 }, (_, i) => i % 251));
    const meta = source.put('src', 'big', bytes);
    const sink = new ResumingSink(3000);
    const outcome = await replicateObject({ kind: 'finalize', ref: { bucket: 'src', name: 'big', generation: meta.generation } }, { source, sink, keyPrefix: '' }, signal);
    expect(outcome).toMatchObject({ status: 'copied', bytes: bytes.length });
    expect(sink.read?.equals(bytes.subarray(3000))).toBe(true);
  });

  it("a whole read (from byte 0) is still checked against GCS's CRC32C", async () => {
    const source = new FakeSource();
    const meta = source.put('src', 'o', Buffer.from('some bytes of the object'));
    source.corrupt = true;
    const outcome = await replicateObject({ kind: 'finalize', ref: { bucket: 'src', name: 'o', generation: meta.generation } }, { source, sink: new FakeSink(), keyPrefix: '' }, signal);
    expect(outcome).toMatchObject({ status: 'failed' });
    if (outcome.status === 'failed') expect(outcome.error).toBeInstanceOf(IntegrityError);
  });
});
