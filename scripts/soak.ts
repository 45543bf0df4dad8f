/**
 * The chaos soak (issue #11): two `gcs2s3 pull` workers on one subscription
 * of a private local stack (LOCAL_STACK_PORT_OFFSET=20000, started and
 * stopped here, so the shared default ports stay free), every call through
 * Toxiproxy and the HTTP fault proxy, faults switched on and off at random,
 * workers killed and restarted, a writer uploading, overwriting, patching and
 * deleting, notifications duplicated and shuffled. Then: drain, verify, read
 * every object back, count stranded uploads, scan every log for the secrets
 * handed out. Exit 0 only when nothing was lost or wrong, no upload is left
 * and no secret was logged.
 *
 *   npm run soak -- [--minutes N] [--seed S] [--write-doc]
 *   npm run soak -- --doc-from .soak/RUN/result.json   (writes the page again from a finished run)
 */
import { execFileSync } from 'node:child_process';
import { randomInt } from 'node:crypto';
import { readdirSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { join, relative, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { readEnvFile } from '../src/main/env-file.js';
import { writeReliabilityDoc } from '../test/support/soak/report-doc.js';
import { runSoak, type SoakResult } from '../test/support/soak/run-soak.js';

const ROOT = resolve(import.meta.dirname, '..');
const OFFSET = 20_000;
const STATE = join(ROOT, `.local-stack-${OFFSET}`);
/** Toxiproxy and its proxies at 28401–28404 and 28474, the workers' health ports at 28411–28412. */
const PORT_BASE = 28_400;

function stack(command: 'up' | 'down'): void {
  execFileSync('bash', [join(ROOT, 'scripts/local-stack.sh'), command], { stdio: 'inherit', env: { ...process.env, LOCAL_STACK_PORT_OFFSET: String(OFFSET) } });
}

function parse(argv: string[]): { minutes: number; seed: number; writeDoc: boolean; docFrom?: string } {
  const options = { minutes: { type: 'string', default: '5' }, seed: { type: 'string' }, 'write-doc': { type: 'boolean', default: false }, 'doc-from': { type: 'string' }, help: { type: 'boolean', short: 'h' } } as const;
  const { values } = parseArgs({ args: argv, options });
  if (values.help) {
    process.stdout.write('Usage: npm run soak -- [--minutes N] [--seed S] [--write-doc]\n       npm run soak -- --doc-from .soak/RUN/result.json\n');
    process.exit(0);
  }
  const minutes = Number(values.minutes);
  const seed = values.seed === undefined ? randomInt(1, 2 ** 31) : Number(values.seed);
  if (!(minutes > 0 && minutes <= 24 * 60)) throw new Error(`--minutes: a number of minutes, 0–1440, got ${values.minutes}`);
  if (!Number.isSafeInteger(seed) || seed < 0) throw new Error(`--seed: a non-negative integer, got ${values.seed}`);
  return { minutes, seed, writeDoc: values['write-doc'], docFrom: values['doc-from'] };
}

export function replayCommand(r: Pick<SoakResult, 'minutes' | 'seed'>): string {
  return `npm run soak -- --minutes ${r.minutes} --seed ${r.seed}`;
}

async function main(): Promise<number> {
  const args = parse(process.argv.slice(2));
  if (args.docFrom !== undefined) {
    const result = JSON.parse(await readFile(args.docFrom, 'utf8')) as SoakResult;
    await writeReliabilityDoc(join(ROOT, 'docs/reliability.md'), result, replayCommand(result));
    return 0;
  }
  const runDir = join(ROOT, '.soak', `${new Date().toISOString().replace(/[:.]/g, '-')}-seed${args.seed}`);
  const say = (line: string) => process.stdout.write(`${new Date().toISOString()} ${line}\n`);
  say(`soak: seed ${args.seed}, ${args.minutes} min, logs in ${relative(ROOT, runDir)}; replay: ${replayCommand(args)}`);
  stack('down');
  try {
    stack('up');
  } catch {
    // An emulator just stopped may still hold its port for a moment: once more, after a pause.
    stack('down');
    await new Promise((r) => setTimeout(r, 5000));
    stack('up');
  }
  let result: SoakResult;
  try {
    const env = readEnvFile(join(STATE, 'env'));
    // For the soak's own clients (the writer's GCS, the tap's Pub/Sub); not STORAGE_EMULATOR_HOST (nodejs-storage#1314).
    for (const name of ['PUBSUB_EMULATOR_HOST', 'GCE_METADATA_HOST', 'METADATA_SERVER_DETECTION'] as const) process.env[name] = env[name];
    const extraLogs = readdirSync(STATE).filter((f) => f.endsWith('.log')).map((f) => join(STATE, f));
    result = await runSoak({ seed: args.seed, minutes: args.minutes, env, subscription: env.PUBSUB_SUBSCRIPTION!, portBase: PORT_BASE, runDir, profile: 'long', extraLogs, say });
  } finally {
    stack('down');
  }
  await writeFile(join(runDir, 'result.json'), `${JSON.stringify(result, null, 2)}\n`);
  say(`soak ${result.passed ? 'passed' : 'FAILED'}: lost ${result.lost}, wrong ${result.wrong}, stranded ${result.strandedBefore} → ${result.strandedAfter}, secrets in logs ${result.secretsFound.length}`);
  if (args.writeDoc) {
    await writeReliabilityDoc(join(ROOT, 'docs/reliability.md'), result, replayCommand(result));
    say('wrote docs/reliability.md');
  }
  if (!result.passed) {
    say(`soak FAILED with seed ${result.seed}; details in ${relative(ROOT, runDir)}/result.json; replay: ${replayCommand(result)}`);
    return 1;
  }
  return 0;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`soak: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(2);
  },
);
