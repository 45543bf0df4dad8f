/**
 * The targets of DESIGN.md §4, judged: each bench's result becomes rows of
 * the results table, with the within-run ratio the target is stated in.
 */
import type { BackfillPlanResult } from './backfill-plan.js';
import type { LatencyResult } from './event-latency.js';
import type { SmallObjectResult } from './small-objects.js';
import { RCLONE_MISSING } from './support/rclone.js';
import { memoryBoundMiB, type TransferSettings } from './support/env.js';
import type { Row } from './support/table.js';
import type { ConcurrentMemoryResult, LargeObjectResult } from './throughput.js';
import { compareRun, type CompareResult } from './compare.js';
import type { StartupResult } from './startup.js';
import { wanRun, type WanResult } from './wan.js';

export type { Row };

/** One bench's outcome, with what else was on the machine while it ran. */
export interface Section<T> {
  value?: T;
  error?: Error;
  disturbed: boolean;
  seconds: number;
  /** 1-minute load average when the section started: others' work on the machine. */
  load: number;
}

/** "The same for a 64 MiB and a 2 GiB object": within a quarter. */
const SAME_MEMORY_RATIO = 1.25;

function mark<T>(s: Section<T>): string {
  return s.disturbed ? ' (vitest was running)' : '';
}

function errorRow<T>(target: string, s: Section<T>): Row {
  return { target, measured: `failed: ${s.error?.message.split('\n')[0]?.slice(0, 90)}`, ratio: '–', goal: '–', result: 'ERROR' };
}

function cpu(s: { cpuPerGiB: { self?: number } }): string {
  return s.cpuPerGiB.self === undefined ? '–' : s.cpuPerGiB.self.toFixed(1);
}

export function largeRows(s: Section<LargeObjectResult[]>, sizes: number[], t: TransferSettings): Row[] {
  const bound = memoryBoundMiB(t);
  if (s.value === undefined) return [errorRow(`large objects ${sizes.join(', ')} MiB`, s)];
  const rows: Row[] = [];
  const label = (mib: number): string => (mib >= 1024 ? `${mib / 1024} GiB` : `${mib} MiB`);
  for (const r of s.value) {
    const sc = r.scenarios;
    rows.push({
      target: `large ${label(r.sizeMiB)}: replicate vs stack limit`,
      measured: `${sc.replicate!.MiBps.toFixed(0)} MiB/s vs min(download ${sc['download-only']!.MiBps.toFixed(0)}, upload ${sc['upload-only']!.MiBps.toFixed(0)})${mark(s)}`,
      ratio: r.ratio.toFixed(2),
      goal: '≥ 0.90',
      result: r.ratio >= 0.9 ? 'PASS' : 'BELOW TARGET',
    });
    const copy = sc['gcs2s3 copy']!;
    const rc = sc['rclone copy'];
    rows.push(
      rc === undefined
        ? { target: `large ${label(r.sizeMiB)}: vs rclone copy`, measured: RCLONE_MISSING, ratio: '–', goal: '≥ 1.00', result: 'SKIPPED' }
        : {
            target: `large ${label(r.sizeMiB)}: gcs2s3 copy vs rclone`,
            measured: `${copy.seconds.toFixed(2)} s vs ${rc.seconds.toFixed(2)} s, whole processes; CPU ${cpu(copy)} vs ${cpu(rc)} s/GiB${mark(s)}`,
            ratio: (rc.seconds / copy.seconds).toFixed(2),
            goal: '≥ 1.00',
            result: rc.seconds / copy.seconds >= 1 ? 'PASS' : 'BELOW TARGET',
          },
    );
    if (rc?.peakRssMiB !== undefined && copy.peakRssMiB !== undefined) {
      const ratio = copy.peakRssMiB / rc.peakRssMiB;
      rows.push({
        target: `memory ${label(r.sizeMiB)}: gcs2s3 ÷ rclone peak RSS`,
        measured: `${copy.peakRssMiB.toFixed(0)} vs ${rc.peakRssMiB.toFixed(0)} MiB`,
        ratio: ratio.toFixed(2),
        goal: '≤ 1.25',
        result: ratio <= 1.25 ? 'PASS' : 'BELOW TARGET',
      });
    }
  }
  for (const r of s.value) {
    const peak = r.scenarios['gcs2s3 copy']!.peakRssMiB!;
    rows.push({
      target: `memory ${label(r.sizeMiB)}: gcs2s3 copy peak RSS`,
      measured: `${peak.toFixed(0)} MiB vs bound ${bound} MiB (96 + ${t.objects} × ${t.queue} × ${t.partMiB})`,
      ratio: (peak / bound).toFixed(2),
      goal: '≤ 1.00',
      result: peak <= bound ? 'PASS' : 'BELOW TARGET',
    });
  }
  if (s.value.length > 1) {
    const [a, b] = [s.value[0]!, s.value.at(-1)!];
    const ratio = b.scenarios['gcs2s3 copy']!.peakRssMiB! / a.scenarios['gcs2s3 copy']!.peakRssMiB!;
    rows.push({
      target: `memory ${label(b.sizeMiB)} ÷ ${label(a.sizeMiB)}`,
      measured: `${b.scenarios['gcs2s3 copy']!.peakRssMiB!.toFixed(0)} / ${a.scenarios['gcs2s3 copy']!.peakRssMiB!.toFixed(0)} MiB`,
      ratio: ratio.toFixed(2),
      goal: `≤ ${SAME_MEMORY_RATIO.toFixed(2)}`,
      result: ratio <= SAME_MEMORY_RATIO ? 'PASS' : 'BELOW TARGET',
    });
  }
  return rows;
}

export function smallRows(s: Section<SmallObjectResult>): Row[] {
  if (s.value === undefined) return [errorRow('small objects', s), errorRow('STS calls', s)];
  const r = s.value;
  const rows: Row[] = [];
  const best = r.rclone.reduce<(typeof r.rclone)[number] | undefined>((a, b) => (a === undefined || b.objectsPerSecond > a.objectsPerSecond ? b : a), undefined);
  const complete = r.backfill.inS3 === r.count && r.inProcess.inS3 === r.count;
  rows.push(
    best === undefined
      ? { target: `small objects (${r.count} × 4 KiB) vs rclone`, measured: RCLONE_MISSING, ratio: '–', goal: '≥ 1.00', result: 'SKIPPED' }
      : {
          target: `small ${r.count} × 4 KiB: backfill vs rclone`,
          measured: `${r.backfill.objectsPerSecond.toFixed(0)} vs ${best.objectsPerSecond.toFixed(0)} objects/s (best rclone)${complete ? '' : ' INCOMPLETE COPY'}${mark(s)}`,
          ratio: (r.backfill.objectsPerSecond / best.objectsPerSecond).toFixed(2),
          goal: '≥ 1.00 (aim 1.50)',
          result: complete && r.backfill.objectsPerSecond >= best.objectsPerSecond ? 'PASS' : 'BELOW TARGET',
        },
  );
  rows.push({
    target: `STS calls, ${r.count} copies, ${r.inProcess.concurrency} at once`,
    measured: `${r.inProcess.stsCalls} AssumeRoleWithWebIdentity`,
    ratio: String(r.inProcess.stsCalls),
    goal: '= 1',
    result: r.inProcess.stsCalls === 1 ? 'PASS' : 'BELOW TARGET',
  });
  return rows;
}

export function latencyRows(s: Section<LatencyResult>): Row[] {
  if (s.value === undefined) return [errorRow('event latency', s)];
  const r = s.value;
  const ms = (x: number): string => `${(x * 1000).toFixed(0)} ms`;
  const ok = r.neverVisible === 0 && r.wrongGeneration === 0;
  return [
    {
      target: `event latency, ${r.count} at ${r.perSecond}/s`,
      measured: `visible p50 ${ms(r.visible.p50)} p99 ${ms(r.visible.p99)}; lagSeconds p50 ${r.lag ? ms(r.lag.p50) : '–'} p99 ${r.lag ? ms(r.lag.p99) : '–'}${ok ? '' : ` (${r.neverVisible} missing, ${r.wrongGeneration} wrong)`}${mark(s)}`,
      ratio: '–',
      goal: 'reported',
      result: ok ? 'REPORTED' : 'BELOW TARGET',
    },
  ];
}

export function concurrentRows(s: Section<ConcurrentMemoryResult>, t: TransferSettings): Row[] {
  const bound = memoryBoundMiB(t);
  if (s.value === undefined) return [errorRow('memory, 8 large objects at once', s)];
  const r = s.value;
  return [
    {
      target: `memory ${r.objects} × ${r.sizeMiB} MiB at once (backfill)`,
      measured: `${r.peakRssMiB.toFixed(0)} MiB vs bound ${bound} MiB${mark(s)}`,
      ratio: (r.peakRssMiB / bound).toFixed(2),
      goal: '≤ 1.00',
      result: r.peakRssMiB <= bound ? 'PASS' : 'BELOW TARGET',
    },
  ];
}

export function planRows(s: Section<BackfillPlanResult>): Row[] {
  if (s.value === undefined) return [errorRow('backfill plan memory', s)];
  const r = s.value;
  return [
    {
      target: 'backfill plan memory, 100k ÷ 10k objects',
      measured: `peak RSS ratio ${r.rssRatio.toFixed(2)}, live heap ratio ${r.liveRatio.toFixed(2)}${mark(s)}`,
      ratio: Math.max(r.rssRatio, r.liveRatio).toFixed(2),
      goal: '< 1.25',
      result: r.flat ? 'PASS' : 'BELOW TARGET',
    },
  ];
}


const sizeLabel = (mib: number): string => (mib >= 1024 ? `${mib / 1024} GiB` : `${mib} MiB`);

export function wanRows(s: Section<WanResult[]>): Row[] {
  if (s.value === undefined) return [errorRow('WAN profile', s)];
  const rows: Row[] = [];
  for (const r of s.value) {
    const copy = wanRun(r, 'gcs2s3 copy');
    const rc = wanRun(r, 'rclone copy');
    const up = wanRun(r, 'upload-only');
    const name = `WAN ${sizeLabel(r.sizeMiB)}`;
    if (copy === undefined) continue;
    rows.push(
      rc === undefined
        ? { target: `${name}: vs rclone copy`, measured: RCLONE_MISSING, ratio: '–', goal: '≥ 1.00', result: 'SKIPPED' }
        : {
            target: `${name}: gcs2s3 copy vs rclone`,
            measured: `${copy.seconds.toFixed(2)} s vs ${rc.seconds.toFixed(2)} s (+${r.profile.latencyMs} ms each way, ${r.profile.bandwidthKiBps / 1024} MiB/s per connection)${mark(s)}`,
            ratio: (rc.seconds / copy.seconds).toFixed(2),
            goal: '≥ 1.00',
            result: rc.seconds / copy.seconds >= 1 ? 'PASS' : 'BELOW TARGET',
          },
    );
    if (up !== undefined && r.sizeMiB >= 1024) {
      const ratio = copy.MiBps / up.MiBps;
      rows.push({
        target: `${name}: gcs2s3 copy vs the leg's limit`,
        measured: `${copy.MiBps.toFixed(0)} MiB/s (whole process) vs upload-only ${up.MiBps.toFixed(0)} MiB/s${mark(s)}`,
        ratio: ratio.toFixed(2),
        goal: '≥ 0.90',
        result: ratio >= 0.9 ? 'PASS' : 'BELOW TARGET',
      });
    }
  }
  return rows;
}

export function uploaderRows(s: Section<CompareResult[]>): Row[] {
  if (s.value === undefined) return [errorRow('uploader: ours vs lib-storage', s)];
  return s.value.flatMap((r) => {
    const ours = compareRun(r, 'replicate');
    const lib = compareRun(r, 'lib-storage');
    if (ours === undefined || lib === undefined) return [];
    return [
      {
        target: `uploader ${sizeLabel(r.sizeMiB)}: ours vs lib-storage`,
        measured: `${ours.MiBps.toFixed(0)} vs ${lib.MiBps.toFixed(0)} MiB/s; CPU ${ours.cpuPerGiB.toFixed(1)} vs ${lib.cpuPerGiB.toFixed(1)} s/GiB; peak RSS ${ours.peakRssMiB.toFixed(0)} vs ${lib.peakRssMiB.toFixed(0)} MiB${mark(s)}`,
        ratio: (ours.MiBps / lib.MiBps).toFixed(2),
        goal: 'reported',
        result: 'REPORTED' as const,
      },
    ];
  });
}

export function md5Rows(s: Section<CompareResult[]>): Row[] {
  if (s.value === undefined) return [errorRow('MD5 pass cost', s)];
  return s.value.flatMap((r) => {
    const withMd5 = compareRun(r, 'replicate-with-md5');
    const without = compareRun(r, 'replicate');
    if (withMd5 === undefined || without === undefined) return [];
    return [
      {
        target: `MD5 pass, ${sizeLabel(r.sizeMiB)}: CPU with ÷ without`,
        measured: `${withMd5.cpuPerGiB.toFixed(2)} vs ${without.cpuPerGiB.toFixed(2)} s/GiB; ${withMd5.MiBps.toFixed(0)} vs ${without.MiBps.toFixed(0)} MiB/s${mark(s)}`,
        ratio: (withMd5.cpuPerGiB / without.cpuPerGiB).toFixed(2),
        goal: 'reported',
        result: 'REPORTED' as const,
      },
    ];
  });
}

export function startupRows(s: Section<StartupResult>): Row[] {
  if (s.value === undefined) return [errorRow('start-up', s)];
  const find = (prefix: string) => s.value!.runs.find((r) => r.label.startsWith(prefix));
  const warm = find('gcs2s3 copy, compile cache warm');
  const cold = find('gcs2s3 copy, compile cache off');
  const rc = find('rclone');
  if (warm === undefined) return [];
  return [
    {
      target: 'start-up: one 4 KiB object, whole process vs rclone',
      measured: `${warm.seconds.toFixed(2)} s (cache off ${cold?.seconds.toFixed(2) ?? '–'} s) vs ${rc?.seconds.toFixed(2) ?? '–'} s; CPU ${warm.cpuSeconds?.toFixed(2) ?? '–'} vs ${rc?.cpuSeconds?.toFixed(2) ?? '–'} s${mark(s)}`,
      ratio: rc === undefined ? '–' : (rc.seconds / warm.seconds).toFixed(2),
      goal: 'reported',
      result: 'REPORTED',
    },
  ];
}

export function gcsReadRows(s: Section<CompareResult[]>): Row[] {
  if (s.value === undefined) return [errorRow('GCS media read', s)];
  return s.value.flatMap((r) => {
    const lib = compareRun(r, 'download-only');
    const direct = compareRun(r, 'download-direct');
    if (lib === undefined || direct === undefined) return [];
    return [
      {
        target: `GCS read ${sizeLabel(r.sizeMiB)}: GcsSource.read ÷ bare GET, CPU`,
        measured: `${lib.cpuPerGiB.toFixed(2)} vs ${direct.cpuPerGiB.toFixed(2)} s/GiB; ${lib.MiBps.toFixed(0)} vs ${direct.MiBps.toFixed(0)} MiB/s${mark(s)}`,
        ratio: (lib.cpuPerGiB / direct.cpuPerGiB).toFixed(2),
        goal: 'reported',
        result: 'REPORTED' as const,
      },
    ];
  });
}
