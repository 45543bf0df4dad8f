/**
 * Resident set of a child process group over time: VmRSS of every process in
 * the group (a child's own children, e.g. rclone under /usr/bin/time,
 * included), read from /proc every `intervalMs`. The group is re-scanned once
 * a second (a /proc walk costs a few ms); in between only the known pids'
 * status files are read, so sampling every 50 ms costs the machine < 1 %.
 */
import { readdirSync, readFileSync } from 'node:fs';

/** One sample: seconds since the child started, MiB resident. */
export interface RssSample {
  t: number;
  mib: number;
}

export interface RssSampler {
  stop(): RssSample[];
}

export function sampleGroupRss(pgid: number, intervalMs: number): RssSampler {
  const started = performance.now();
  const samples: RssSample[] = [];
  let pids: number[] = [pgid];
  let lastScan = 0;
  const tick = (): void => {
    const now = performance.now();
    if (now - lastScan >= 1000) {
      pids = groupPids(pgid);
      lastScan = now;
    }
    let kb = 0;
    for (const pid of pids) kb += vmRssKb(pid);
    if (kb > 0) samples.push({ t: (now - started) / 1000, mib: kb / 1024 });
  };
  tick();
  const timer = setInterval(tick, intervalMs);
  return {
    stop() {
      clearInterval(timer);
      return samples;
    },
  };
}

function vmRssKb(pid: number): number {
  try {
    return Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0);
  } catch {
    return 0; // Gone (or not yet there).
  }
}

function groupPids(pgid: number): number[] {
  const found: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      // Fields after the parenthesised command name: state(3) ppid(4) pgrp(5).
      if (Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[2]) === pgid) found.push(Number(entry));
    } catch {
      // Exited while we looked.
    }
  }
  return found.length > 0 ? found : [pgid];
}

/** At most `max` samples, evenly picked (the peak always kept): enough for a chart. */
export function thinSamples(samples: RssSample[], max: number): RssSample[] {
  if (samples.length <= max) return samples;
  const step = samples.length / max;
  const peak = samples.reduce((a, b) => (b.mib > a.mib ? b : a));
  const out = Array.from({ length: max }, (_, i) => samples[Math.floor(i * step)]!);
  if (!out.includes(peak)) out.push(peak);
  return out.sort((a, b) => a.t - b.t);
}
