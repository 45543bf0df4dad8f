/**
 * A log record as one line of Cloud Logging's structured JSON. Cloud Run (and
 * any Google logging agent) lifts these keys out of the payload:
 * `severity`, `message`, `time`, `logging.googleapis.com/labels`, `…/trace`,
 * `…/spanId`, `…/trace_sampled` and `httpRequest`; the rest stays jsonPayload,
 * where log-based metrics read it.
 */
import { redactSecrets } from '../errors.js';
import type { LogRecord, LogFields } from './logger.js';
import type { TraceContext } from './log-context.js';

const SEVERITY = { debug: 'DEBUG', info: 'INFO', warn: 'WARNING', error: 'ERROR' } as const;

/** With this `@type`, Error Reporting takes the entry as an error event whatever else it holds. */
export const REPORTED_ERROR_EVENT = 'type.googleapis.com/google.devtools.clouderrorreporting.v1beta1.ReportedErrorEvent';

export interface EntrySettings {
  /** GOOGLE_CLOUD_PROJECT: the project Cloud Trace and Cloud Run's request logs live in. */
  traceProject?: string;
  /** Error Reporting's service (the Cloud Run service or job name). */
  service: string;
  version: string;
}

export function cloudLoggingEntry(record: LogRecord, settings: EntrySettings): Record<string, unknown> {
  const entry: Record<string, unknown> = {
    severity: SEVERITY[record.level],
    message: record.message,
    time: record.time.toISOString(),
    ...serializeFields(record.fields),
    // After the fields, so that no field can overwrite them.
    'logging.googleapis.com/labels': { 'gcs2s3.version': settings.version },
    ...traceFields(record.trace, settings.traceProject),
  };
  if (record.stack !== undefined) {
    // Error Reporting reads `stack_trace` first (then `exception`, then
    // `message`), so `message` stays the readable one-liner.
    entry['@type'] = REPORTED_ERROR_EVENT;
    entry.serviceContext = { service: settings.service, version: settings.version };
    entry.stack_trace = record.stack;
  }
  return entry;
}

/**
 * Cloud Logging links a line to its request log and trace only through the
 * full name `projects/PROJECT/traces/TRACE_ID`. Without a project (no
 * GOOGLE_CLOUD_PROJECT) the ids are still written, as plain fields one can
 * filter on; asking the metadata server for the project here would put a
 * network call on every log line.
 */
function traceFields(trace: TraceContext | undefined, project: string | undefined): LogFields {
  if (trace === undefined) return {};
  if (project === undefined) return { traceId: trace.traceId, ...(trace.spanId === undefined ? {} : { spanId: trace.spanId }) };
  return {
    'logging.googleapis.com/trace': `projects/${project}/traces/${trace.traceId}`,
    ...(trace.spanId === undefined ? {} : { 'logging.googleapis.com/spanId': trace.spanId }),
    'logging.googleapis.com/trace_sampled': trace.sampled,
  };
}

function serializeFields(fields: LogFields): LogFields {
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
