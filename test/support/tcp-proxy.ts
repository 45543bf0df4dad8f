import { createServer, connect, type Server, type Socket } from 'node:net';
import { Transform } from 'node:stream';

/**
 * A loopback TCP proxy in front of a real server, so a test can take "the S3
 * endpoint" down and bring it back, or slow it, with real connections.
 */
export interface TcpProxy {
  url: string;
  port: number;
  /** Refuse new connections and cut open ones. */
  down(): Promise<void>;
  /** Accept connections again (same port). */
  up(): Promise<void>;
  /** Limit each direction of every connection to this many bytes per second (undefined: unlimited). */
  throttle(bytesPerSecond: number | undefined): void;
  /** Connections accepted so far: 0 proves a client sent no request at all. */
  readonly connections: number;
  close(): Promise<void>;
}

export async function startTcpProxy(targetPort: number, targetHost = '127.0.0.1'): Promise<TcpProxy> {
  const sockets = new Set<Socket>();
  let rate: number | undefined;
  let port = 0;
  let connections = 0;
  let server: Server | undefined;

  const throttled = (): Transform => {
    let started = Date.now();
    let sent = 0;
    return new Transform({
      transform(chunk: Buffer, _enc, callback) {
        if (rate === undefined) {
          callback(null, chunk);
          return;
        }
        if (sent === 0) started = Date.now();
        sent += chunk.length;
        const due = started + (sent / rate) * 1000;
        setTimeout(() => callback(null, chunk), Math.max(0, due - Date.now()));
      },
    });
  };

  const listen = (): Promise<void> =>
    new Promise((resolve, reject) => {
      server = createServer((client) => {
        connections++;
        const upstream = connect(targetPort, targetHost);
        sockets.add(client);
        sockets.add(upstream);
        const drop = (): void => {
          client.destroy();
          upstream.destroy();
          sockets.delete(client);
          sockets.delete(upstream);
        };
        client.on('error', drop).on('close', drop);
        upstream.on('error', drop).on('close', drop);
        client.pipe(throttled()).pipe(upstream);
        upstream.pipe(throttled()).pipe(client);
      });
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => {
        port = (server!.address() as { port: number }).port;
        resolve();
      });
    });

  const stop = (): Promise<void> =>
    new Promise((resolve) => {
      for (const s of sockets) s.destroy();
      sockets.clear();
      if (server === undefined) return resolve();
      server.close(() => resolve());
      server = undefined;
    });

  await listen();
  return {
    get url() {
      return `http://127.0.0.1:${port}`;
    },
    get port() {
      return port;
    },
    get connections() {
      return connections;
    },
    down: stop,
    up: listen,
    throttle(bytesPerSecond) {
      rate = bytesPerSecond;
    },
    close: stop,
  };
}
