/**
 * Paths, the stack's variables and small measurements shared by every bench
 * module, in the parent (tsx) and in compiled children (plain node).
 */
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const MiB = 1024 * 1024;

/** The repository root, whether this file runs from bench/support or bench/.build/bench/support. */
export const ROOT = ((): string => {
  const here = dirname(fileURLToPath(import.meta.url));
  const built = here.indexOf('/bench/.build/');
  return built === -1 ? resolve(here, '../..') : here.slice(0, built);
})();

export const STACK_ENV_FILE = resolve(ROOT, '.local-stack/env');

/** The variables `scripts/local-stack.sh up` wrote. */
export function stackEnv(): Record<string, string> {
  const env: Record<string, string> = {};
  for (const line of readFileSync(STACK_ENV_FILE, 'utf8').split('\n')) {
    const m = /^([A-Z0-9_]+)=(.*)$/.exec(line.trim());
    if (m) env[m[1]!] = m[2]!;
  }
  return env;
}

/**
 * Environment for a child that talks to the stack: ours plus the stack's
 * variables. STORAGE_EMULATOR_HOST stays out of the children that build a
 * runtime themselves (the storage library mis-builds URLs from it,
 * nodejs-storage#1314); they pass it to parseConfig instead. `gcs2s3` itself
 * removes it from process.env (src/cli.ts), so CLI children get it.
 */
export function childEnv(extra: Record<string, string> = {}, options: { keepStorageHost?: boolean } = {}): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined) env[k] = v;
  Object.assign(env, stackEnv(), { NODE_NO_WARNINGS: '1' }, extra);
  if (!options.keepStorageHost) delete env.STORAGE_EMULATOR_HOST;
  return env;
}

/** PART_SIZE_MIB, PART_QUEUE_SIZE and MAX_CONCURRENT_OBJECTS as the children see them (defaults 16, 4, 8). */
export interface TransferSettings {
  partMiB: number;
  queue: number;
  objects: number;
}

/**
 * The transfer settings from the bench's own environment (children inherit
 * it), with the product's parser, so the memory bound and rclone's flags
 * follow e.g. `PART_SIZE_MIB=8 npm run bench`.
 */
export function transferSettings(parse: (env: Record<string, string>) => { partSizeBytes: number; partQueueSize: number; maxConcurrentObjects: number }): TransferSettings {
  const t = parse(childEnv());
  return { partMiB: t.partSizeBytes / MiB, queue: t.partQueueSize, objects: t.maxConcurrentObjects };
}

/** DESIGN.md §4: peak RSS ≤ 96 MiB + MAX_CONCURRENT_OBJECTS × PART_QUEUE_SIZE × PART_SIZE. */
export function memoryBoundMiB(t: TransferSettings): number {
  return 96 + t.objects * t.queue * t.partMiB;
}

/** A prefix no other run or test uses. */
export function uniquePrefix(label: string): string {
  return `bench-${label}-${Date.now().toString(36)}-${randomUUID().slice(0, 6)}/`;
}

/** Peak and current resident set of this process (VmHWM / VmRSS), MiB. */
export function residentMiB(): { peak: number; now: number } {
  const status = readFileSync('/proc/self/status', 'utf8');
  const kb = (field: string): number => Number(new RegExp(`${field}:\\s+(\\d+) kB`).exec(status)?.[1] ?? NaN);
  return { peak: kb('VmHWM') / 1024, now: kb('VmRSS') / 1024 };
}

/** Median of a non-empty list. */
export function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

/** The q-quantile (0..1) by nearest rank. */
export function quantile(values: number[], q: number): number {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))]!;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
