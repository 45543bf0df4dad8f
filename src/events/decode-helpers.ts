/**
 * Small pure helpers shared by the decoders: safe quoting for reasons, UTF-8 and
 * JSON parsing that report instead of throwing, and int64 generation checks.
 */
import { isGeneration } from '../model.js';

/**
 * Longest slice of input echoed in a reason. Reasons reach ERROR logs and 400
 * bodies: enough to recognise the value, never a whole payload.
 */
const ECHO_LIMIT = 200;

/** A result that is either a value or the reason it could not be had. */
export type Parsed<T> = { ok: true; value: T } | { ok: false; reason: string };

/**
 * Quotes a value for a reason: JSON-escaped (so control characters and quotes
 * cannot forge log lines) and cut at ECHO_LIMIT characters.
 */
export function quote(value: unknown): string {
  if (typeof value !== 'string') return describeType(value);
  const cut = value.length > ECHO_LIMIT ? `${value.slice(0, ECHO_LIMIT)}…` : value;
  return JSON.stringify(cut);
}

/** "a number", "an array", "null": for reasons about a value of the wrong type. */
export function describeType(value: unknown): string {
  if (value === null) return 'null';
  if (value === undefined) return 'missing';
  if (Array.isArray(value)) return 'an array';
  if (value instanceof Uint8Array) return 'bytes';
  const t = typeof value;
  return t === 'object' ? 'an object' : `a ${t}`;
}

/** A JSON object (not an array, not null, not bytes). */
export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof Uint8Array);
}

/**
 * Message data as text. Bytes must be valid UTF-8 (GCS writes its JSON payload
 * in UTF-8); a string is taken as already-decoded text, not base64.
 */
export function dataToText(data: Buffer | Uint8Array | string | undefined | null, what: string): Parsed<string> {
  if (data === undefined || data === null) return { ok: true, value: '' };
  if (typeof data === 'string') return { ok: true, value: data };
  if (!(data instanceof Uint8Array)) return { ok: false, reason: `${what} is ${describeType(data)}, not bytes` };
  try {
    return { ok: true, value: new TextDecoder('utf-8', { fatal: true }).decode(data) };
  } catch {
    return { ok: false, reason: `${what} is not valid UTF-8 (${data.length} bytes)` };
  }
}

/** Parses text that must hold one JSON object. */
export function parseJsonObject(text: string, what: string): Parsed<Record<string, unknown>> {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    // V8's message quotes the input: cap it like everything else we echo.
    const detail = err instanceof Error ? err.message : String(err);
    return { ok: false, reason: `${what} is not JSON (${truncate(detail)})` };
  }
  if (!isRecord(value)) return { ok: false, reason: `${what} is JSON but ${describeType(value)}, not an object` };
  return { ok: true, value };
}

/**
 * A generation from a JSON field: the JSON API writes int64 as a decimal
 * string; a JSON number is accepted only while it is exact (≤ 2^53 − 1).
 * `undefined` when the field is absent.
 */
export function generationField(value: unknown, what: string): Parsed<string | undefined> {
  if (value === undefined || value === null) return { ok: true, value: undefined };
  if (typeof value === 'number') {
    if (Number.isSafeInteger(value) && value >= 0) return { ok: true, value: String(value) };
    return { ok: false, reason: `${what} is a JSON number that is not an exact non-negative integer (${String(value).slice(0, 40)})` };
  }
  if (typeof value !== 'string') return { ok: false, reason: `${what} is ${describeType(value)}, not a decimal string` };
  if (!isGeneration(value)) return { ok: false, reason: `${what} is not a decimal int64: ${quote(value)}` };
  return { ok: true, value };
}

/** A string field of a JSON object: absent is fine, any other type is not. */
export function stringField(obj: Record<string, unknown>, key: string, what: string): Parsed<string | undefined> {
  const value = obj[key];
  if (value === undefined || value === null) return { ok: true, value: undefined };
  if (typeof value !== 'string') return { ok: false, reason: `${what}.${key} is ${describeType(value)}, not a string` };
  return { ok: true, value };
}

/** A byte count as the JSON API writes it (a decimal string, or a number); undefined for anything else. */
export function sizeOrUndefined(value: unknown): number | undefined {
  const text = typeof value === 'number' ? String(value) : value;
  if (typeof text !== 'string' || !/^(0|[1-9][0-9]{0,15})$/.test(text)) return undefined;
  const size = Number(text);
  return Number.isSafeInteger(size) ? size : undefined;
}

/**
 * An RFC 3339 time kept only when it parses. Times feed replication-lag
 * figures, never decisions: a bad one is dropped rather than failing the event.
 */
export function timeOrUndefined(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' && !Number.isNaN(Date.parse(value)) ? value : undefined;
}

function truncate(text: string): string {
  return text.length > ECHO_LIMIT ? `${text.slice(0, ECHO_LIMIT)}…` : text;
}
