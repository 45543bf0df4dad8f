import { describe, expect, it } from 'vitest';
import { datedKeyspace, simulateShape, skewedKeyspace, uniformKeyspace } from '../../support/scale-simulation.js';

/**
 * The scale simulation at 200,000 names in pages of 50 (as many pages per
 * task as 4 million names in pages of 1,000): the figures docs/scale.md
 * reports at 10 million, asserted on all three shapes.
 */
const N = 200_000;
const PAGE = 50;
const TASKS = 4;
const signal = new AbortController().signal;

describe(`scale simulation: ${TASKS} ranged tasks against one task listing everything`, () => {
  for (const keyspace of [uniformKeyspace(N), skewedKeyspace(N), datedKeyspace(N)]) {
    it(`${keyspace.shape}: every object listed by exactly one task, list calls within 10 % of one task's, the busiest task at most 1.5 × the mean`, async () => {
      const figures = await simulateShape(keyspace, TASKS, PAGE, signal);
      expect(figures.perTask.reduce((a, t) => a + t.objects, 0)).toBe(N);
      expect(figures.callRatio).toBeLessThanOrEqual(1.1);
      expect(figures.imbalance).toBeLessThanOrEqual(1.5);
    }, 30_000);
  }
});
