import { createHash, randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import type { S3Client } from '@aws-sdk/client-s3';
import type { Storage } from '@google-cloud/storage';
import type { JWK } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateSigningKey, startOidcFixture, type OidcFixture } from '../../scripts/oidc-fixture.js';
import { createLogger } from '../../src/log/logger.js';
import { buildRuntime, type Runtime } from '../../src/main/runtime.js';
import { serverOptionsFromRuntime } from '../../src/main/serve-command.js';
import { startServer, type RunningServer } from '../../src/server/server.js';
import { startCli, stopAll } from '../support/processes.js';
import { adminS3, gcsClient, headS3, listS3Keys, readS3, stackConfig, stackEnv, uniquePrefix, useStackEnv } from '../support/stack.js';
import { startTcpProxy, type TcpProxy } from '../support/tcp-proxy.js';

let env: Record<string, string>;
let gcs: Storage;
let s3: S3Client;
let fixture: OidcFixture;
let otherKey: JWK;
let prefix: string;
const cleanups: Array<() => Promise<unknown> | unknown> = [];

beforeAll(async () => {
  env = useStackEnv();
  gcs = gcsClient();
  s3 = adminS3();
  prefix = uniquePrefix('serve');
  // A second issuer instance with the stack's key and issuer: its tokens are the
  // ones `serve` trusts (PUSH_OIDC_ISSUER / PUSH_JWKS_URL), with any claims we like.
  fixture = await startOidcFixture({ port: 0, keyFile: env.OIDC_FIXTURE_KEY_FILE, issuer: env.PUSH_OIDC_ISSUER });
  otherKey = await generateSigningKey();
});

afterAll(async () => {
  await stopAll();
  for (const c of cleanups.reverse()) await Promise.resolve(c()).catch(() => undefined);
  await fixture?.close();
  s3?.destroy();
});

interface Uploaded {
  name: string;
  generation: string;
  bytes: Buffer;
  resource: Record<string, unknown>;
}

async function upload(name: string, bytes: Buffer = randomBytes(2048), metadata: Record<string, unknown> = {}): Promise<Uploaded> {
  const file = gcs.bucket(env.GCS_BUCKET!).file(prefix + name);
  await file.save(bytes, { resumable: false, validation: false, metadata });
  const [resource] = await file.getMetadata();
  return { name: prefix + name, generation: String(resource.generation), bytes, resource: resource as Record<string, unknown> };
}

type Lines = Array<Record<string, unknown>>;

async function serve(overrides: Record<string, string> = {}): Promise<{ server: RunningServer; runtime: Runtime; lines: Lines }> {
  const lines: Lines = [];
  const logger = createLogger({ level: 'debug', write: (line) => lines.push(JSON.parse(line) as Record<string, unknown>) });
  const runtime = buildRuntime(stackConfig({ INCLUDE_PREFIXES: prefix, ...overrides }, 'serve'), logger);
  const server = await startServer(serverOptionsFromRuntime(runtime, { port: 0, host: '127.0.0.1' }));
  cleanups.push(async () => {
    await server.close();
    runtime.close();
  });
  return { server, runtime, lines };
}

/** A token from the local metadata server, as Pub/Sub's would come from Google. */
async function metadataToken(): Promise<string> {
  const url = `http://${env.GCE_METADATA_HOST}/computeMetadata/v1/instance/service-accounts/default/identity?audience=${encodeURIComponent(env.PUSH_AUDIENCE!)}`;
  const res = await fetch(url, { headers: { 'Metadata-Flavor': 'Google' } });
  expect(res.status).toBe(200);
  return res.text();
}

const token = (claims: Record<string, unknown> = {}) => fixture.mintToken({ aud: env.PUSH_AUDIENCE, ...claims });

function envelope(object: Uploaded, overrides: { data?: unknown; attributes?: unknown } = {}): string {
  const attributes = {
    eventType: 'OBJECT_FINALIZE',
    payloadFormat: 'JSON_API_V1',
    bucketId: env.GCS_BUCKET,
    objectId: object.name,
    objectGeneration: object.generation,
    eventTime: new Date().toISOString(),
  };
  const message = {
    data: Buffer.from(JSON.stringify(object.resource)).toString('base64'),
    attributes,
    messageId: randomBytes(6).toString('hex'),
    publishTime: new Date().toISOString(),
    ...overrides,
  };
  return JSON.stringify({ message, subscription: 'projects/gcs2s3-local/subscriptions/push' });
}

async function post(url: string, body: string | Buffer, headers: Record<string, string>): Promise<number> {
  const res = await fetch(url, { method: 'POST', body, headers: { 'content-type': 'application/json', ...headers } });
  await res.arrayBuffer();
  return res.status;
}

async function expectInS3(object: Uploaded): Promise<void> {
  const { bytes, out } = await readS3(s3, env.S3_BUCKET!, object.name);
  expect(bytes.equals(object.bytes)).toBe(true);
  expect(out.Metadata?.['gcs-generation']).toBe(object.generation);
}

const md5 = (b: Buffer) => createHash('md5').update(b).digest('hex');

describe('gcs2s3 serve over loopback HTTP on the local stack', () => {
  let url: string;
  let lines: Lines;

  beforeAll(async () => {
    const started = await serve();
    url = started.server.url;
    lines = started.lines;
  });

  it('copies on a valid push (token from the metadata server) and answers 204', async () => {
    const object = await upload('push/a.bin');
    expect(await post(`${url}/pubsub/push`, envelope(object), { authorization: `Bearer ${await metadataToken()}` })).toBe(204);
    await expectInS3(object);
    expect(lines).toContainEqual(expect.objectContaining({ via: 'push', outcome: 'copied', object: `gs://${env.GCS_BUCKET}/${object.name}`, status: 204 }));
  });

  it('copies on an unwrapped push (payload unwrapping with write-metadata)', async () => {
    const object = await upload('push/unwrapped.bin');
    const headers = {
      authorization: `Bearer ${await token()}`,
      eventType: 'OBJECT_FINALIZE',
      payloadFormat: 'JSON_API_V1',
      bucketId: env.GCS_BUCKET!,
      objectId: object.name,
      objectGeneration: object.generation,
      'x-goog-pubsub-message-id': 'u-1',
      'x-goog-pubsub-publish-time': new Date().toISOString(),
    };
    expect(await post(`${url}/pubsub/push`, JSON.stringify(object.resource), headers)).toBe(204);
    await expectInS3(object);
  });

  it('copies on a binary-mode CloudEvent and answers 204', async () => {
    const object = await upload('ce/binary.bin');
    const headers = {
      authorization: `Bearer ${await token()}`,
      'ce-specversion': '1.0',
      'ce-id': randomBytes(8).toString('hex'),
      'ce-type': 'google.cloud.storage.object.v1.finalized',
      'ce-source': `//storage.googleapis.com/projects/_/buckets/${env.GCS_BUCKET}`,
      'ce-subject': `objects/${object.name}`,
      'ce-time': new Date().toISOString(),
    };
    expect(await post(`${url}/`, JSON.stringify(object.resource), headers)).toBe(204);
    await expectInS3(object);
    expect(lines).toContainEqual(expect.objectContaining({ via: 'cloudevent', outcome: 'copied', object: `gs://${env.GCS_BUCKET}/${object.name}` }));
  });

  it('copies on a structured-mode CloudEvent and answers 204', async () => {
    const object = await upload('ce/structured.bin');
    const event = {
      specversion: '1.0',
      id: randomBytes(8).toString('hex'),
      type: 'google.cloud.storage.object.v1.finalized',
      source: `//storage.googleapis.com/projects/_/buckets/${env.GCS_BUCKET}`,
      subject: `objects/${object.name}`,
      time: new Date().toISOString(),
      datacontenttype: 'application/json',
      data: object.resource,
    };
    const headers = { authorization: `Bearer ${await token()}`, 'content-type': 'application/cloudevents+json; charset=utf-8' };
    expect(await post(`${url}/`, JSON.stringify(event), headers)).toBe(204);
    await expectInS3(object);
  });

  it('answers every kind of bad input with its status, copies nothing, and then serves a valid push as before', async () => {
    const cases: Array<[label: string, status: number, request: (o: Uploaded) => Promise<{ body: string | Buffer; headers: Record<string, string> }>]> = [
      ['no token', 401, async (o) => ({ body: envelope(o), headers: {} })],
      ['a malformed token', 401, async (o) => ({ body: envelope(o), headers: { authorization: 'Bearer not.a.jwt' } })],
      ['alg: none', 401, async (o) => ({ body: envelope(o), headers: { authorization: `Bearer ${await fixture.mintToken({ aud: env.PUSH_AUDIENCE }, { unsigned: true })}` } })],
      ['a token signed by another key', 401, async (o) => ({ body: envelope(o), headers: { authorization: `Bearer ${await fixture.mintToken({ aud: env.PUSH_AUDIENCE }, { signingKey: otherKey })}` } })],
      ['the wrong audience', 403, async (o) => ({ body: envelope(o), headers: { authorization: `Bearer ${await token({ aud: 'https://someone-else.example' })}` } })],
      ['the wrong email', 403, async (o) => ({ body: envelope(o), headers: { authorization: `Bearer ${await token({ email: 'intruder@gcs2s3-local.iam.gserviceaccount.com' })}` } })],
      ['an expired token', 401, async (o) => ({ body: envelope(o), headers: { authorization: `Bearer ${await token({ iat: nowS() - 7200, exp: nowS() - 3600 })}` } })],
      ['a body that is not JSON', 400, async () => ({ body: 'this is not json', headers: { authorization: `Bearer ${await token()}` } })],
      ['an envelope without message', 400, async () => ({ body: JSON.stringify({ subscription: 'projects/p/subscriptions/s' }), headers: { authorization: `Bearer ${await token()}` } })],
      ['base64 that does not decode', 204, async (o) => ({ body: envelope(o, { data: '***not base64***' }), headers: { authorization: `Bearer ${await token()}` } })],
      ['missing attributes', 204, async (o) => ({ body: envelope(o, { attributes: undefined }), headers: { authorization: `Bearer ${await token()}` } })],
      ['a body over the 1 MiB limit', 413, async (o) => ({ body: envelope(o, { data: 'A'.repeat(1536 * 1024) }), headers: { authorization: `Bearer ${await token()}` } })],
    ];
    const results: Array<[string, number]> = [];
    for (const [label, , request] of cases) {
      const object = await upload(`bad/${label.replace(/[^a-z0-9]+/gi, '-')}.bin`);
      const { body, headers } = await request(object);
      results.push([label, await post(`${url}/pubsub/push`, body, headers)]);
    }
    expect(results).toEqual(cases.map(([label, status]) => [label, status]));
    expect(await listS3Keys(s3, env.S3_BUCKET!, `${prefix}bad/`)).toEqual([]);
    // Refusals are logged without the token; malformed messages at ERROR.
    expect(lines.filter((l) => l.outcome === 'malformed').every((l) => l.severity === 'ERROR')).toBe(true);
    expect(JSON.stringify(lines)).not.toMatch(/eyJ[A-Za-z0-9_-]{10,}\./);

    const after = await upload('push/after-bad.bin');
    expect(await post(`${url}/pubsub/push`, envelope(after), { authorization: `Bearer ${await token()}` })).toBe(204);
    await expectInS3(after);
  });

  it('answers 204 to a permanent failure (metadata over 2 KB) with an ERROR line naming the object', async () => {
    const object = await upload('permanent/big-metadata.bin', randomBytes(100), { metadata: { big: 'x'.repeat(3000) } });
    expect(await post(`${url}/pubsub/push`, envelope(object), { authorization: `Bearer ${await token()}` })).toBe(204);
    expect(await headS3(s3, env.S3_BUCKET!, object.name)).toBeUndefined();
    const line = lines.find((l) => l.object === `gs://${env.GCS_BUCKET}/${object.name}`);
    expect(line).toMatchObject({ severity: 'ERROR', outcome: 'failed', retryable: false, status: 204 });
    expect(String(line?.message)).toContain(object.name);
  });
});

describe('gcs2s3 serve with S3 unreachable', () => {
  let proxy: TcpProxy;

  beforeAll(async () => {
    proxy = await startTcpProxy(Number(new URL(stackEnv().AWS_ENDPOINT_URL_S3!).port));
    cleanups.push(() => proxy.close());
  });

  it('answers 503 to a transient failure, and 204 with the object copied when Pub/Sub retries', async () => {
    const { server, lines } = await serve({ AWS_ENDPOINT_URL_S3: proxy.url });
    const object = await upload('transient/retry.bin', randomBytes(64 * 1024));
    const body = envelope(object);
    await proxy.down();
    expect(await post(`${server.url}/pubsub/push`, body, { authorization: `Bearer ${await token()}` })).toBe(503);
    expect(lines).toContainEqual(expect.objectContaining({ outcome: 'failed', retryable: true, status: 503, severity: 'WARNING' }));
    await proxy.up();
    expect(await post(`${server.url}/pubsub/push`, body, { authorization: `Bearer ${await token()}` })).toBe(204);
    await expectInS3(object);
  });
});

describe('gcs2s3 serve as a process', () => {
  it('verifies tokens from the local metadata server, copies, and exits 0 on SIGTERM', async () => {
    const port = await freePort();
    const worker = startCli(['serve'], { ...process.env, ...stackEnv(), PORT: String(port), INCLUDE_PREFIXES: prefix, LOG_LEVEL: 'debug' });
    await worker.waitFor((l) => l.message === 'serving');
    const object = await upload('cli/one.bin');
    const url = `http://127.0.0.1:${port}`;
    expect((await fetch(`${url}/healthz`)).status).toBe(200);
    expect(await post(`${url}/pubsub/push`, envelope(object), {})).toBe(401);
    expect(await post(`${url}/pubsub/push`, envelope(object), { authorization: `Bearer ${await metadataToken()}` })).toBe(204);
    const { bytes } = await readS3(s3, env.S3_BUCKET!, object.name);
    expect(md5(bytes)).toBe(md5(object.bytes));
    expect(await worker.stop('SIGTERM')).toBe(0);
    expect(worker.lines).toContainEqual(expect.objectContaining({ message: 'server stopped' }));
    expect(worker.lines).toContainEqual(expect.objectContaining({ severity: 'WARNING', status: 401 }));
  });

  it('warns at start when PUSH_AUTH=disabled', async () => {
    const port = await freePort();
    const worker = startCli(['serve'], { ...process.env, ...stackEnv(), PORT: String(port), PUSH_AUTH: 'disabled', PUSH_AUDIENCE: '', PUSH_SERVICE_ACCOUNT: '' });
    const warning = await worker.waitFor((l) => String(l.message).startsWith('PUSH_AUTH=disabled'));
    expect(warning.severity).toBe('WARNING');
    await worker.waitFor((l) => l.message === 'serving');
    expect(await worker.stop('SIGTERM')).toBe(0);
  });
});

const nowS = () => Math.floor(Date.now() / 1000);

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => resolve(port));
    });
  });
}
