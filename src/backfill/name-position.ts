/**
 * Object names as points on a line, for the range planner's interpolation:
 * the UTF-8 bytes after the prefix, read as a base-256 number of a fixed
 * number of digits. Byte order of names is numeric order of positions
 * (names that differ only after the first POSITION_BYTES bytes share one).
 */

/** 64 bytes: deep enough that names sharing long sub-prefixes (dates, tenants) still spread out. */
export const POSITION_BYTES = 64;

/** One past the greatest position. */
export const POSITION_END = 1n << BigInt(8 * POSITION_BYTES);

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: false });
const strict = new TextDecoder('utf-8', { fatal: true });

/** The position of `name` (which starts with `prefix`). */
export function positionOf(name: string, prefix: string): bigint {
  const bytes = encoder.encode(name.slice(prefix.length));
  let value = 0n;
  for (let i = 0; i < POSITION_BYTES; i++) value = (value << 8n) | BigInt(i < bytes.length ? bytes[i]! : 0);
  return value;
}

/**
 * A name at or below `position`: its digits as bytes, trailing zero bytes
 * dropped, cut at the first byte that is not valid UTF-8 (object names and
 * list offsets must be UTF-8), where a 0x7F takes the invalid byte's place
 * so the name stays as close below the position as ASCII allows.
 */
export function nameAt(position: bigint, prefix: string): string {
  const bytes = new Uint8Array(POSITION_BYTES);
  let rest = position;
  for (let i = POSITION_BYTES - 1; i >= 0; i--) {
    bytes[i] = Number(rest & 0xffn);
    rest >>= 8n;
  }
  let length = POSITION_BYTES;
  while (length > 0 && bytes[length - 1] === 0) length--;
  const wanted = bytes.subarray(0, length);
  const decoded = decoder.decode(wanted);
  const again = encoder.encode(decoded);
  let valid = 0;
  while (valid < wanted.length && valid < again.length && again[valid] === wanted[valid]) valid++;
  if (valid === wanted.length) return prefix + decoded;
  // The output agrees with the input up to about the first bad sequence; back up to where it is all valid.
  for (;;) {
    try {
      return `${prefix}${strict.decode(wanted.subarray(0, valid))}\x7f`;
    } catch {
      valid--;
    }
  }
}
