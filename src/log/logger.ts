import { redactSecrets } from '../errors.js';
import type { LogFormat, LogLevel } from '../config/config.js';
import { cloudLoggingEntry } from './cloud-logging.js';
import { formatTextLine } from './format-text.js';
import { currentLogContext, type TraceContext } from './log-context.js';
import { PACKAGE_VERSION } from './version.js';

export { describeError } from './cloud-logging.js';

/** Structured fields of a log line (object, generation, bytes, durationMs, outcome…). */
export type LogFields = Record<string, unknown>;

export interface Logger {
  debug(message: string, fields?: LogFields): void;
  info(message: string, fields?: LogFields): void;
  warn(message: string, fields?: LogFields): void;
  error(message: string, fields?: LogFields): void;
  /** A logger whose lines all carry `fields` too. */
  child(fields: LogFields): Logger;
}

/** One line about to be written, before formatting. */
export interface LogRecord {
  level: LogLevel;
  /** Redacted. */
  message: string;
  time: Date;
  /** The logger's fields, then the running work's (LogContext), then the call's; Errors still Errors. */
  fields: LogFields;
  trace?: TraceContext;
  /** ERROR lines only: the stack Error Reporting groups by (the error's, else the call site's), redacted. */
  stack?: string;
}

/** The logger method called: frames above it are left out of a captured stack. */
type CallSite = (message: string, fields?: LogFields) => void;

const RANK: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

export interface LoggerOptions {
  level: LogLevel;
  /** Where lines go. Default: process.stdout. The CLI passes stderr: stdout is for results. */
  write?: (line: string) => void;
  fields?: LogFields;
  /** `json` (default): Cloud Logging's structured shape. `text`: `HH:MM:SS LEVEL message key=value…`. */
  format?: LogFormat;
  /** GOOGLE_CLOUD_PROJECT: makes trace ids the `projects/P/traces/T` names Cloud Logging links on. */
  traceProject?: string;
  /** Error Reporting's serviceContext.service. Default `gcs2s3`. */
  service?: string;
  /** Default: package.json's version. */
  version?: string;
  /** Clock (tests). */
  now?: () => Date;
}

/**
 * One line per event. JSON lines are Cloud Logging's structured shape (see
 * cloud-logging.ts): `severity`, `message`, `time`, the version label, the
 * trace of the work in progress (AsyncLocalStorage, see log-context.ts), then
 * the event's own fields; ERROR lines are Error Reporting events. Text lines
 * are for a person at a terminal.
 */
export function createLogger(options: LoggerOptions): Logger {
  const write = options.write ?? ((line: string) => process.stdout.write(line));
  const threshold = RANK[options.level];
  const base = options.fields ?? {};
  const now = options.now ?? (() => new Date());
  const settings = { traceProject: options.traceProject, service: options.service ?? 'gcs2s3', version: options.version ?? PACKAGE_VERSION };
  const emit = (level: LogLevel, message: string, fields: LogFields | undefined, site: CallSite): void => {
    if (RANK[level] < threshold) return;
    const context = currentLogContext();
    const record: LogRecord = { level, message: redactSecrets(message), time: now(), fields: { ...base, ...context?.fields, ...fields }, trace: context?.trace };
    if (level === 'error') record.stack = errorStack(record.fields, message, site);
    write(options.format === 'text' ? formatTextLine(record, { withStack: threshold <= RANK.debug }) : `${JSON.stringify(cloudLoggingEntry(record, settings))}\n`);
  };
  const logger: Logger = {
    debug: (m, f) => emit('debug', m, f, logger.debug),
    info: (m, f) => emit('info', m, f, logger.info),
    warn: (m, f) => emit('warn', m, f, logger.warn),
    error: (m, f) => emit('error', m, f, logger.error),
    child: (fields) => createLogger({ ...options, fields: { ...base, ...fields } }),
  };
  return logger;
}

/** Writes each line to every logger (each keeps its own level, format and destination). */
export function teeLogger(...loggers: Logger[]): Logger {
  return {
    debug: (m, f) => loggers.forEach((l) => l.debug(m, f)),
    info: (m, f) => loggers.forEach((l) => l.info(m, f)),
    warn: (m, f) => loggers.forEach((l) => l.warn(m, f)),
    error: (m, f) => loggers.forEach((l) => l.error(m, f)),
    child: (fields) => teeLogger(...loggers.map((l) => l.child(fields))),
  };
}

/** A logger that drops everything (tests, and library use without logging). */
export const silentLogger: Logger = {
  debug() {},
  info() {},
  warn() {},
  error() {},
  child() {
    return silentLogger;
  },
};

/**
 * The stack of an ERROR line: the logged error's (an `error` field first), or
 * else the call site's, so that Error Reporting still groups the line by
 * where it was logged. Redacted: the first line repeats the error's message.
 */
function errorStack(fields: LogFields, message: string, site: CallSite): string {
  const err = fields.error instanceof Error ? fields.error : Object.values(fields).find((v): v is Error => v instanceof Error);
  if (typeof err?.stack === 'string') return redactSecrets(err.stack);
  const here = new Error(message);
  Error.captureStackTrace(here, site);
  return redactSecrets(here.stack ?? `Error: ${message}`);
}
