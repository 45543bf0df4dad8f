import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { Compute, type GoogleAuth } from 'google-auth-library';
import { afterEach, describe, expect, it } from 'vitest';
import { googleIdTokenFetcher } from '../../../src/credentials/google-id-token.js';
import { CredentialsError } from '../../../src/errors.js';

let server: Server | undefined;
const sockets = new Set<Socket>();
afterEach(async () => {
  for (const s of sockets) s.destroy();
  if (server !== undefined) await new Promise((r) => server!.close(r));
  server = undefined;
});

/** A metadata server on a free port, answering with `handler`. */
async function metadataServer(handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<string> {
  server = createServer(handler);
  server.on('connection', (s) => sockets.add(s));
  await new Promise<void>((r) => server!.listen(0, '127.0.0.1', r));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

/** ADC as on Cloud Run: the metadata server's Compute client. */
const onCloudRun = { getClient: async () => new Compute() } as unknown as GoogleAuth;

describe('googleIdTokenFetcher', () => {
  it('asks the metadata server for an ID token with the audience, as Google documents it', async () => {
    const seen: Array<{ url?: string; flavor?: string | string[] }> = [];
    const url = await metadataServer((req, res) => {
      seen.push({ url: req.url, flavor: req.headers['metadata-flavor'] });
      res.writeHead(200, { 'metadata-flavor': 'Google' }).end('eyJ.token.sig\n');
    });
    const fetchIdToken = googleIdTokenFetcher({ metadataServerUrl: url, timeoutMs: 1000, auth: onCloudRun });
    expect(await fetchIdToken('gcs2s3 aud')).toBe('eyJ.token.sig');
    expect(seen).toEqual([{ url: '/computeMetadata/v1/instance/service-accounts/default/identity?format=full&audience=gcs2s3%20aud', flavor: 'Google' }]);
  });

  it('gives up on a metadata server that never answers, at the deadline, naming it', async () => {
    const url = await metadataServer(() => undefined);
    const fetchIdToken = googleIdTokenFetcher({ metadataServerUrl: url, timeoutMs: 200, auth: onCloudRun });
    const started = Date.now();
    const err = await fetchIdToken('aud').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CredentialsError);
    expect((err as CredentialsError).retryable).toBe(true);
    expect((err as Error).message).toBe(`metadata server GET ${url} identity token for audience "aud": no answer within 0.2 s`);
    expect(Date.now() - started).toBeLessThan(1500);
  });

  it.each([
    ['an error status', (res: ServerResponse) => res.writeHead(404, { 'metadata-flavor': 'Google' }).end('not found'), /HTTP 404: not found/],
    ['an answer that is not the metadata server\'s', (res: ServerResponse) => res.writeHead(200).end('<html>captive portal</html>'), /HTTP 200/],
  ])('refuses %s', async (_label, answer, message) => {
    const url = await metadataServer((_req, res) => answer(res));
    const err = await googleIdTokenFetcher({ metadataServerUrl: url, timeoutMs: 1000, auth: onCloudRun })('aud').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CredentialsError);
    expect((err as Error).message).toMatch(message);
  });

  it('bounds the credentials lookup itself, as a transient failure', async () => {
    const lookingForever = { getClient: () => new Promise(() => undefined) } as unknown as GoogleAuth;
    const err = await googleIdTokenFetcher({ metadataServerUrl: 'http://169.254.169.254', timeoutMs: 100, auth: lookingForever })('aud').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CredentialsError);
    expect(err).toMatchObject({ code: 'ETIMEDOUT', retryable: true, message: 'finding Google credentials (metadata server http://169.254.169.254): no answer within 0.1 s' });
  });

  it('bounds other credentials (impersonation) by the same deadline', async () => {
    const stuck = { getClient: async () => ({ fetchIdToken: () => new Promise<string>(() => undefined) }) } as unknown as GoogleAuth;
    const err = await googleIdTokenFetcher({ metadataServerUrl: 'http://unused', timeoutMs: 100, auth: stuck })('aud').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CredentialsError);
    expect((err as Error).message).toMatch(/fetching a Google ID token for audience "aud" failed: .*no answer within 0.1 s/);
  });
});
