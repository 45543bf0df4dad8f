/**
 * Offline checks of the Dockerfile (no Docker engine here): its invariants,
 * its build context (.dockerignore), and that scripts/reproduce-image.sh can
 * replay every instruction it uses, so the script's run in CI stands for the
 * image. The script itself runs the build and start steps; these checks are
 * the ones a replay cannot see (base image, USER, exec form, what is copied).
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const REPO = fileURLToPath(new URL('../../../', import.meta.url));
const read = (file: string): string => readFileSync(join(REPO, file), 'utf8');

interface Instruction {
  keyword: string;
  args: string;
}

interface Stage {
  name: string;
  from: string;
  instructions: Instruction[];
}

/** Instructions with continuation lines joined and comments dropped. */
function instructions(text: string): Instruction[] {
  const out: Instruction[] = [];
  let pending = '';
  for (const raw of text.split('\n')) {
    const line = raw.trimEnd();
    if (pending === '' && /^\s*#/.test(line)) continue;
    if (line.endsWith('\\')) {
      pending += `${line.slice(0, -1)} `;
      continue;
    }
    const full = (pending + line).trim();
    pending = '';
    if (full === '') continue;
    const m = /^(\w+)\s+(.*)$/s.exec(full);
    if (m === null) throw new Error(`unreadable Dockerfile line: ${full}`);
    out.push({ keyword: m[1]!.toUpperCase(), args: m[2]!.trim() });
  }
  return out;
}

function stagesOf(all: Instruction[]): { args: Map<string, string>; stages: Stage[] } {
  const args = new Map<string, string>();
  const stages: Stage[] = [];
  for (const ins of all) {
    if (ins.keyword === 'FROM') {
      const m = /^(\S+)(?:\s+AS\s+(\S+))?$/i.exec(ins.args);
      if (m === null) throw new Error(`unreadable FROM: ${ins.args}`);
      const from = m[1]!.replace(/\$\{(\w+)\}/g, (_, k: string) => args.get(k) ?? '');
      stages.push({ name: m[2] ?? String(stages.length), from, instructions: [] });
    } else if (stages.length === 0) {
      if (ins.keyword === 'ARG') {
        const [k, v = ''] = ins.args.split('=');
        args.set(k!, v);
      }
    } else {
      stages.at(-1)!.instructions.push(ins);
    }
  }
  return { args, stages };
}

interface Copy {
  from?: string;
  sources: string[];
  dest: string;
}

function copiesOf(stage: Stage): Copy[] {
  return stage.instructions
    .filter((i) => i.keyword === 'COPY')
    .map((i) => {
      const words = i.args.split(/\s+/);
      let from: string | undefined;
      while (words[0]?.startsWith('--')) {
        const flag = words.shift()!;
        if (flag.startsWith('--from=')) from = flag.slice('--from='.length);
      }
      const dest = words.pop()!;
      return { from, sources: words, dest };
    });
}

const runsOf = (stage: Stage): string[] => stage.instructions.filter((i) => i.keyword === 'RUN').map((i) => i.args);
const last = (stage: Stage, keyword: string): string | undefined => stage.instructions.filter((i) => i.keyword === keyword).at(-1)?.args;

/**
 * .dockerignore as Docker reads it: patterns in order, the last match wins,
 * `!` re-includes; `*` stays within one path segment, `**` spans any.
 */
function isIgnored(path: string, patterns: string[]): boolean {
  let ignored = false;
  for (const raw of patterns) {
    const negate = raw.startsWith('!');
    const pattern = (negate ? raw.slice(1) : raw).replace(/^\/+|\/+$/g, '');
    const regex = new RegExp(
      `^${pattern
        .split('/')
        .map((seg) => (seg === '**' ? '.*' : seg.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '[^/]*').replace(/\?/g, '[^/]')))
        .join('/')}(/.*)?$`,
    );
    if (regex.test(path)) ignored = !negate;
  }
  return ignored;
}

const dockerfile = read('Dockerfile');
const all = instructions(dockerfile);
const { args, stages } = stagesOf(all);
const final = stages.at(-1)!;
const stage = (name: string): Stage => {
  const s = stages.find((x) => x.name === name);
  if (s === undefined) throw new Error(`no stage ${name}`);
  return s;
};
const ignorePatterns = read('.dockerignore')
  .split('\n')
  .map((l) => l.trim())
  .filter((l) => l !== '' && !l.startsWith('#'));
const packageJson = JSON.parse(read('package.json')) as { bin: Record<string, string>; type: string };

describe('Dockerfile', () => {
  it('builds on Node 24 LTS with glibc (the @node-rs/crc32 prebuilt binary), in every stage', () => {
    expect(stages.length).toBeGreaterThanOrEqual(2);
    for (const s of stages) {
      expect(s.from, s.name).toMatch(/^node:24(\.\d+)*-(bookworm|trixie)(-slim)?(@sha256:[0-9a-f]{64})?$/);
      expect(s.from).not.toMatch(/alpine/);
    }
    expect(args.get('NODE_IMAGE')).toMatch(/^node:24/);
  });

  it('is multi-stage: the final stage copies the bundle and production node_modules only', () => {
    const copies = copiesOf(final);
    const local = copies.filter((c) => c.from === undefined).flatMap((c) => c.sources);
    // "type": "module" for dist/*.js, and the version the bundle reads at run time.
    expect(local).toEqual(['package.json']);
    expect(packageJson.type).toBe('module');
    const fromStages = copies.filter((c) => c.from !== undefined);
    expect(fromStages.map((c) => [c.sources, c.dest])).toEqual(
      expect.arrayContaining([
        [['/app/node_modules'], './node_modules'],
        [['/app/dist'], './dist'],
      ]),
    );
    expect(fromStages).toHaveLength(2);
    // No install, no build, no shell work in the image that runs.
    expect(runsOf(final)).toEqual([]);
  });

  it('installs production dependencies only for the final stage, from the lock file', () => {
    const nodeModules = copiesOf(final).find((c) => c.sources[0] === '/app/node_modules')!;
    const deps = stage(nodeModules.from!);
    expect(runsOf(deps).some((r) => /^npm ci\b.*--omit=dev\b/.test(r))).toBe(true);
    expect(copiesOf(deps).flatMap((c) => c.sources)).toEqual(['package.json', 'package-lock.json']);
  });

  it('bundles with the dev dependencies in the build stage, as `npm run build` does here', () => {
    const dist = copiesOf(final).find((c) => c.sources[0] === '/app/dist')!;
    const build = stage(dist.from!);
    const runs = runsOf(build);
    expect(runs.some((r) => /^npm ci\b/.test(r) && !r.includes('--omit=dev'))).toBe(true);
    expect(runs).toContain('npm run build');
    const copied = copiesOf(build).flatMap((c) => c.sources);
    // Every file `npm run build` reads: its script, the tsconfig esbuild honours, and src/.
    const buildScript = (JSON.parse(read('package.json')) as { scripts: Record<string, string> }).scripts.build!;
    const script = /^tsx (\S+)$/.exec(buildScript)?.[1];
    expect(script, buildScript).toBe('scripts/build.ts');
    expect(copied).toEqual(expect.arrayContaining(['package.json', 'package-lock.json', 'tsconfig.json', script, 'src']));
    // esbuild and tsx are dev dependencies: present in this stage, never in the final one.
    const devDependencies = (JSON.parse(read('package.json')) as { devDependencies: Record<string, string> }).devDependencies;
    expect(Object.keys(devDependencies)).toEqual(expect.arrayContaining(['esbuild', 'tsx']));
    // No `COPY . .`: the context is an allow-list, the stage takes what it names.
    expect(copied).not.toContain('.');
  });

  it('runs as a non-root user with NODE_ENV=production', () => {
    const user = last(final, 'USER');
    expect(user).toBeDefined();
    expect(user).not.toMatch(/^(root|0)(:|$)/);
    expect(final.instructions.filter((i) => i.keyword === 'ENV').map((i) => i.args)).toContain('NODE_ENV=production');
  });

  it('starts node itself (exec form: PID 1 gets SIGTERM), the package bin, with pull as the default command', () => {
    const entrypoint = JSON.parse(last(final, 'ENTRYPOINT')!) as string[];
    expect(entrypoint).toEqual(['node', packageJson.bin.gcs2s3]);
    expect(JSON.parse(last(final, 'CMD')!)).toEqual(['pull']);
    // No shell form anywhere that would put /bin/sh between Cloud Run and node.
    for (const i of all.filter((x) => x.keyword === 'ENTRYPOINT' || x.keyword === 'CMD')) expect(i.args.startsWith('[')).toBe(true);
    expect(dockerfile).not.toMatch(/\b(tini|dumb-init)\b/);
  });

  it('sets no credential in the image', () => {
    expect(dockerfile).not.toMatch(/AWS_ACCESS_KEY_ID|AWS_SECRET_ACCESS_KEY|AWS_SESSION_TOKEN|GOOGLE_APPLICATION_CREDENTIALS/);
  });
});

describe('.dockerignore', () => {
  it('lets through every path the Dockerfile copies from the context, and they exist', () => {
    const local = stages.flatMap((s) => copiesOf(s).filter((c) => c.from === undefined).flatMap((c) => c.sources));
    expect(local.length).toBeGreaterThan(0);
    for (const source of local) {
      expect(existsSync(join(REPO, source)), source).toBe(true);
      expect(isIgnored(source, ignorePatterns), `${source} is excluded by .dockerignore`).toBe(false);
    }
    expect(isIgnored('src/cli.ts', ignorePatterns)).toBe(false);
  });

  it('keeps secrets, local state and build output out of the context', () => {
    for (const path of ['.git', '.local-stack/env', '.tools', 'node_modules', 'dist', 'test', 'terraform', 'bench', '.env', 'terraform/examples/complete/terraform.tfstate', 'scripts/local-stack.sh', 'tsconfig.build.json']) {
      expect(isIgnored(path, ignorePatterns), path).toBe(true);
    }
  });
});

describe('scripts/reproduce-image.sh', () => {
  const script = read('scripts/reproduce-image.sh');

  it('is executable and reads the Dockerfile rather than a copy of its steps', () => {
    expect(statSync(join(REPO, 'scripts/reproduce-image.sh')).mode & 0o111).not.toBe(0);
    expect(script).toContain('"$ROOT/Dockerfile"');
    expect(script).not.toMatch(/npm ci --omit=dev/); // the Dockerfile's RUN lines, not the script's, install
  });

  it('replays every instruction the Dockerfile uses', () => {
    for (const keyword of new Set(all.map((i) => i.keyword))) {
      if (keyword === 'FROM' || keyword === 'ARG') continue;
      expect(script, `the script cannot replay ${keyword}`).toContain(`case '${keyword}'`);
    }
  });

  it('checks what the issue asks: --help, the commands the image runs, serve health, SIGTERM exit 0 within 10 s', () => {
    expect(script).toContain('run_image -- --help');
    expect(script).toMatch(/for command in pull serve backfill verify/);
    expect(script).toContain('PUSH_AUTH=disabled AWS_ROLE_ARN=arn:aws:iam::123456789012:role/x S3_BUCKET=some-bucket -- serve');
    expect(script).toContain('/healthz');
    expect(script).toContain('kill -TERM "$SERVER_PID"');
    expect(script).toMatch(/trap cleanup EXIT/);
    expect(script).toMatch(/mktemp -d/);
  });
});
