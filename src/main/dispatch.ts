import { ConfigError } from '../errors.js';
import type { Command, CommandContext } from './command.js';
/**
 * Commands load on demand: each process pays only for its own command's SDKs
 * (`serve` never loads Pub/Sub, `copy` neither), which keeps the base memory
 * in DESIGN.md §4's budget.
 */
const COMMANDS: Record<string, { summary: string; load: () => Promise<Command> }> = {
  copy: { summary: 'replicate one object now', load: async () => (await import('./copy-command.js')).copyCommand },
  pull: { summary: 'run the Pub/Sub pull worker until SIGTERM/SIGINT', load: async () => (await import('./pull-command.js')).pullCommand },
  serve: { summary: 'HTTP server on $PORT for Pub/Sub push and Eventarc CloudEvents', load: async () => (await import('./serve-command.js')).serveCommand },
  backfill: { summary: 'copy every object under a prefix that S3 lacks or holds stale', load: async () => (await import('./backfill-command.js')).backfillCommand },
  verify: { summary: 'compare GCS and S3 under a prefix; exit 1 on differences', load: async () => (await import('./verify-command.js')).verifyCommand },
  demo: { summary: 'live demo on the local emulator stack (what `npm start` runs)', load: async () => (await import('./demo-command.js')).demoCommand },
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
  const entry = COMMANDS[name];
  if (entry === undefined) {
    ctx.stderr(`gcs2s3: unknown command "${name}" (commands: ${Object.keys(COMMANDS).join(', ')})\n`);
    return 2;
  }
  const command = await entry.load();
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

