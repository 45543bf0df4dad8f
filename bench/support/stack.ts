/**
 * The local stack around a bench run: bring it up if needed, wait for the
 * machine to be quiet, and account the CPU time each emulator spends.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { resolve } from 'node:path';
import { ROOT, sleep } from './env.js';

const SCRIPT = resolve(ROOT, 'scripts/local-stack.sh');
/** The stack's servers, as scripts/local-stack.sh names their pid files. */
export const SERVICES = ['pubsub', 'oidc', 'minio', 'gcs'] as const;
export type Service = (typeof SERVICES)[number];

export function stackIsUp(): boolean {
  return spawnSync('bash', [SCRIPT, 'status'], { stdio: 'ignore' }).status === 0;
}

/** Starts the stack unless it is up; says whether this call started it. */
export function ensureStack(): boolean {
  if (stackIsUp()) return false;
  execFileSync('bash', [SCRIPT, 'up'], { stdio: ['ignore', 'inherit', 'inherit'], timeout: 300_000 });
  return true;
}

export function stopStack(): void {
  execFileSync('bash', [SCRIPT, 'down'], { stdio: ['ignore', 'inherit', 'inherit'], timeout: 120_000 });
}

/** True while someone's test run (vitest) is on the machine. */
export function vitestRunning(): boolean {
  const out = spawnSync('pgrep', ['-f', 'vitest'], { encoding: 'utf8' });
  return out.stdout.trim() !== '';
}

/**
 * Waits until no vitest process runs, polling every `pollMs`, for at most
 * `maxMs`. Heavy integration tests on the same two cores would skew every
 * ratio; resolves false when it never became quiet (run anyway, and say so).
 */
export async function waitForQuiet(maxMs: number, pollMs: number, log: (line: string) => void): Promise<boolean> {
  const deadline = Date.now() + maxMs;
  let said = false;
  while (vitestRunning()) {
    if (Date.now() >= deadline) return false;
    if (!said) log(`waiting for running vitest processes to finish (polling every ${pollMs / 1000} s, up to ${Math.round(maxMs / 60_000)} min)…`);
    said = true;
    await sleep(Math.min(pollMs, Math.max(0, deadline - Date.now())));
  }
  return true;
}

/**
 * Waits until the 1-minute load average drops below `threshold` (others'
 * builds, not only tests, take the cores the emulators and the copy share),
 * polling every `pollMs`, for at most `maxMs`. Resolves with the last load.
 */
export async function waitForLoad(threshold: number, maxMs: number, pollMs: number, log: (line: string) => void): Promise<number> {
  const deadline = Date.now() + maxMs;
  let said = false;
  while (loadavg()[0]! >= threshold && Date.now() < deadline) {
    if (!said) log(`load average ${loadavg()[0]!.toFixed(2)} ≥ ${threshold}: waiting up to ${Math.round(maxMs / 60_000)} min for the machine to calm down…`);
    said = true;
    await sleep(Math.min(pollMs, Math.max(0, deadline - Date.now())));
  }
  return loadavg()[0]!;
}

const TICKS_PER_SECOND = ((): number => {
  const out = spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' });
  const n = Number(out.stdout.trim());
  return Number.isFinite(n) && n > 0 ? n : 100;
})();

/** CPU seconds (user + system) consumed so far by each service's process group. */
export function cpuSnapshot(): Record<Service, number> {
  const groups = new Map<number, Service>();
  for (const name of SERVICES) {
    try {
      groups.set(Number(readFileSync(resolve(ROOT, `.local-stack/${name}.pid`), 'utf8').trim()), name);
    } catch {
      // Not running.
    }
  }
  const totals = { pubsub: 0, oidc: 0, minio: 0, gcs: 0 } satisfies Record<Service, number>;
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
    } catch {
      continue;
    }
    // Fields after the parenthesised command name: state(3) ppid(4) pgrp(5) … utime(14) stime(15).
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const service = groups.get(Number(fields[2]));
    if (service !== undefined) totals[service] += (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND;
  }
  return totals;
}

/** CPU seconds per service between two snapshots. */
export function cpuSince(before: Record<Service, number>): Record<Service, number> {
  const now = cpuSnapshot();
  return { pubsub: now.pubsub - before.pubsub, oidc: now.oidc - before.oidc, minio: now.minio - before.minio, gcs: now.gcs - before.gcs };
}
