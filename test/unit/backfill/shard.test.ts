import { describe, expect, it } from 'vitest';
import { parseShard } from '../../../src/backfill/shard.js';
import { ConfigError } from '../../../src/errors.js';

describe('parseShard', () => {
  it.each<[Record<string, string | undefined>, { index: number; count: number }]>([
    [{}, { index: 0, count: 1 }],
    [{ CLOUD_RUN_TASK_INDEX: '', CLOUD_RUN_TASK_COUNT: '' }, { index: 0, count: 1 }],
    [{ CLOUD_RUN_TASK_INDEX: '0', CLOUD_RUN_TASK_COUNT: '1' }, { index: 0, count: 1 }],
    [{ CLOUD_RUN_TASK_INDEX: '2', CLOUD_RUN_TASK_COUNT: '3' }, { index: 2, count: 3 }],
    [{ CLOUD_RUN_TASK_INDEX: ' 9999 ', CLOUD_RUN_TASK_COUNT: '10000' }, { index: 9999, count: 10000 }],
  ])('%j → %j', (env, expected) => {
    expect(parseShard(env)).toEqual(expected);
  });

  it.each<[Record<string, string>, string, RegExp]>([
    [{ CLOUD_RUN_TASK_INDEX: '0' }, 'CLOUD_RUN_TASK_COUNT', /is required/],
    [{ CLOUD_RUN_TASK_COUNT: '3' }, 'CLOUD_RUN_TASK_INDEX', /is required/],
    [{ CLOUD_RUN_TASK_INDEX: '0', CLOUD_RUN_TASK_COUNT: '0' }, 'CLOUD_RUN_TASK_COUNT', /from 1 to 10000/],
    [{ CLOUD_RUN_TASK_INDEX: '0', CLOUD_RUN_TASK_COUNT: 'three' }, 'CLOUD_RUN_TASK_COUNT', /whole number/],
    [{ CLOUD_RUN_TASK_INDEX: '0', CLOUD_RUN_TASK_COUNT: '10001' }, 'CLOUD_RUN_TASK_COUNT', /from 1 to 10000/],
    [{ CLOUD_RUN_TASK_INDEX: '0', CLOUD_RUN_TASK_COUNT: '-2' }, 'CLOUD_RUN_TASK_COUNT', /whole number/],
    [{ CLOUD_RUN_TASK_INDEX: '3', CLOUD_RUN_TASK_COUNT: '3' }, 'CLOUD_RUN_TASK_INDEX', /from 0 to 2/],
    [{ CLOUD_RUN_TASK_INDEX: '-1', CLOUD_RUN_TASK_COUNT: '3' }, 'CLOUD_RUN_TASK_INDEX', /from 0 to 2/],
    [{ CLOUD_RUN_TASK_INDEX: '1.5', CLOUD_RUN_TASK_COUNT: '3' }, 'CLOUD_RUN_TASK_INDEX', /whole number/],
  ])('%j → ConfigError naming %s', (env, setting, problem) => {
    let error: unknown;
    try {
      parseShard(env);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).setting).toBe(setting);
    expect((error as ConfigError).message).toMatch(problem);
  });
});
