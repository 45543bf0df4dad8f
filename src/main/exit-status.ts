/**
 * The exit statuses of every gcs2s3 command: one table, shown by each
 * command's --help and in README (generated from here, and checked).
 * Follows the common shape of rclone and `aws s3`: 0 success, 1 the work
 * failed, 2 the command line or configuration is wrong; `verify` keeps
 * diff(1)'s meaning of 2 ("trouble": the comparison could not finish).
 */
import type { Command } from '../config/variables.js';

export const EXIT = {
  /** Done: copied, already current, in sync, or stopped cleanly. */
  ok: 0,
  /** The work failed (some of it), or verify found differences. */
  failed: 1,
  /** Bad usage or configuration, before any work; verify: could not finish. */
  usage: 2,
  /** SOURCE_BUCKETS / INCLUDE_PREFIXES / EXCLUDE_PREFIXES leave nothing to do. */
  excluded: 3,
  /** A second SIGINT/SIGTERM: exited at once (128 + SIGINT's 2, the shell convention). */
  killed: 130,
} as const;

export interface ExitStatusRow {
  code: number;
  /** What it means for every command. */
  meaning: string;
  /** What it means for one command, where that says more (plain text; `code spans` allowed). */
  byCommand: Partial<Record<Command, string>>;
}

export const EXIT_STATUSES: readonly ExitStatusRow[] = [
  {
    code: EXIT.ok,
    meaning: 'success',
    byCommand: {
      copy: 'copied, or S3 already holds this generation or a newer one',
      backfill: 'every object copied or already current',
      verify: 'S3 is in sync with GCS',
      pull: 'stopped by SIGTERM/SIGINT after draining',
      serve: 'stopped by SIGTERM/SIGINT after draining',
      demo: 'stopped by Ctrl-C',
    },
  },
  {
    code: EXIT.failed,
    meaning: 'the work failed',
    byCommand: {
      copy: 'the copy failed, or the object (or that generation) no longer exists in GCS',
      backfill: 'some objects failed (named on stderr and in the report), a listing failed, or interrupted: run it again to copy the rest',
      verify: 'differences found',
      pull: 'could not start, or stopped on an error',
      serve: 'could not start, or stopped on an error',
    },
  },
  {
    code: EXIT.usage,
    meaning: 'bad usage or configuration (a flag, URL or variable; one line on stderr names it), before any work',
    byCommand: {
      backfill: 'also: a bucket that does not exist, or a --report FILE that cannot be written',
      verify: 'also: a bucket that does not exist, or the comparison could not finish (a listing or a HEAD failed, or interrupted)',
      demo: 'the local stack did not start',
    },
  },
  {
    code: EXIT.excluded,
    meaning: 'excluded by `SOURCE_BUCKETS`, `INCLUDE_PREFIXES` or `EXCLUDE_PREFIXES` (or `--include`/`--exclude`): nothing done',
    byCommand: {
      copy: 'the object is filtered out',
      backfill: 'the bucket is not in SOURCE_BUCKETS, or the filters leave no name under the prefix',
      verify: 'the bucket is not in SOURCE_BUCKETS, or the filters leave no name under the prefix',
    },
  },
  { code: EXIT.killed, meaning: 'a second SIGINT/SIGTERM: exited at once, without waiting for copies in flight', byCommand: {} },
];

/** Markdown to plain text for a terminal. */
const plain = (text: string): string => text.replace(/`([^`]*)`/g, '$1');

/** The "Exit status" section of a command's --help, or of `gcs2s3 --help` without a command. */
export function exitStatusHelp(command?: Command): string {
  const rows = EXIT_STATUSES.filter((r) => command === undefined || r.code !== EXIT.excluded || r.byCommand[command] !== undefined);
  const lines = rows.map((r) => {
    const specific = command === undefined ? undefined : r.byCommand[command];
    return `  ${String(r.code).padEnd(5)}${plain(r.meaning)}${specific === undefined ? '' : `: ${plain(specific)}`}`;
  });
  return `Exit status:\n${lines.join('\n')}`;
}

/** README's table: one row per status, the per-command meanings in the last column. */
export function exitStatusMarkdown(): string {
  const rows = EXIT_STATUSES.map((r) => {
    const details = Object.entries(r.byCommand).map(([c, text]) => `\`${c}\`: ${text}`);
    return `| ${r.code} | ${r.meaning} | ${details.join('; ') || '—'} |`;
  });
  return ['| status | meaning | per command |', '| --- | --- | --- |', ...rows].join('\n');
}
