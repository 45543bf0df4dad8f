import { afterEach, describe, expect, it } from 'vitest';
import { silentLogger } from '../../../src/log/logger.js';
import type { ObjectRef, SourceObject } from '../../../src/model.js';
import { EventPipeline } from '../../../src/pipeline/event-pipeline.js';
import { noAuthentication } from '../../../src/server/authenticate.js';
import { startServer, type RunningServer } from '../../../src/server/server.js';
import { FakeSink, FakeSource } from '../../support/fakes.js';

/** A source whose metadata reads hang until released: a copy stuck where no deadline reaches. */
class StuckSource extends FakeSource {
  #release: () => void = () => undefined;
  readonly #held = new Promise<void>((resolve) => (this.#release = resolve));

  release(): void {
    this.#release();
  }

  override async stat(ref: ObjectRef): Promise<SourceObject | undefined> {
    await this.#held;
    return super.stat(ref);
  }
}

let server: RunningServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

describe('GET /healthz of serve', () => {
  it('answers 503 while a copy has been stuck past the liveness timeout, and 200 again once it settles', async () => {
    const source = new StuckSource();
    const meta = source.put('src', 'stuck.txt', Buffer.from('x'));
    const pipeline = new EventPipeline({ deps: { source, sink: new FakeSink(), keyPrefix: '' }, logger: silentLogger, livenessMs: 100, drainMs: 100 });
    server = await startServer({ pipeline, policy: { sourceBuckets: [], includePrefixes: [], excludePrefixes: [], replicateDeletes: false }, logger: silentLogger, authenticator: noAuthentication, maxConcurrentObjects: 2, port: 0, host: '127.0.0.1' });
    const health = async () => (await fetch(`${server!.url}/healthz`)).status;
    const attributes = { eventType: 'OBJECT_FINALIZE', payloadFormat: 'NONE', bucketId: 'src', objectId: 'stuck.txt', objectGeneration: meta.generation };
    const push = fetch(`${server.url}/pubsub/push`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ message: { data: '', attributes, messageId: 'm1' }, subscription: 'projects/p/subscriptions/s' }) });
    expect(await health()).toBe(200);
    await new Promise((r) => setTimeout(r, 200));
    expect(await health()).toBe(503);
    source.release();
    expect((await push).status).toBe(204);
    expect(await health()).toBe(200);
  });
});
