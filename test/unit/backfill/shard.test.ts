import { describe, expect, it } from 'vitest';
import { inShard, parseShard, shardOf } from '../../../src/backfill/shard.js';
import { ConfigError } from '../../../src/errors.js';

const NAMES = Array.from({ length: 10_000 }, (_, i) => `logs/2024/${String(i).padStart(5, '0')}-${(i * 7919) % 1000}.json`);

describe('shards', () => {
  it.each([1, 2, 3, 4, 5])('%i tasks take disjoint shares that together cover all 10,000 names exactly once', (count) => {
    const owners = new Map<string, number[]>();
    for (let index = 0; index < count; index++) {
      for (const name of NAMES) {
        if (inShard(name, { index, count })) owners.set(name, [...(owners.get(name) ?? []), index]);
      }
    }
    expect(owners.size).toBe(NAMES.length);
    expect([...owners.values()].filter((o) => o.length !== 1)).toEqual([]);
    // Balanced enough to be worth sharding: every share within 10% of even.
    const sizes = Array.from({ length: count }, (_, index) => NAMES.filter((n) => inShard(n, { index, count })).length);
    for (const size of sizes) expect(Math.abs(size - NAMES.length / count)).toBeLessThan((NAMES.length / count) * 0.1);
  });

  it('is stable: the shard depends on the name alone (SHA-256, first 4 bytes, big-endian)', () => {
    // sha256("a") = ca978112…
    expect(shardOf('a', 3)).toBe(0xca978112 % 3);
    expect(shardOf('a', 5)).toBe(0xca978112 % 5);
    expect(shardOf('a', 1)).toBe(0);
    expect(NAMES.map((n) => shardOf(n, 4))).toEqual(NAMES.map((n) => shardOf(n, 4)));
  });
});

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
