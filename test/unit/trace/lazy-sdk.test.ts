import { readdirSync, readFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const SRC = resolve(import.meta.dirname, '../../../src');
const files = (readdirSync(SRC, { recursive: true }) as string[]).filter((f) => f.endsWith('.ts')).map((f) => join(SRC, f));
const source = (file: string) => readFileSync(file, 'utf8');
const rel = (file: string) => relative(SRC, file);
/** Static `import … from 'x'` / `export … from 'x'` specifiers (not `import('x')`). */
const staticImports = (text: string) => [...text.matchAll(/^(?:import|export)\s[^;]*?\sfrom\s+'([^']+)'/gms)].map((m) => m[1]!);

/** What costs memory and start-up: the SDK, its resources, and Google's exporter (gRPC, protobufs). */
const HEAVY = /^(@opentelemetry\/(sdk-|resources|core|context-async-hooks)|@google-cloud\/opentelemetry-)/;

describe('tracing costs nothing when off', () => {
  it('only src/trace/cloud-trace.ts and register-tracing.ts import the SDK or the exporter', () => {
    const importers = files.filter((f) => staticImports(source(f)).some((s) => HEAVY.test(s))).map(rel).sort();
    expect(importers).toEqual(['trace/cloud-trace.ts', 'trace/register-tracing.ts']);
  });

  it('and those two are reached only through a dynamic import in start-tracing.ts', () => {
    const reach = (name: string) => files.filter((f) => source(f).includes(`/${name}.js'`)).map(rel).sort();
    expect(reach('cloud-trace')).toEqual(['trace/start-tracing.ts']);
    expect(source(join(SRC, 'trace/start-tracing.ts'))).toMatch(/await import\('\.\/cloud-trace\.js'\)/);
    expect(staticImports(source(join(SRC, 'trace/start-tracing.ts')))).not.toContain('./cloud-trace.js');
    expect(reach('register-tracing')).toEqual(['trace/cloud-trace.ts']);
  });

  it('the core (src/replicate) imports no tracing and no cloud SDK', () => {
    const core = files.filter((f) => rel(f).startsWith('replicate/'));
    const cloud = /^(@opentelemetry\/|@google-cloud\/|@aws-sdk\/|google-auth-library)/;
    for (const f of core) expect(staticImports(source(f)).filter((s) => cloud.test(s)), rel(f)).toEqual([]);
  });
});
