/**
 * Logs on the local stack as Cloud Logging and Error Reporting read them:
 * the push request's trace on every line logged while `serve` handles it
 * (down to the STS exchange inside the copy), httpRequest on the request's
 * last line, ERROR lines as Error Reporting events, the version label on
 * every line; and the CLI's choice of text or JSON on stderr.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import { promisify } from 'node:util';
import type { Storage } from '@google-cloud/storage';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPORTED_ERROR_EVENT } from '../../src/log/cloud-logging.js';
import { createLogger } from '../../src/log/logger.js';
import { PACKAGE_VERSION } from '../../src/log/version.js';
import { buildRuntime } from '../../src/main/runtime.js';
import { serverOptionsFromRuntime } from '../../src/main/serve-command.js';
import { startServer } from '../../src/server/server.js';
import { startCli, stopAll } from '../support/processes.js';
import { gcsClient, ROOT, stackConfig, stackEnv, uniquePrefix, useStackEnv } from '../support/stack.js';

type Line = Record<string, unknown>;
let env: Record<string, string>;
let gcs: Storage;
let prefix: string;
const cleanups: Array<() => Promise<unknown> | unknown> = [];

beforeAll(() => {
  env = useStackEnv();
  gcs = gcsClient();
  prefix = uniquePrefix('serve-logs');
});

afterAll(async () => {
  await stopAll();
  for (const c of cleanups.reverse()) await Promise.resolve(c()).catch(() => undefined);
});

async function upload(name: string, bytes: Buffer, metadata: Record<string, unknown> = {}) {
  const file = gcs.bucket(env.GCS_BUCKET!).file(prefix + name);
  await file.save(bytes, { resumable: false, validation: false, metadata });
  const [resource] = await file.getMetadata();
  return { name: prefix + name, generation: String(resource.generation), resource };
}

function envelope(object: Awaited<ReturnType<typeof upload>>): string {
  const attributes = { eventType: 'OBJECT_FINALIZE', payloadFormat: 'JSON_API_V1', bucketId: env.GCS_BUCKET, objectId: object.name, objectGeneration: object.generation };
  const message = { data: Buffer.from(JSON.stringify(object.resource)).toString('base64'), attributes, messageId: randomBytes(6).toString('hex'), publishTime: new Date().toISOString() };
  return JSON.stringify({ message, subscription: 'projects/gcs2s3-local/subscriptions/push' });
}

/** A fresh runtime, so the first copy makes the STS call itself. */
async function serve() {
  const lines: Line[] = [];
  const config = stackConfig({ INCLUDE_PREFIXES: prefix, PUSH_AUTH: 'disabled' }, 'serve');
  const logger = createLogger({ level: 'debug', write: (l) => lines.push(JSON.parse(l) as Line), traceProject: config.project });
  const runtime = buildRuntime(config, logger);
  const server = await startServer(serverOptionsFromRuntime(runtime, { port: 0, host: '127.0.0.1' }));
  cleanups.push(async () => {
    await server.close();
    runtime.close();
  });
  return { url: server.url, lines };
}

const traceparent = () => ({ traceId: randomBytes(16).toString('hex'), spanId: randomBytes(8).toString('hex') });

async function waitFor(check: () => boolean): Promise<void> {
  for (let i = 0; i < 200 && !check(); i++) await new Promise((r) => setTimeout(r, 25));
}

describe('serve on the local stack: Cloud Logging fields', () => {
  it('puts the push request\'s trace on every line it logs, down to the STS call inside the copy, and httpRequest on the last', async () => {
    const { url, lines } = await serve();
    const object = await upload('traced.bin', randomBytes(4096));
    const { traceId, spanId } = traceparent();
    const res = await fetch(`${url}/pubsub/push`, { method: 'POST', body: envelope(object), headers: { 'content-type': 'application/json', traceparent: `00-${traceId}-${spanId}-01` } });
    expect(res.status).toBe(204);
    await waitFor(() => lines.some((l) => l.httpRequest !== undefined));

    expect(lines.map((l) => l.message)).toEqual([
      // Logged by the credential provider, deep in the copy, through the process's logger.
      'assumed AWS role with Google ID token',
      `copied gs://${env.GCS_BUCKET}/${object.name} (4096 bytes)`,
      'POST /pubsub/push 204',
    ]);
    for (const line of lines) {
      expect(line).toMatchObject({
        'logging.googleapis.com/trace': `projects/${env.GOOGLE_CLOUD_PROJECT}/traces/${traceId}`,
        'logging.googleapis.com/spanId': spanId,
        'logging.googleapis.com/trace_sampled': true,
        'logging.googleapis.com/labels': { 'gcs2s3.version': PACKAGE_VERSION },
      });
    }
    expect(lines[2]!.httpRequest).toMatchObject({ requestMethod: 'POST', status: 204, latency: expect.stringMatching(/^\d+\.\d{3}s$/), remoteIp: '127.0.0.1' });
  });

  it('logs a permanent failure as an Error Reporting event: stack_trace, @type, serviceContext', async () => {
    const { url, lines } = await serve();
    const object = await upload('too-much-metadata.bin', randomBytes(100), { metadata: { big: 'x'.repeat(3000) } });
    const res = await fetch(`${url}/pubsub/push`, { method: 'POST', body: envelope(object), headers: { 'content-type': 'application/json', 'x-cloud-trace-context': `${traceparent().traceId}/7;o=1` } });
    expect(res.status).toBe(204);
    await waitFor(() => lines.some((l) => l.httpRequest !== undefined));
    const error = lines.find((l) => l.severity === 'ERROR');
    expect(error).toMatchObject({
      '@type': REPORTED_ERROR_EVENT,
      serviceContext: { service: 'gcs2s3', version: PACKAGE_VERSION },
      outcome: 'failed',
      object: `gs://${env.GCS_BUCKET}/${object.name}`,
      'logging.googleapis.com/spanId': '0000000000000007',
    });
    expect(String(error!.stack_trace)).toMatch(/^PermanentError: .*\n\s+at /);
    expect(String(error!.message)).toContain(object.name);
  });
});

describe('the CLI\'s logs: stderr, text or JSON', () => {
  it('serve as a process writes JSON lines to stderr, each with the version label and the request\'s trace', async () => {
    const port = await freePort();
    const worker = startCli(['serve'], { ...process.env, ...stackEnv(), PORT: String(port), INCLUDE_PREFIXES: prefix, PUSH_AUTH: 'disabled', LOG_FORMAT: '' });
    await worker.waitFor((l) => l.message === 'serving');
    const object = await upload('cli/traced.bin', randomBytes(1024));
    const { traceId, spanId } = traceparent();
    const res = await fetch(`http://127.0.0.1:${port}/pubsub/push`, { method: 'POST', body: envelope(object), headers: { 'content-type': 'application/json', traceparent: `00-${traceId}-${spanId}-01` } });
    expect(res.status).toBe(204);
    await worker.waitFor((l) => l.httpRequest !== undefined);
    expect(await worker.stop('SIGTERM')).toBe(0);
    expect(worker.lines.every((l) => (l['logging.googleapis.com/labels'] as Line | undefined)?.['gcs2s3.version'] === PACKAGE_VERSION)).toBe(true);
    const traced = worker.lines.filter((l) => l['logging.googleapis.com/trace'] === `projects/${env.GOOGLE_CLOUD_PROJECT}/traces/${traceId}`);
    expect(traced.map((l) => l.outcome ?? (l.httpRequest === undefined ? l.message : 'httpRequest'))).toEqual(expect.arrayContaining(['copied', 'httpRequest']));
    expect(worker.lines.some((l) => 'raw' in l)).toBe(false);
  });

  it('copy writes its result to stdout and its log to stderr: JSON when stderr is not a terminal, text with LOG_FORMAT=text', async () => {
    const object = await upload('cli/copy.txt', Buffer.from('hello'));
    const run = promisify(execFile);
    const base = { ...process.env, ...stackEnv(), S3_KEY_PREFIX: `${prefix}copied/`, LOG_FORMAT: '' };
    const args = ['--import', 'tsx', 'src/cli.ts', 'copy', `gs://${env.GCS_BUCKET}/${object.name}`];
    const result = `copied\tgs://${env.GCS_BUCKET}/${object.name}#${object.generation}\ts3://${env.S3_BUCKET}/${prefix}copied/${object.name}\n`;

    const json = await run(process.execPath, args, { cwd: ROOT, env: base });
    expect(json.stdout).toBe(result);
    const jsonLines = json.stderr.trim().split('\n').map((l) => JSON.parse(l) as Line);
    expect(jsonLines.map((l) => l.message)).toContain(`copied gs://${env.GCS_BUCKET}/${object.name} (5 bytes)`);
    for (const l of jsonLines) expect(l['logging.googleapis.com/labels']).toEqual({ 'gcs2s3.version': PACKAGE_VERSION });

    const text = await run(process.execPath, args, { cwd: ROOT, env: { ...base, LOG_FORMAT: 'text' } });
    expect(text.stdout).toBe(result.replace(/^copied/, 'skipped').replace(/\n$/, '\talready-current\n'));
    const textLines = text.stderr.trim().split('\n');
    expect(textLines.length).toBeGreaterThan(0);
    for (const l of textLines) expect(l).toMatch(/^\d\d:\d\d:\d\d (DEBUG|INFO |WARN |ERROR) \S/);
    expect(textLines).toContainEqual(expect.stringContaining(`INFO  skipped gs://${env.GCS_BUCKET}/${object.name}: already-current`));
  });
});

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
