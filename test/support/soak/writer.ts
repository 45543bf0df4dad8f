import { createCipheriv, createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Bucket } from '@google-cloud/storage';
import { sleep, type Prng } from './prng.js';

const KiB = 1024;
const MiB = 1024 * KiB;

export type WriteOp = 'upload' | 'overwrite' | 'patch' | 'delete';

/** What the writer did, by kind of operation. */
export type WriterTally = Record<WriteOp, { count: number; bytes: number; failed: number }>;

/** Objects written (uploads and overwrites) by size band, and the largest. */
export interface SizeTally {
  bands: Record<string, number>;
  largest: number;
}

/** The band a size falls in, as the docs name it. */
export function sizeBand(size: number): string {
  if (size === 0) return '0 B';
  if (size <= 64 * KiB) return '1 B – 64 KiB';
  if (size <= 5 * MiB) return '64 KiB – 5 MiB';
  if (size <= 32 * MiB) return '5 – 32 MiB';
  return '32 – 200 MiB';
}

export function newWriterTally(): WriterTally {
  return { upload: { count: 0, bytes: 0, failed: 0 }, overwrite: { count: 0, bytes: 0, failed: 0 }, patch: { count: 0, bytes: 0, failed: 0 }, delete: { count: 0, bytes: 0, failed: 0 } };
}

export interface WriterOptions {
  prefix: string;
  /** Names are drawn from this many, so uploads, overwrites and deletes meet. */
  names: number;
  /** Pause between two operations, ms. */
  minGapMs: number;
  maxGapMs: number;
  /** The largest object, MiB (the brief: ~200). */
  maxObjectMiB: number;
  /** At most one object over 32 MiB per this many operations: keeps the in-memory GCS emulator bounded. */
  bigEveryOps: number;
}

/** Deterministic bytes for op number `op` of `seed` (AES-256-CTR keystream): replays write the same bytes. */
function bytesStream(seed: number, op: number, size: number): Readable {
  const key = createHash('sha256').update(`soak-bytes:${seed}:${op}`).digest();
  const cipher = createCipheriv('aes-256-ctr', key, Buffer.alloc(16));
  const zeros = Buffer.alloc(MiB);
  let left = size;
  return Readable.from(
    (function* () {
      while (left > 0) {
        const n = Math.min(left, MiB);
        left -= n;
        yield cipher.update(n === MiB ? zeros : zeros.subarray(0, n));
      }
    })(),
  );
}

function pickSize(rng: Prng, opts: WriterOptions, bigAllowed: boolean): number {
  const band = rng.weighted<[number, number]>([
    [[0, 0], 8],
    [[1, 64 * KiB], 50],
    [[64 * KiB, 5 * MiB], 25],
    [[5 * MiB, 32 * MiB], 14],
    [[32 * MiB, opts.maxObjectMiB * MiB], bigAllowed ? 3 : 0],
  ]);
  return rng.int(band[0], Math.max(band[0], Math.min(band[1], opts.maxObjectMiB * MiB)));
}

/** Odd names too: no extension, a space, a deeper path with a non-ASCII character. */
const SUFFIXES = ['.bin', '', '.txt', ' with space', '/deep/é'];

const CONTENT_TYPES = ['application/octet-stream', 'text/plain; charset=utf-8', 'image/png', 'application/json', 'text/csv'];

/** Headers and custom metadata, drawn at random (some absent). */
function pickHeaders(rng: Prng): Record<string, unknown> {
  const metadata: Record<string, string> = {};
  for (let i = rng.int(0, 3); i > 0; i--) metadata[`k${rng.int(0, 5)}`] = `v${rng.int(0, 1e6)}`;
  return {
    contentType: rng.pick(CONTENT_TYPES),
    ...(rng.chance(0.3) ? { cacheControl: rng.pick(['no-cache', 'public, max-age=60', 'private, max-age=0']) } : {}),
    ...(rng.chance(0.2) ? { contentDisposition: `attachment; filename="f${rng.int(0, 99)}.bin"` } : {}),
    ...(rng.chance(0.15) ? { contentLanguage: rng.pick(['en', 'fr', 'de']) } : {}),
    metadata,
  };
}

/** A metadata patch: a header changed, a custom key set, or one removed (null). */
function pickPatch(rng: Prng): Record<string, unknown> {
  switch (rng.int(0, 3)) {
    case 0:
      return { contentType: rng.pick(CONTENT_TYPES) };
    case 1:
      return { metadata: { [`k${rng.int(0, 5)}`]: `p${rng.int(0, 1e6)}` } };
    case 2:
      return { metadata: { [`k${rng.int(0, 5)}`]: null } };
    default:
      return { cacheControl: rng.pick(['no-store', 'public, max-age=3600']), metadata: { patched: String(rng.int(0, 1e6)) } };
  }
}

/** Every name the writer may use under `opts`. */
export function writerNames(opts: Pick<WriterOptions, 'prefix' | 'names'>): string[] {
  return Array.from({ length: opts.names }, (_, index) => objectName(opts.prefix, index));
}

function objectName(prefix: string, index: number): string {
  return `${prefix}obj-${String(index).padStart(3, '0')}${SUFFIXES[index % SUFFIXES.length]}`;
}

/** Writes to `bucket` until `signal` aborts: uploads, overwrites, metadata patches and deletes, as `rng` says. */
export async function runWriter(bucket: Bucket, seed: number, rng: Prng, opts: WriterOptions, tally: WriterTally, sizes: SizeTally, signal: AbortSignal): Promise<void> {
  const exists = new Set<string>();
  let lastBig = -opts.bigEveryOps / 2;
  for (let op = 0; !signal.aborted; op++) {
    const index = rng.int(0, opts.names - 1);
    const name = objectName(opts.prefix, index);
    const kind: WriteOp = !exists.has(name) ? 'upload' : rng.weighted<WriteOp>([['overwrite', 45], ['patch', 30], ['delete', 25]]);
    const size = kind === 'upload' || kind === 'overwrite' ? pickSize(rng, opts, op - lastBig >= opts.bigEveryOps) : 0;
    const headers = pickHeaders(rng);
    const patch = pickPatch(rng);
    const gap = rng.between(opts.minGapMs, opts.maxGapMs);
    if (size > 32 * MiB) lastBig = op;
    try {
      const file = bucket.file(name);
      if (kind === 'patch') await file.setMetadata(patch);
      else if (kind === 'delete') await file.delete();
      else await pipeline(bytesStream(seed, op, size), file.createWriteStream({ resumable: false, validation: false, gzip: false, metadata: headers }));
      if (kind === 'delete') exists.delete(name);
      else exists.add(name);
      tally[kind].count++;
      tally[kind].bytes += size;
      if (kind === 'upload' || kind === 'overwrite') {
        sizes.bands[sizeBand(size)] = (sizes.bands[sizeBand(size)] ?? 0) + 1;
        sizes.largest = Math.max(sizes.largest, size);
      }
    } catch {
      tally[kind].failed++; // The emulator refused (rare); the next operations go on. Verify compares what GCS ended with.
    }
    await sleep(gap, signal);
  }
}
