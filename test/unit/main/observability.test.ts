import { describe, expect, it } from 'vitest';
import { parseConfig, type Command, type LogFormat } from '../../../src/config/config.js';
import { main } from '../../../src/main/dispatch.js';
import { chooseLogFormat, commandLogger, serviceName } from '../../../src/main/observability.js';

const ENV = { AWS_ROLE_ARN: 'arn:aws:iam::123456789012:role/r', S3_BUCKET: 'dest', GOOGLE_CLOUD_PROJECT: 'proj' };

describe('chooseLogFormat', () => {
  it.each([
    // command, LOG_FORMAT, stderr is a terminal → format
    ['copy', undefined, true, 'text'],
    ['copy', undefined, false, 'json'],
    ['backfill', undefined, true, 'text'],
    ['verify', undefined, false, 'json'],
    ['demo', undefined, true, 'text'],
    ['serve', undefined, true, 'json'],
    ['pull', undefined, true, 'json'],
    ['copy', 'json', true, 'json'],
    ['verify', 'text', false, 'text'],
    ['serve', 'text', false, 'text'],
    ['pull', 'text', false, 'text'],
  ] as Array<[Command, LogFormat | undefined, boolean, LogFormat]>)('%s, LOG_FORMAT=%s, terminal %s → %s', (command, configured, tty, expected) => {
    expect(chooseLogFormat(command, configured, tty)).toBe(expected);
  });
});

describe('commandLogger', () => {
  function run(env: Record<string, string>, command: Command, tty: boolean) {
    const out: string[] = [];
    const err: string[] = [];
    const ctx = { args: [], env, stdout: (t: string) => void out.push(t), stderr: (t: string) => void err.push(t), signal: new AbortController().signal };
    commandLogger(ctx, parseConfig(env, { command: 'copy', instanceId: 'test' }), { command, stderrIsTty: tty }).error('boom');
    return { out, err };
  }

  it('writes to stderr only, in the chosen format', () => {
    const text = run(ENV, 'copy', true);
    expect(text.out).toEqual([]);
    expect(text.err[0]).toMatch(/^\d\d:\d\d:\d\d ERROR boom\n$/);
    const json = run({ ...ENV, LOG_FORMAT: 'json', K_SERVICE: 'replicator' }, 'copy', true);
    expect(json.out).toEqual([]);
    expect(JSON.parse(json.err[0]!)).toMatchObject({ severity: 'ERROR', message: 'boom', serviceContext: { service: 'replicator' } });
  });

  it('names the service after the Cloud Run service or job', () => {
    expect(serviceName({ K_SERVICE: 'svc', CLOUD_RUN_JOB: 'job' })).toBe('svc');
    expect(serviceName({ CLOUD_RUN_JOB: 'job' })).toBe('job');
    expect(serviceName({})).toBe('gcs2s3');
  });
});

describe('LOG_FORMAT and TRACE_EXPORTER on the command line', () => {
  async function run(argv: string[], env: Record<string, string>) {
    const err: string[] = [];
    const code = await main(argv, { env, stdout: () => {}, stderr: (t) => void err.push(t), signal: new AbortController().signal });
    return { code, stderr: err.join('') };
  }

  it.each([
    ['LOG_FORMAT', 'yaml', /^gcs2s3 copy: LOG_FORMAT: must be "text" or "json", got "yaml"\n$/],
    ['TRACE_EXPORTER', 'zipkin', /^gcs2s3 copy: TRACE_EXPORTER: must be "cloud-trace" or "none", got "zipkin"\n$/],
  ])('a bad %s exits 2 with one line naming it, before any work', async (name, value, message) => {
    expect(await run(['copy', 'gs://src-bucket/o'], { ...ENV, [name]: value })).toEqual({ code: 2, stderr: expect.stringMatching(message) });
  });

  it('accepts the documented values, any case', () => {
    for (const [LOG_FORMAT, TRACE_EXPORTER] of [['text', 'none'], ['JSON', 'Cloud-Trace']] as const) {
      const config = parseConfig({ ...ENV, LOG_FORMAT, TRACE_EXPORTER }, { command: 'copy', instanceId: 'x' });
      expect([config.logFormat, config.traceExporter]).toEqual([LOG_FORMAT.toLowerCase(), TRACE_EXPORTER.toLowerCase()]);
    }
    expect(parseConfig(ENV, { command: 'copy', instanceId: 'x' })).toMatchObject({ logFormat: undefined, traceExporter: 'none' });
  });
});
