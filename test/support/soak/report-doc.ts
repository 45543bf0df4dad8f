import { readFile, writeFile } from 'node:fs/promises';
import type { SoakResult } from './run-soak.js';

/** The runs the page shows, kept beside it (`reliability.json`), so a shorter run never erases the longest. */
interface KeptRuns {
  longest?: KeptRun;
  latest?: KeptRun;
}

type KeptRun = SoakResult & { command: string };

const keptFile = (page: string): string => page.replace(/\.md$/, '.json');

async function keptRuns(page: string): Promise<KeptRuns> {
  try {
    return JSON.parse(await readFile(keptFile(page), 'utf8')) as KeptRuns;
  } catch {
    return {};
  }
}

/** The verify report's lists stay in the run's own folder; the page keeps its counts. */
function compact(k: KeptRun): KeptRun {
  if (k.verify === undefined) return k;
  const { complete, inSync, listed, counts } = k.verify;
  return { ...k, verify: { complete, inSync, listed, counts, missingInS3: [], staleInS3: [], mismatched: [], extraInS3: [] } };
}

/** Writes docs/reliability.md from `result`, keeping the longest run so far next to the latest. */
export async function writeReliabilityDoc(file: string, result: SoakResult, command: string): Promise<void> {
  const kept = await keptRuns(file);
  const run: KeptRun = { ...result, command };
  const longest = kept.longest === undefined || run.minutes >= kept.longest.minutes ? run : kept.longest;
  const runs: KeptRuns = longest === run ? { longest: compact(run) } : { longest: compact(longest), latest: compact(run) };
  const sections = [section(`The longest run: ${longest.minutes} minutes`, longest)];
  if (longest !== run) sections.push(section(`The latest run: ${run.minutes} minutes`, run));
  const page = [
    '# Reliability: the chaos soak',
    '',
    '*Written by `npm run soak -- --write-doc` (scripts/soak.ts); not edited by hand. The longest run stays on the page; a later shorter run is shown below it.*',
    '',
    'Two `gcs2s3 pull` workers (child processes of the CLI) share one Pub/Sub subscription of a private local stack.',
    'Every call they make to fake-gcs-server, MinIO (S3 and STS) and the metadata server goes through Toxiproxy and then an HTTP fault proxy.',
    'A seeded PRNG switches faults on and off, kills and restarts the workers (SIGKILL, sometimes SIGTERM), drives a writer that uploads,',
    'overwrites, patches metadata and deletes objects of 0 B to 200 MiB, and publishes extra copies of real notifications out of order.',
    'Then the faults stop, the queue drains, `gcs2s3 verify` compares S3 with the final GCS state (bytes by CRC32C and size, headers,',
    'custom metadata, generations), every S3 copy is read back and its CRC32C computed, stranded multipart uploads are counted before',
    'and after a cleanup pass (the workers stop, `gcs2s3 backfill` handles every key once more), and every line of every log',
    '(workers, verify, backfill, the stack) is searched for each ID token, STS secret key and session token the run handed out,',
    'and for signed-URL parameters. The same seed replays the same schedules of writes, faults, kills and duplicates, as far as timing allows.',
    '',
    ...sections,
    `The figures of these runs, as the soak measured them: [reliability.json](reliability.json).`,
    '',
  ];
  await writeFile(keptFile(file), `${JSON.stringify(runs, null, 2)}\n`);
  await writeFile(file, page.join('\n'));
}

const BAND_ORDER = ['0 B', '1 B – 64 KiB', '64 KiB – 5 MiB', '5 – 32 MiB', '32 – 200 MiB'];
const mib = (bytes: number): string => (bytes / 2 ** 20).toFixed(1);
const total = (t: Record<string, number>): number => Object.values(t).reduce((a, b) => a + b, 0);

function section(title: string, r: KeptRun): string {
  const faultKinds = [...new Set([...Object.keys(r.faults.switchedOn), ...Object.keys(r.faults.httpAnswered)])].sort();
  const writes = Object.entries(r.writes);
  const v = r.verify;
  return [
    `## ${title}`,
    '',
    `**${r.passed ? 'Passed' : 'FAILED'}**: ${r.lost} lost, ${r.wrong} wrong, ${r.strandedAfter} stranded uploads after cleanup, ${r.secretsFound.length} secrets in logs.`,
    '',
    '| | |',
    '| --- | --- |',
    `| seed | ${r.seed} |`,
    `| command | \`${r.command}\` |`,
    `| started / ended (UTC) | ${r.startedAt} / ${r.endedAt} |`,
    `| chaos / drain | ${r.minutes} min / ${r.drainSeconds} s |`,
    `| machine | ${r.machine} |`,
    '',
    `### Faults injected: ${total(r.faults.switchedOn)} switched on`,
    '',
    '| fault | times switched on | requests answered with it (HTTP faults) |',
    '| --- | ---: | ---: |',
    ...faultKinds.map((k) => `| ${k} | ${r.faults.switchedOn[k] ?? 0} | ${k in r.faults.httpAnswered ? r.faults.httpAnswered[k] : '—'} |`),
    '',
    `### Kills: ${r.kills.SIGKILL} SIGKILL, ${r.kills.SIGTERM} SIGTERM, ${r.kills.restarts} restarts`,
    '',
    `Workers that exited on their own (a crash), restarted: ${r.kills.crashes ?? 'not counted in this run'}.`,
    '',
    '### Writes',
    '',
    '| operation | count | bytes | MiB | refused by the emulator |',
    '| --- | ---: | ---: | ---: | ---: |',
    ...writes.map(([op, w]) => `| ${op} | ${w.count} | ${w.bytes} | ${mib(w.bytes)} | ${w.failed} |`),
    '',
    `Objects written by size: ${Object.entries(r.sizes?.bands ?? {}).sort(([a], [b]) => BAND_ORDER.indexOf(a) - BAND_ORDER.indexOf(b)).map(([band, n]) => `${band}: ${n}`).join(', ')}; the largest ${mib(r.sizes?.largest ?? 0)} MiB.`,
    '',
    `Notifications duplicated: ${r.duplicates.published} extra copies of ${r.duplicates.seen} real notifications, published out of order.`,
    '',
    `### Deliveries: ${total(r.deliveries)} outcome lines of the workers`,
    '',
    '| outcome | deliveries |',
    '| --- | ---: |',
    ...Object.entries(r.deliveries).sort().map(([k, n]) => `| ${k} | ${n} |`),
    '',
    '### End state',
    '',
    '| | |',
    '| --- | ---: |',
    `| objects in GCS at the end (verify listed) | ${v?.listed?.gcs ?? '—'} |`,
    `| correct in S3 (verify in sync, bytes read back equal) | ${r.correct} |`,
    `| lost (missing or older generation in S3) | ${r.lost} |`,
    `| wrong (mismatched, extra in S3, or bytes differing) | ${r.wrong} |`,
    `| objects read back from S3 | ${r.bytesChecked} |`,
    `| multipart uploads stranded, after the drain | ${r.strandedBefore} |`,
    `| multipart uploads stranded, after the cleanup pass | ${r.strandedAfter} |`,
    `| ID tokens / STS credentials handed out | ${r.secretsIssued.idTokens} / ${r.secretsIssued.stsCredentials} |`,
    `| secrets or signed URLs found in ${r.logLinesScanned} log lines | ${r.secretsFound.length} |`,
    '',
  ].join('\n');
}
