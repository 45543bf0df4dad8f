import { ConfigError } from '../errors.js';
import type { KeyRange } from './key-range.js';

/**
 * This task's share of the keys: task `index` of `count`, listing only the
 * names in its `ranges` (see range-planner.ts, which cuts the prefix into
 * contiguous pieces every task computes alike, a few per task).
 */
export interface Shard {
  /** CLOUD_RUN_TASK_INDEX: 0-based. */
  index: number;
  /** CLOUD_RUN_TASK_COUNT: number of tasks, ≥ 1. */
  count: number;
  /** The names this task lists and works on, ascending and disjoint. Default: all of them (one task, or ranges not planned yet). */
  ranges?: KeyRange[];
}

/** The whole keyspace: one task. */
export const WHOLE: Shard = { index: 0, count: 1 };

/** Cloud Run Jobs allow at most 10,000 tasks per execution. */
export const MAX_TASKS = 10_000;

/**
 * Reads the Cloud Run Jobs task variables. Both unset: one task does
 * everything. Pure: reads only `env`.
 */
export function parseShard(env: Record<string, string | undefined>): Shard {
  const rawIndex = env.CLOUD_RUN_TASK_INDEX?.trim() || undefined;
  const rawCount = env.CLOUD_RUN_TASK_COUNT?.trim() || undefined;
  if (rawIndex === undefined && rawCount === undefined) return WHOLE;
  if (rawCount === undefined) throw new ConfigError('CLOUD_RUN_TASK_COUNT', `is required with CLOUD_RUN_TASK_INDEX (${rawIndex}): the number of tasks sharing the work`);
  if (rawIndex === undefined) throw new ConfigError('CLOUD_RUN_TASK_INDEX', `is required with CLOUD_RUN_TASK_COUNT (${rawCount}): this task's 0-based index`);
  if (!/^\d+$/.test(rawCount) || Number(rawCount) < 1 || Number(rawCount) > MAX_TASKS) {
    throw new ConfigError('CLOUD_RUN_TASK_COUNT', `must be a whole number from 1 to ${MAX_TASKS}, got "${rawCount}"`);
  }
  const count = Number(rawCount);
  if (!/^\d+$/.test(rawIndex) || Number(rawIndex) >= count) {
    throw new ConfigError('CLOUD_RUN_TASK_INDEX', `must be a whole number from 0 to ${count - 1} (CLOUD_RUN_TASK_COUNT is ${count}), got "${rawIndex}"`);
  }
  return { index: Number(rawIndex), count };
}
