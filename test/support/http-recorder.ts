import { createServer, request, type Server } from 'node:http';

/** A loopback HTTP proxy in front of one server that records every request's method and URL (a test reads which list calls a process made). */
export interface HttpRecorder {
  url: string;
  requests: Array<{ method: string; url: URL }>;
  close(): Promise<void>;
}

export async function startHttpRecorder(target: string): Promise<HttpRecorder> {
  const upstream = new URL(target);
  const requests: HttpRecorder['requests'] = [];
  const server: Server = createServer((req, res) => {
    requests.push({ method: req.method ?? 'GET', url: new URL(req.url ?? '/', upstream) });
    // Headers unchanged (Host included): S3's signature covers the host the client signed for.
    const out = request({ host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers: req.headers }, (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    });
    out.on('error', () => res.destroy());
    req.pipe(out);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
