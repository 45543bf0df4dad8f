import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Storage } from '@google-cloud/storage';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { GcsHttpError, GcsMediaGet, mediaEndpointOf } from '../../../src/source/gcs-media-get.js';
import { classifyGcsError } from '../../../src/source/gcs-source.js';

const live = new AbortController().signal;
const TOKEN = 'ya29.a0AfB_byC-secret-access-token-value';

/** A server answering every request with `reply`, recording the request headers. */
let server: Server;
let origin: string;
let seen: IncomingHttpHeaders[];
let reply: (headers: IncomingHttpHeaders) => { status: number; body: string };

beforeEach(async () => {
  vi.stubEnv('STORAGE_EMULATOR_HOST', undefined);
  seen = [];
  server = createServer((req, res) => {
    seen.push(req.headers);
    const { status, body } = reply(req.headers);
    res.writeHead(status, { 'content-type': 'application/json' }).end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterEach(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
  vi.unstubAllEnvs();
});

const range = { bucket: 'b', name: 'dir/a b+c#d?é', generation: '1700000000000001', start: 0 };

describe('GcsMediaGet', () => {
  it('asks for one generation of the media, the name encoded as one path segment', () => {
    const get = new GcsMediaGet({ apiEndpoint: 'https://storage.googleapis.com/' });
    expect(get.url(range)).toBe('https://storage.googleapis.com/storage/v1/b/b/o/dir%2Fa%20b%2Bc%23d%3F%C3%A9?alt=media&generation=1700000000000001');
    get.close();
  });

  it('sends the credential the auth client gives, and accepts gzip so stored bytes come back as stored', async () => {
    reply = () => ({ status: 200, body: 'bytes' });
    const get = new GcsMediaGet({ apiEndpoint: origin, authorize: async () => new Headers({ authorization: `Bearer ${TOKEN}` }) });
    const res = await get.open(range, live);
    res.resume();
    expect(seen[0]).toMatchObject({ authorization: `Bearer ${TOKEN}`, 'accept-encoding': 'gzip' });
    expect(seen[0]!.range).toBeUndefined();
    get.close();
  });

  it('never carries the credential into an error, even from a body that quotes the request', async () => {
    reply = (h) => ({ status: 401, body: JSON.stringify({ error: { code: 401, message: `Invalid Credentials: ${String(h.authorization)}`, errors: [{ reason: 'authError' }] } }) });
    const get = new GcsMediaGet({ apiEndpoint: origin, authorize: async () => new Headers({ authorization: `Bearer ${TOKEN}` }) });
    const error = await get.open(range, live).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(GcsHttpError);
    expect(error).toMatchObject({ code: 401, errors: [{ reason: 'authError' }] });
    const classified = classifyGcsError(error, 'GCS read x gs://b/o');
    expect(classified.message).toBe('GCS read x gs://b/o failed: authError (HTTP 401): Invalid Credentials: [redacted]');
    expect(`${classified.message} ${(error as Error).message} ${String((error as Error).stack)}`).not.toContain(TOKEN.slice(5));
    get.close();
  });

  it('a body that is not GCS JSON is reported by its first bytes', async () => {
    reply = () => ({ status: 502, body: '<html>Bad Gateway</html>' });
    const get = new GcsMediaGet({ apiEndpoint: origin });
    const error = await get.open(range, live).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 502, message: '<html>Bad Gateway</html>', errors: [] });
    get.close();
  });

  it('a ranged answer starting elsewhere than asked is refused', async () => {
    server.removeAllListeners('request');
    server.on('request', (_req, res) => res.writeHead(206, { 'content-range': 'bytes 0-9/10' }).end('0123456789'));
    const get = new GcsMediaGet({ apiEndpoint: origin });
    const error = await get.open({ ...range, start: 4 }, live).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 206, message: 'asked for bytes from 4, got Content-Range bytes 0-9/10' });
    get.close();
  });
});

describe('mediaEndpointOf', () => {
  it('an emulator endpoint goes without credentials, as the storage library sends it', () => {
    const endpoint = mediaEndpointOf(new Storage({ apiEndpoint: 'http://127.0.0.1:4443', projectId: 'p' }));
    expect(endpoint.apiEndpoint).toBe('http://127.0.0.1:4443');
    expect(endpoint.authorize).toBeUndefined();
  });

  it("Google's endpoint gets the auth client's credentials", () => {
    const endpoint = mediaEndpointOf(new Storage({ projectId: 'p' }));
    expect(endpoint.apiEndpoint).toBe('https://storage.googleapis.com');
    expect(endpoint.authorize).toBeTypeOf('function');
  });
});
