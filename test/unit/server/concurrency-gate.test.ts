import { describe, expect, it } from 'vitest';
import { ConcurrencyGate } from '../../../src/server/concurrency-gate.js';

describe('ConcurrencyGate', () => {
  it('admits up to the limit, refuses beyond it without queueing, and frees a slot once per release', () => {
    const gate = new ConcurrencyGate(2);
    const a = gate.tryAcquire();
    const b = gate.tryAcquire();
    expect(a && b).toBeTruthy();
    expect(gate.tryAcquire()).toBeUndefined();
    a!();
    a!();
    expect(gate.inUse).toBe(1);
    expect(gate.tryAcquire()).toBeTruthy();
    expect(gate.tryAcquire()).toBeUndefined();
  });

  it.each([0, -1, 1.5, Number.NaN])('refuses a limit of %s', (limit) => {
    expect(() => new ConcurrencyGate(limit)).toThrow(RangeError);
  });
});
