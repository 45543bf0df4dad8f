/**
 * Where each command's logs go and in what shape, and tracing when asked for.
 *
 * Logs always go to stderr; stdout carries only results a script reads
 * (`backfill --dry-run`'s list, `verify`'s differences, `copy`'s outcome).
 * Shape: LOG_FORMAT when set; otherwise `pull` and `serve` write JSON (they
 * run under Cloud Run, which parses it), and the other commands write
 * readable text when stderr is a terminal, JSON when it is not.
 */
import type { Command, Config, LogFormat } from '../config/config.js';
import { createLogger, type LogFields, type Logger } from '../log/logger.js';
import { PACKAGE_VERSION } from '../log/version.js';
import { startTracing } from '../trace/start-tracing.js';
import type { CommandContext } from './command.js';

export interface CommandLoggerOptions {
  command: Command;
  fields?: LogFields;
  /** Default: whether this process's stderr is a terminal. */
  stderrIsTty?: boolean;
}

/** LOG_FORMAT if set; else JSON for the services, text for a person at a terminal. Pure. */
export function chooseLogFormat(command: Command, configured: LogFormat | undefined, stderrIsTty: boolean): LogFormat {
  if (configured !== undefined) return configured;
  if (command === 'pull' || command === 'serve') return 'json';
  return stderrIsTty ? 'text' : 'json';
}

/** The command's logger, on stderr. */
export function commandLogger(ctx: CommandContext, config: Config, options: CommandLoggerOptions): Logger {
  const tty = options.stderrIsTty ?? process.stderr.isTTY === true;
  return createLogger({
    level: config.logLevel,
    write: ctx.stderr,
    fields: options.fields,
    format: chooseLogFormat(options.command, config.logFormat, tty),
    traceProject: config.project,
    service: serviceName(ctx.env),
    version: PACKAGE_VERSION,
  });
}

/** The command's logger, with tracing started first when TRACE_EXPORTER asks for it. */
export async function startObservability(ctx: CommandContext, config: Config, options: CommandLoggerOptions): Promise<Logger> {
  const logger = commandLogger(ctx, config, options);
  await startTracing({ exporter: config.traceExporter, project: config.project, service: serviceName(ctx.env), version: PACKAGE_VERSION });
  if (options.command === 'serve' && config.project === undefined && ctx.env.K_SERVICE !== undefined) {
    logger.warn('GOOGLE_CLOUD_PROJECT is not set: log lines carry the request\'s trace id as a plain field and are not nested under Cloud Run\'s request logs');
  }
  return logger;
}

/** Error Reporting groups by service: the Cloud Run service or job, else the program. */
export function serviceName(env: Record<string, string | undefined>): string {
  return env.K_SERVICE ?? env.CLOUD_RUN_JOB ?? 'gcs2s3';
}
