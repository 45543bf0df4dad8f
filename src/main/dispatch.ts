import { environmentHelp } from '../config/describe.js';
import type { Command as CommandName } from '../config/variables.js';
import { ConfigError } from '../errors.js';
import type { Command, CommandContext } from './command.js';
import { EXIT, exitStatusHelp } from './exit-status.js';
import { ExcludedError } from './filters.js';
import { packageVersion } from './version.js';
/**
 * Commands load on demand: each process pays only for its own command's SDKs
 * (`serve` never loads Pub/Sub, `copy` neither), which keeps the base memory
 * in DESIGN.md §4's budget.
 */
const COMMANDS: Record<CommandName, { summary: string; load: () => Promise<Command> }> = {
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
       gcs2s3 --help | --version

Replicates Google Cloud Storage objects into Amazon S3 with no AWS access key:
a Google ID token is exchanged at AWS STS for short-lived credentials.

Commands:
${lines.join('\n')}

Options:
  -h, --help     this text; "gcs2s3 <command> --help" for a command's usage
                 and the environment variables it reads
  -V, --version  print "gcs2s3 <version>" and exit

Configuration is read from the environment; see README.md.

${exitStatusHelp()}`;
}

/** A command's --help: its own text, then what is generated from the tables. */
function commandHelp(name: CommandName, command: Command): string {
  return `${command.usage}\n\n${environmentHelp(name)}\n\n${exitStatusHelp(name)}`;
}

function isCommandName(name: string): name is CommandName {
  return Object.hasOwn(COMMANDS, name);
}

/** Runs one command line; resolves to the process exit code. */
export async function main(argv: string[], ctx: Omit<CommandContext, 'args'>): Promise<number> {
  const [name, ...args] = argv;
  if (name === undefined) {
    // No command is a usage error: the usage goes where errors go.
    ctx.stderr(`${usage()}\n`);
    return EXIT.usage;
  }
  if (name === '--help' || name === '-h' || (name === 'help' && args.length === 0)) {
    ctx.stdout(`${usage()}\n`);
    return EXIT.ok;
  }
  if (name === '--version' || name === '-V') {
    ctx.stdout(`gcs2s3 ${packageVersion()}\n`);
    return EXIT.ok;
  }
  // `gcs2s3 help COMMAND` is `gcs2s3 COMMAND --help`.
  if (name === 'help') return main([args[0]!, '--help'], ctx);
  if (!isCommandName(name)) {
    const what = name.startsWith('-') ? `unknown option "${name}"` : `unknown command "${name}"`;
    ctx.stderr(`gcs2s3: ${what} (commands: ${Object.keys(COMMANDS).join(', ')}; gcs2s3 --help for usage)\n`);
    return EXIT.usage;
  }
  const command = await COMMANDS[name].load();
  if (args.includes('--help') || args.includes('-h')) {
    ctx.stdout(`${commandHelp(name, command)}\n`);
    return EXIT.ok;
  }
  try {
    return await command.run({ ...ctx, args });
  } catch (err) {
    if (err instanceof ConfigError) {
      ctx.stderr(`gcs2s3 ${name}: ${err.message}\n`);
      return EXIT.usage;
    }
    if (err instanceof ExcludedError) {
      ctx.stderr(`gcs2s3 ${name}: ${err.message}\n`);
      return EXIT.excluded;
    }
    throw err;
  }
}
