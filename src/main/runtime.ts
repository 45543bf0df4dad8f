import { Storage } from '@google-cloud/storage';
import type { Config } from '../config/config.js';
import type { Logger } from '../log/logger.js';
import type { ReplicateDeps } from '../replicate/replicate-object.js';
import { createDestination, type Destination, type DestinationOverrides } from '../sink/destination.js';
import { gcsRetryOptions, GcsSource } from '../source/gcs-source.js';
import { ByteRateLimiter } from '../source/byte-rate-limiter.js';
import { ThrottledSource } from '../source/throttled-source.js';
import { TracedSource } from '../source/traced-source.js';

/** The clients and adapters one process uses, built from a Config. */
export interface Runtime {
  config: Config;
  logger: Logger;
  /** The GCS client (listings, the demo's uploads). */
  storage: Storage;
  destination: Destination;
  /** What `replicateObject` needs: the source, the destination's sink, the key prefix. */
  deps: ReplicateDeps;
  /** The process-wide bandwidth limit (MAX_BYTES_PER_SECOND, `backfill --bwlimit`); absent without one. */
  limiter?: ByteRateLimiter;
  /** Closes sockets; call once when the process is done. */
  close(): void;
}

export type RuntimeOverrides = DestinationOverrides;

/**
 * Builds every client from `config`: the one place the source's client and
 * the destination are made. Nothing here reads process.env: endpoints come
 * from Config (the emulator variables of the Google libraries,
 * STORAGE_EMULATOR_HOST and GCE_METADATA_HOST, are read by those libraries
 * themselves).
 */
export function buildRuntime(config: Config, logger: Logger, overrides: RuntimeOverrides = {}): Runtime {
  // Spans only when tracing is on: off, the adapters are not even wrapped.
  const traced = config.traceExporter !== 'none';
  const destination = createDestination('s3', { config, logger, traced }, overrides);
  const retryOptions = gcsRetryOptions(config.network.stallTimeoutMs);
  const storage = new Storage({ projectId: config.project, retryOptions, ...(config.gcs.endpoint === undefined ? {} : { apiEndpoint: config.gcs.endpoint }) });
  // Media reads are GcsSource's own GET at this client's endpoint, with its credentials.
  const gcsSource = new GcsSource(storage, { stallTimeoutMs: config.network.stallTimeoutMs, endpoint: config.gcs.endpoint ?? 'https://storage.googleapis.com' });
  // No limit, no wrapper: the reads are GcsSource's own streams.
  const limit = config.transfer.maxBytesPerSecond;
  const limiter = limit === undefined ? undefined : new ByteRateLimiter({ bytesPerSecond: limit });
  const source = limiter === undefined ? gcsSource : new ThrottledSource(gcsSource, limiter);
  return {
    config,
    logger,
    storage,
    destination,
    limiter,
    deps: { source: traced ? new TracedSource(source) : source, sink: destination.sink, keyPrefix: config.s3.keyPrefix, replicateDeletes: config.replicateDeletes },
    close() {
      destination.close();
      gcsSource.close();
    },
  };
}
