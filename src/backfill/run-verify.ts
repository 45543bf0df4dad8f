import { compareGenerations, isGeneration, type SinkObject, type SourceObject } from '../model.js';
import { headerMismatches } from '../replicate/metadata-diff.js';
import { buildWriteSpec, PROVENANCE } from '../replicate/write-spec.js';
import type { MergedEntry } from './merge.js';
import type { ListedSinkObject, ListedSourceObject, SinkLister, SourceLister, UploadsInProgress } from './ports.js';
import type { Shard } from './shard.js';
import { compareUtf8 } from './utf8-order.js';
import { createListingCounts, walkListings, type ListingCounts } from './walk.js';

/**
 * One field on which GCS and S3 disagree for the same generation: the bytes
 * (size, CRC32C), or, when the GCS listing carried whole resources, the
 * metadata: the metageneration S3's provenance records, a copied header, or
 * the custom metadata (as sorted JSON, provenance left out).
 */
export interface FieldMismatch {
  field: 'size' | 'crc32c' | 'generation' | 'metageneration' | 'contentType' | 'contentEncoding' | 'contentDisposition' | 'contentLanguage' | 'cacheControl' | 'metadata';
  gcs: string | number | null;
  s3: string | number | null;
}

/** A difference between GCS and S3, one object at a time. */
export type Difference =
  | { kind: 'missingInS3'; object: string; key: string; generation: string; size: number }
  /** S3 holds an older generation, or an object gcs2s3 did not write (no gcs-generation). */
  | { kind: 'staleInS3'; object: string; key: string; generation: string; s3Generation: string | null }
  /** Same generation (or a newer one in S3, which should not happen) with other size or CRC32C. */
  | { kind: 'mismatched'; object: string; key: string; generation: string; s3Generation: string | null; mismatches: FieldMismatch[] }
  | { kind: 'extraInS3'; key: string; size: number; lastModified: string };

export type DifferenceKind = Difference['kind'];

/** An object that could not be checked (its HEAD failed). */
export interface VerifyError {
  object: string;
  key: string;
  error: string;
}

export interface VerifyOptions {
  bucket: string;
  prefix: string;
  keyPrefix: string;
  sourceLister: SourceLister;
  sinkLister: SinkLister;
  /** The Sink port's `head`: reads gcs-generation and gcs-crc32c. */
  head: (key: string, signal: AbortSignal) => Promise<SinkObject | undefined>;
  /** HEADs at once (≥ 1). */
  concurrency: number;
  shard?: Shard;
  /** Names the filters leave out (see walkListings): never reported missing or extra. Default: none. */
  isExcluded?: (name: string) => boolean;
  /** Every difference, as found. */
  onDifference?: (difference: Difference) => void;
  /** Differences kept per kind (and errors kept) for the result; the rest are counted. Default 10,000. */
  maxListed?: number;
  /** The result to fill in (see createVerifyResult). Default: a fresh one. */
  result?: VerifyResult;
}

/** An empty result, to pass in as `result` when something (a progress display) reads it while the audit runs. */
export function createVerifyResult(): VerifyResult {
  return {
    listed: createListingCounts(),
    inSync: 0,
    counts: { missingInS3: 0, staleInS3: 0, mismatched: 0, extraInS3: 0, errors: 0 },
    missingInS3: [],
    staleInS3: [],
    mismatched: [],
    extraInS3: [],
    errors: [],
    truncated: false,
    complete: false,
    interrupted: false,
  };
}

export interface VerifyResult {
  listed: ListingCounts;
  /** Objects of this shard found identical (generation, size, CRC32C). */
  inSync: number;
  counts: Record<DifferenceKind, number> & { errors: number };
  missingInS3: Extract<Difference, { kind: 'missingInS3' }>[];
  staleInS3: Extract<Difference, { kind: 'staleInS3' }>[];
  mismatched: Extract<Difference, { kind: 'mismatched' }>[];
  extraInS3: Extract<Difference, { kind: 'extraInS3' }>[];
  errors: VerifyError[];
  /** Some sets hold fewer entries than their count (over `maxListed`). */
  truncated: boolean;
  /** Both listings read to the end and every HEAD answered. */
  complete: boolean;
  interrupted: boolean;
  /** Why the audit stopped early (a listing failed). */
  error?: Error;
  /**
   * Multipart uploads in progress under the prefix (information, not a
   * difference: a copy may be running, or a killed one left them for the
   * next handling of the key or the lifecycle rule); `error` when they could not be listed.
   */
  uploadsInProgress?: UploadsInProgress | { error: string };
}

/**
 * Audits S3 against GCS under a prefix from the same walk as backfill
 * (walkListings). Objects listed on one side only are missing or extra at
 * once; objects on both sides are HEADed (at most `concurrency` at a time) to
 * compare the provenance S3 holds (gcs-generation, gcs-crc32c) with what GCS lists.
 */
export async function runVerify(options: VerifyOptions, signal: AbortSignal): Promise<VerifyResult> {
  const { bucket, keyPrefix } = options;
  const maxListed = options.maxListed ?? 10_000;
  const result = options.result ?? createVerifyResult();
  const report = (d: Difference): void => {
    result.counts[d.kind]++;
    const list = result[d.kind] as Difference[];
    if (list.length < maxListed) list.push(d);
    else result.truncated = true;
    options.onDifference?.(d);
  };
  const object = (name: string): string => `gs://${bucket}/${name}`;

  const check = async (source: ListedSourceObject, listed: ListedSinkObject): Promise<void> => {
    const key = listed.key;
    let head: SinkObject | undefined;
    try {
      head = await options.head(key, signal);
    } catch (err) {
      // Never rethrown: a task that rejects would stop the whole audit.
      result.counts.errors++;
      if (result.errors.length < maxListed) result.errors.push({ object: object(source.name), key, error: (err as Error).message });
      else result.truncated = true;
      return;
    }
    const d = compare(object(source.name), source, key, head);
    if (d === undefined) result.inSync++;
    else report(d);
  };

  const visit = ({ name, source, sink }: MergedEntry): (() => Promise<void>) | undefined => {
    if (sink === undefined) {
      report({ kind: 'missingInS3', object: object(name), key: keyPrefix + name, generation: source!.generation, size: source!.size });
      return undefined;
    }
    if (source === undefined) {
      report({ kind: 'extraInS3', key: sink.key, size: sink.size, lastModified: sink.lastModified.toISOString() });
      return undefined;
    }
    return () => check(source, sink);
  };
  const walk = await walkListings({ ...options, counts: result.listed }, visit, signal);
  if (options.sinkLister.uploadsInProgress !== undefined && !signal.aborted) {
    try {
      result.uploadsInProgress = await options.sinkLister.uploadsInProgress(keyPrefix + options.prefix, signal);
    } catch (err) {
      result.uploadsInProgress = { error: (err as Error).message };
    }
  }
  result.complete = walk.listingDone;
  if (walk.error !== undefined) result.error = walk.error;
  result.interrupted = signal.aborted;
  if (result.counts.errors > 0 || signal.aborted) result.complete = false;
  // HEADs finish in any order; reports read best in listing order.
  const byKey = (a: { key: string }, b: { key: string }): number => compareUtf8(a.key, b.key);
  for (const list of [result.missingInS3, result.staleInS3, result.mismatched, result.extraInS3, result.errors]) list.sort(byKey);
  return result;
}

/** Compares what GCS lists for a generation with what S3's HEAD says; undefined when in sync. */
export function compare(object: string, source: ListedSourceObject, key: string, head: SinkObject | undefined): Difference | undefined {
  const { generation } = source;
  // Deleted between the listing and the HEAD.
  if (head === undefined) return { kind: 'missingInS3', object, key, generation, size: source.size };
  const s3Generation = head.generation ?? null;
  // Missing or unreadable provenance: not a copy gcs2s3 made of any generation, so stale.
  const order = s3Generation === null || !isGeneration(s3Generation) ? -1 : compareGenerations(s3Generation, generation);
  if (order < 0) return { kind: 'staleInS3', object, key, generation, s3Generation };
  const mismatches: FieldMismatch[] = [];
  if (order > 0) mismatches.push({ field: 'generation', gcs: generation, s3: s3Generation });
  if (head.size !== source.size) mismatches.push({ field: 'size', gcs: source.size, s3: head.size });
  if (source.crc32c !== undefined && head.crc32c !== source.crc32c) mismatches.push({ field: 'crc32c', gcs: source.crc32c, s3: head.crc32c ?? null });
  if (order === 0 && source.resource !== undefined) mismatches.push(...metadataMismatches(source.resource, head));
  return mismatches.length === 0 ? undefined : { kind: 'mismatched', object, key, generation, s3Generation, mismatches };
}

/**
 * Headers and custom metadata of the same generation. A metageneration
 * differs only where S3 records one (copies made before it was recorded are
 * judged by their headers alone); the headers are compared whatever the
 * metagenerations say, since an emulator may never bump it.
 */
function metadataMismatches(resource: SourceObject, head: SinkObject): FieldMismatch[] {
  const mismatches: FieldMismatch[] = [];
  if (head.metageneration !== undefined && head.metageneration !== resource.metageneration) {
    mismatches.push({ field: 'metageneration', gcs: resource.metageneration, s3: head.metageneration });
  }
  if (head.headers === undefined) return mismatches;
  let expected: ReturnType<typeof buildWriteSpec>;
  try {
    expected = buildWriteSpec(resource);
  } catch {
    // Metadata no copy can carry (keys colliding): the copy reports it; nothing to compare.
    return mismatches;
  }
  const custom = (metadata: Record<string, string>): Record<string, string> =>
    Object.fromEntries(Object.entries(metadata).filter(([k]) => !PROVENANCE_KEYS.has(k.toLowerCase())));
  const found = headerMismatches({ ...expected, metadata: custom(expected.metadata) }, { ...head.headers, metadata: custom(head.headers.metadata) });
  for (const m of found) mismatches.push({ field: m.field, gcs: m.expected, s3: m.actual });
  return mismatches;
}

const PROVENANCE_KEYS = new Set<string>(Object.values(PROVENANCE));
