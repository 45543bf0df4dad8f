import { spawn, type ChildProcess } from 'node:child_process';
import { ROOT } from './stack.js';

/** A `gcs2s3` child process whose JSON lines (logs on stderr, results on stdout) are collected. */
export interface Worker {
  child: ChildProcess;
  lines: Array<Record<string, unknown>>;
  stderr: string[];
  /** Resolves with the exit code. */
  exited: Promise<number | null>;
  /** Waits until a log line matches, or rejects after timeoutMs. */
  waitFor(match: (line: Record<string, unknown>) => boolean, timeoutMs?: number): Promise<Record<string, unknown>>;
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

const live = new Set<ChildProcess>();

/** Starts `node --import tsx src/cli.ts ...args` with `env`. Always stop it (see `stopAll`). */
export function startCli(args: string[], env: Record<string, string | undefined>): Worker {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli.ts', ...args], {
    cwd: ROOT,
    env: { ...env, NODE_NO_WARNINGS: '1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  live.add(child);
  const lines: Array<Record<string, unknown>> = [];
  const stderr: string[] = [];
  const waiters = new Set<() => void>();
  const collect = (stream: NodeJS.ReadableStream, onText: (line: string) => void): void => {
    let buffer = '';
    stream.setEncoding('utf8');
    stream.on('data', (chunk: string) => {
      buffer += chunk;
      let nl: number;
      while ((nl = buffer.indexOf('\n')) >= 0) {
        const line = buffer.slice(0, nl);
        buffer = buffer.slice(nl + 1);
        try {
          lines.push(JSON.parse(line) as Record<string, unknown>);
        } catch {
          onText(line);
        }
        for (const w of waiters) w();
      }
    });
  };
  collect(child.stdout!, (line) => lines.push({ raw: line }));
  collect(child.stderr!, (line) => stderr.push(`${line}\n`));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => {
    live.delete(child);
    resolve(code);
  }));
  return {
    child,
    lines,
    stderr,
    exited,
    waitFor(match, timeoutMs = 60_000) {
      return new Promise((resolve, reject) => {
        const check = (): void => {
          const found = lines.find(match);
          if (found) {
            waiters.delete(check);
            clearTimeout(timer);
            resolve(found);
          }
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`timed out waiting for a log line; stderr: ${stderr.join('').slice(-2000)}`));
        }, timeoutMs);
        waiters.add(check);
        check();
      });
    },
    async stop(signal = 'SIGTERM') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
  };
}

/** Kills every child still running (afterAll). */
export async function stopAll(): Promise<void> {
  for (const child of live) child.kill('SIGKILL');
  live.clear();
}
