/**
 * S3 carries user metadata in HTTP headers, which must be ASCII. S3 decodes
 * RFC 2047 encoded-words on write and stores UTF-8, so non-ASCII values
 * travel as `=?UTF-8?B?…?=`.
 */
export function encodeMetadataValue(value: string): string {
  // Printable ASCII passes through; anything else (non-ASCII, control characters) is encoded.
  if (/^[\x20-\x7e]*$/.test(value)) return value;
  return `=?UTF-8?B?${Buffer.from(value, 'utf8').toString('base64')}?=`;
}

/** Inverse of `encodeMetadataValue` for values S3 returns encoded. */
export function decodeMetadataValue(value: string): string {
  return value.replace(/=\?UTF-8\?([BQ])\?([^?]*)\?=/gi, (_match, kind: string, text: string) =>
    kind.toUpperCase() === 'B'
      ? Buffer.from(text, 'base64').toString('utf8')
      : decodeQ(text),
  );
}

function decodeQ(text: string): string {
  const bytes = text.replace(/_/g, ' ').replace(/=([0-9A-F]{2})/gi, (_m, hex: string) => String.fromCharCode(parseInt(hex, 16)));
  return Buffer.from(bytes, 'latin1').toString('utf8');
}
