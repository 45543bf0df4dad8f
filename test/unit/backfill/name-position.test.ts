import { describe, expect, it } from 'vitest';
import { NameScale } from '../../../src/backfill/name-position.js';
import { compareUtf8 } from '../../../src/backfill/utf8-order.js';

const hex = (i: number): string => `objects/${i.toString(16).padStart(6, '0')}`;

describe('NameScale', () => {
  const seen = ['a', 'a/b', 'a0', 'a9', 'b', 'é', '2024/01/31/x', '2025/12/01/y', '\u{10ffff}'];
  const others = ['', 'a/', 'a5', 'a:', 'aa', 'c', 'z', '2024/06/15/z', '日本', '\u0000'];

  it('keeps byte order: a name after another never gets a smaller position', () => {
    const scale = new NameScale('', seen);
    const names = [...seen, ...others].sort(compareUtf8);
    const positions = names.map((n) => scale.position(n));
    for (let i = 1; i < names.length; i++) expect(positions[i]! >= positions[i - 1]!, `${names[i - 1]} < ${names[i]}`).toBe(true);
    for (const p of positions) expect(p < scale.end).toBe(true);
  });

  it('names at a position are valid UTF-8 at or below any name placed there', () => {
    const scale = new NameScale('', seen);
    for (const name of [...seen, ...others]) {
      const back = scale.nameAt(scale.position(name));
      expect(compareUtf8(back, name) <= 0 || scale.position(back) <= scale.position(name), name).toBe(true);
      expect(Buffer.from(back, 'utf8').toString('utf8')).toBe(back);
    }
  });

  it('fills a run of digits between the digits seen, so the sample can name the ones it has not seen', () => {
    // Seen at the first hex depth: 0 and 8 only (and whole hex runs deeper, from pages).
    const scale = new NameScale('objects/', [hex(0), hex(1), hex(0xf), hex(0xa0), hex(0x800000)]);
    const between = scale.nameAt((scale.position(hex(0)) + scale.position(hex(0x800000))) / 2n);
    expect(between > 'objects/0' && between < 'objects/8').toBe(true);
    // Evenly spread names take evenly spread positions: 0x400000 lies half-way between 0 and 0x800000, within 10 %.
    const [lo, mid, hi] = [hex(0), hex(0x400000), hex(0x800000)].map((n) => Number(scale.position(n)));
    expect(Math.abs((mid! - lo!) / (hi! - lo!) - 0.5)).toBeLessThan(0.05);
  });
});
