import { context, propagation, trace } from '@opentelemetry/api';
import { resourceFromAttributes } from '@opentelemetry/resources';
import type { SpanProcessor } from '@opentelemetry/sdk-trace-base';
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import type { Tracing } from './start-tracing.js';

/**
 * Registers a Node tracer provider as the global one: AsyncLocalStorage
 * context (so a span started deep in a copy finds its parent) and the default
 * sampler, parent-based: a push request Cloud Run chose not to sample records
 * no spans here either, so our spans exist exactly where Cloud Run's do.
 */
export function registerTracing(processor: SpanProcessor, options: { service: string; version: string }): Tracing {
  const provider = new NodeTracerProvider({
    resource: resourceFromAttributes({ 'service.name': options.service, 'service.version': options.version }),
    spanProcessors: [processor],
  });
  provider.register();
  let stopped: Promise<void> | undefined;
  const shutdown = (): Promise<void> =>
    (stopped ??= provider.shutdown().finally(() => {
      trace.disable();
      context.disable();
      propagation.disable();
    }));
  // The CLI ends by letting the event loop drain (src/cli.ts sets exitCode);
  // the batch processor's timer does not hold it open, so the last spans are
  // sent here, once, before the process exits.
  process.once('beforeExit', () => void shutdown());
  return { shutdown };
}
