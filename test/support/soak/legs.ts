import { gcsKind, s3Kind, startFaultProxy, stsKind, type FaultProxy, type KindOf } from '../fault-proxy.js';
import { startToxiproxy, type Proxy, type Toxiproxy } from '../toxiproxy.js';

/** The four services the worker talks to, each a leg of its own. */
export const LEGS = ['gcs', 's3', 'sts', 'metadata'] as const;
export type Leg = (typeof LEGS)[number];

/** One leg: worker → Toxiproxy (TCP faults) → fault proxy (HTTP faults, recording) → the service. */
export interface LegChain {
  toxic: Proxy;
  http: FaultProxy;
}

export interface Legs {
  toxiproxy: Toxiproxy;
  chains: Record<Leg, LegChain>;
  /** Worker variables that send every call through the chains. */
  workerEnv: Record<string, string>;
  /** Removes every toxic and every armed HTTP fault. */
  calm(): Promise<void>;
  close(): Promise<void>;
}

/** The secrets the run handed out, as they crossed the proxies. */
export interface IssuedSecrets {
  idTokens: Set<string>;
  stsSecrets: Set<string>;
  sessionTokens: Set<string>;
  accessKeyIds: Set<string>;
}

export function newIssuedSecrets(): IssuedSecrets {
  return { idTokens: new Set(), stsSecrets: new Set(), sessionTokens: new Set(), accessKeyIds: new Set() };
}

/** Our own ports from `base`: Toxiproxy's API at base+74, leg proxies at base+1…4. */
export function legPorts(base: number) {
  return { api: base + 74, gcs: base + 1, s3: base + 2, sts: base + 3, metadata: base + 4 };
}

const metadataKind: KindOf = (req, url) => (url.pathname.endsWith('/identity') ? 'identity' : `${req.method} metadata`);

/** Starts Toxiproxy and the fault proxies in front of the stack described by `env`. */
export async function startLegs(env: Record<string, string>, base: number, secrets: IssuedSecrets): Promise<Legs> {
  const ports = legPorts(base);
  const portOf = (url: string) => Number(new URL(url).port);
  const upstream: Record<Leg, number> = {
    gcs: portOf(env.STORAGE_EMULATOR_HOST!),
    s3: portOf(env.AWS_ENDPOINT_URL_S3!),
    sts: portOf(env.AWS_ENDPOINT_URL_STS!),
    metadata: portOf(`http://${env.GCE_METADATA_HOST!}`),
  };
  const kinds: Record<Leg, KindOf> = { gcs: gcsKind, s3: s3Kind, sts: stsKind, metadata: metadataKind };
  const record = (leg: Leg) => (leg === 'sts' ? (_k: string, _u: URL, body: Buffer) => recordSts(body, secrets) : leg === 'metadata' ? (k: string, _u: URL, body: Buffer) => recordIdToken(k, body, secrets) : undefined);
  const toxiproxy = await startToxiproxy(ports.api);
  const chains = {} as Record<Leg, LegChain>;
  try {
    for (const leg of LEGS) {
      const http = await startFaultProxy(upstream[leg], kinds[leg], { onAnswer: record(leg) });
      const toxic = await toxiproxy.createProxy(`soak-${leg}`, ports[leg], Number(new URL(http.url).port));
      chains[leg] = { toxic, http };
    }
  } catch (err) {
    await closeChains(toxiproxy, chains);
    throw err;
  }
  return {
    toxiproxy,
    chains,
    workerEnv: {
      STORAGE_EMULATOR_HOST: chains.gcs.toxic.url,
      AWS_ENDPOINT_URL_S3: chains.s3.toxic.url,
      AWS_ENDPOINT_URL_STS: chains.sts.toxic.url,
      GCE_METADATA_HOST: `127.0.0.1:${ports.metadata}`,
    },
    async calm() {
      for (const c of Object.values(chains)) c.http.clear();
      await toxiproxy.reset();
    },
    close: () => closeChains(toxiproxy, chains),
  };
}

async function closeChains(toxiproxy: Toxiproxy, chains: Partial<Record<Leg, LegChain>>): Promise<void> {
  await toxiproxy.close().catch(() => undefined);
  for (const c of Object.values(chains)) await c.http.close().catch(() => undefined);
}

/** AssumeRoleWithWebIdentity answers: the secret key and session token of each set of credentials. */
function recordSts(body: Buffer, secrets: IssuedSecrets): void {
  const text = body.toString('utf8');
  const field = (name: string) => [...text.matchAll(new RegExp(`<${name}>([^<]+)</${name}>`, 'g'))].map((m) => m[1]!);
  for (const v of field('SecretAccessKey')) secrets.stsSecrets.add(v);
  for (const v of field('SessionToken')) secrets.sessionTokens.add(v);
  for (const v of field('AccessKeyId')) secrets.accessKeyIds.add(v);
}

/** The metadata server's identity endpoint answers with the bare ID token. */
function recordIdToken(kind: string, body: Buffer, secrets: IssuedSecrets): void {
  const token = body.toString('utf8').trim();
  if (kind === 'identity' && /^[\w-]+\.[\w-]+\.[\w-]+$/.test(token)) secrets.idTokens.add(token);
}
