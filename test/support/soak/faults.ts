import { gcsError, s3Error, stsError, type Fault } from '../fault-proxy.js';
import type { Toxic } from '../toxiproxy.js';
import type { Leg, Legs } from './legs.js';
import { prng, sleep, type Prng } from './prng.js';

const KiB = 1024;
const MiB = 1024 * KiB;

/** One fault the scheduler can switch on: a toxic on a leg, or HTTP answers armed on a leg. */
interface FaultKind {
  name: string;
  /** Switches it on; resolves with how to switch it off. */
  apply(legs: Legs, rng: Prng): Promise<() => Promise<void>>;
}

/** What the scheduler did: faults switched on by kind, and HTTP answers actually given. */
export interface FaultTally {
  switchedOn: Record<string, number>;
  /** HTTP faults: requests answered with the fault (a switched-on fault may meet no request). */
  httpAnswered: Record<string, number>;
}

const TOXIC_LEGS: readonly Leg[] = ['gcs', 's3', 'sts', 'metadata'];

function toxic(name: string, legs: readonly Leg[], make: (rng: Prng, leg: Leg) => Toxic): FaultKind {
  return {
    name,
    async apply(l, rng) {
      const leg = rng.pick(legs);
      const proxy = l.chains[leg].toxic;
      const id = await proxy.addToxic(make(rng, leg));
      return () => proxy.removeToxic(id).catch(() => undefined);
    },
  };
}

/** Requests go upstream (worker → service); answers downstream: cut the direction that carries the bytes. */
const bodyDirection = (leg: Leg): 'upstream' | 'downstream' => (leg === 's3' ? 'upstream' : 'downstream');

function http(name: string, leg: Leg, kinds: readonly string[], fault: (rng: Prng) => Fault, maxTimes: number, tally: FaultTally): FaultKind {
  return {
    name,
    async apply(l, rng) {
      const injection = l.chains[leg].http.inject(rng.pick(kinds), fault(rng), rng.int(1, maxTimes));
      return async () => {
        tally.httpAnswered[name] = (tally.httpAnswered[name] ?? 0) + injection.hits;
        l.chains[leg].http.clear();
      };
    },
  };
}

/** Every fault kind of issue #11 part 3. */
export function faultCatalog(tally: FaultTally): FaultKind[] {
  const slowDown = s3Error('SlowDown', 'Please reduce your request rate.');
  const internal = s3Error('InternalError', 'We encountered an internal error. Please try again.');
  return [
    toxic('latency+jitter', TOXIC_LEGS, (r) => ({ type: 'latency', stream: 'downstream', latency: r.int(20, 400), jitter: r.int(0, 200) })),
    toxic('bandwidth cap', ['gcs', 's3'], (r, leg) => ({ type: 'bandwidth', stream: bodyDirection(leg), rate: r.int(256, 4096) })),
    toxic('reset_peer', TOXIC_LEGS, (r) => ({ type: 'reset_peer', stream: 'upstream', timeout: r.int(0, 2000), toxicity: r.between(0.3, 1) })),
    toxic('limit_data', TOXIC_LEGS, (r, leg) => ({ type: 'limit_data', stream: bodyDirection(leg), bytes: r.int(4 * KiB, 8 * MiB), toxicity: r.between(0.3, 1) })),
    toxic('timeout (stall)', TOXIC_LEGS, (r) => ({ type: 'timeout', stream: r.pick(['upstream', 'downstream'] as const), timeout: r.pick([0, r.int(1000, 6000)]), toxicity: r.between(0.2, 0.7) })),
    toxic('slow_close', TOXIC_LEGS, (r) => ({ type: 'slow_close', stream: 'downstream', delay: r.int(200, 3000) })),
    http('S3 503 SlowDown', 's3', ['UploadPart', 'PutObject', 'HeadObject'], () => ({ status: 503, body: slowDown }), 5, tally),
    http('S3 500 InternalError', 's3', ['CompleteMultipartUpload', 'PutObject', 'CreateMultipartUpload'], () => ({ status: 500, body: internal }), 3, tally),
    http('S3 200 with error (Complete)', 's3', ['CompleteMultipartUpload'], () => ({ status: 200, body: internal }), 2, tally),
    http('GCS 429', 'gcs', ['metadata'], () => gcsError(429, 'rateLimitExceeded', 'The rate of change requests to the object is too high.'), 3, tally),
    http('GCS 503', 'gcs', ['media', 'metadata'], () => gcsError(503, 'backendError', 'Backend Error'), 3, tally),
    http('STS IDPCommunicationError', 'sts', ['AssumeRoleWithWebIdentity'], () => ({ status: 400, body: stsError('IDPCommunicationError', 'The identity provider could not be reached.') }), 3, tally),
    http('expired session', 's3', ['UploadPart', 'PutObject', 'HeadObject'], (r) => {
      const [code, message] = r.pick([['InvalidAccessKeyId', 'The Access Key Id you provided does not exist in our records.'], ['ExpiredToken', 'The provided token has expired.']] as const);
      return { status: 403, body: s3Error(code, message) };
    }, 2, tally),
  ];
}

export interface FaultScheduleOptions {
  /** Mean pause between two faults switched on, ms. */
  meanGapMs: number;
  /** A fault stays on between these, ms. */
  minOnMs: number;
  maxOnMs: number;
  /** At most this many at once. */
  maxConcurrent: number;
}

/** Switches faults on and off at random until `signal` aborts; every fault is off when it resolves. */
export async function runFaultSchedule(legs: Legs, rng: Prng, opts: FaultScheduleOptions, tally: FaultTally, signal: AbortSignal): Promise<void> {
  const catalog = faultCatalog(tally);
  const active = new Set<Promise<void>>();
  while (!signal.aborted) {
    // Every draw comes first, in the same number whatever happens next, so a seed replays the same schedule.
    await sleep(rng.between(0.3, 1.7) * opts.meanGapMs, signal);
    const kind = rng.pick(catalog);
    const onMs = rng.between(opts.minOnMs, opts.maxOnMs);
    const params = prng(rng.int(0, 2 ** 31), kind.name);
    if (signal.aborted || active.size >= opts.maxConcurrent) continue;
    let off: () => Promise<void>;
    try {
      off = await kind.apply(legs, params);
    } catch {
      continue; // Toxiproxy refused (say, a toxic of that type already on): not counted.
    }
    tally.switchedOn[kind.name] = (tally.switchedOn[kind.name] ?? 0) + 1;
    const done: Promise<void> = sleep(onMs, signal).then(off).finally(() => active.delete(done));
    active.add(done);
  }
  await Promise.all(active);
}
