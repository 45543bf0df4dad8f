import { ConfigError } from '../errors.js';
import type { Command, CommandContext } from './command.js';
import { backfillCommand } from './backfill-command.js';
import { copyCommand } from './copy-command.js';
import { demoCommand } from './demo-command.js';
import { pullCommand } from './pull-command.js';
import { serveCommand } from './serve-command.js';
import { verifyCommand } from './verify-command.js';

const COMMANDS: Record<string, Command> = {
  copy: copyCommand,
  pull: pullCommand,
  serve: serveCommand,
  backfill: backfillCommand,
  verify: verifyCommand,
  demo: demoCommand,
};

function usage(): string {
  const lines = Object.entries(COMMANDS).map(([name, c]) => `  ${name.padEnd(10)} ${c.summary}`);
  return `Usage: gcs2s3 <command> [options]

Replicates Google Cloud Storage objects into Amazon S3 with no AWS access key:
a Google ID token is exchanged at AWS STS for short-lived credentials.

Commands:
${lines.join('\n')}

Run "gcs2s3 <command> --help" for a command's usage.
Configuration is read from the environment; see README.md.`;
}

/** Runs one command line; resolves to the process exit code. */
export async function main(argv: string[], ctx: Omit<CommandContext, 'args'>): Promise<number> {
  const [name, ...args] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    ctx.stdout(`${usage()}\n`);
    return name === undefined ? 2 : 0;
  }
  const command = COMMANDS[name];
  if (command === undefined) {
    ctx.stderr(`gcs2s3: unknown command "${name}" (commands: ${Object.keys(COMMANDS).join(', ')})\n`);
    return 2;
  }
  if (args.includes('--help') || args.includes('-h')) {
    ctx.stdout(`${command.usage}\n`);
    return 0;
  }
  try {
    return await command.run({ ...ctx, args });
  } catch (err) {
    if (err instanceof ConfigError) {
      ctx.stderr(`gcs2s3 ${name}: ${err.message}\n`);
      return 2;
    }
    throw err;
  }
}

