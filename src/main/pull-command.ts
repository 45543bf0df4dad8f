import { createServer, type Server } from 'node:http';
import { Duration, PubSub } from '@google-cloud/pubsub';
import { parseConfig } from '../config/config.js';
import { eventPolicyFromConfig } from '../events/types.js';
import { EventPipeline } from '../pipeline/event-pipeline.js';
import { runPullWorker, type MessageSource } from '../pull/pull-worker.js';
import { instanceIdFrom, parseCommandArgs, type Command } from './command.js';
import { startObservability } from './observability.js';
import { buildRuntime } from './runtime.js';

export const pullCommand: Command = {
  usage: `Usage: gcs2s3 pull

Subscribes to $PUBSUB_SUBSCRIPTION (GCS notifications of the source bucket)
and replicates each object as its notification arrives: ack when done or
nothing to do, nack on a transient failure so Pub/Sub redelivers. Leases are
extended while a long copy runs. On SIGTERM/SIGINT: stops pulling, lets
in-flight copies finish for a few seconds, aborts the rest (their multipart
uploads included, their messages nacked), and exits 0.

When $PORT is set (Cloud Run services), GET /healthz answers on it: 200,
or 503 once copies have been in flight for $LIVENESS_TIMEOUT_SECONDS
(default 600) without any finishing and without a byte read.`,
  async run(ctx) {
    parseCommandArgs(ctx.args, {}, 0);
    const config = parseConfig(ctx.env, { command: 'pull', instanceId: instanceIdFrom(ctx.env) });
    const logger = await startObservability(ctx, config, { command: 'pull' });
    const runtime = buildRuntime(config, logger);
    const pubsub = new PubSub({ projectId: config.project });
    const subscription = pubsub.subscription(config.pubsub.subscription!, {
      // Never hold more messages than we copy at once: each copy's memory is
      // bounded (queue × part size), so the process's is too.
      flowControl: { maxMessages: config.transfer.maxConcurrentObjects, allowExcessMessages: false },
      // Leases are extended while a copy runs, up to this long.
      maxExtensionTime: Duration.from({ minutes: 60 }),
      closeOptions: { behavior: 'WAIT', timeout: Duration.from({ seconds: 9 }) },
    });
    const pipeline = new EventPipeline({ deps: runtime.deps, logger, livenessMs: config.network.livenessTimeoutMs });
    let health: Server | undefined;
    try {
      if (ctx.env.PORT !== undefined) health = await listenHealth(config.push.port, pipeline);
      logger.info('pulling', { subscription: config.pubsub.subscription, maxConcurrentObjects: config.transfer.maxConcurrentObjects, s3Bucket: config.s3.bucket });
      await runPullWorker({ subscription: subscription as unknown as MessageSource, pipeline, policy: eventPolicyFromConfig(config), logger }, ctx.signal);
      return 0;
    } catch (err) {
      ctx.stderr(`gcs2s3 pull: ${err instanceof Error ? err.message : String(err)}\n`);
      return 1;
    } finally {
      health?.close();
      await pubsub.close().catch(() => undefined);
      runtime.close();
    }
  },
};

/**
 * Cloud Run services must listen on $PORT; a pull worker answers health
 * checks there: 503 while the pipeline reports no progress, or once stopping.
 */
function listenHealth(port: number, pipeline: EventPipeline): Promise<Server> {
  const server = createServer((req, res) => {
    if (req.method !== 'GET' || (req.url !== '/healthz' && req.url !== '/')) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
      return;
    }
    const { healthy, inFlight, silentForMs } = pipeline.health();
    if (pipeline.draining) res.writeHead(503, { 'content-type': 'text/plain' }).end('stopping\n');
    else if (healthy) res.writeHead(200, { 'content-type': 'text/plain' }).end('ok\n');
    else res.writeHead(503, { 'content-type': 'text/plain' }).end(`stuck: ${inFlight} copies in flight, no progress for ${Math.round(silentForMs / 1000)} s\n`);
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, () => resolve(server));
  });
}
