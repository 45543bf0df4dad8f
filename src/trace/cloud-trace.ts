/** Loaded only with TRACE_EXPORTER=cloud-trace (see start-tracing.ts). */
import { TraceExporter } from '@google-cloud/opentelemetry-cloud-trace-exporter';
import { BatchSpanProcessor } from '@opentelemetry/sdk-trace-base';
import type { Tracing, TracingOptions } from './start-tracing.js';
import { registerTracing } from './register-tracing.js';

/** Spans batched (the SDK's defaults: every 5 s or 512 spans) to Cloud Trace with Google's exporter. */
export function startCloudTrace(options: TracingOptions): Tracing {
  const exporter = new TraceExporter(options.project === undefined ? {} : { projectId: options.project });
  return registerTracing(new BatchSpanProcessor(exporter), options);
}
