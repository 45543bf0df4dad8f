import { hostname } from 'node:os';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { ConfigError } from '../errors.js';

/** What a command gets: its arguments, the environment, and where to write. */
export interface CommandContext {
  args: string[];
  env: Record<string, string | undefined>;
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  /** stderr is a terminal: progress is drawn there as one rewritten line. Default false. */
  stderrIsTTY?: boolean;
  /** Fires on SIGTERM/SIGINT: stop taking work, finish or abort what is open. */
  signal: AbortSignal;
  /**
   * Sets variables in this process's environment, for the libraries that read
   * their settings only there (the demo points the Pub/Sub and metadata-server
   * clients at the local stack). Only src/cli.ts touches process.env itself.
   */
  setProcessEnv?: (vars: Record<string, string | undefined>) => void;
}

export interface Command {
  usage: string;
  run(ctx: CommandContext): Promise<number>;
}

/** parseArgs with our error shape: an unknown flag or bad value is a ConfigError naming it. */
export function parseCommandArgs<T extends NonNullable<ParseArgsConfig['options']>>(args: string[], options: T, positionals: number) {
  let parsed;
  try {
    parsed = parseArgs({ args, options, allowPositionals: true, strict: true });
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    const flag = /'(--?[\w-]+)/.exec(message)?.[1] ?? 'arguments';
    throw new ConfigError(flag, message.replace(/\. To specify a positional argument.*$/s, ''));
  }
  if (parsed.positionals.length !== positionals) {
    throw new ConfigError('arguments', `expected ${positionals} argument${positionals === 1 ? '' : 's'}, got ${parsed.positionals.length}`);
  }
  return parsed;
}

/**
 * A name for this process in logs and the STS session name: Cloud Run's
 * revision or job execution and task, else the host name; plus the pid.
 */
export function instanceIdFrom(env: Record<string, string | undefined>): string {
  const base = env.CLOUD_RUN_EXECUTION ?? env.K_REVISION ?? hostname();
  const task = env.CLOUD_RUN_TASK_INDEX === undefined ? '' : `-t${env.CLOUD_RUN_TASK_INDEX}`;
  return `${base}${task}-${process.pid}`;
}
