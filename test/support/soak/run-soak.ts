import { mkdir, readdir } from 'node:fs/promises';
import { hostname, cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { S3Client } from '@aws-sdk/client-s3';
import { PubSub } from '@google-cloud/pubsub';
import { Storage } from '@google-cloud/storage';
import { checkBytes, listStranded, readVerifyReport, scanLogs, type SecretFinding, type VerifyReport, type WrongBytes } from './checks.js';
import { startDuplicator, type DuplicateTally } from './duplicates.js';
import { runFaultSchedule, type FaultTally } from './faults.js';
import { runKillSchedule, type KillTally } from './kills.js';
import { newIssuedSecrets, startLegs, type Legs } from './legs.js';
import { prng, sleep } from './prng.js';
import { PROFILES, type SoakProfile } from './profiles.js';
import { PullWorker, runCli, type OutcomeTally } from './workers.js';
import { newWriterTally, runWriter, writerNames, type SizeTally, type WriterTally } from './writer.js';

export interface SoakOptions {
  seed: number;
  minutes: number;
  /** The stack's variables (its `env` file). */
  env: Record<string, string>;
  /** The subscription both workers share. */
  subscription: string;
  /** Our ports: Toxiproxy and its proxies from here (see legPorts), the workers' health ports at +11, +12. */
  portBase: number;
  /** Where every log of the run goes. */
  runDir: string;
  profile: 'long' | 'short';
  /** More logs to scan for secrets (the stack's own, when the soak started it). */
  extraLogs?: string[];
  /** Progress lines. */
  say(line: string): void;
}

export interface SoakResult {
  seed: number;
  minutes: number;
  profile: 'long' | 'short';
  prefix: string;
  startedAt: string;
  endedAt: string;
  drainSeconds: number;
  machine: string;
  faults: FaultTally;
  kills: KillTally;
  writes: WriterTally;
  sizes: SizeTally;
  duplicates: DuplicateTally;
  deliveries: OutcomeTally;
  verify: VerifyReport | undefined;
  bytesChecked: number;
  wrongBytes: WrongBytes[];
  lost: number;
  wrong: number;
  correct: number;
  strandedBefore: number;
  strandedAfter: number;
  stranded: Array<{ key: string; uploadId: string }>;
  secretsIssued: { idTokens: number; stsCredentials: number };
  secretsFound: SecretFinding[];
  logLinesScanned: number;
  passed: boolean;
}

/** Everything the soak holds open, so `finally` closes it all. */
interface Rig {
  legs: Legs;
  gcs: Storage;
  s3: S3Client;
  pubsub: PubSub;
  workers: PullWorker[];
  cliEnv: Record<string, string>;
}

export function machineDescription(): string {
  const c = cpus();
  return `${hostname()}: ${c.length} × ${c[0]?.model.trim() ?? 'CPU'}, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.versions.node}`;
}

/** Runs the soak: chaos for `minutes`, then drain, verify, count and scan. Never throws for a failed check: see `passed`. */
export async function runSoak(o: SoakOptions): Promise<SoakResult> {
  const profile = PROFILES[o.profile];
  await mkdir(o.runDir, { recursive: true });
  if (o.env.PUBSUB_EMULATOR_HOST !== undefined) process.env.PUBSUB_EMULATOR_HOST = o.env.PUBSUB_EMULATOR_HOST;
  const secrets = newIssuedSecrets();
  const prefix = `soak-${o.seed}-${Date.now().toString(36)}/`;
  const r = emptyResult(o, prefix);
  const rig = await openRig(o, prefix, secrets, r.deliveries);
  try {
    const chaosEnd = Date.now() + o.minutes * 60_000;
    await chaos(o, rig, profile, prefix, r, chaosEnd);
    const drainStart = Date.now();
    r.verify = await drain(o, rig, profile, prefix, r);
    r.drainSeconds = Math.round((Date.now() - drainStart) / 1000);
    await judge(o, rig, prefix, r);
  } finally {
    for (const w of rig.workers) await w.stop('SIGKILL', true);
    r.kills.crashes = rig.workers.reduce((n, w) => n + w.crashes, 0);
    await rig.legs.close();
    await rig.pubsub.close().catch(() => undefined);
    rig.s3.destroy();
  }
  r.secretsIssued = { idTokens: secrets.idTokens.size, stsCredentials: secrets.stsSecrets.size };
  const logs = [...(await readdir(o.runDir)).filter((f) => f.endsWith('.log')).map((f) => join(o.runDir, f)), ...(o.extraLogs ?? [])];
  ({ findings: r.secretsFound, lines: r.logLinesScanned } = await scanLogs(logs, secrets));
  r.endedAt = new Date().toISOString();
  r.passed = r.lost === 0 && r.wrong === 0 && r.strandedAfter === 0 && r.secretsFound.length === 0 && r.verify?.complete === true;
  return r;
}

function emptyResult(o: SoakOptions, prefix: string): SoakResult {
  return {
    seed: o.seed,
    minutes: o.minutes,
    profile: o.profile,
    prefix,
    startedAt: new Date().toISOString(),
    endedAt: '',
    drainSeconds: 0,
    machine: machineDescription(),
    faults: { switchedOn: {}, httpAnswered: {} },
    kills: { SIGKILL: 0, SIGTERM: 0, restarts: 0, crashes: 0 },
    writes: newWriterTally(),
    sizes: { bands: {}, largest: 0 },
    duplicates: { seen: 0, published: 0 },
    deliveries: {},
    verify: undefined,
    bytesChecked: 0,
    wrongBytes: [],
    lost: 0,
    wrong: 0,
    correct: 0,
    strandedBefore: 0,
    strandedAfter: 0,
    stranded: [],
    secretsIssued: { idTokens: 0, stsCredentials: 0 },
    secretsFound: [],
    logLinesScanned: 0,
    passed: false,
  };
}

async function openRig(o: SoakOptions, prefix: string, secrets: ReturnType<typeof newIssuedSecrets>, deliveries: OutcomeTally): Promise<Rig> {
  const legs = await startLegs(o.env, o.portBase, secrets);
  const { MINIO_ROOT_USER: _u, MINIO_ROOT_PASSWORD: _p, ...stack } = o.env; // the worker never reads MinIO's login
  const cliEnv: Record<string, string> = {
    ...stack,
    ...legs.workerEnv,
    PUBSUB_SUBSCRIPTION: o.subscription,
    INCLUDE_PREFIXES: prefix,
    REPLICATE_DELETES: 'true',
    LOG_LEVEL: 'debug',
    LOG_FORMAT: 'json',
    // Short deadlines, so faults resolve in seconds; small parts, so a few MiB make a multipart upload.
    CONNECT_TIMEOUT_SECONDS: '2',
    STALL_TIMEOUT_SECONDS: '5',
    PART_SIZE_MIB: '5',
    PART_QUEUE_SIZE: '2',
    MAX_CONCURRENT_OBJECTS: '4',
    AWS_SESSION_DURATION_SECONDS: '900',
    LIVENESS_TIMEOUT_SECONDS: '120',
  };
  const workers = ['worker-a', 'worker-b'].map((name, i) => new PullWorker(name, { ...cliEnv, PORT: String(o.portBase + 11 + i) }, o.runDir, deliveries));
  const s3 = new S3Client({
    region: o.env.AWS_REGION,
    endpoint: o.env.AWS_ENDPOINT_URL_S3,
    forcePathStyle: true,
    credentials: { accessKeyId: o.env.MINIO_ROOT_USER!, secretAccessKey: o.env.MINIO_ROOT_PASSWORD! },
  });
  const gcs = new Storage({ apiEndpoint: o.env.STORAGE_EMULATOR_HOST, projectId: o.env.GOOGLE_CLOUD_PROJECT });
  return { legs, gcs, s3, pubsub: new PubSub({ projectId: o.env.GOOGLE_CLOUD_PROJECT }), workers, cliEnv };
}

/** The chaos: two workers, the writer, faults, kills and duplicated notifications, until `endAt`. */
async function chaos(o: SoakOptions, rig: Rig, profile: SoakProfile, prefix: string, r: SoakResult, endAt: number): Promise<void> {
  for (const w of rig.workers) w.start();
  const duplicator = await startDuplicator(rig.pubsub, o.env.PUBSUB_TOPIC!, prefix, r.duplicates);
  const stop = new AbortController();
  const timer = setTimeout(() => stop.abort(), Math.max(0, endAt - Date.now()));
  const ticker = setInterval(() => o.say(progressLine(r, endAt)), 60_000);
  try {
    const bucket = rig.gcs.bucket(o.env.GCS_BUCKET!);
    await Promise.all([
      runWriter(bucket, o.seed, prng(o.seed, 'writer'), { ...profile.writer, prefix }, r.writes, r.sizes, stop.signal),
      runFaultSchedule(rig.legs, prng(o.seed, 'faults'), profile.faults, r.faults, stop.signal),
      runKillSchedule(rig.workers, prng(o.seed, 'kills'), profile.kills, r.kills, stop.signal),
      duplicator.run(prng(o.seed, 'duplicates'), profile.duplicateGapMs, stop.signal),
    ]);
  } finally {
    stop.abort();
    clearTimeout(timer);
    clearInterval(ticker);
    await duplicator.close();
    await rig.legs.calm();
  }
  o.say(`chaos over: ${progressLine(r, endAt)}`);
}

function progressLine(r: SoakResult, endAt: number): string {
  const sum = (t: Record<string, number>) => Object.values(t).reduce((a, b) => a + b, 0);
  const writes = Object.values(r.writes).reduce((a, w) => a + w.count, 0);
  const left = Math.max(0, Math.round((endAt - Date.now()) / 1000));
  return `soak: ${writes} writes, ${sum(r.faults.switchedOn)} faults, ${r.kills.SIGKILL} SIGKILL + ${r.kills.SIGTERM} SIGTERM, ${r.duplicates.published} duplicates, deliveries ${JSON.stringify(r.deliveries)}; ${left} s of chaos left`;
}

/** Runs `gcs2s3 verify` over the prefix (through the proxies, calm now); its report. */
async function verifyOnce(o: SoakOptions, rig: Rig, prefix: string, n: number): Promise<VerifyReport | undefined> {
  const report = join(o.runDir, `verify-${n}.json`);
  await runCli(`verify-${n}`, ['verify', `gs://${o.env.GCS_BUCKET}/${prefix}`, '--report', report], rig.cliEnv, o.runDir);
  return readVerifyReport(report);
}

/** Restarts stopped workers and waits, bounded, until they go quiet and verify finds S3 equal to GCS. */
async function drain(o: SoakOptions, rig: Rig, profile: SoakProfile, prefix: string, r: SoakResult): Promise<VerifyReport | undefined> {
  for (const w of rig.workers) if (!w.running) w.start();
  const deadline = Date.now() + profile.drainMs;
  for (let n = 1; ; ) {
    await sleep(10_000);
    const quietMs = Date.now() - Math.max(...rig.workers.map((w) => w.lastOutcomeAt()));
    const timeUp = Date.now() > deadline;
    if (quietMs < 20_000 && !timeUp) continue;
    const report = await verifyOnce(o, rig, prefix, n++);
    o.say(`drain: verify ${n - 1}: ${report === undefined ? 'no report' : JSON.stringify(report.counts)}; deliveries ${JSON.stringify(r.deliveries)}`);
    if ((report?.inSync ?? false) || timeUp) return report;
  }
}

/** Lost and wrong objects (verify, and the bytes read back), then stranded uploads before and after a cleanup pass. */
async function judge(o: SoakOptions, rig: Rig, prefix: string, r: SoakResult): Promise<void> {
  const c = r.verify?.counts;
  r.lost = c === undefined ? Number.NaN : c.missingInS3 + c.staleInS3;
  r.wrong = c === undefined ? Number.NaN : c.mismatched + c.extraInS3;
  const bytes = await checkBytes(rig.gcs.bucket(o.env.GCS_BUCKET!), rig.s3, o.env.S3_BUCKET!, prefix);
  r.bytesChecked = bytes.checked;
  r.wrongBytes = bytes.wrong;
  r.wrong += bytes.wrong.length;
  r.correct = Math.max(0, (c?.inSync ?? 0) - bytes.wrong.length);
  const keys = writerNames({ prefix, names: PROFILES[o.profile].writer.names });
  r.strandedBefore = (await listStranded(rig.s3, o.env.S3_BUCKET!, prefix, keys)).length;
  // The cleanup pass: the drained workers stop, then a backfill handles every key of the prefix once more.
  for (const w of rig.workers) await w.stop('SIGTERM', true);
  await runCli('backfill', ['backfill', `gs://${o.env.GCS_BUCKET}/${prefix}`], rig.cliEnv, o.runDir);
  r.stranded = await listStranded(rig.s3, o.env.S3_BUCKET!, prefix, keys);
  r.strandedAfter = r.stranded.length;
  o.say(`judged: lost ${r.lost}, wrong ${r.wrong} (${bytes.checked} objects read back), stranded uploads ${r.strandedBefore} before cleanup, ${r.strandedAfter} after`);
}
