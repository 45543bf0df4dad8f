import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { ROOT } from './stack.js';

/** Built by scripts/install-tools.sh (Shopify's Toxiproxy v2.5.0). */
export const TOXIPROXY_BIN = resolve(ROOT, '.tools/bin/toxiproxy-server');

/**
 * Toxiproxy's toxics, with their attributes (times in ms, rates in KB/s).
 * `stream` is the direction: upstream is client → server (request bodies),
 * downstream server → client (answers). `toxicity` is the share of
 * connections affected, 0–1 (default 1).
 */
export type Toxic = { stream?: 'upstream' | 'downstream'; toxicity?: number } & (
  | { type: 'latency'; latency: number; jitter?: number }
  | { type: 'bandwidth'; rate: number }
  | { type: 'slow_close'; delay: number }
  /** Stops all data; closes the connection after `timeout`, never when 0: a blackhole. */
  | { type: 'timeout'; timeout: number }
  /** Resets (RST) the connection after `timeout`, at once when 0. */
  | { type: 'reset_peer'; timeout: number }
  /** Closes the connection once `bytes` have gone through in this direction. */
  | { type: 'limit_data'; bytes: number }
);

export interface Proxy {
  name: string;
  /** http://127.0.0.1:PORT */
  url: string;
  port: number;
  /** Adds a toxic; returns its name (for `removeToxic`). */
  addToxic(toxic: Toxic): Promise<string>;
  removeToxic(name: string): Promise<void>;
  /** Removes every toxic of this proxy. */
  clear(): Promise<void>;
}

export interface Toxiproxy {
  /** The API, e.g. http://127.0.0.1:18474 */
  api: string;
  /** A proxy listening on 127.0.0.1:`listenPort`, forwarding to 127.0.0.1:`upstreamPort`. */
  createProxy(name: string, listenPort: number, upstreamPort: number): Promise<Proxy>;
  /** Removes every toxic of every proxy (and enables them all). */
  reset(): Promise<void>;
  /** Deletes the proxies and stops the server. */
  close(): Promise<void>;
}

/** Starts `toxiproxy-server` on 127.0.0.1:`apiPort` and waits until its API answers. */
export async function startToxiproxy(apiPort: number): Promise<Toxiproxy> {
  if (!existsSync(TOXIPROXY_BIN)) throw new Error(`missing ${TOXIPROXY_BIN}; run: bash scripts/install-tools.sh`);
  const api = `http://127.0.0.1:${apiPort}`;
  const child = spawn(TOXIPROXY_BIN, ['-host', '127.0.0.1', '-port', String(apiPort)], { stdio: ['ignore', 'ignore', 'pipe'] });
  const output: string[] = [];
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => output.push(chunk));
  const exited = new Promise<void>((done) => child.once('exit', () => done()));
  try {
    await waitForApi(api, child, output);
  } catch (err) {
    child.kill('SIGKILL');
    throw err;
  }
  const names: string[] = [];
  let toxicCount = 0;
  const call = (method: string, path: string, body?: unknown) => request(api, method, path, body);

  const proxy = (name: string, port: number): Proxy => ({
    name,
    port,
    url: `http://127.0.0.1:${port}`,
    async addToxic(toxic) {
      const { type, stream = 'upstream', toxicity = 1, ...attributes } = toxic;
      const toxicName = `${type}-${++toxicCount}`;
      await call('POST', `/proxies/${name}/toxics`, { name: toxicName, type, stream, toxicity, attributes });
      return toxicName;
    },
    removeToxic: async (toxicName) => void (await call('DELETE', `/proxies/${name}/toxics/${toxicName}`)),
    async clear() {
      const toxics = (await call('GET', `/proxies/${name}/toxics`)) as Array<{ name: string }>;
      for (const t of toxics) await call('DELETE', `/proxies/${name}/toxics/${t.name}`);
    },
  });

  return {
    api,
    async createProxy(name, listenPort, upstreamPort) {
      await call('POST', '/proxies', { name, listen: `127.0.0.1:${listenPort}`, upstream: `127.0.0.1:${upstreamPort}`, enabled: true });
      names.push(name);
      return proxy(name, listenPort);
    },
    reset: async () => void (await call('POST', '/reset')),
    async close() {
      for (const name of names) await call('DELETE', `/proxies/${name}`).catch(() => undefined);
      child.kill('SIGTERM');
      await exited;
    },
  };
}

async function waitForApi(api: string, child: ChildProcess, output: string[]): Promise<void> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`toxiproxy-server exited (${child.exitCode}): ${output.join('').slice(-1000)}`);
    try {
      if ((await fetch(`${api}/version`, { signal: AbortSignal.timeout(1000) })).ok) return;
    } catch {
      // Not listening yet.
    }
    if (Date.now() > deadline) throw new Error(`toxiproxy-server did not answer on ${api} within 10 s: ${output.join('').slice(-1000)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function request(api: string, method: string, path: string, body?: unknown): Promise<unknown> {
  const res = await fetch(`${api}${path}`, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(5000),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`Toxiproxy ${method} ${path}: HTTP ${res.status}: ${text}`);
  return text === '' ? undefined : (JSON.parse(text) as unknown);
}
