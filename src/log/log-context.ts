import { AsyncLocalStorage } from 'node:async_hooks';
import type { LogFields } from './logger.js';

/** The trace a unit of work belongs to (for `serve`: the push request's, from its headers). */
export interface TraceContext {
  /** 32 lowercase hex digits. */
  traceId: string;
  /** 16 lowercase hex digits: the caller's span; absent when the header named none. */
  spanId?: string;
  /** The caller decided to record this trace. */
  sampled: boolean;
}

/** What every line logged during one unit of work carries, however deep in the call stack it is logged. */
export interface LogContext {
  trace?: TraceContext;
  fields?: LogFields;
}

/**
 * One store for the process. Code deep in a copy (replicate, sink, credentials)
 * logs through the process's logger, never a per-request one: the logger reads
 * the request's context from here at the moment it writes a line.
 */
const storage = new AsyncLocalStorage<LogContext>();

/** Runs `fn` (and everything it starts, sync or async) with `context`. */
export function runWithLogContext<T>(context: LogContext, fn: () => T): T {
  return storage.run(context, fn);
}

/** The context of the work running now, if any. */
export function currentLogContext(): LogContext | undefined {
  return storage.getStore();
}
