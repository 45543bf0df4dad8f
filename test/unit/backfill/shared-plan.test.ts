import { describe, expect, it } from 'vitest';
import type { PlanStore } from '../../../src/backfill/ports.js';
import type { RangePlan } from '../../../src/backfill/range-planner.js';
import { decodePlan, encodePlan, obtainSharedPlan, PLAN_VERSION, type PlanDocument, type PlanIdentity, type SharedPlanOptions } from '../../../src/backfill/shared-plan.js';
import { PermanentError } from '../../../src/errors.js';

/** The plan object in memory, with GCS's create-only precondition: the first create wins, later ones answer false. */
class MemoryPlanStore implements PlanStore {
  readonly location = 'gs://plans/job/job-abcde/plan.json';
  text: string | undefined;
  generation = 0;
  reads = 0;
  creates: string[] = [];
  /** Reads before the object appears (another task creating it meanwhile). */
  appearAfterReads?: { reads: number; text: string };

  async read(): Promise<{ text: string; generation: string } | undefined> {
    this.reads++;
    if (this.text === undefined && this.appearAfterReads !== undefined && this.reads > this.appearAfterReads.reads) {
      this.text = this.appearAfterReads.text;
      this.generation = 1;
    }
    return this.text === undefined ? undefined : { text: this.text, generation: String(this.generation) };
  }

  async create(text: string): Promise<boolean> {
    this.creates.push(text);
    if (this.text !== undefined) return false;
    this.text = text;
    this.generation = 1000 + this.creates.length;
    return true;
  }
}

const identity: PlanIdentity = { bucket: 'src', prefix: 'logs/', taskCount: 2 };
const planOf = (boundaries: string[]): RangePlan => ({ boundaries, piecesPerTask: 2, listCalls: 7, estimatedObjects: 4000, exact: false });
const documentOf = (boundaries: string[], over: Partial<PlanDocument> = {}): PlanDocument => ({
  version: PLAN_VERSION,
  ...identity,
  ...planOf(boundaries),
  writtenBy: 0,
  createdAt: '2026-12-01T20:00:00.000Z',
  ...over,
});
const signal = new AbortController().signal;

/** A virtual clock: sleeping advances it, so waits take no real time. */
function clock(): Pick<SharedPlanOptions, 'now' | 'sleep'> & { slept: number[] } {
  let t = 0;
  const slept: number[] = [];
  return {
    slept,
    now: () => t,
    sleep: async (ms) => {
      slept.push(ms);
      t += ms;
    },
  };
}

describe('obtainSharedPlan', () => {
  it('task 0 finding no plan computes it, creates the object, and uses what it reads back', async () => {
    const store = new MemoryPlanStore();
    const got = await obtainSharedPlan({ store, identity, taskIndex: 0, compute: async () => planOf(['logs/b', 'logs/m', 'logs/t']), now: () => Date.parse('2026-12-01T20:00:00Z') }, signal);
    expect(got.source).toBe('computed');
    expect(got.generation).toBe('1001');
    expect(got.document).toEqual(documentOf(['logs/b', 'logs/m', 'logs/t']));
    expect(JSON.parse(store.text!)).toEqual(got.document);
  });

  it('a task (restarted or not) that finds the plan uses it without computing', async () => {
    const store = new MemoryPlanStore();
    store.text = encodePlan(documentOf(['a', 'b', 'c'], { writtenBy: 1 }));
    for (const taskIndex of [0, 1]) {
      const got = await obtainSharedPlan({ store, identity, taskIndex, compute: async () => expect.unreachable('computed') }, signal);
      expect(got).toMatchObject({ source: 'read', document: { boundaries: ['a', 'b', 'c'], writtenBy: 1 } });
    }
    expect(store.creates).toEqual([]);
  });

  it("another task waits for task 0's plan, polling from 1 s up to 10 s, logging each wait", async () => {
    const store = new MemoryPlanStore();
    store.appearAfterReads = { reads: 6, text: encodePlan(documentOf(['x', 'y', 'z'])) };
    const c = clock();
    const waits: number[] = [];
    const got = await obtainSharedPlan({ store, identity, taskIndex: 1, compute: async () => expect.unreachable('computed'), onWait: (w) => waits.push(w.attempt), ...c }, signal);
    expect(got).toMatchObject({ source: 'read', document: { boundaries: ['x', 'y', 'z'] } });
    expect(c.slept).toEqual([1000, 2000, 4000, 8000, 10_000, 10_000]);
    expect(waits).toEqual([1, 2, 3, 4, 5, 6]);
  });

  it('past the bounded wait, a task computes the plan itself and creates it', async () => {
    const store = new MemoryPlanStore();
    const c = clock();
    const got = await obtainSharedPlan({ store, identity, taskIndex: 1, compute: async () => planOf(['d', 'e', 'f']), maxWaitMs: 60_000, ...c }, signal);
    expect(c.slept.reduce((a, b) => a + b, 0)).toBe(60_000);
    expect(got).toMatchObject({ source: 'computed', document: { boundaries: ['d', 'e', 'f'], writtenBy: 1 } });
  });

  it('two writers racing: one create wins, and both use the winner', async () => {
    const store = new MemoryPlanStore();
    // Both compute before either creates: each read found nothing.
    let release!: () => void;
    const bothComputed = new Promise<void>((resolve) => (release = resolve));
    let computing = 0;
    const compute = (boundaries: string[]) => async (): Promise<RangePlan> => {
      if (++computing === 2) release();
      await bothComputed;
      return planOf(boundaries);
    };
    const [first, second] = await Promise.all([
      obtainSharedPlan({ store, identity, taskIndex: 0, compute: compute(['a', 'b', 'c']) }, signal),
      obtainSharedPlan({ store, identity, taskIndex: 1, compute: compute(['p', 'q', 'r']), maxWaitMs: 0 }, signal),
    ]);
    expect(store.creates).toHaveLength(2);
    expect([first.source, second.source].sort()).toEqual(['computed', 'read']);
    expect(first.document).toEqual(second.document);
    expect(first.generation).toBe(second.generation);
    expect(JSON.parse(store.text!)).toEqual(first.document);
  });

  it.each<[string, Partial<PlanDocument>, RegExp]>([
    ['another prefix', { prefix: 'img/' }, /prefix "img\/" \(this task: "logs\/"\)/],
    ['another bucket and task count', { bucket: 'other', taskCount: 3, boundaries: ['a', 'b', 'c', 'd', 'e'] }, /bucket "other" \(this task: "src"\), taskCount 3 \(this task: 2\)/],
  ])('a plan made for %s under the same execution is an error naming what differs', async (_, over, problem) => {
    const store = new MemoryPlanStore();
    store.text = encodePlan(documentOf(['a', 'b', 'c'], over));
    const err = await obtainSharedPlan({ store, identity, taskIndex: 0, compute: async () => planOf(['a', 'b', 'c']) }, signal).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PermanentError);
    expect((err as PermanentError).code).toBe('PlanMismatch');
    expect((err as Error).message).toMatch(problem);
    expect((err as Error).message).toContain(store.location);
  });

  it('a plan object that is not a valid plan is an error, never used', async () => {
    const store = new MemoryPlanStore();
    store.text = '{"version": 1, "boundaries": [';
    const err = await obtainSharedPlan({ store, identity, taskIndex: 1, compute: async () => planOf(['a', 'b', 'c']) }, signal).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PermanentError);
    expect((err as Error).message).toMatch(/not a gcs2s3 range plan: not JSON/);
    expect(store.creates).toEqual([]);
  });
});

describe('decodePlan', () => {
  const valid = documentOf(['a', 'b', 'c']);
  it('reads back what encodePlan wrote', () => {
    expect(decodePlan(encodePlan(valid), 'gs://p/o')).toEqual(valid);
  });

  it.each<[string, unknown, RegExp]>([
    ['an array', [], /not a JSON object/],
    ['another version', { ...valid, version: 2 }, /version 2, expected 1/],
    ['boundaries out of order', { ...valid, boundaries: ['a', 'c', 'b'] }, /boundaries 1 and 2 are out of order/],
    ['UTF-8 order, not UTF-16', { ...valid, boundaries: ['a', '\u{10000}', '\uffff'] }, /out of order/],
    ['too few boundaries', { ...valid, boundaries: ['a', 'b'] }, /2 boundaries, expected 3/],
    ['a boundary that is not a name', { ...valid, boundaries: ['a', 1, 'c'] }, /not a list of names/],
    ['a missing prefix', { ...valid, prefix: undefined }, /"prefix" is not a string/],
    ['a negative list count', { ...valid, listCalls: -1 }, /"listCalls" is not a whole number/],
    ['a writer outside the tasks', { ...valid, writtenBy: 2 }, /"writtenBy" 2 is not a task of 2/],
    ['exact not a boolean', { ...valid, exact: 'yes' }, /"exact" is not true or false/],
  ])('refuses %s', (_, value, problem) => {
    expect(() => decodePlan(JSON.stringify(value), 'gs://p/o')).toThrow(problem);
  });

  it('accepts equal neighbouring boundaries (an empty piece)', () => {
    expect(decodePlan(encodePlan(documentOf(['a', 'a', 'c'])), 'gs://p/o').boundaries).toEqual(['a', 'a', 'c']);
  });
});
