/**
 * The destination seam. The core (src/replicate) writes through the `Sink`
 * port and backfill/verify list through `SinkLister`; everything particular
 * to one destination (its client, credentials, limits, error codes, checksum
 * and signing details) stays in its own modules here. S3 is the one there is.
 *
 * Adding a destination: its modules (a Sink, a SinkLister, a factory) and one
 * line in DESTINATIONS below.
 */
import type { SinkLister } from '../backfill/ports.js';
import type { Config } from '../config/config.js';
import type { Logger } from '../log/logger.js';
import type { Sink } from '../replicate/ports.js';
import { createS3Destination, type S3DestinationOverrides } from './s3-destination.js';

/** A destination ready to use: its sink, its lister, and the resources behind them. */
export interface Destination {
  /** How logs name it, e.g. `s3://bucket`. */
  name: string;
  sink: Sink;
  lister: SinkLister;
  /** Obtains credentials now, so a misconfiguration shows at start rather than on the first object. */
  warmUp(signal: AbortSignal): Promise<void>;
  /** Closes clients and sockets; call once. */
  close(): void;
}

export interface DestinationOptions {
  config: Config;
  logger: Logger;
  /** Wrap the sink and the credential exchange in OpenTelemetry spans (TRACE_EXPORTER set). */
  traced?: boolean;
}

export type DestinationOverrides = S3DestinationOverrides;

const DESTINATIONS = {
  s3: createS3Destination,
} satisfies Record<string, (options: DestinationOptions, overrides?: DestinationOverrides) => Destination>;

export type DestinationKind = keyof typeof DESTINATIONS;

/** Builds the destination of `kind` from the configuration. */
export function createDestination(kind: DestinationKind, options: DestinationOptions, overrides: DestinationOverrides = {}): Destination {
  return DESTINATIONS[kind](options, overrides);
}
