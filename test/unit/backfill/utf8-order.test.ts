import { describe, expect, it } from 'vitest';
import { compareUtf8 } from '../../../src/backfill/utf8-order.js';

const byBytes = (a: string, b: string): number => Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
const sign = (n: number): number => Math.sign(n);

describe('compareUtf8', () => {
  it.each([
    // Above U+FFFF (a surrogate pair in UTF-16) sorts after U+E000–U+FFFF in UTF-8, the reverse of `<`.
    ['\u{1F600}', '\uE000', 1],
    ['\u{1F600}', '\uFFFD', 1],
    ['\u{10000}', '\uFFFF', 1],
    ['a\u{1F600}b', 'a\uFF01b', 1],
    ['\uD7FF', '\u{1F600}', -1],
    ['a', 'b', -1],
    ['Z', 'a', -1],
    ['a.b', 'a/b', -1],
    ['a', 'a/', -1],
    ['', 'a', -1],
    ['é', 'z', 1],
    ['same', 'same', 0],
    ['\u{1F600}a', '\u{1F600}b', -1],
    ['\u{1F600}', '\u{1F601}', -1],
  ])('%j vs %j → %i, as UTF-8 bytes compare', (a, b, expected) => {
    expect(sign(compareUtf8(a, b))).toBe(expected);
    expect(sign(byBytes(a, b))).toBe(expected);
  });

  it('JavaScript < disagrees with UTF-8 order for these names (why the merge needs compareUtf8)', () => {
    expect('\u{1F600}' < '\uE000').toBe(true);
    expect(compareUtf8('\u{1F600}', '\uE000')).toBeGreaterThan(0);
  });

  it('agrees with Buffer.compare on 20,000 random pairs across the planes', () => {
    const ranges: Array<[number, number]> = [[0x20, 0x7f], [0x80, 0x7ff], [0x800, 0xd7ff], [0xe000, 0xffff], [0x10000, 0x10ffff]];
    let seed = 12345;
    const rand = (n: number): number => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed % n;
    };
    const randomName = (): string => {
      let s = '';
      const length = 1 + rand(4);
      for (let i = 0; i < length; i++) {
        const [lo, hi] = ranges[rand(ranges.length)]!;
        s += String.fromCodePoint(lo + rand(hi - lo + 1));
      }
      return s;
    };
    const disagreements: string[] = [];
    for (let i = 0; i < 20_000; i++) {
      const a = randomName();
      const b = rand(4) === 0 ? a + randomName() : randomName();
      if (sign(compareUtf8(a, b)) !== sign(byBytes(a, b))) disagreements.push(`${JSON.stringify(a)} vs ${JSON.stringify(b)}`);
    }
    expect(disagreements).toEqual([]);
  });
});
