import type { TraceExporter } from '../config/config.js';

/** A running tracer provider. */
export interface Tracing {
  /** Sends what is buffered and stops; idempotent. */
  shutdown(): Promise<void>;
}

export interface TracingOptions {
  /** TRACE_EXPORTER. */
  exporter: TraceExporter;
  /** GOOGLE_CLOUD_PROJECT: where Cloud Trace stores spans; unset, the exporter asks the metadata server (once, off the copy path). */
  project?: string;
  /** `service.name` of the spans (the Cloud Run service or job). */
  service: string;
  version: string;
}

const OFF: Tracing = { shutdown: () => Promise.resolve() };

/**
 * Registers the global tracer provider when TRACE_EXPORTER asks for one.
 * Off (the default), nothing is loaded: the OpenTelemetry SDK and the Cloud
 * Trace exporter (gRPC, protobufs) are imported only here, on demand, and the
 * adapters' spans stay @opentelemetry/api's no-ops.
 */
export async function startTracing(options: TracingOptions): Promise<Tracing> {
  if (options.exporter === 'none') return OFF;
  const { startCloudTrace } = await import('./cloud-trace.js');
  return startCloudTrace(options);
}
