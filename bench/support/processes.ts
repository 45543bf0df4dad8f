/**
 * Child processes of the bench: each in its own process group (so a child's
 * own children go with it), each with a deadline, all remembered so that
 * `stopAllChildren` can end them on failure or on SIGINT/SIGTERM.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { ROOT } from './env.js';
import { sampleGroupRss, type RssSample } from './rss-sampler.js';

const live = new Set<ChildProcess>();

export interface Finished {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  wallSeconds: number;
  /** Peak RSS of the child in MiB: VmHWM with `withExitReport`, ru_maxrss with `timed`. */
  peakRssMiB?: number;
  /** CPU seconds (user + system) of the child, with `withExitReport` or `timed`. */
  cpuSeconds?: number;
  /** RSS of the child's process group over time, with `rssSampleMs`. */
  rss?: RssSample[];
}

export interface Running {
  child: ChildProcess;
  /** Complete lines so far, stdout's and stderr's (where the CLI's logs go) as they come. */
  lines: string[];
  finished: Promise<Finished>;
  /** Resolves with the first line that matches, or rejects after `timeoutMs` or when the child exits. */
  waitForLine(match: (line: string) => boolean, timeoutMs: number): Promise<string>;
  /** SIGTERM, then SIGKILL to the group after `graceMs`. */
  stop(graceMs?: number): Promise<Finished>;
}

export interface StartOptions {
  env: Record<string, string>;
  /** The child (and its group) is killed after this long, and `finished` rejects. */
  timeoutMs: number;
  label: string;
  /** Sample the group's RSS every this many ms (see rss-sampler.ts). */
  rssSampleMs?: number;
}

const EXIT_MARK = /\n?BENCH_EXIT (\{.*\})\n?/;
const TIME_MARK = /\n?BENCH_TIME (\d+) ([0-9.]+) ([0-9.]+)\n?/;
const TIME = '/usr/bin/time';

/** Node arguments that make a child print its VmHWM and CPU time on stderr as it exits (bench/children/report-peak.ts). */
export function withExitReport(): string[] {
  return ['--import', pathToFileURL(resolve(ROOT, 'bench/.build/bench/children/report-peak.js')).href];
}

/** `command args` under GNU time, when installed, for peak RSS and CPU time of a non-node child. */
export function timed(command: string, args: string[]): [string, string[]] {
  return existsSync(TIME) ? [TIME, ['-f', 'BENCH_TIME %M %U %S', command, ...args]] : [command, args];
}

export function startProcess(command: string, args: string[], options: StartOptions): Running {
  const started = performance.now();
  const child = spawn(command, args, { cwd: ROOT, env: options.env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  live.add(child);
  const sampler = options.rssSampleMs === undefined || child.pid === undefined ? undefined : sampleGroupRss(child.pid, options.rssSampleMs);
  const lines: string[] = [];
  const waiters = new Set<() => void>();
  let stdout = '';
  let stderr = '';
  const splitter = (): ((chunk: string) => void) => {
    let partial = '';
    return (chunk) => {
      partial += chunk;
      let nl: number;
      while ((nl = partial.indexOf('\n')) >= 0) {
        lines.push(partial.slice(0, nl));
        partial = partial.slice(nl + 1);
      }
      for (const w of waiters) w();
    };
  };
  const stdoutLines = splitter();
  const stderrLines = splitter();
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
    stdout += chunk;
    stdoutLines(chunk);
  });
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk;
    stderrLines(chunk);
  });
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    killGroup(child, 'SIGKILL');
  }, options.timeoutMs);
  const finished = new Promise<Finished>((resolvePromise, reject) => {
    child.once('error', (err) => {
      clearTimeout(timer);
      sampler?.stop();
      live.delete(child);
      reject(new Error(`${options.label}: could not start ${command}: ${err.message}`));
    });
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      const rss = sampler?.stop();
      live.delete(child);
      for (const w of waiters) w();
      // The child may have left its own children behind: end the group.
      killGroup(child, 'SIGKILL');
      const result: Finished = { code, signal, stdout, stderr: stderr.replace(EXIT_MARK, '').replace(TIME_MARK, ''), wallSeconds: (performance.now() - started) / 1000, ...(rss === undefined ? {} : { rss }) };
      const exit = EXIT_MARK.exec(stderr)?.[1];
      if (exit !== undefined) Object.assign(result, JSON.parse(exit) as { peakRssMiB: number; cpuSeconds: number });
      const time = TIME_MARK.exec(stderr);
      if (time !== null) Object.assign(result, { peakRssMiB: Number(time[1]) / 1024, cpuSeconds: Number(time[2]) + Number(time[3]) });
      if (timedOut) reject(new Error(`${options.label}: killed after ${options.timeoutMs / 1000} s; stderr: ${tail(result.stderr)}`));
      else resolvePromise(result);
    });
  });
  // A caller that only uses waitForLine must not see an unhandled rejection.
  finished.catch(() => undefined);
  return {
    child,
    lines,
    finished,
    waitForLine(match, timeoutMs) {
      return new Promise((resolveLine, reject) => {
        const check = (): void => {
          const found = lines.find(match);
          if (found !== undefined) done(() => resolveLine(found));
          else if (child.exitCode !== null || child.signalCode !== null) done(() => reject(new Error(`${options.label} exited (${child.exitCode ?? child.signalCode}) before the expected line; stderr: ${tail(stderr)}`)));
        };
        const t = setTimeout(() => done(() => reject(new Error(`${options.label}: no expected line after ${timeoutMs / 1000} s; stderr: ${tail(stderr)}`))), timeoutMs);
        const done = (fn: () => void): void => {
          clearTimeout(t);
          waiters.delete(check);
          fn();
        };
        waiters.add(check);
        check();
      });
    },
    async stop(graceMs = 10_000) {
      if (child.exitCode === null && child.signalCode === null) {
        killGroup(child, 'SIGTERM');
        const grace = setTimeout(() => killGroup(child, 'SIGKILL'), graceMs);
        try {
          return await finished;
        } finally {
          clearTimeout(grace);
        }
      }
      return finished;
    },
  };
}

/** Runs to completion; rejects on a non-zero exit (with its stderr) or the deadline. */
export async function runProcess(command: string, args: string[], options: StartOptions): Promise<Finished> {
  const result = await startProcess(command, args, options).finished;
  if (result.code !== 0) throw new Error(`${options.label} exited ${result.code ?? result.signal}: ${tail(result.stderr || result.stdout)}`);
  return result;
}

/** Runs a compiled bench child (`bench/.build/bench/children/NAME.js`) and parses its last stdout line as JSON. */
export async function runJsonChild<T>(name: string, args: string[], options: StartOptions & { nodeArgs?: string[] }): Promise<T & { wallSeconds: number }> {
  const script = resolve(ROOT, `bench/.build/bench/children/${name}.js`);
  const result = await runProcess(process.execPath, [...(options.nodeArgs ?? []), script, ...args], options);
  const last = result.stdout.trim().split('\n').at(-1) ?? '';
  try {
    return { ...(JSON.parse(last) as T), wallSeconds: result.wallSeconds };
  } catch {
    throw new Error(`${options.label}: no JSON result on stdout: ${tail(result.stdout)} ${tail(result.stderr)}`);
  }
}

function killGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    // Already gone.
  }
}

/** Ends every child still running, with its process group. */
export function stopAllChildren(): void {
  for (const child of live) killGroup(child, 'SIGKILL');
  live.clear();
}

function tail(text: string): string {
  return text.trim().slice(-1500);
}
