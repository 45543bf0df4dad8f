/**
 * Compares two strings in UTF-8 byte order, which is the order GCS and S3
 * list in. That is code-point order; JavaScript's `<` compares UTF-16 code
 * units instead, which puts characters above U+FFFF (surrogate pairs,
 * D800–DFFF) before U+E000–U+FFFF, the opposite of UTF-8.
 *
 * No allocation: at the first differing code unit, surrogates are moved
 * above E000–FFFF (the classic UTF-16 "code point order fix-up"). Valid
 * for well-formed strings, which object names are (GCS requires UTF-8).
 */
export function compareUtf8(a: string, b: string): number {
  const length = Math.min(a.length, b.length);
  for (let i = 0; i < length; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x !== y) return fixUp(x) - fixUp(y);
  }
  return a.length - b.length;
}

function fixUp(unit: number): number {
  if (unit < 0xd800) return unit;
  // E000–FFFF → D800–F7FF; surrogates D800–DFFF → F800–FFFF.
  return unit >= 0xe000 ? unit - 0x800 : unit + 0x2000;
}
