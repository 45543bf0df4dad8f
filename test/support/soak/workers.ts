import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, type WriteStream } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from '../stack.js';

/** Outcome lines of every delivery, by outcome (copied, skipped, failed, …). */
export type OutcomeTally = Record<string, number>;

/** A `gcs2s3` child process whose every output line goes to a log file; outcome lines are counted. */
export interface CliProcess {
  name: string;
  child: ChildProcess;
  logFile: string;
  exited: Promise<number | null>;
  /** When the last outcome line arrived (ms since epoch). */
  lastOutcomeAt(): number;
}

/** Starts `node --import tsx src/cli.ts …args` with exactly `env` (plus PATH/HOME), writing its output to `logFile`. */
export function startCliProcess(name: string, args: string[], env: Record<string, string>, logFile: string, outcomes?: OutcomeTally): CliProcess {
  const log: WriteStream = createWriteStream(logFile, { flags: 'a' });
  const base = { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', NODE_NO_WARNINGS: '1' };
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli.ts', ...args], { cwd: ROOT, env: { ...base, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let lastOutcome = Date.now();
  const onLine = (line: string): void => {
    log.write(`${line}\n`);
    if (outcomes === undefined || !line.includes('"outcome"')) return;
    try {
      const parsed = JSON.parse(line) as { outcome?: unknown; via?: unknown };
      if (typeof parsed.outcome === 'string' && parsed.via === 'pull') {
        outcomes[parsed.outcome] = (outcomes[parsed.outcome] ?? 0) + 1;
        lastOutcome = Date.now();
      }
    } catch {
      // Not a JSON line: kept in the log file, scanned like the rest.
    }
  };
  for (const stream of [child.stdout!, child.stderr!]) splitLines(stream, onLine);
  const exited = new Promise<number | null>((resolve) =>
    child.once('close', (code, signal) => {
      log.end(`# ${name} exited: code ${code}, signal ${signal}\n`, () => resolve(code));
    }),
  );
  return { name, child, logFile, exited, lastOutcomeAt: () => lastOutcome };
}

function splitLines(stream: NodeJS.ReadableStream, onLine: (line: string) => void): void {
  let buffer = '';
  stream.setEncoding('utf8');
  stream.on('data', (chunk: string) => {
    buffer += chunk;
    let nl: number;
    while ((nl = buffer.indexOf('\n')) >= 0) {
      onLine(buffer.slice(0, nl));
      buffer = buffer.slice(nl + 1);
    }
  });
  stream.on('end', () => {
    if (buffer !== '') onLine(buffer);
  });
}

/** Runs a command to its end; resolves with its exit code. */
export async function runCli(name: string, args: string[], env: Record<string, string>, dir: string): Promise<number | null> {
  return startCliProcess(name, args, env, join(dir, `${name}.log`)).exited;
}

/** One of the two pull workers: restarted under the same name, each incarnation logging to the same file. */
export class PullWorker {
  private current: CliProcess | undefined;
  starts = 0;

  constructor(
    readonly name: string,
    private readonly env: Record<string, string>,
    private readonly dir: string,
    private readonly outcomes: OutcomeTally,
  ) {}

  get running(): boolean {
    return this.current !== undefined && this.current.child.exitCode === null && this.current.child.signalCode === null;
  }

  lastOutcomeAt(): number {
    return this.current?.lastOutcomeAt() ?? 0;
  }

  /** Exits nobody asked for (a crash), each followed by a restart a second later. */
  crashes = 0;
  private stopping = false;
  private closed = false;

  start(): void {
    if (this.running || this.closed) return;
    this.starts++;
    this.stopping = false;
    const p = startCliProcess(this.name, ['pull'], this.env, join(this.dir, `${this.name}.log`), this.outcomes);
    this.current = p;
    void p.exited.then(() => {
      if (this.stopping || this.current !== p || this.closed) return;
      this.crashes++;
      setTimeout(() => this.start(), 1000);
    });
  }

  /** Sends `signal` and waits for the exit (SIGKILL after 15 s, should SIGTERM not end it). `close` keeps it down for good. */
  async stop(signal: NodeJS.Signals, close = false): Promise<void> {
    this.closed ||= close;
    const p = this.current;
    if (p === undefined || !this.running) return;
    this.stopping = true;
    p.child.kill(signal);
    const timer = setTimeout(() => p.child.kill('SIGKILL'), 15_000);
    await p.exited;
    clearTimeout(timer);
  }
}
