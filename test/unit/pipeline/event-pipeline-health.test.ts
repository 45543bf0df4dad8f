import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import type { Decoded } from '../../../src/events/types.js';
import { createLogger } from '../../../src/log/logger.js';
import type { ObjectRef, SourceObject } from '../../../src/model.js';
import { EventPipeline } from '../../../src/pipeline/event-pipeline.js';
import { FakeSink, FakeSource } from '../../support/fakes.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const finalize = (name: string, generation: string): Decoded => ({ type: 'event', event: { kind: 'finalize', ref: { bucket: 'src', name, generation } } });

/** A source whose metadata reads wait until released, and whose reads the test feeds by hand. */
class ControlledSource extends FakeSource {
  #release: () => void = () => undefined;
  readonly held = new Promise<void>((resolve) => (this.#release = resolve));
  readonly body = new Readable({ read() {} });
  holdStat = false;

  release(): void {
    this.#release();
  }

  override async stat(ref: ObjectRef): Promise<SourceObject | undefined> {
    if (this.holdStat) await this.held;
    return super.stat(ref);
  }

  override read(): Readable {
    return this.body;
  }
}

function setup() {
  let t = 1_000_000;
  const source = new ControlledSource();
  const lines: Array<Record<string, unknown>> = [];
  const logger = createLogger({ level: 'debug', write: (line) => lines.push(JSON.parse(line) as Record<string, unknown>) });
  const pipeline = new EventPipeline({ deps: { source, sink: new FakeSink(), keyPrefix: '' }, logger, livenessMs: 1000, now: () => t });
  return { source, lines, pipeline, advance: (ms: number) => (t += ms) };
}

describe('EventPipeline health (the progress clock behind /healthz)', () => {
  it('is healthy while idle, however long nothing happens', () => {
    const { pipeline, advance } = setup();
    advance(3_600_000);
    expect(pipeline.health()).toEqual({ healthy: true, inFlight: 0, silentForMs: 0 });
  });

  it('turns unhealthy once a delivery is in flight past livenessMs with no progress, says so once, and recovers when it settles', async () => {
    const { source, pipeline, lines, advance } = setup();
    const meta = source.put('src', 'a.txt', Buffer.from('hello'));
    source.holdStat = true;
    const handled = pipeline.handle(finalize('a.txt', meta.generation), { via: 'pull' });
    advance(1000);
    expect(pipeline.health()).toMatchObject({ healthy: true, inFlight: 1 });
    advance(1);
    expect(pipeline.health()).toEqual({ healthy: false, inFlight: 1, silentForMs: 1001 });
    expect(pipeline.health().healthy).toBe(false);
    expect(lines.filter((l) => l.severity === 'ERROR').map((l) => l.message)).toEqual(['no progress for 1 s with 1 copies in flight: reporting unhealthy, so the platform restarts this process']);
    source.body.push(null);
    source.release();
    await handled;
    expect(pipeline.health()).toEqual({ healthy: true, inFlight: 0, silentForMs: 0 });
    expect(lines.some((l) => l.message === 'progress again: reporting healthy')).toBe(true);
  });

  it('counts every chunk read from the source as progress, so a long copy that moves stays healthy', async () => {
    const { source, pipeline, advance } = setup();
    const bytes = Buffer.from('x'.repeat(30));
    const meta = source.put('src', 'long.bin', bytes);
    const handled = pipeline.handle(finalize('long.bin', meta.generation), { via: 'pull' });
    for (let i = 0; i < 3; i++) {
      advance(900);
      source.body.push(bytes.subarray(i * 10, i * 10 + 10));
      await sleep(10);
      expect(pipeline.health().healthy).toBe(true);
    }
    advance(1001);
    expect(pipeline.health().healthy).toBe(false);
    source.body.push(null);
    expect(await handled).toMatchObject({ outcome: { status: 'copied', bytes: 30 } });
  });
});
