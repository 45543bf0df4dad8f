import { setTimeout as sleepFor } from 'node:timers/promises';
import { PermanentError, TransientError } from '../errors.js';
import type { PlanStore } from './ports.js';
import type { RangePlan } from './range-planner.js';
import { compareUtf8 } from './utf8-order.js';

/**
 * One range plan per Cloud Run Job execution, computed once and shared by
 * every task through one object (PLAN_BUCKET), instead of every task
 * sampling the prefix alike.
 *
 * The protocol holds whatever order the tasks start in and however often
 * they restart (Cloud Run may run fewer tasks at once than there are, and
 * retries a failed task):
 * - every task reads the object first: a restarted task finds the plan its
 *   execution already uses, and re-lists only its own ranges;
 * - task 0, finding none, computes the plan and creates the object with a
 *   create-only precondition (GCS ifGenerationMatch=0);
 * - other tasks poll for it (1 s, doubling to 10 s) up to `maxWaitMs`, then
 *   compute it themselves and try to create it the same way;
 * - whoever created it, every task uses the object read back: one set of
 *   boundaries per execution, so every name is in exactly one task's ranges.
 */

/** The plan object's format; a reader refuses any other. */
export const PLAN_VERSION = 1;
/** How long a task other than 0 waits for task 0's plan before computing one: Cloud Run may start task 0 late. */
export const PLAN_WAIT_MS = 10 * 60_000;
const FIRST_POLL_MS = 1000;
const LAST_POLL_MS = 10_000;

/** What the plan was computed for: a plan for anything else is refused. */
export interface PlanIdentity {
  /** Source bucket. */
  bucket: string;
  prefix: string;
  /** CLOUD_RUN_TASK_COUNT. */
  taskCount: number;
}

/** The plan object's content. */
export interface PlanDocument extends PlanIdentity, RangePlan {
  version: typeof PLAN_VERSION;
  /** The task that computed and created it. */
  writtenBy: number;
  /** RFC 3339. */
  createdAt: string;
}

export interface SharedPlan {
  document: PlanDocument;
  /** `computed`: this task created the object; `read`: another task (or an earlier run of this one) did. */
  source: 'computed' | 'read';
  /** The object's generation. */
  generation: string;
}

export interface SharedPlanOptions {
  store: PlanStore;
  identity: PlanIdentity;
  /** CLOUD_RUN_TASK_INDEX. */
  taskIndex: number;
  /** Samples the prefix (range-planner.ts, `shared: true`). */
  compute: (signal: AbortSignal) => Promise<RangePlan>;
  /** Default PLAN_WAIT_MS. */
  maxWaitMs?: number;
  /** Called before each wait for task 0's plan. */
  onWait?: (wait: { attempt: number; waitedMs: number; nextMs: number }) => void;
  /** Injectable for tests: the clock and the pause between polls. */
  now?: () => number;
  sleep?: (ms: number, signal: AbortSignal) => Promise<void>;
}

/** This execution's plan: read, waited for, or computed and created (see the protocol above). */
export async function obtainSharedPlan(options: SharedPlanOptions, signal: AbortSignal): Promise<SharedPlan> {
  const { store, identity, taskIndex } = options;
  const existing = (await readPlan(store, identity, signal)) ?? (taskIndex === 0 ? undefined : await waitForPlan(options, signal));
  if (existing !== undefined) return { ...existing, source: 'read' };
  const plan = await options.compute(signal);
  const document: PlanDocument = { version: PLAN_VERSION, ...identity, ...plan, writtenBy: taskIndex, createdAt: new Date((options.now ?? Date.now)()).toISOString() };
  const created = await store.create(encodePlan(document), signal);
  // Created or not (another task won the race), the object is the plan: read it back.
  const winner = await readPlan(store, identity, signal);
  if (winner === undefined) throw new TransientError(`${store.location}: ${created ? 'created' : 'already exists'}, yet reads back as missing`, { code: 'PlanMissing' });
  return { ...winner, source: created ? 'computed' : 'read' };
}

async function readPlan(store: PlanStore, identity: PlanIdentity, signal: AbortSignal): Promise<Omit<SharedPlan, 'source'> | undefined> {
  const found = await store.read(signal);
  if (found === undefined) return undefined;
  const document = decodePlan(found.text, store.location);
  checkIdentity(document, identity, store.location);
  return { document, generation: found.generation };
}

/** Polls for task 0's plan with a growing pause; undefined once `maxWaitMs` has passed without one. */
async function waitForPlan(options: SharedPlanOptions, signal: AbortSignal): Promise<Omit<SharedPlan, 'source'> | undefined> {
  const now = options.now ?? Date.now;
  const sleep = options.sleep ?? ((ms, s) => sleepFor(ms, undefined, { signal: s }));
  const maxWaitMs = options.maxWaitMs ?? PLAN_WAIT_MS;
  const started = now();
  let pause = FIRST_POLL_MS;
  for (let attempt = 1; ; attempt++) {
    const waitedMs = now() - started;
    if (waitedMs >= maxWaitMs) return undefined;
    const nextMs = Math.min(pause, maxWaitMs - waitedMs);
    options.onWait?.({ attempt, waitedMs, nextMs });
    await sleep(nextMs, signal);
    const found = await readPlan(options.store, options.identity, signal);
    if (found !== undefined) return found;
    pause = Math.min(LAST_POLL_MS, pause * 2);
  }
}

export function encodePlan(document: PlanDocument): string {
  return `${JSON.stringify(document, null, 1)}\n`;
}

const isCount = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;

/** The plan object's JSON, checked field by field: a malformed plan would hand names to no task, or to two. */
export function decodePlan(text: string, location: string): PlanDocument {
  const bad = (why: string): PermanentError => new PermanentError(`${location}: not a gcs2s3 range plan: ${why}`, { code: 'PlanInvalid' });
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw bad(`not JSON (${(err as Error).message})`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw bad('not a JSON object');
  const d = value as Record<string, unknown>;
  if (d.version !== PLAN_VERSION) throw bad(`version ${JSON.stringify(d.version)}, expected ${PLAN_VERSION}`);
  for (const field of ['bucket', 'prefix', 'createdAt'] as const) if (typeof d[field] !== 'string') throw bad(`"${field}" is not a string`);
  for (const field of ['taskCount', 'piecesPerTask', 'listCalls', 'estimatedObjects', 'writtenBy'] as const) if (!isCount(d[field])) throw bad(`"${field}" is not a whole number`);
  if (typeof d.exact !== 'boolean') throw bad('"exact" is not true or false');
  const { taskCount, piecesPerTask, writtenBy } = d as { taskCount: number; piecesPerTask: number; writtenBy: number };
  if (taskCount < 1 || piecesPerTask < 1) throw bad('"taskCount" and "piecesPerTask" must be at least 1');
  if (writtenBy >= taskCount) throw bad(`"writtenBy" ${writtenBy} is not a task of ${taskCount}`);
  const boundaries = d.boundaries;
  if (!Array.isArray(boundaries) || !boundaries.every((b) => typeof b === 'string')) throw bad('"boundaries" is not a list of names');
  if (boundaries.length !== piecesPerTask * taskCount - 1) throw bad(`${boundaries.length} boundaries, expected ${piecesPerTask * taskCount - 1} (piecesPerTask × taskCount − 1)`);
  const unsorted = boundaries.findIndex((b, i) => i > 0 && compareUtf8(boundaries[i - 1]!, b) > 0);
  if (unsorted > 0) throw bad(`boundaries ${unsorted - 1} and ${unsorted} are out of order`);
  return d as unknown as PlanDocument;
}

/** A plan made for another prefix, bucket or task count under the same execution is an error, naming what differs. */
export function checkIdentity(document: PlanDocument, expected: PlanIdentity, location: string): void {
  const differs = (['bucket', 'prefix', 'taskCount'] as const)
    .filter((field) => document[field] !== expected[field])
    .map((field) => `${field} ${JSON.stringify(document[field])} (this task: ${JSON.stringify(expected[field])})`);
  if (differs.length > 0) {
    throw new PermanentError(`${location} is the plan of another run of this execution: ${differs.join(', ')}; give each run its own execution, or delete the object`, { code: 'PlanMismatch' });
  }
}
