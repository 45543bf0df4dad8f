import { pipeline, Transform, type Readable } from 'node:stream';
import { formatDuration, formatMiB } from '../backfill/progress.js';
import type { SourceObject } from '../model.js';
import type { Source } from '../replicate/ports.js';

/** Live figures of one copy, filled in as its bytes are read from GCS. */
export interface CopyProgress {
  /** Size of the generation being read; undefined until the read starts. */
  totalBytes?: number;
  /** Bytes read so far (from GCS: the upload trails by at most PART_QUEUE_SIZE parts). */
  doneBytes: number;
  /** When the read started (performance.now()). */
  startedAt?: number;
}

/**
 * A Source whose reads count their bytes into `progress`. A new read (the
 * core retries a hinted copy once without hints) starts the count again.
 * The counter sits in a pipeline, so destroying what `read` returns still
 * releases the GCS read, and the GCS stream's error is what the reader sees.
 */
export function countingSource(source: Source, progress: CopyProgress): Source {
  return {
    stat: (ref, signal) => source.stat(ref, signal),
    read(object: SourceObject, signal: AbortSignal): Readable {
      progress.totalBytes = object.size;
      progress.doneBytes = 0;
      progress.startedAt = performance.now();
      const counter = new Transform({
        transform(chunk: Buffer, _encoding, callback) {
          progress.doneBytes += chunk.length;
          callback(null, chunk);
        },
      });
      return pipeline(source.read(object, signal), counter, () => {
        // Errors reach the reader through `counter`.
      });
    },
  };
}

/** One terminal line: `copy gs://b/o · 512.0/2048.0 MiB · 25% · 80.0 MiB/s · ETA 19s`. */
export function formatCopyProgress(url: string, progress: CopyProgress, now = performance.now()): string {
  const { totalBytes, doneBytes, startedAt } = progress;
  if (totalBytes === undefined || startedAt === undefined) return `copy ${url} · checking S3 and GCS…`;
  const percent = totalBytes === 0 ? 100 : Math.min(100, Math.floor((doneBytes / totalBytes) * 100));
  const seconds = Math.max((now - startedAt) / 1000, 0.001);
  const rate = doneBytes / seconds;
  const eta = rate > 0 && doneBytes < totalBytes ? ` · ETA ${formatDuration((totalBytes - doneBytes) / rate)}` : '';
  return `copy ${url} · ${formatMiB(doneBytes)}/${formatMiB(totalBytes)} MiB · ${percent}% · ${formatMiB(rate)} MiB/s${eta}`;
}
