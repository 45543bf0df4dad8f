/**
 * `npm run bench`: every target of DESIGN.md §4, measured against the local
 * stack and printed as one table of ratios within this run, PASS or BELOW
 * TARGET per target.
 *
 *   1. large objects   bench/throughput.ts     replicate ≥ 0.9 × min(download-only, upload-only);
 *                                              gcs2s3 copy faster than rclone copy
 *   2. memory          bench/throughput.ts     peak RSS of `gcs2s3 copy` (64 MiB, 2 GiB) ≤ 96 MiB +
 *                                              MAX_CONCURRENT_OBJECTS × PART_QUEUE_SIZE × PART_SIZE_MIB,
 *                                              and the same for both sizes; and of `gcs2s3 backfill`
 *                                              copying 8 × 256 MiB at once (the bound's own case)
 *   3. small objects   bench/small-objects.ts  2,000 × 4 KiB: objects/s ≥ rclone's
 *   4. STS             bench/small-objects.ts  one AssumeRoleWithWebIdentity for the whole run
 *   5. event latency   bench/event-latency.ts  p50/p99, upload → visible in S3 through `gcs2s3 pull`
 *   6. backfill plan   bench/backfill-plan.ts  planning memory flat in the object count
 *
 * Before measuring it waits (up to 20 min, polling every 30 s) until no
 * vitest runs: integration tests on the same two cores would skew every
 * ratio. Sections that overlapped one anyway are marked. Then it waits up to
 * 5 min for the load average to fall below 0.75 × cores (builds count too),
 * and prints the load each section started at. Children run the
 * compiled build (bench/.build) under plain node; every child has a deadline
 * and is stopped, with its process group, on failure or Ctrl-C. A stack this
 * run started is stopped at the end unless someone's tests are using it.
 *
 *   npm run bench [-- --quick] [-- --keep-stack]
 *
 * --quick: 64 and 256 MiB, 8 × 64 MiB, 500 small objects, 100 events (a smoke run; the
 * targets are stated for the full sizes). Exit status: 0 every target met,
 * 1 some below target, 2 a benchmark failed to run.
 */
import { execFile } from 'node:child_process';
import { cpus, loadavg } from 'node:os';
import type { BackfillPlanResult } from './backfill-plan.js';
import { describeLatency, runEventLatency } from './event-latency.js';
import { describeSmallObjects, runSmallObjects } from './small-objects.js';
import { buildBench, compiled } from './support/build.js';
import { exitOnSignal } from './support/cleanup.js';
import { parseConfig } from '../src/config/config.js';
import { childEnv, transferSettings } from './support/env.js';
import { runProcess, stopAllChildren } from './support/processes.js';
import { rcloneVersion, RCLONE_MISSING } from './support/rclone.js';
import { ensureStack, stopStack, vitestRunning, waitForLoad, waitForQuiet } from './support/stack.js';
import { describeLargeObject, runConcurrentMemory, runLargeObjects } from './throughput.js';
import { tableRows } from './support/table.js';
import { concurrentRows, largeRows, latencyRows, planRows, smallRows, type Row, type Section } from './targets.js';

const quick = process.argv.includes('--quick');
const keepStack = process.argv.includes('--keep-stack');
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


async function section<T>(name: string, run: () => Promise<T>): Promise<Section<T>> {
  // Tests may have started since the last section: give them a while to finish.
  if (vitestRunning() && !(await waitForQuiet(5 * 60_000, 30_000, log))) log(`${name}: vitest still running after 5 min; measuring anyway (marked in the table)`);
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

  const quietAtStart = await waitForQuiet(20 * 60_000, 30_000, log);
  if (!quietAtStart) log('vitest kept running for 20 min: measuring anyway; the numbers are skewed');
  const loadThreshold = cpus().length * 0.75;
  const load = await waitForLoad(loadThreshold, 5 * 60_000, 15_000, log);
  if (load >= loadThreshold) log(`load average still ${load.toFixed(2)} after 5 min: measuring anyway (see the load per section below)`);
  const startedStack = ensureStack();
  log(startedStack ? 'local stack started' : 'local stack already up');
  let exit = 0;
  try {
    log('compiling src/ and bench/ into bench/.build (children run plain node)');
    await buildBench(log);
    const rclone = rcloneVersion();
    if (rclone === undefined) log(`${RCLONE_MISSING} (the rclone comparisons are skipped)`);

    const transfer = transferSettings((env) => parseConfig(env, { command: 'copy', instanceId: 'bench' }).transfer);
    const sizesMiB = quick ? [64, 256] : [64, 2048];
    const large = await section('large objects', () => runLargeObjects({ sizesMiB, transfer, log }));
    const concurrent = await section('memory at full concurrency', () => runConcurrentMemory({ objects: transfer.objects, sizeMiB: quick ? 64 : 256, log }));
    const small = await section('small objects', () => runSmallObjects({ count: quick ? 500 : 2000, sizeBytes: 4096, log }));
    const latency = await section('event latency', () => runEventLatency({ count: quick ? 100 : 200, perSecond: 20, log }));
    const plan = await section('backfill plan', async () => {
      const out = await runProcess(process.execPath, [compiled('bench/backfill-plan.ts'), '--json'], { env: childEnv(), timeoutMs: 600_000, label: 'backfill-plan' });
      return JSON.parse(out.stdout.trim().split('\n').at(-1)!) as BackfillPlanResult;
    });

    const rows: Row[] = [...largeRows(large, sizesMiB, transfer), ...concurrentRows(concurrent, transfer), ...smallRows(small), ...latencyRows(latency), ...planRows(plan)];
    const sections: Array<[string, Section<unknown>]> = [['large', large], ['concurrent', concurrent], ['small', small], ['latency', latency], ['plan', plan]];
    const total = (performance.now() - started) / 1000;
    const out: string[] = [
      '',
      `gcs2s3 bench — ${new Date().toISOString()} — ${cpus().length} cores, node ${process.version}, ${rclone ?? RCLONE_MISSING}${quick ? ' — QUICK (smaller sizes)' : ''}`,
      ...tableRows(rows),
      '',
      'details:',
      ...(large.value ?? []).flatMap(describeLargeObject),
      ...(concurrent.value ? [`gcs2s3 backfill of ${concurrent.value.objects} × ${concurrent.value.sizeMiB} MiB: ${concurrent.value.seconds.toFixed(1)} s, peak RSS ${concurrent.value.peakRssMiB.toFixed(0)} MiB, CPU ${concurrent.value.cpuSeconds?.toFixed(1) ?? '–'} s`] : []),
      ...(small.value ? describeSmallObjects(small.value) : []),
      ...(latency.value ? describeLatency(latency.value) : []),
      ...(plan.value ? plan.value.results.map((r) => `backfill plan ${r.objects} objects: peak RSS ${r.peakRssMiB.toFixed(1)} MiB, peak live heap ${r.peakLiveHeapMiB.toFixed(1)} MiB, ${r.seconds.toFixed(1)} s`) : []),
      '',
      `sections (duration, load average at start): ${sections.map(([n, s]) => `${n} ${s.seconds.toFixed(0)} s (${s.load.toFixed(1)})`).join(', ')}`,
      `no vitest at start: ${quietAtStart ? 'yes' : 'NO'}; full bench ${total.toFixed(0)} s (${(total / 60).toFixed(1)} min)`,
    ];
    console.log(out.join('\n'));
    exit = rows.some((r) => r.result === 'ERROR') ? 2 : rows.some((r) => r.result === 'BELOW TARGET') ? 1 : 0;
  } finally {
    stopAllChildren();
    if (startedStack && !keepStack) {
      if (vitestRunning()) log('leaving the local stack up: vitest is running and may be using it');
      else stopStack();
    }
  }
  return exit;
}

process.exitCode = await main();
