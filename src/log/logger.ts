import { redactSecrets } from '../errors.js';
import type { LogLevel } from '../config/config.js';

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

const RANK: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };
const SEVERITY: Record<LogLevel, string> = { debug: 'DEBUG', info: 'INFO', warn: 'WARNING', error: 'ERROR' };

export interface LoggerOptions {
  level: LogLevel;
  /** Where JSON lines go. Default: process.stdout (Cloud Run sends it to Cloud Logging). */
  write?: (line: string) => void;
  fields?: LogFields;
}

/**
 * One JSON line per event in Cloud Logging's structured shape: `severity`,
 * `message`, `time`, then the event's own fields. Cloud Run parses stdout
 * lines like this into jsonPayload, so log-based metrics can read the fields.
 */
export function createLogger(options: LoggerOptions): Logger {
  const write = options.write ?? ((line: string) => process.stdout.write(line));
  const threshold = RANK[options.level];
  const base = options.fields ?? {};
  const emit = (level: LogLevel, message: string, fields?: LogFields): void => {
    if (RANK[level] < threshold) return;
    const entry = { severity: SEVERITY[level], message: redactSecrets(message), time: new Date().toISOString(), ...base, ...serializeFields(fields) };
    write(`${JSON.stringify(entry)}\n`);
  };
  return {
    debug: (m, f) => emit('debug', m, f),
    info: (m, f) => emit('info', m, f),
    warn: (m, f) => emit('warn', m, f),
    error: (m, f) => emit('error', m, f),
    child: (fields) => createLogger({ ...options, fields: { ...base, ...fields } }),
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

function serializeFields(fields: LogFields | undefined): LogFields {
  if (fields === undefined) return {};
  const out: LogFields = {};
  for (const [key, value] of Object.entries(fields)) {
    out[key] = value instanceof Error ? describeError(value) : value;
  }
  return out;
}

/** An error as log fields: name, code, message (redacted), and the cause chain's messages. */
export function describeError(err: Error): Record<string, unknown> {
  const described: Record<string, unknown> = { name: err.name, message: redactSecrets(err.message) };
  const code = (err as { code?: unknown }).code;
  if (typeof code === 'string' || typeof code === 'number') described.code = code;
  const retryable = (err as { retryable?: unknown }).retryable;
  if (typeof retryable === 'boolean') described.retryable = retryable;
  if (err.cause instanceof Error && err.cause !== err) described.cause = describeError(err.cause);
  return described;
}
