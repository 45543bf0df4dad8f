/**
 * The seeded chaos soak, short (issue #11 part 5): two `gcs2s3 pull` worker
 * processes on a subscription of their own on the stack's notification topic,
 * every call through Toxiproxy and the HTTP fault proxy, faults switched on
 * and off, workers killed and restarted, a writer uploading, overwriting,
 * patching and deleting, notifications duplicated out of order, for two
 * minutes with a fixed seed. Then S3 must equal GCS (verify, and every object
 * read back), no multipart upload may be left after the cleanup pass, and no
 * log line may hold a secret the run handed out. `npm run soak` is the long one.
 */
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AbortMultipartUploadCommand, CreateMultipartUploadCommand } from '@aws-sdk/client-s3';
import type { PubSub, Subscription } from '@google-cloud/pubsub';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestSubscription, pubsubClient } from '../support/pubsub.js';
import { listStranded, scanLogs } from '../support/soak/checks.js';
import { newIssuedSecrets } from '../support/soak/legs.js';
import { prng } from '../support/soak/prng.js';
import { runSoak, type SoakResult } from '../support/soak/run-soak.js';
import { adminS3, ROOT, stackEnv, uniquePrefix, useStackEnv } from '../support/stack.js';

const SEED = Number(process.env.SOAK_SEED ?? 20261201);
const MINUTES = 2;
/** Toxiproxy at 18774, its proxies at 18701–18704, the workers' health ports 18711–18712. */
const PORT_BASE = 18_700;

let pubsub: PubSub;
let subscription: Subscription;
let result: SoakResult;
const replay = `SOAK_SEED=${SEED} npx vitest run --project integration test/integration/soak.test.ts`;

beforeAll(async () => {
  useStackEnv();
  pubsub = pubsubClient();
  const env = stackEnv();
  // A subscription of the soak's own (the stack's is shared with other tests); workers also filter by the run's prefix.
  subscription = await createTestSubscription(pubsub, env.PUBSUB_TOPIC!, 10);
  const lines: string[] = [];
  result = await runSoak({
    seed: SEED,
    minutes: MINUTES,
    env,
    subscription: subscription.name,
    portBase: PORT_BASE,
    runDir: join(ROOT, '.soak', `test-${new Date().toISOString().replace(/[:.]/g, '-')}-seed${SEED}`),
    profile: 'short',
    say: (line) => lines.push(line),
  });
  console.log(lines.join('\n'));
  if (!result.passed) console.error(`soak failed with seed ${result.seed}; replay: ${replay}\n${JSON.stringify({ verify: result.verify, wrongBytes: result.wrongBytes, stranded: result.stranded, secretsFound: result.secretsFound }, null, 2)}`);
}, 15 * 60_000);

afterAll(async () => {
  await subscription?.delete().catch(() => undefined);
  await pubsub?.close();
});

describe(`the seeded soak (seed ${SEED}, ${MINUTES} minutes)`, () => {
  it('injected faults of many kinds, killed workers, and wrote, overwrote, patched and deleted', () => {
    expect(Object.keys(result.faults.switchedOn).length).toBeGreaterThanOrEqual(6);
    expect(result.kills.SIGKILL + result.kills.SIGTERM).toBeGreaterThan(0);
    expect(result.kills.restarts).toBeGreaterThan(0);
    for (const op of ['upload', 'overwrite', 'patch', 'delete'] as const) expect(result.writes[op].count, op).toBeGreaterThan(0);
    expect(result.duplicates.published).toBeGreaterThan(0);
    expect(result.deliveries.copied).toBeGreaterThan(0);
  });

  it('ends with S3 equal to GCS: nothing lost, nothing wrong, every object read back', () => {
    expect(result.verify?.complete).toBe(true);
    expect({ lost: result.lost, wrong: result.wrong, wrongBytes: result.wrongBytes }).toEqual({ lost: 0, wrong: 0, wrongBytes: [] });
    expect(result.bytesChecked).toBe(result.verify?.listed?.gcs);
    expect(result.correct).toBe(result.bytesChecked);
  });

  it('leaves no multipart upload after the cleanup pass', () => {
    expect(result.stranded).toEqual([]);
  });

  it('logged none of the ID tokens and STS credentials it handed out, nor a signed URL', () => {
    expect(result.secretsIssued.idTokens).toBeGreaterThan(0);
    expect(result.secretsIssued.stsCredentials).toBeGreaterThan(0);
    // Every delivery wrote an outcome line, and each was read.
    expect(result.logLinesScanned).toBeGreaterThan(Object.values(result.deliveries).reduce((a, b) => a + b, 0));
    expect(result.secretsFound).toEqual([]);
  });
});

describe("the soak's own checks", () => {
  it('draws the same schedule from the same seed, another from another seed or stream', () => {
    const draw = (seed: number, label: string) => {
      const r = prng(seed, label);
      return Array.from({ length: 50 }, () => r.int(0, 1e9));
    };
    expect(draw(SEED, 'faults')).toEqual(draw(SEED, 'faults'));
    expect(draw(SEED, 'faults')).not.toEqual(draw(SEED + 1, 'faults'));
    expect(draw(SEED, 'faults')).not.toEqual(draw(SEED, 'kills'));
  });

  it('counts a multipart upload left in progress under a prefix, and none once it is aborted', async () => {
    const s3 = adminS3();
    const bucket = stackEnv().S3_BUCKET!;
    const prefix = uniquePrefix('soak-stranded');
    try {
      const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: `${prefix}left.bin` }));
      // MinIO answers a Prefix only when it is a whole key: the bucket-wide list must find it, and asking by key too finds it once.
      expect(await listStranded(s3, bucket, prefix)).toEqual([expect.objectContaining({ key: `${prefix}left.bin`, uploadId: UploadId })]);
      expect(await listStranded(s3, bucket, prefix, [`${prefix}left.bin`, `${prefix}other.bin`])).toEqual([expect.objectContaining({ key: `${prefix}left.bin`, uploadId: UploadId })]);
      await s3.send(new AbortMultipartUploadCommand({ Bucket: bucket, Key: `${prefix}left.bin`, UploadId }));
      expect(await listStranded(s3, bucket, prefix)).toEqual([]);
    } finally {
      s3.destroy();
    }
  });

  it('finds a secret it was given, whole or as a JWT signature, and signed-URL parameters', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'soak-scan-'));
    const file = join(dir, 'x.log');
    await writeFile(file, ['{"msg":"ok"}', '{"token":"aaa.bbb.sig-123"}', 'sig-123 alone', 'SECRETKEY', 'u?X-Goog-Signature=ab', '{"msg":"ok"}'].join('\n'));
    const secrets = newIssuedSecrets();
    secrets.idTokens.add('aaa.bbb.sig-123');
    secrets.stsSecrets.add('SECRETKEY');
    const { findings } = await scanLogs([file], secrets);
    expect(findings.map((f) => [f.kind, f.line])).toEqual([
      ['ID token', 2],
      ['ID token signature', 2],
      ['ID token signature', 3],
      ['STS secret access key', 4],
      ['signed URL (X-Goog-Signature=)', 5],
    ]);
  });
});
