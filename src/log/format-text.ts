/**
 * A log record as one readable line for a terminal:
 * `14:03:27 INFO  copied gs://b/o (2048 bytes) object=gs://b/o bytes=2048`.
 * Cloud Logging's own keys (labels, trace) are left out: they help a log
 * store, not a person reading a terminal.
 */
import { redactSecrets } from '../errors.js';
import type { LogRecord } from './logger.js';

const LEVEL = { debug: 'DEBUG', info: 'INFO ', warn: 'WARN ', error: 'ERROR' } as const;

export interface TextOptions {
  /** Append the stack of ERROR lines, indented (LOG_LEVEL=debug). */
  withStack: boolean;
}

export function formatTextLine(record: LogRecord, options: TextOptions): string {
  const parts = [`${clock(record.time)} ${LEVEL[record.level]} ${record.message}`];
  for (const [key, value] of Object.entries(record.fields)) {
    if (value === undefined) continue;
    parts.push(`${key}=${textValue(value)}`);
  }
  const stack = options.withStack && record.stack !== undefined ? `\n${record.stack.replace(/^/gm, '    ')}` : '';
  return `${parts.join(' ')}${stack}\n`;
}

/** Local wall-clock time, HH:MM:SS. */
function clock(time: Date): string {
  const two = (n: number): string => String(n).padStart(2, '0');
  return `${two(time.getHours())}:${two(time.getMinutes())}:${two(time.getSeconds())}`;
}

function textValue(value: unknown): string {
  if (value instanceof Error) return JSON.stringify(`${value.name}: ${redactSecrets(value.message)}`);
  if (typeof value === 'string') return /^[^\s"=]+$/.test(value) ? value : JSON.stringify(value);
  if (typeof value === 'number' || typeof value === 'boolean' || value === null) return String(value);
  return JSON.stringify(value) ?? String(value);
}
