/**
 * Child process (compiled, plain node): replicates every object under a GCS
 * prefix the way backfill does (a listing, then the real `replicateObject`
 * for each, MAX_CONCURRENT_OBJECTS at a time through p-limit), and counts
 * AssumeRoleWithWebIdentity calls through buildRuntime's `wrapAssumeRole`.
 *
 *   node bench/.build/bench/children/replicate-many.js BUCKET PREFIX KEY_PREFIX
 *
 * Prints one JSON line. `seconds` runs from the first list call to the last
 * copy, STS included (it happens once, inside).
 */
import pLimit from 'p-limit';
import { parseConfig } from '../../src/config/config.js';
import { silentLogger } from '../../src/log/logger.js';
import { buildRuntime } from '../../src/main/runtime.js';
import { replicateObject } from '../../src/replicate/replicate-object.js';
import { GcsLister } from '../../src/source/gcs-lister.js';
import { residentMiB, stackEnv } from '../support/env.js';

export interface ReplicateManyResult {
  objects: number;
  copied: number;
  failed: number;
  /** The first few failures, for the report. */
  failures: string[];
  seconds: number;
  stsCalls: number;
  concurrency: number;
  peakRssMiB: number;
}

async function main(bucket: string, prefix: string, keyPrefix: string): Promise<void> {
  const config = parseConfig({ ...stackEnv(), S3_KEY_PREFIX: keyPrefix }, { command: 'backfill', instanceId: `bench-${process.pid}` });
  let stsCalls = 0;
  const runtime = buildRuntime(config, silentLogger, {
    wrapAssumeRole: (assume) => (params) => {
      stsCalls++;
      return assume(params);
    },
  });
  const signal = new AbortController().signal;
  const concurrency = config.transfer.maxConcurrentObjects;
  const limit = pLimit(concurrency);
  const failures: string[] = [];
  let objects = 0;
  let copied = 0;
  try {
    const t0 = performance.now();
    const copies: Array<Promise<void>> = [];
    for await (const listed of new GcsLister(runtime.storage).list(bucket, prefix, signal)) {
      objects++;
      copies.push(
        limit(async () => {
          const outcome = await replicateObject({ kind: 'finalize', ref: { bucket, name: listed.name, generation: listed.generation } }, runtime.deps, signal);
          if (outcome.status === 'copied') copied++;
          else if (failures.length < 5) failures.push(`${listed.name}: ${outcome.status === 'failed' ? outcome.error.message : outcome.status}`);
        }),
      );
    }
    await Promise.all(copies);
    const result: ReplicateManyResult = {
      objects,
      copied,
      failed: objects - copied,
      failures,
      seconds: (performance.now() - t0) / 1000,
      stsCalls,
      concurrency,
      peakRssMiB: residentMiB().peak,
    };
    process.stdout.write(`${JSON.stringify(result)}\n`);
  } finally {
    runtime.close();
  }
}

const [bucket, prefix, keyPrefix] = process.argv.slice(2);
if (bucket === undefined || prefix === undefined || keyPrefix === undefined) {
  process.stderr.write('usage: replicate-many.js BUCKET PREFIX KEY_PREFIX\n');
  process.exitCode = 2;
} else {
  await main(bucket, prefix, keyPrefix);
}
