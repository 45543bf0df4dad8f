/**
 * docs/benchmarks.md and its SVG charts (docs/benchmarks/*.svg), written by
 * the run that measured them: machine, versions, date, every row of the
 * results table, the details each section printed, the charts, and the
 * command that reproduces each section. Also the generated blocks of the
 * decision pages (docs/decisions/*.md, between `<!-- bench:NAME -->` and
 * `<!-- /bench:NAME -->`), so their figures come from a run too.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { resolve } from 'node:path';
import { compareRun, describeCompare, type CompareResult } from './compare.js';
import { ROOT } from './support/env.js';
import { barChart, lineChart } from './support/svg.js';
import type { Row } from './support/table.js';
import type { SmallObjectResult } from './small-objects.js';
import type { LargeObjectResult } from './throughput.js';
import type { WanResult } from './wan.js';

export interface RunMeta {
  date: string;
  quick: boolean;
  only?: string[];
  totalSeconds: number;
  rclone?: string;
  /** Section name → duration in seconds and 1-minute load average at its start. */
  sections: Array<{ name: string; seconds: number; load: number; disturbed: boolean }>;
}

export interface DocInputs {
  meta: RunMeta;
  rows: Row[];
  /** Section name → the lines the run printed for it. */
  details: Array<{ name: string; lines: string[] }>;
  large?: LargeObjectResult[];
  wan?: WanResult[];
  small?: SmallObjectResult;
  uploader?: CompareResult[];
  md5?: CompareResult[];
}

/** How to rerun each section alone (it brings the stack up itself). */
export const REPRODUCE: Record<string, string> = {
  large: 'npm run bench -- --only large',
  wan: 'npm run bench -- --only wan',
  uploader: 'npm run bench -- --only uploader',
  md5: 'npm run bench -- --only md5',
  gcsread: 'npm run bench -- --only gcsread',
  startup: 'npm run bench -- --only startup',
  concurrent: 'npm run bench -- --only concurrent',
  small: 'npm run bench -- --only small',
  latency: 'npm run bench -- --only latency',
  plan: 'npm run bench -- --only plan',
};

const DOC = resolve(ROOT, 'docs/benchmarks.md');
const CHARTS = resolve(ROOT, 'docs/benchmarks');

function sh(command: string, args: string[]): string | undefined {
  try {
    return execFileSync(command, args, { cwd: ROOT, encoding: 'utf8', timeout: 10_000, stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return undefined;
  }
}

function toolVersion(name: string): string {
  const file = resolve(ROOT, `.tools/bin/${name}.version`);
  return existsSync(file) ? readFileSync(file, 'utf8').trim() : 'unknown';
}

/** Taken once per run, before any page is written (a page written first would make the tree look modified). */
const machineOf = new WeakMap<RunMeta, string[]>();

/** Machine and versions, as one list. */
export function machineLines(meta: RunMeta): string[] {
  const known = machineOf.get(meta);
  if (known !== undefined) return known;
  const lines = describeMachine(meta);
  machineOf.set(meta, lines);
  return lines;
}

function describeMachine(meta: RunMeta): string[] {
  const commit = sh('git', ['rev-parse', '--short=12', 'HEAD']) ?? 'unknown';
  const dirty = (sh('git', ['status', '--porcelain', '--untracked-files=no']) ?? '') !== '';
  const cpu = cpus();
  return [
    `- date: ${meta.date}`,
    `- machine: ${cpu.length} cores (${cpu[0]?.model.trim() ?? 'unknown CPU'}), ${(totalmem() / 2 ** 30).toFixed(1)} GiB memory, ${process.platform} ${sh('uname', ['-r']) ?? ''}`.trimEnd(),
    `- gcs2s3: commit ${commit}${dirty ? ' (with uncommitted changes)' : ''}; node ${process.version}`,
    `- rclone: ${meta.rclone ?? 'not installed'}`,
    `- MinIO: ${toolVersion('minio')}; fake-gcs-server: ${toolVersion('fake-gcs-server')}; Toxiproxy: ${toolVersion('toxiproxy-server')}`,
    `- run: ${meta.quick ? 'QUICK (smaller sizes; the targets are stated for the full sizes)' : 'full'}${meta.only ? `, sections ${meta.only.join(', ')}` : ''}; ${(meta.totalSeconds / 60).toFixed(1)} min in all`,
  ];
}

function sizeTick(mib: number): string {
  return mib >= 1024 ? `${mib / 1024} GiB` : `${mib} MiB`;
}

function writeChart(name: string, svg: string): string {
  mkdirSync(CHARTS, { recursive: true });
  writeFileSync(resolve(CHARTS, name), svg);
  return `benchmarks/${name}`;
}

function charts(inputs: DocInputs): string[] {
  const out: string[] = [];
  const large = inputs.large ?? [];
  if (large.length > 0) {
    const series = [
      { name: 'gcs2s3 copy', points: large.map((r) => [r.sizeMiB, r.scenarios['gcs2s3 copy']?.MiBps ?? 0] as [number, number]) },
      ...(large.every((r) => r.scenarios['rclone copy'] !== undefined) ? [{ name: 'rclone copy', points: large.map((r) => [r.sizeMiB, r.scenarios['rclone copy']!.MiBps] as [number, number]) }] : []),
      { name: 'stack limit', points: large.map((r) => [r.sizeMiB, r.limitMiBps] as [number, number]) },
      { name: 'replicate (in-process)', points: large.map((r) => [r.sizeMiB, r.scenarios.replicate?.MiBps ?? 0] as [number, number]) },
    ];
    const path = writeChart('throughput.svg', lineChart({ title: 'Throughput by object size, loopback', xLabel: 'object size', yLabel: 'MiB/s', series, xLog2: true, xTick: sizeTick }));
    out.push('### Throughput by object size', '', `![throughput by object size](${path})`, '', 'gcs2s3 copy and rclone copy are whole processes (start-up included); the stack limit is min(download-only, upload-only) of the same run; replicate is the in-process copy.', '', `Reproduce: \`${REPRODUCE.large}\``, '');
    for (const r of [large[0]!, large.at(-1)!].filter((r, i, a) => a.indexOf(r) === i)) {
      const rssSeries = (['gcs2s3 copy', 'rclone copy'] as const).flatMap((s) => {
        const rss = r.scenarios[s]?.rss;
        return rss === undefined ? [] : [{ name: s, points: rss.map((p) => [p.t, p.mib] as [number, number]) }];
      });
      if (rssSeries.length === 0) continue;
      const path2 = writeChart(`rss-${r.sizeMiB}mib.svg`, lineChart({ title: `RSS over time, one ${sizeTick(r.sizeMiB)} copy (sampled every 50 ms)`, xLabel: 'seconds since start', yLabel: 'RSS, MiB', series: rssSeries, markers: false }));
      out.push(`### Memory over time, ${sizeTick(r.sizeMiB)}`, '', `![RSS over time, ${sizeTick(r.sizeMiB)}](${path2})`, '', `Reproduce: \`${REPRODUCE.large}\``, '');
    }
  }
  const wan = inputs.wan ?? [];
  if (wan.length > 0) {
    const bars = wan.flatMap((r) => r.runs.map((x) => ({ label: `${sizeTick(r.sizeMiB)} ${x.tool}, ${x.queue} in flight`, value: x.MiBps })));
    const path = writeChart('wan.svg', barChart({ title: `WAN profile: +${wan[0]!.profile.latencyMs} ms each way, ${wan[0]!.profile.bandwidthKiBps / 1024} MiB/s per connection on the S3 leg`, unit: 'MiB/s', bars }));
    out.push('### WAN profile', '', `![WAN profile](${path})`, '', `Reproduce: \`${REPRODUCE.wan}\``, '');
  }
  const small = inputs.small;
  if (small !== undefined) {
    const bars = [small.backfill, ...small.rclone, small.inProcess].map((r) => ({ label: r.label.replace(/ \(.*\)$/, ''), value: r.objectsPerSecond }));
    const path = writeChart('small-objects.svg', barChart({ title: `Small objects: ${small.count} × ${small.sizeBytes / 1024} KiB`, unit: 'objects/s', bars }));
    out.push('### Small objects', '', `![small-object rate](${path})`, '', `Reproduce: \`${REPRODUCE.small}\``, '');
  }
  if (inputs.uploader !== undefined && inputs.uploader.length > 0) {
    const bars = inputs.uploader.flatMap((r) => r.runs.map((x) => ({ label: `${sizeTick(r.sizeMiB)} ${x.scenario}`, value: x.cpuPerGiB })));
    const path = writeChart('uploader-cpu.svg', barChart({ title: 'Uploader: CPU per GiB of the copying process (lower is better)', unit: 's/GiB', bars, digits: 1 }));
    out.push('### Uploader: ours vs lib-storage', '', `![uploader CPU per GiB](${path})`, '', `Reproduce: \`${REPRODUCE.uploader}\``, '');
  }
  return out;
}

function markdownTable(rows: Row[]): string[] {
  const cell = (t: string): string => t.replace(/\|/g, '\\|');
  return ['| target | measured | ratio | goal | result |', '| --- | --- | ---: | --- | --- |', ...rows.map((r) => `| ${cell(r.target)} | ${cell(r.measured)} | ${r.ratio} | ${cell(r.goal)} | ${r.result} |`)];
}

/** Writes docs/benchmarks.md and its charts. */
export function writeBenchmarksDoc(inputs: DocInputs): string {
  const missed = inputs.rows.filter((r) => r.result === 'BELOW TARGET' || r.result === 'ERROR');
  const account = resolve(ROOT, 'bench/account.md');
  const lines = [
    '# Benchmarks',
    '',
    `<!-- Written by \`npm run bench\` (bench/report-doc.ts) on ${inputs.meta.date}. Do not edit: rerun the bench. -->`,
    '',
    'Every figure on this page was measured by one run of `npm run bench` against the local stack',
    '(scripts/local-stack.sh: MinIO, fake-gcs-server, the Pub/Sub emulator), whole processes where a user',
    'would run one, ratios taken within the run against rclone with the same part size, parts in flight and',
    'upload cutoff (DESIGN.md §4). The emulators share the machine\'s cores with the copy: on a small machine',
    'they are part of what is measured.',
    '',
    '## Machine and versions',
    '',
    ...machineLines(inputs.meta),
    '',
    'Reproduce everything: `npm run bench` (full sizes; writes this page). A smoke run: `npm run bench -- --quick`.',
    '',
    '## Results',
    '',
    ...markdownTable(inputs.rows),
    '',
    `Sections (duration, 1-minute load average at start): ${inputs.meta.sections.map((s) => `${s.name} ${s.seconds.toFixed(0)} s (${s.load.toFixed(1)})${s.disturbed ? ' [vitest ran meanwhile]' : ''}`).join(', ')}.`,
    '',
    '## Charts',
    '',
    ...charts(inputs),
    '## Details, as the run printed them',
    '',
    ...inputs.details.flatMap((d) => [`### ${d.name}`, '', `Reproduce: \`${REPRODUCE[d.name] ?? 'npm run bench'}\``, '', '```', ...d.lines, '```', '']),
    '## Where a target is missed',
    '',
    missed.length === 0 ? 'Every target was met in this run.' : `Below target in this run: ${missed.map((r) => r.target).join('; ')}.`,
    '',
    ...(existsSync(account) ? [readFileSync(account, 'utf8').trim(), ''] : []),
  ];
  writeFileSync(DOC, lines.join('\n'));
  return DOC;
}

/** Replaces the `<!-- bench:NAME -->…<!-- /bench:NAME -->` block of a decision page; false when the page has none. */
export function writeDecisionBlock(page: string, name: string, lines: string[], meta: RunMeta): boolean {
  const path = resolve(ROOT, page);
  if (!existsSync(path)) return false;
  const text = readFileSync(path, 'utf8');
  const open = `<!-- bench:${name} -->`;
  const close = `<!-- /bench:${name} -->`;
  const a = text.indexOf(open);
  const b = text.indexOf(close);
  if (a === -1 || b < a) return false;
  const block = [open, `<!-- Written by \`${REPRODUCE[name] ?? 'npm run bench'}\` on ${meta.date}; do not edit by hand. -->`, '', ...machineLines(meta), '', ...lines, '', close].join('\n');
  writeFileSync(path, text.slice(0, a) + block + text.slice(b + close.length));
  return true;
}

/** The uploader page's table: ours vs lib-storage per size. */
export function uploaderTable(results: CompareResult[]): string[] {
  const lines = ['| object | uploader | MiB/s | CPU s/GiB | peak RSS MiB | ArrayBuffers MiB |', '| --- | --- | ---: | ---: | ---: | ---: |'];
  const names: Record<string, string> = {
    replicate: 'ours (S3Sink, replicateObject)',
    'lib-storage': 'lib-storage Upload, SDK CRC32C',
    'lib-storage-native': 'lib-storage Upload, native CRC32C',
  };
  for (const r of results) {
    for (const x of r.runs) lines.push(`| ${sizeTick(r.sizeMiB)} (${r.rounds} round${r.rounds === 1 ? '' : 's'}) | ${names[x.scenario] ?? x.scenario} | ${x.MiBps.toFixed(0)} | ${x.cpuPerGiB.toFixed(2)} | ${x.peakRssMiB.toFixed(0)} | ${x.peakArrayBuffersMiB.toFixed(0)} |`);
    const ours = compareRun(r, 'replicate');
    const lib = compareRun(r, 'lib-storage');
    if (ours && lib) lines.push(`| ${sizeTick(r.sizeMiB)} | **ours ÷ lib-storage** | ${(ours.MiBps / lib.MiBps).toFixed(2)} × speed | ${(ours.cpuPerGiB / lib.cpuPerGiB).toFixed(2)} × CPU | ${(ours.peakRssMiB / lib.peakRssMiB).toFixed(2)} × RSS | |`);
  }
  return lines;
}

export function md5Table(results: CompareResult[]): string[] {
  return ['```', ...results.flatMap((r) => describeCompare('replicate (CRC32C only) and with an MD5 pass', r)), '```'];
}
