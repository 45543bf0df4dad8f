import { describe, expect, it } from 'vitest';
import { datedKeyspace, simulateShape, skewedKeyspace, uniformKeyspace } from '../../support/scale-simulation.js';

/**
 * The scale simulation at 200,000 names in pages of 50 (as many pages per
 * task as 4 million names in pages of 1,000 at 4 tasks, 400,000 at 40): the
 * figures docs/scale.md reports at 10 million, asserted on all three shapes,
 * for a plan every task computes alike and for a plan computed once and
 * shared (PLAN_BUCKET), whose list calls are paid once.
 */
const N = 200_000;
const PAGE = 50;
const signal = new AbortController().signal;
const keyspaces = [uniformKeyspace(N), skewedKeyspace(N), datedKeyspace(N)];

const cases = [
  { shared: false, tasks: 4 },
  { shared: true, tasks: 4 },
  { shared: true, tasks: 40 },
];

for (const { shared, tasks } of cases) {
  describe(`scale simulation: ${tasks} ranged tasks, ${shared ? 'one shared plan' : 'every task planning alike'}, against one task listing everything`, () => {
    for (const keyspace of keyspaces) {
      it(`${keyspace.shape}: every object listed by exactly one task, list calls within 10 % of one task's, the busiest task at most 1.5 × the mean`, async () => {
        const figures = await simulateShape(keyspace, tasks, PAGE, signal, shared);
        expect(figures.perTask.reduce((a, t) => a + t.objects, 0)).toBe(N);
        expect(figures.callRatio).toBeLessThanOrEqual(1.1);
        expect(figures.imbalance).toBeLessThanOrEqual(1.5);
        // A shared plan is paid by task 0 alone.
        if (shared) expect(figures.perTask.slice(1).every((t) => t.planCalls === 0)).toBe(true);
      }, 60_000);
    }
  });
}
