/**
 * `npm run bench`: every target of DESIGN.md §4, measured against the local
 * stack and printed as one table of ratios within this run, PASS or BELOW
 * TARGET per target. Sections (`--only NAME[,NAME]` runs a subset):
 *
 *   large       bench/throughput.ts     64 MiB … 2 GiB: replicate ≥ 0.9 × min(download-only, upload-only);
 *                                       gcs2s3 copy ≥ rclone copy (whole processes); peak RSS ≤ the bound
 *                                       and ≤ 1.25 × rclone's; RSS sampled over time for the charts
 *   wan         bench/wan.ts            Toxiproxy on the S3 leg (latency each way, bandwidth cap):
 *                                       gcs2s3 copy vs rclone, and vs the leg's upload-only limit
 *   uploader    bench/compare.ts        ours vs @aws-sdk/lib-storage Upload (same part size and queue)
 *   md5         bench/compare.ts        replicate (CRC32C only) vs with the MD5 pass it dropped: CPU per GiB
 *   gcsread     bench/compare.ts        GCS media read: GcsSource.read (its GET, stall clock, pass-through) vs the bare response (CPU per GiB)
 *   startup     bench/startup.ts        one 4 KiB object, whole process, compile cache off/warm, vs rclone
 *   concurrent  bench/throughput.ts     peak RSS of `gcs2s3 backfill` copying 8 large objects at once
 *   small       bench/small-objects.ts  2,000 × 4 KiB: objects/s vs rclone; STS calls (must be 1)
 *   latency     bench/event-latency.ts  p50/p99, upload → visible in S3 through `gcs2s3 pull`
 *   plan        bench/backfill-plan.ts  planning memory flat in the object count
 *
 * Before measuring it waits (up to 20 min, polling every 30 s) until no
 * vitest runs: integration tests on the same two cores would skew every
 * ratio. Sections that overlapped one anyway are marked. Then it waits up to
 * 5 min for the load average to fall below 0.75 × cores (builds count too),
 * and prints the load each section started at. `--no-wait` (or
 * BENCH_NO_WAIT=1) skips both waits: for development and CI, where nothing
 * else runs or the numbers do not matter. Children run the compiled build
 * (bench/.build) under plain node; every `gcs2s3` process runs the bundle
 * (bench/.build/dist/cli.js, scripts/build.ts), as the image does, or with
 * BENCH_CLI=tsc tsc's per-file output (to measure what bundling buys); every child has a deadline and is stopped,
 * with its process group, on failure or Ctrl-C. A stack this run started is
 * stopped at the end (unless --keep-stack). Run it under the stack's lock:
 * `flock /tmp/gcs2s3-stack.lock npm run bench`.
 *
 *   npm run bench [-- --quick] [--only large,wan] [--no-wait] [--write-doc] [--profile] [--keep-stack]
 *
 * --profile (on in a full run): one more, untimed, replicate and `gcs2s3 copy` per size, and
 * one more `gcs2s3 backfill` of the small objects, under `node --cpu-prof`, printed as self CPU
 * time by package (the account of what bounds a copy); the timed rounds are unaffected.
 *
 * A full run (no --quick, no --only) writes docs/benchmarks.md with its SVG
 * charts (docs/benchmarks/) and the generated blocks of docs/decisions/*.md;
 * `--write-doc` writes them from any run. Duration: full ≈ 20 min on 2 cores,
 * --quick ≈ 3 min (printed at the end). --quick: 64 and 128 MiB, one round,
 * smaller counts (a smoke run; the targets are stated for the full sizes).
 * Exit status: 0 every target met, 1 some below target, 2 a benchmark failed
 * to run or bad usage.
 */
import { execFile } from 'node:child_process';
import { cpus, loadavg } from 'node:os';
import type { BackfillPlanResult } from './backfill-plan.js';
import { describeCompare, runCompare } from './compare.js';
import { describeLatency, runEventLatency } from './event-latency.js';
import { machineLines, md5Table, uploaderTable, writeBenchmarksDoc, writeDecisionBlock, type RunMeta } from './report-doc.js';
import { describeSmallObjects, runSmallObjects } from './small-objects.js';
import { describeStartup, runStartup } from './startup.js';
import { buildBench, compiled, gcs2s3Cli } from './support/build.js';
import { exitOnSignal } from './support/cleanup.js';
import { parseConfig } from '../src/config/config.js';
import { childEnv, transferSettings } from './support/env.js';
import { runProcess, stopAllChildren } from './support/processes.js';
import { rcloneVersion, RCLONE_MISSING } from './support/rclone.js';
import { ensureStack, stopStack, vitestRunning, waitForLoad, waitForQuiet } from './support/stack.js';
import { describeLargeObject, runConcurrentMemory, runLargeObjects } from './throughput.js';
import { tableRows } from './support/table.js';
import { concurrentRows, gcsReadRows, largeRows, latencyRows, md5Rows, planRows, smallRows, startupRows, uploaderRows, wanRows, type Row, type Section } from './targets.js';
import { describeWan, runWan } from './wan.js';

const SECTIONS = ['large', 'wan', 'uploader', 'md5', 'gcsread', 'startup', 'concurrent', 'small', 'latency', 'plan'] as const;
type SectionName = (typeof SECTIONS)[number];

const argv = process.argv.slice(2);
const quick = argv.includes('--quick');
const keepStack = argv.includes('--keep-stack');
const noWait = argv.includes('--no-wait') || process.env.BENCH_NO_WAIT === '1';
const only = ((): SectionName[] | undefined => {
  const i = argv.indexOf('--only');
  if (i === -1) return undefined;
  const names = (argv[i + 1] ?? '').split(',').filter((n) => n !== '');
  const bad = names.filter((n) => !(SECTIONS as readonly string[]).includes(n));
  if (names.length === 0 || bad.length > 0) {
    process.stderr.write(`bench: --only takes a comma list of ${SECTIONS.join(', ')}${bad.length ? ` (unknown: ${bad.join(', ')})` : ''}\n`);
    process.exit(2);
  }
  return names as SectionName[];
})();
const profile = argv.includes('--profile') || (!quick && only === undefined);
const writeDoc = argv.includes('--write-doc') || (!quick && only === undefined);
const started = performance.now();
const log = (line: string): void => {
  process.stderr.write(`[bench ${((performance.now() - started) / 1000).toFixed(0).padStart(4)} s] ${line}\n`);
};

/** Marks a section that ran while vitest was on the machine. */
function watchVitest(): { stop(): boolean } {
  let seen = vitestRunning();
  const timer = setInterval(() => {
    execFile('pgrep', ['-f', 'vitest'], (_err, stdout) => {
      if (stdout.trim() !== '') seen = true;
    });
  }, 5_000);
  return {
    stop() {
      clearInterval(timer);
      return seen || vitestRunning();
    },
  };
}


async function section<T>(name: SectionName, run: () => Promise<T>): Promise<Section<T> | undefined> {
  if (only !== undefined && !only.includes(name)) return undefined;
  // Tests may have started since the last section: give them a while to finish.
  if (!noWait && vitestRunning() && !(await waitForQuiet(5 * 60_000, 30_000, log))) log(`${name}: vitest still running after 5 min; measuring anyway (marked in the table)`);
  const load = loadavg()[0]!;
  log(`${name}… (load average ${load.toFixed(2)})`);
  const watch = watchVitest();
  const t0 = performance.now();
  try {
    const value = await run();
    return { value, disturbed: watch.stop(), seconds: (performance.now() - t0) / 1000, load };
  } catch (err) {
    stopAllChildren();
    log(`${name} failed: ${err instanceof Error ? err.stack ?? err.message : String(err)}`);
    return { error: err instanceof Error ? err : new Error(String(err)), disturbed: watch.stop(), seconds: (performance.now() - t0) / 1000, load };
  }
}

async function main(): Promise<number> {
  // The AWS SDK warns once per process that it will want node ≥ 22 from 2027:
  // noise in a results table. Every other warning still prints.
  process.removeAllListeners('warning');
  process.on('warning', (w) => {
    if (!`${w.name} ${w.message}`.includes('NodeVersionSupportWarning')) process.stderr.write(`${w.name}: ${w.message}\n`);
  });
  exitOnSignal(log);

  let quietAtStart = true;
  if (noWait) log('--no-wait: not waiting for vitest or for the load to fall (numbers may be skewed)');
  else {
    quietAtStart = await waitForQuiet(20 * 60_000, 30_000, log);
    if (!quietAtStart) log('vitest kept running for 20 min: measuring anyway; the numbers are skewed');
    const loadThreshold = cpus().length * 0.75;
    const load = await waitForLoad(loadThreshold, 5 * 60_000, 15_000, log);
    if (load >= loadThreshold) log(`load average still ${load.toFixed(2)} after 5 min: measuring anyway (see the load per section below)`);
  }
  const startedStack = ensureStack();
  log(startedStack ? 'local stack started' : 'local stack already up');
  let exit = 0;
  try {
    log('compiling src/ and bench/ into bench/.build, bundling the CLI into bench/.build/dist (children run plain node)');
    await buildBench(log);
    log(`gcs2s3 whole processes run ${gcs2s3Cli()}${process.env.BENCH_CLI === 'tsc' ? ' (BENCH_CLI=tsc: per-file tsc output, not the bundle)' : ' (the bundle, as the image ships it)'}`);
    const rclone = rcloneVersion();
    if (rclone === undefined) log(`${RCLONE_MISSING} (the rclone comparisons are skipped)`);

    const transfer = transferSettings((env) => parseConfig(env, { command: 'copy', instanceId: 'bench' }).transfer);
    const sizesMiB = quick ? [64, 128] : [64, 256, 1024, 2048];
    const upTo256 = (rounds: number) => (mib: number) => (mib <= 256 ? rounds : 1);
    const large = await section('large', () => runLargeObjects({ sizesMiB, transfer, smallRounds: quick ? 1 : 3, profile, log }));
    const wan = await section('wan', () => runWan({ sizesMiB: quick ? [64] : [64, 1024], transfer, queues: quick ? [] : [8], rounds: upTo256(quick ? 1 : 3), log }));
    const uploader = await section('uploader', () =>
      runCompare({ label: 'uploader', scenarios: ['replicate', 'lib-storage', 'lib-storage-native'], sizesMiB: quick ? [64] : [64, 1024], rounds: upTo256(quick ? 1 : 3), log }),
    );
    const md5 = await section('md5', () => runCompare({ label: 'md5', scenarios: ['replicate', 'replicate-with-md5'], sizesMiB: quick ? [64] : [1024], rounds: () => (quick ? 1 : 2), log }));
    const gcsread = await section('gcsread', () => runCompare({ label: 'gcsread', scenarios: ['download-only', 'download-direct'], sizesMiB: quick ? [64] : [1024], rounds: () => (quick ? 1 : 2), log }));
    const startup = await section('startup', () => runStartup({ rounds: quick ? 2 : 5, log }));
    const concurrent = await section('concurrent', () => runConcurrentMemory({ objects: transfer.objects, sizeMiB: quick ? 32 : 256, log }));
    const small = await section('small', () => runSmallObjects({ count: quick ? 300 : 2000, sizeBytes: 4096, profile, log }));
    const latency = await section('latency', () => runEventLatency({ count: quick ? 50 : 200, perSecond: 20, log }));
    const plan = await section('plan', async () => {
      const out = await runProcess(process.execPath, [compiled('bench/backfill-plan.ts'), '--json'], { env: childEnv(), timeoutMs: 600_000, label: 'backfill-plan' });
      return JSON.parse(out.stdout.trim().split('\n').at(-1)!) as BackfillPlanResult;
    });

    const rows: Row[] = [
      ...(large ? largeRows(large, sizesMiB, transfer) : []),
      ...(wan ? wanRows(wan) : []),
      ...(uploader ? uploaderRows(uploader) : []),
      ...(md5 ? md5Rows(md5) : []),
      ...(gcsread ? gcsReadRows(gcsread) : []),
      ...(startup ? startupRows(startup) : []),
      ...(concurrent ? concurrentRows(concurrent, transfer) : []),
      ...(small ? smallRows(small) : []),
      ...(latency ? latencyRows(latency) : []),
      ...(plan ? planRows(plan) : []),
    ];
    const ran: Array<[SectionName, Section<unknown> | undefined]> = [
      ['large', large], ['wan', wan], ['uploader', uploader], ['md5', md5], ['gcsread', gcsread], ['startup', startup], ['concurrent', concurrent], ['small', small], ['latency', latency], ['plan', plan],
    ];
    const details: Array<{ name: string; lines: string[] }> = [
      { name: 'large', lines: (large?.value ?? []).flatMap(describeLargeObject) },
      { name: 'wan', lines: (wan?.value ?? []).flatMap(describeWan) },
      { name: 'uploader', lines: (uploader?.value ?? []).flatMap((r) => describeCompare('ours (replicate) vs lib-storage Upload', r)) },
      { name: 'md5', lines: (md5?.value ?? []).flatMap((r) => describeCompare('replicate (CRC32C only) and with an MD5 pass', r)) },
      { name: 'gcsread', lines: (gcsread?.value ?? []).flatMap((r) => describeCompare('GCS media read: GcsSource.read (download-only) vs the bare GET response (download-direct)', r)) },
      { name: 'startup', lines: startup?.value ? describeStartup(startup.value) : [] },
      { name: 'concurrent', lines: concurrent?.value ? [`gcs2s3 backfill of ${concurrent.value.objects} × ${concurrent.value.sizeMiB} MiB: ${concurrent.value.seconds.toFixed(1)} s, peak RSS ${concurrent.value.peakRssMiB.toFixed(0)} MiB, CPU ${concurrent.value.cpuSeconds?.toFixed(1) ?? '–'} s`] : [] },
      { name: 'small', lines: small?.value ? describeSmallObjects(small.value) : [] },
      { name: 'latency', lines: latency?.value ? describeLatency(latency.value) : [] },
      { name: 'plan', lines: plan?.value ? plan.value.results.map((r) => `backfill plan ${r.objects} objects: peak RSS ${r.peakRssMiB.toFixed(1)} MiB, peak live heap ${r.peakLiveHeapMiB.toFixed(1)} MiB, ${r.seconds.toFixed(1)} s`) : [] },
    ].filter((d) => d.lines.length > 0);
    const total = (performance.now() - started) / 1000;
    const sectionsRan = ran.flatMap(([n, s]) => (s === undefined ? [] : [{ name: n, seconds: s.seconds, load: s.load, disturbed: s.disturbed }]));
    const meta: RunMeta = { date: new Date().toISOString(), quick, ...(only ? { only } : {}), totalSeconds: total, ...(rclone ? { rclone } : {}), sections: sectionsRan };
    const out: string[] = [
      '',
      `gcs2s3 bench — ${meta.date} — ${cpus().length} cores, node ${process.version}, ${rclone ?? RCLONE_MISSING}${quick ? ' — QUICK (smaller sizes)' : ''}`,
      ...tableRows(rows),
      '',
      'details:',
      ...details.flatMap((d) => d.lines),
      '',
      `sections (duration, load average at start): ${sectionsRan.map((s) => `${s.name} ${s.seconds.toFixed(0)} s (${s.load.toFixed(1)})`).join(', ')}`,
      `no vitest at start: ${quietAtStart ? 'yes' : 'NO'}${noWait ? ' (not waited for: --no-wait)' : ''}; bench ${total.toFixed(0)} s (${(total / 60).toFixed(1)} min)`,
    ];
    console.log(out.join('\n'));
    if (writeDoc) {
      machineLines(meta); // the tree as measured, before this run writes its pages
      log(`wrote ${writeBenchmarksDoc({ meta, rows, details, ...(large?.value ? { large: large.value } : {}), ...(wan?.value ? { wan: wan.value } : {}), ...(small?.value ? { small: small.value } : {}), ...(uploader?.value ? { uploader: uploader.value } : {}), ...(md5?.value ? { md5: md5.value } : {}) })}`);
      if (uploader?.value && writeDecisionBlock('docs/decisions/uploader.md', 'uploader', uploaderTable(uploader.value), meta)) log('wrote the figures of docs/decisions/uploader.md');
      if (md5?.value && writeDecisionBlock('docs/decisions/md5.md', 'md5', md5Table(md5.value), meta)) log('wrote the figures of docs/decisions/md5.md');
    }
    exit = rows.some((r) => r.result === 'ERROR') ? 2 : rows.some((r) => r.result === 'BELOW TARGET') ? 1 : 0;
  } finally {
    stopAllChildren();
    // Runs hold /tmp/gcs2s3-stack.lock (see README): no one else's tests use a
    // stack this run started, and leaving it up would block the next holder's.
    if (startedStack && !keepStack) stopStack();
  }
  return exit;
}

process.exitCode = await main();
