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

When $PORT is set (Cloud Run services), GET /healthz answers on it.`,
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
    let health: Server | undefined;
    try {
      if (ctx.env.PORT !== undefined) health = await listenHealth(config.push.port);
      logger.info('pulling', { subscription: config.pubsub.subscription, maxConcurrentObjects: config.transfer.maxConcurrentObjects, s3Bucket: config.s3.bucket });
      await runPullWorker(
        { subscription: subscription as unknown as MessageSource, pipeline: new EventPipeline({ deps: runtime.deps, logger }), policy: eventPolicyFromConfig(config), logger },
        ctx.signal,
      );
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

/** Cloud Run services must listen on $PORT; a pull worker answers health checks there. */
function listenHealth(port: number): Promise<Server> {
  const server = createServer((req, res) => {
    const ok = req.method === 'GET' && (req.url === '/healthz' || req.url === '/');
    res.writeHead(ok ? 200 : 404, { 'content-type': 'text/plain' }).end(ok ? 'ok\n' : 'not found\n');
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, () => resolve(server));
  });
}
