import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { afterEach, describe, expect, it } from 'vitest';
import { silentLogger } from '../../../src/log/logger.js';
import { addCredentialRetry } from '../../../src/sink/credential-retry.js';

let server: Server | undefined;
afterEach(() => new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve())));

/** An S3 endpoint that refuses access key `OLD` as MinIO refuses an ended session, and serves a 3-byte object for any other. */
async function startS3(): Promise<{ url: string; keysSeen: string[] }> {
  const keysSeen: string[] = [];
  server = createServer((req, res) => {
    const key = /Credential=([^/]+)\//.exec(req.headers.authorization ?? '')?.[1] ?? '';
    keysSeen.push(key);
    if (key === 'OLD') {
      res.writeHead(403, { 'content-type': 'application/xml' }).end('<?xml version="1.0"?><Error><Code>InvalidAccessKeyId</Code><Message>expired</Message></Error>');
      return;
    }
    res.writeHead(200, { 'content-length': '3', etag: '"e"' }).end('abc');
  });
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server!.address() as AddressInfo).port}`, keysSeen };
}

describe('addCredentialRetry', () => {
  it('on a rejected session credential, retries once signed with fresh credentials (not the SDK\'s cached ones)', async () => {
    const { url, keysSeen } = await startS3();
    let current = 'OLD';
    // Valid for an hour: outside the SDK's 5-minute refresh window, so only a forced refresh replaces them.
    const credentials = async () => ({ accessKeyId: current, secretAccessKey: 'secret', sessionToken: 'token', expiration: new Date(Date.now() + 3_600_000) });
    const client = new S3Client({ region: 'us-east-1', endpoint: url, forcePathStyle: true, credentials, maxAttempts: 1 });
    addCredentialRetry(client, () => (current = 'NEW'), silentLogger);
    try {
      const out = await client.send(new GetObjectCommand({ Bucket: 'b', Key: 'k' }));
      expect(await out.Body!.transformToString()).toBe('abc');
      expect(keysSeen).toEqual(['OLD', 'NEW']);
    } finally {
      client.destroy();
    }
  });
});
