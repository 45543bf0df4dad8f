import { describe, expect, it } from 'vitest';
import { decodeMetadataValue, encodeMetadataValue } from '../../../src/sink/metadata-encoding.js';

describe('metadata value encoding', () => {
  it.each([['plain ascii'], ['naïve café'], ['日本語'], ['tab\there'], ['']])('round-trips %j as printable ASCII', (value) => {
    const encoded = encodeMetadataValue(value);
    expect(encoded).toMatch(/^[\x20-\x7e]*$/);
    expect(decodeMetadataValue(encoded)).toBe(value);
  });

  it('leaves ASCII untouched and decodes Q-encoding too', () => {
    expect(encodeMetadataValue('a=b; c')).toBe('a=b; c');
    expect(decodeMetadataValue('=?UTF-8?Q?caf=C3=A9_ok?=')).toBe('café ok');
  });
});
