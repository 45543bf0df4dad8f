/**
 * In-process transfer scenarios side by side (bench/children/transfer.ts),
 * each child its own process, rounds interleaved, medians: the uploader
 * decision (ours against @aws-sdk/lib-storage's Upload) and the MD5 lever
 * (replicate with and without GCS's MD5 checked on the stream).
 */
import type { TransferResult } from './children/transfer.js';
import { deferCleanup } from './support/cleanup.js';
import { childEnv, median, MiB, stackEnv, uniquePrefix } from './support/env.js';
import { removeBenchObjects, uploadRandomObject } from './support/objects.js';
import { runJsonChild } from './support/processes.js';

export interface CompareRun {
  scenario: string;
  seconds: number;
  MiBps: number;
  /** CPU seconds of the child per GiB moved (median). */
  cpuPerGiB: number;
  /** Largest over rounds. */
  peakRssMiB: number;
  peakArrayBuffersMiB: number;
}

export interface CompareResult {
  sizeMiB: number;
  rounds: number;
  runs: CompareRun[];
}

export async function runCompare(options: { label: string; scenarios: string[]; sizesMiB: number[]; rounds: (sizeMiB: number) => number; log: (line: string) => void }): Promise<CompareResult[]> {
  const env = stackEnv();
  const bucket = env.GCS_BUCKET!;
  const dest = env.S3_BUCKET!;
  const prefix = uniquePrefix(options.label);
  const cleanup = deferCleanup(() => removeBenchObjects(bucket, dest, prefix, options.log));
  const results: CompareResult[] = [];
  try {
    for (const sizeMiB of options.sizesMiB) {
      const name = `${prefix}src-${sizeMiB}/object.bin`;
      options.log(`${options.label}: uploading ${sizeMiB} MiB to gs://${bucket}/${name}`);
      await uploadRandomObject(bucket, name, sizeMiB * MiB);
      const rounds = options.rounds(sizeMiB);
      const raw = new Map<string, TransferResult[]>();
      for (let round = 1; round <= rounds; round++) {
        for (const scenario of options.scenarios) {
          const r = await runJsonChild<TransferResult>('transfer', [scenario, bucket, name, `${prefix}${scenario}-r${round}/`], { env: childEnv(), timeoutMs: 900_000, label: `${scenario} ${sizeMiB} MiB` });
          raw.set(scenario, [...(raw.get(scenario) ?? []), r]);
        }
      }
      const gib = sizeMiB / 1024;
      results.push({
        sizeMiB,
        rounds,
        runs: options.scenarios.map((scenario) => {
          const list = raw.get(scenario)!;
          const seconds = median(list.map((r) => r.seconds));
          return {
            scenario,
            seconds,
            MiBps: sizeMiB / seconds,
            cpuPerGiB: median(list.map((r) => r.cpuSeconds)) / gib,
            peakRssMiB: Math.max(...list.map((r) => r.peakRssMiB)),
            peakArrayBuffersMiB: Math.max(...list.map((r) => r.peakArrayBuffersMiB)),
          };
        }),
      });
      await removeBenchObjects(bucket, dest, prefix, options.log);
    }
    return results;
  } finally {
    await cleanup();
  }
}

export function compareRun(r: CompareResult, scenario: string): CompareRun | undefined {
  return r.runs.find((x) => x.scenario === scenario);
}

export function describeCompare(title: string, r: CompareResult): string[] {
  return [
    `${title}, ${r.sizeMiB} MiB (${r.rounds} round${r.rounds === 1 ? '' : 's'}, medians; in-process, STS and the GCS stat before the clock):`,
    ...r.runs.map(
      (x) =>
        `  ${x.scenario.padEnd(19)} ${x.MiBps.toFixed(0).padStart(5)} MiB/s  ${x.seconds.toFixed(2).padStart(6)} s  CPU ${x.cpuPerGiB.toFixed(2)} s/GiB  peak RSS ${x.peakRssMiB.toFixed(0)} MiB (ArrayBuffers ${x.peakArrayBuffersMiB.toFixed(0)} MiB)`,
    ),
  ];
}
