import { createServer, request as httpRequest, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One request that went through the proxy, with the status the server answered. */
export interface ProxiedRequest {
  method: string;
  /** Path and query, as sent. */
  url: string;
  /** UploadPart's part number (PUT with `partNumber`), else undefined. */
  partNumber?: number;
  /** The upstream's status; undefined until it answered. */
  status?: number;
}

/**
 * An HTTP proxy in front of the S3 endpoint that records every request and
 * the status S3 gave it, so a test can count UploadPart requests with real
 * processes. The Host header passes through unchanged, so SigV4 signatures
 * (made for the proxy's address) still verify. `delayMs` holds each UploadPart
 * answer back, to slow a copy down enough for a kill to land mid-way.
 */
export interface S3RequestProxy {
  url: string;
  readonly requests: ProxiedRequest[];
  /** Data parts (never the fingerprint part 10,000) S3 stored: answered 200. */
  storedParts(): number[];
  delayMs: number;
  close(): Promise<void>;
}

export async function startS3RequestProxy(target: string): Promise<S3RequestProxy> {
  const upstream = new URL(target);
  const requests: ProxiedRequest[] = [];
  const proxy = { delayMs: 0 };
  const server: Server = createServer((req, res) => {
    const query = new URL(req.url ?? '/', 'http://proxy').searchParams;
    const partNumber = req.method === 'PUT' && query.has('partNumber') ? Number(query.get('partNumber')) : undefined;
    const record: ProxiedRequest = { method: req.method ?? '', url: req.url ?? '/', partNumber };
    requests.push(record);
    const out = httpRequest({ host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers: req.headers }, (answer) => {
      record.status = answer.statusCode;
      const forward = (): void => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      };
      if (partNumber !== undefined && proxy.delayMs > 0) setTimeout(forward, proxy.delayMs);
      else forward();
    });
    out.on('error', () => res.destroy());
    req.on('error', () => out.destroy());
    res.on('close', () => out.destroy());
    req.pipe(out);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    requests,
    storedParts: () => requests.filter((r) => r.partNumber !== undefined && r.partNumber < 10_000 && r.status === 200).map((r) => r.partNumber!),
    get delayMs() {
      return proxy.delayMs;
    },
    set delayMs(ms: number) {
      proxy.delayMs = ms;
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
