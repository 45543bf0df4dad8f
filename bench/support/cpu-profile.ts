/**
 * Where a child's CPU went: reads the `.cpuprofile` files `node --cpu-prof`
 * wrote and adds up self time by package (node_modules/NAME), by gcs2s3's own
 * folder (src/sink, src/replicate, …), Node's internals and the garbage
 * collector. Printed by `npm run bench -- --profile` as the account of what
 * bounds a copy.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string };
}

interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

export interface CpuShare {
  what: string;
  seconds: number;
  share: number;
}

function category(node: ProfileNode): string {
  const { url, functionName } = node.callFrame;
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (pkg) return pkg[1]!;
  const own = /\/(src\/[^/]+)\//.exec(url) ?? /\/(src)\/[^/]+\.js$/.exec(url);
  if (own) return `gcs2s3 ${own[1]}`;
  if (url.startsWith('node:')) return nodeModule(url);
  if (url === '') return functionName === '(garbage collector)' ? 'garbage collector' : functionName === '(idle)' ? 'idle' : `native ${functionName}`;
  return url;
}

/** Node's own modules, grouped by what they do: streams, HTTP and sockets, the module loader, crypto. */
function nodeModule(url: string): string {
  const m = url.replace(/^node:(internal\/)?/, '');
  if (/^(streams\/|stream)/.test(m)) return `node streams (${m.replace(/^streams\//, '')})`;
  if (/^(_http|http|net|dns|tls|_tls)/.test(m)) return `node http/net (${m})`;
  if (/^modules\//.test(m)) return 'node module loader';
  if (/^crypto/.test(m)) return `node crypto (${m})`;
  return `node ${m}`;
}

/** Self time by category over every profile in `dir`, largest first, idle left out. */
export function summarizeProfiles(dir: string): CpuShare[] {
  const totals = new Map<string, number>();
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.cpuprofile'))) {
    const profile = JSON.parse(readFileSync(resolve(dir, file), 'utf8')) as Profile;
    const byId = new Map(profile.nodes.map((n) => [n.id, n]));
    profile.samples.forEach((id, i) => {
      const what = category(byId.get(id)!);
      totals.set(what, (totals.get(what) ?? 0) + (profile.timeDeltas[i] ?? 0) / 1e6);
    });
  }
  totals.delete('idle');
  const all = [...totals.values()].reduce((a, b) => a + b, 0);
  return [...totals.entries()].map(([what, seconds]) => ({ what, seconds, share: seconds / all })).sort((a, b) => b.seconds - a.seconds);
}

export function describeProfile(title: string, shares: CpuShare[], top = 14): string[] {
  return [title, ...shares.slice(0, top).map((s) => `  ${(s.share * 100).toFixed(1).padStart(5)} %  ${s.seconds.toFixed(2).padStart(6)} s  ${s.what}`)];
}
