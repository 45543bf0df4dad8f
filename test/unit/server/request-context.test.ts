import { afterEach, describe, expect, it } from 'vitest';
import type { EventPolicy } from '../../../src/events/types.js';
import { createLogger } from '../../../src/log/logger.js';
import { noAuthentication } from '../../../src/server/authenticate.js';
import { startServer, type RunningServer } from '../../../src/server/server.js';
import { EventPipeline } from '../../../src/pipeline/event-pipeline.js';
import { tracedFakeDeps } from '../../support/traced-deps.js';

const POLICY: EventPolicy = { sourceBuckets: [], includePrefixes: [], excludePrefixes: [], replicateDeletes: false };
const TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';
const SPAN = '00f067aa0ba902b7';
type Line = Record<string, unknown>;

let server: RunningServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

async function start() {
  const lines: Line[] = [];
  const logger = createLogger({ level: 'debug', write: (l) => lines.push(JSON.parse(l) as Line), traceProject: 'proj' });
  const { deps, source } = tracedFakeDeps(logger, { traced: false });
  server = await startServer({ pipeline: new EventPipeline({ deps, logger, drainMs: 300 }), policy: POLICY, logger, authenticator: noAuthentication, maxConcurrentObjects: 4, port: 0, host: '127.0.0.1' });
  return { lines, source, url: server.url };
}

function pushBody(name: string, generation: string): string {
  const attributes = { eventType: 'OBJECT_FINALIZE', payloadFormat: 'JSON_API_V1', bucketId: 'src', objectId: name, objectGeneration: generation };
  const data = Buffer.from(JSON.stringify({ bucket: 'src', name, generation })).toString('base64');
  return JSON.stringify({ message: { data, attributes, messageId: `m-${name}` }, subscription: 'projects/p/subscriptions/s' });
}

const traceOf = (l: Line) => [l['logging.googleapis.com/trace'], l['logging.googleapis.com/spanId'], l['logging.googleapis.com/trace_sampled']];

/** The request line is logged on the response's 'close', just after the client has its answer. */
async function settle(lines: Line[], count: number): Promise<void> {
  for (let i = 0; i < 100 && lines.filter((l) => l.httpRequest !== undefined).length < count; i++) await new Promise((r) => setTimeout(r, 10));
}

describe('serve: each request in its caller\'s trace', () => {
  it('puts the traceparent trace on every line of the request, the STS line deep in the copy included, and httpRequest on the last', async () => {
    const { lines, source, url } = await start();
    const meta = source.put('src', 'a.txt', Buffer.from('hello'));
    const body = pushBody('a.txt', meta.generation);
    const res = await fetch(`${url}/pubsub/push`, { method: 'POST', body, headers: { 'content-type': 'application/json', traceparent: `00-${TRACE}-${SPAN}-01`, 'user-agent': 'APIs-Google', 'x-forwarded-for': '203.0.113.7, 10.0.0.1' } });
    expect(res.status).toBe(204);
    await settle(lines, 1);

    expect(lines.map((l) => l.message)).toEqual(['assumed AWS role with Google ID token', 'copied gs://src/a.txt (5 bytes)', 'POST /pubsub/push 204']);
    for (const line of lines) expect(traceOf(line)).toEqual([`projects/proj/traces/${TRACE}`, SPAN, true]);
    expect(lines.at(-1)).toMatchObject({
      severity: 'INFO',
      httpRequest: {
        requestMethod: 'POST',
        requestUrl: expect.stringMatching(/^http:\/\/127\.0\.0\.1:\d+\/pubsub\/push$/),
        status: 204,
        requestSize: String(Buffer.byteLength(body)),
        responseSize: expect.stringMatching(/^[1-9]\d+$/),
        userAgent: 'APIs-Google',
        remoteIp: '203.0.113.7',
        latency: expect.stringMatching(/^\d+\.\d{3}s$/),
        protocol: 'HTTP/1.1',
      },
    });
    expect(lines.slice(0, -1).every((l) => l.httpRequest === undefined)).toBe(true);
  });

  it('reads X-Cloud-Trace-Context too, and keeps concurrent requests\' traces apart', async () => {
    const { lines, source, url } = await start();
    const traces = ['a', 'b', 'c', 'd'].map((c) => c.repeat(32));
    const posts = traces.map((trace, i) => {
      const meta = source.put('src', `o${i}`, Buffer.from(`bytes ${i}`));
      return fetch(`${url}/pubsub/push`, { method: 'POST', body: pushBody(`o${i}`, meta.generation), headers: { 'content-type': 'application/json', 'x-cloud-trace-context': `${trace}/${i + 1};o=${i % 2}` } });
    });
    expect((await Promise.all(posts)).map((r) => r.status)).toEqual([204, 204, 204, 204]);
    await settle(lines, 4);
    for (let i = 0; i < traces.length; i++) {
      const mine = lines.filter((l) => l['logging.googleapis.com/trace'] === `projects/proj/traces/${traces[i]}`);
      expect(mine.map((l) => l.object ?? l.httpRequest !== undefined)).toEqual(expect.arrayContaining([`gs://src/o${i}`, true]));
      for (const l of mine) expect([l['logging.googleapis.com/spanId'], l['logging.googleapis.com/trace_sampled']]).toEqual([(i + 1).toString(16).padStart(16, '0'), i % 2 === 1]);
    }
    // One STS call for all four: its line belongs to the request that made it.
    expect(lines.filter((l) => l.message === 'assumed AWS role with Google ID token')).toHaveLength(1);
    expect(lines.every((l) => l['logging.googleapis.com/trace'] !== undefined)).toBe(true);
  });

  it('logs a request without trace headers with no trace fields, and a refused one with its status', async () => {
    const { lines, url } = await start();
    expect((await fetch(`${url}/pubsub/push`, { method: 'POST', body: 'not json', headers: { 'content-type': 'application/json' } })).status).toBe(400);
    expect((await fetch(`${url}/healthz`)).status).toBe(200);
    await settle(lines, 2);
    expect(lines.map((l) => [l.severity, l.message])).toEqual([
      ['WARNING', 'bad request (400): push body is not JSON'],
      ['INFO', 'POST /pubsub/push 400'],
      ['DEBUG', 'GET /healthz 200'],
    ]);
    expect(lines.every((l) => !Object.keys(l).some((k) => k.startsWith('logging.googleapis.com/trace')))).toBe(true);
    expect(lines[1]!.httpRequest).toMatchObject({ status: 400, responseSize: expect.stringMatching(/^\d+$/) });
  });
});
