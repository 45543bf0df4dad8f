import type { Config } from '../config/config.js';
import { parseConfig } from '../config/config.js';
import { eventPolicyFromConfig } from '../events/types.js';
import { createOidcAuthenticator, noAuthentication, type PushAuthenticator } from '../server/authenticate.js';
import { EventPipeline } from '../pipeline/event-pipeline.js';
import { startServer, type ServerOptions } from '../server/server.js';
import { instanceIdFrom, parseCommandArgs, type Command } from './command.js';
import { startObservability } from './observability.js';
import { buildRuntime, type Runtime } from './runtime.js';

export const serveCommand: Command = {
  usage: `Usage: gcs2s3 serve

Listens on $PORT (default 8080) and replicates the object named by each
authenticated request:
  POST /pubsub/push   Pub/Sub push envelope (or an unwrapped push with
                      --push-no-wrapper-write-metadata)
  POST /              Eventarc CloudEvent, binary or structured mode
                      (google.cloud.storage.object.v1.finalized, .deleted, ...)
  GET  /healthz       200 while serving; 503 when stopping, or when copies
                      have made no progress for $LIVENESS_TIMEOUT_SECONDS

Every POST needs "Authorization: Bearer <Google OIDC ID token>" with
aud in $PUSH_AUDIENCE (a comma list) and email = $PUSH_SERVICE_ACCOUNT (PUSH_AUTH=disabled
turns this off, for local use only).

Answers: 204 done, ignored, or failed for good (logged at ERROR); 400 not a
push or CloudEvent; 401/403 bad token; 413 body over 1 MiB; 429 all
$MAX_CONCURRENT_OBJECTS slots busy; 503 transient failure (Pub/Sub retries).
A request's copy is aborted when the client disconnects or after
$PUSH_REQUEST_TIMEOUT_SECONDS (default 600, the longest ack deadline).
On SIGTERM/SIGINT: refuses new requests, lets in-flight ones finish for a few
seconds, aborts the rest (503), and exits 0.`,
  async run(ctx) {
    parseCommandArgs(ctx.args, {}, 0);
    const config = parseConfig(ctx.env, { command: 'serve', instanceId: instanceIdFrom(ctx.env) });
    const { requestTimeoutSeconds } = config.push;
    const logger = await startObservability(ctx, config, { command: 'serve' });
    const runtime = buildRuntime(config, logger);
    try {
      if (config.push.authDisabled) {
        logger.warn('PUSH_AUTH=disabled: requests are NOT authenticated; anyone who can reach this port can trigger copies. For local use only.');
      }
      const server = await startServer({ ...serverOptionsFromRuntime(runtime), requestTimeoutMs: requestTimeoutSeconds * 1000 });
      logger.info('serving', {
        url: server.url,
        port: server.port,
        auth: config.push.authDisabled ? 'disabled' : 'oidc',
        maxConcurrentObjects: config.transfer.maxConcurrentObjects,
        requestTimeoutSeconds,
        s3Bucket: config.s3.bucket,
      });
      await untilAborted(ctx.signal);
      await server.close();
      return 0;
    } catch (err) {
      ctx.stderr(`gcs2s3 serve: ${err instanceof Error ? err.message : String(err)}\n`);
      return 1;
    } finally {
      runtime.close();
    }
  },
};

/** Server options from a runtime: the composition the CLI uses, exported for tests. */
export function serverOptionsFromRuntime(runtime: Runtime, overrides: Partial<ServerOptions> = {}): ServerOptions {
  const { config } = runtime;
  return {
    pipeline: new EventPipeline({ deps: runtime.deps, logger: runtime.logger, livenessMs: config.network.livenessTimeoutMs }),
    policy: eventPolicyFromConfig(config),
    logger: runtime.logger,
    authenticator: authenticatorFromConfig(config),
    maxConcurrentObjects: config.transfer.maxConcurrentObjects,
    port: config.push.port,
    ...overrides,
  };
}

/** The OIDC verifier for PUSH_AUDIENCE / PUSH_SERVICE_ACCOUNT, or none under PUSH_AUTH=disabled. */
function authenticatorFromConfig(config: Config): PushAuthenticator {
  const { push } = config;
  if (push.authDisabled) return noAuthentication;
  // parseConfig requires both for `serve` unless auth is disabled.
  return createOidcAuthenticator({ issuers: push.issuers, audiences: push.audiences, serviceAccount: push.serviceAccount!, jwksUrl: push.jwksUrl });
}

function untilAborted(signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) resolve();
    else signal.addEventListener('abort', () => resolve(), { once: true });
  });
}
