import { describe, expect, it } from 'vitest';
import { PermanentError, TransientError } from '../../../src/errors.js';
import { REPORTED_ERROR_EVENT } from '../../../src/log/cloud-logging.js';
import { runWithLogContext } from '../../../src/log/log-context.js';
import { createLogger, teeLogger, type LoggerOptions } from '../../../src/log/logger.js';
import { PACKAGE_VERSION } from '../../../src/log/version.js';

type Line = Record<string, unknown>;
const JWT = 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiIxMjM0NSJ9.c2lnbmF0dXJlLXZhbHVl';
const NOON = new Date(2026, 0, 2, 12, 34, 56);

function capture(options: Partial<LoggerOptions> = {}) {
  const raw: string[] = [];
  const logger = createLogger({ level: 'debug', write: (l) => raw.push(l), now: () => NOON, ...options });
  return { logger, raw, json: (): Line[] => raw.map((l) => JSON.parse(l) as Line) };
}

describe('JSON lines (Cloud Logging)', () => {
  it('carry severity, message, time and the version label on every line, children included', () => {
    const { logger, json } = capture();
    logger.debug('d');
    logger.info('i', { object: 'gs://b/o' });
    logger.warn('w');
    logger.error('e');
    logger.child({ via: 'push' }).info('child');
    const lines = json();
    expect(lines.map((l) => l.severity)).toEqual(['DEBUG', 'INFO', 'WARNING', 'ERROR', 'INFO']);
    expect(PACKAGE_VERSION).toMatch(/^\d+\.\d+\.\d+/);
    for (const line of lines) expect(line['logging.googleapis.com/labels']).toEqual({ 'gcs2s3.version': PACKAGE_VERSION });
    expect(lines[1]).toMatchObject({ message: 'i', time: NOON.toISOString(), object: 'gs://b/o' });
    expect(lines[4]).toMatchObject({ via: 'push', message: 'child' });
  });

  it('keep the special keys out of reach of a field of the same name', () => {
    const { logger, json } = capture({ version: '9.9.9' });
    logger.info('x', { 'logging.googleapis.com/labels': { forged: 'yes' } });
    expect(json()[0]!['logging.googleapis.com/labels']).toEqual({ 'gcs2s3.version': '9.9.9' });
  });

  it('make ERROR lines Error Reporting events: @type, serviceContext and the error\'s stack, redacted', () => {
    const { logger, json } = capture({ service: 'gcs2s3-push', version: '1.2.3' });
    const error = new PermanentError(`S3 refused the write with token ${JWT}`, { code: 'MetadataTooLarge' });
    logger.error(`copy of gs://b/o failed permanently: ${error.message}`, { object: 'gs://b/o', error });
    const [line] = json();
    expect(line).toMatchObject({
      severity: 'ERROR',
      '@type': REPORTED_ERROR_EVENT,
      serviceContext: { service: 'gcs2s3-push', version: '1.2.3' },
      error: { name: 'PermanentError', code: 'MetadataTooLarge', retryable: false },
    });
    // The shape Error Reporting parses: "Name: message" then V8's "    at …" frames.
    expect(line!.stack_trace).toMatch(/^PermanentError: S3 refused the write with token \[redacted-jwt\]\n\s+at /);
    expect(JSON.stringify(line)).not.toContain(JWT);
  });

  it('give an ERROR line without an error the stack of the call site, so Error Reporting can still group it', () => {
    const { logger, json } = capture();
    logger.error('malformed push message acked and dropped: no attributes');
    const stack = String(json()[0]!.stack_trace);
    expect(stack).toMatch(/^Error: malformed push message acked and dropped: no attributes\n\s+at /);
    expect(stack).toContain('logger.test.ts');
    expect(stack).not.toMatch(/at (emit|Object\.error) /);
  });

  it('leave lines below ERROR alone', () => {
    const { logger, json } = capture();
    logger.warn('transient', { error: new TransientError('socket hang up') });
    expect(json()[0]).not.toHaveProperty('@type');
    expect(json()[0]).not.toHaveProperty('stack_trace');
  });

  it('carry the running work\'s trace: full names with a project, plain ids without', () => {
    const trace = { traceId: '4bf92f3577b34da6a3ce929d0e0e4736', spanId: '00f067aa0ba902b7', sampled: true };
    const withProject = capture({ traceProject: 'my-project' });
    const without = capture();
    runWithLogContext({ trace, fields: { messageId: 'm-1' } }, () => {
      withProject.logger.info('inside');
      without.logger.info('inside');
    });
    withProject.logger.info('outside');
    expect(withProject.json()[0]).toMatchObject({
      'logging.googleapis.com/trace': 'projects/my-project/traces/4bf92f3577b34da6a3ce929d0e0e4736',
      'logging.googleapis.com/spanId': '00f067aa0ba902b7',
      'logging.googleapis.com/trace_sampled': true,
      messageId: 'm-1',
    });
    expect(withProject.json()[1]).not.toHaveProperty('logging.googleapis.com/trace');
    expect(without.json()[0]).toMatchObject({ traceId: trace.traceId, spanId: trace.spanId });
    expect(without.json()[0]).not.toHaveProperty('logging.googleapis.com/trace');
  });

  it('keep the trace across awaits and timers, and apart between concurrent work', async () => {
    const { logger, json } = capture({ traceProject: 'p' });
    const work = (traceId: string, delay: number) =>
      runWithLogContext({ trace: { traceId, spanId: '0000000000000001', sampled: false } }, async () => {
        await new Promise((r) => setTimeout(r, delay));
        logger.info(traceId);
      });
    await Promise.all([work('a'.repeat(32), 20), work('b'.repeat(32), 5)]);
    for (const line of json()) expect(line['logging.googleapis.com/trace']).toBe(`projects/p/traces/${line.message}`);
  });
});

describe('text lines (a terminal)', () => {
  it('read HH:MM:SS LEVEL message key=value…, without Cloud Logging\'s keys', () => {
    const { logger, raw } = capture({ format: 'text', traceProject: 'p' });
    runWithLogContext({ trace: { traceId: 'c'.repeat(32), sampled: true } }, () => {
      logger.info('copied gs://b/o (5 bytes)', { object: 'gs://b/o', bytes: 5, reason: 'two words', skip: undefined, summary: { a: 1 } });
    });
    logger.warn('retrying', { error: new TransientError(`STS said ${JWT}`) });
    expect(raw).toEqual([
      '12:34:56 INFO  copied gs://b/o (5 bytes) object=gs://b/o bytes=5 reason="two words" summary={"a":1}\n',
      '12:34:56 WARN  retrying error="TransientError: STS said [redacted-jwt]"\n',
    ]);
  });

  it('add the stack under an ERROR line only at LOG_LEVEL=debug', () => {
    const debug = capture({ format: 'text' });
    const info = capture({ format: 'text', level: 'info' });
    for (const { logger } of [debug, info]) logger.error('boom', { error: new PermanentError('bad') });
    expect(debug.raw[0]).toMatch(/^12:34:56 ERROR boom error="PermanentError: bad"\n {4}PermanentError: bad\n {4}\s*at /);
    expect(info.raw).toEqual(['12:34:56 ERROR boom error="PermanentError: bad"\n']);
  });
});

describe('teeLogger', () => {
  it('writes each line to every logger at its own level and format', () => {
    const file = capture({ level: 'info' });
    const terminal = capture({ level: 'warn', format: 'text' });
    const logger = teeLogger(file.logger, terminal.logger).child({ via: 'pull' });
    logger.info('copied');
    logger.warn('slow');
    expect(file.json().map((l) => [l.message, l.via])).toEqual([['copied', 'pull'], ['slow', 'pull']]);
    expect(terminal.raw).toEqual(['12:34:56 WARN  slow via=pull\n']);
  });
});
