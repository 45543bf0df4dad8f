#!/usr/bin/env node
import { setMaxListeners } from 'node:events';
import { main } from './main/dispatch.js';
import { EXIT } from './main/exit-status.js';

/**
 * The storage library's media download stacks 11 `error` and `close`
 * listeners on one PassThrough per response (its own pipeline's, the HTTP
 * client's and the retry layer's): a fixed number per download, not a leak,
 * but one past Node's warning threshold of 10, printed to every user of
 * `copy` and the demo. That warning alone is dropped; every other warning is
 * printed as Node would.
 */
function printWarningsButBoundedLibraryListeners(): void {
  process.removeAllListeners('warning');
  process.on('warning', (warning: Error & { emitter?: object; count?: number }) => {
    const bounded = warning.name === 'MaxListenersExceededWarning' && warning.emitter?.constructor.name === 'PassThrough' && (warning.count ?? Infinity) <= 16;
    if (!bounded) process.stderr.write(`(node:${process.pid}) ${warning.name}: ${warning.message}\n`);
  });
}

/** Process entry: the only code that touches process.env, argv and signals. */
async function runProcess(): Promise<void> {
  printWarningsButBoundedLibraryListeners();
  const controller = new AbortController();
  // Every in-flight copy and SDK request listens on this one signal; with
  // hundreds of them Node's default limit of 10 would warn of a leak that is not one.
  setMaxListeners(0, controller.signal);
  const onSignal = (sig: NodeJS.Signals): void => {
    if (controller.signal.aborted) {
      process.stderr.write(`gcs2s3: second ${sig}, exiting now\n`);
      process.exit(EXIT.killed);
    }
    controller.abort(new Error(`received ${sig}`));
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  const env = { ...process.env };
  // @google-cloud/storage reads STORAGE_EMULATOR_HOST itself and then drops the
  // /storage/v1 path from its base URL, which breaks every JSON API call against
  // fake-gcs-server. Config passes the value as `apiEndpoint` instead, which
  // builds both the JSON and upload URLs right.
  delete process.env.STORAGE_EMULATOR_HOST;
  try {
    process.exitCode = await main(process.argv.slice(2), {
      env,
      stdout: (t) => process.stdout.write(t),
      stderr: (t) => process.stderr.write(t),
      stderrIsTTY: process.stderr.isTTY === true,
      signal: controller.signal,
      setProcessEnv: (vars) => {
        for (const [key, value] of Object.entries(vars)) {
          if (value === undefined) delete process.env[key];
          else process.env[key] = value;
        }
      },
    });
  } catch (err) {
    process.stderr.write(`gcs2s3: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = EXIT.failed;
  }
}

await runProcess();
