#!/usr/bin/env bash
# Replays the Dockerfile's build and start steps without a Docker engine, so a
# broken image is caught here rather than on Cloud Run.
#
# It reads the Dockerfile itself (FROM ... AS, WORKDIR, ENV, COPY [--from],
# RUN, USER, ENTRYPOINT, CMD), gives each stage its own folder under a
# temporary directory standing in for WORKDIR, runs the RUN lines there with
# the stage's ENV, and copies between stages as COPY --from does. Then, in the
# final stage's folder only, it checks:
#   - the folder holds exactly what the Dockerfile copies (no sources, no dev
#     dependencies such as typescript, esbuild or vitest), and dist/ is the
#     bundle scripts/build.ts writes, with its source maps;
#   - ENTRYPOINT --help, and --help of every command the image is deployed
#     with (pull, serve, backfill, verify), exit 0;
#   - ENTRYPOINT + CMD with no configuration exits 2 naming AWS_ROLE_ARN (the
#     default command is real and fails cleanly);
#   - `serve` with minimal configuration answers GET /healthz with 200, then
#     exits 0 within 10 s of SIGTERM, as Cloud Run requires.
# When run as root it starts the program as an unprivileged user, as USER does,
# with the final stage's files owned by root, so a write to its own folder fails
# here too.
#
# Node: the Dockerfile's base image is Node 24; this uses $REPRO_NODE, else the
# Node 24 that scripts/install-node.sh installs (it downloads it once from
# the npm registry), for the RUN lines' npm and for the checks.
#
# Usage: bash scripts/reproduce-image.sh [--keep]   (--keep leaves the folder)
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
KEEP=false
[[ "${1:-}" == "--keep" ]] && KEEP=true

fail() { echo "reproduce-image: FAIL: $*" >&2; exit 1; }
step() { echo "reproduce-image: $*"; }

[[ -f Dockerfile ]] || fail "no Dockerfile in $ROOT"
command -v npm >/dev/null || fail "npm is missing: install Node.js with npm"

NODE_BIN=${REPRO_NODE:-}
if [[ -z "$NODE_BIN" ]]; then
  NODE_BIN=$(bash scripts/install-node.sh 24 | tail -1) || fail "could not install Node 24 (scripts/install-node.sh 24); set REPRO_NODE to a Node 24 binary"
fi
[[ -x "$NODE_BIN" ]] || fail "REPRO_NODE=$NODE_BIN is not an executable"
NODE_DIR=$(cd "$(dirname "$NODE_BIN")" && pwd)
# npm is a node script (#!/usr/bin/env node): with this node first on PATH,
# every RUN line runs on the base image's Node major.
export PATH="$NODE_DIR:$PATH"
NODE_VERSION=$(node --version)

WORK=$(mktemp -d "${TMPDIR:-/tmp}/gcs2s3-image.XXXXXX")
SERVER_PID=""
cleanup() {
  local status=$?
  if [[ -n "$SERVER_PID" ]] && kill -0 "$SERVER_PID" 2>/dev/null; then
    kill -KILL "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
  fi
  if $KEEP; then echo "reproduce-image: kept $WORK"; else rm -rf "$WORK"; fi
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---- 1. The Dockerfile as a plan (JSON), parsed by the Node we just chose ----
node --input-type=module - "$ROOT/Dockerfile" > "$WORK/plan.json" <<'JS'
import { readFileSync } from 'node:fs';
const text = readFileSync(process.argv[2], 'utf8');
// Join continuation lines, drop comments and blank lines.
const lines = [];
let pending = '';
for (const raw of text.split('\n')) {
  const line = raw.trimEnd();
  if (pending === '' && /^\s*#/.test(line)) continue;
  if (line.endsWith('\\')) { pending += line.slice(0, -1) + ' '; continue; }
  const full = (pending + line).trim();
  pending = '';
  if (full !== '') lines.push(full);
}
const args = {};
const stages = [];
let stage;
const subst = (s) => s.replace(/\$\{(\w+)\}|\$(\w+)/g, (_, a, b) => args[a ?? b] ?? '');
const execForm = (rest, what) => {
  try {
    const v = JSON.parse(rest);
    if (Array.isArray(v) && v.every((x) => typeof x === 'string')) return v;
  } catch {}
  throw new Error(`${what} must be in exec form (a JSON array): ${rest}`);
};
for (const line of lines) {
  const m = /^(\w+)\s+(.*)$/s.exec(line);
  if (!m) throw new Error(`cannot read Dockerfile line: ${line}`);
  const instr = m[1].toUpperCase();
  const rest = m[2].trim();
  if (instr === 'ARG') {
    const [k, v = ''] = rest.split('=');
    if (stage === undefined) args[k] = v;
    continue;
  }
  if (instr === 'FROM') {
    const f = /^(\S+)(?:\s+AS\s+(\S+))?$/i.exec(rest);
    if (!f) throw new Error(`cannot read FROM: ${rest}`);
    stage = { name: f[2] ?? String(stages.length), from: subst(f[1]), workdir: '/', env: {}, steps: [], user: 'root' };
    stages.push(stage);
    continue;
  }
  if (stage === undefined) throw new Error(`${instr} before FROM`);
  switch (instr) {
    case 'WORKDIR':
      stage.workdir = rest.startsWith('/') ? rest : `${stage.workdir.replace(/\/$/, '')}/${rest}`;
      break;
    case 'ENV':
      for (const kv of rest.match(/\w+=("[^"]*"|\S*)/g) ?? []) {
        const i = kv.indexOf('=');
        stage.env[kv.slice(0, i)] = kv.slice(i + 1).replace(/^"|"$/g, '');
      }
      break;
    case 'COPY': {
      const words = rest.split(/\s+/);
      let from;
      while (words[0]?.startsWith('--')) {
        const flag = words.shift();
        if (flag.startsWith('--from=')) from = flag.slice(7);
      }
      if (words.length < 2) throw new Error(`COPY needs a source and a destination: ${rest}`);
      const dest = words.pop();
      if (words.some((w) => /[*?[]/.test(w))) throw new Error(`COPY sources must be explicit paths: ${rest}`);
      stage.steps.push({ kind: 'copy', from, srcs: words, dest, workdir: stage.workdir });
      break;
    }
    case 'RUN':
      if (rest.startsWith('[')) throw new Error(`RUN must be in shell form here: ${rest}`);
      stage.steps.push({ kind: 'run', cmd: rest, workdir: stage.workdir, env: { ...stage.env } });
      break;
    case 'USER':
      stage.user = rest;
      break;
    case 'ENTRYPOINT':
      stage.entrypoint = execForm(rest, 'ENTRYPOINT');
      break;
    case 'CMD':
      stage.cmd = execForm(rest, 'CMD');
      break;
    case 'LABEL': case 'EXPOSE': case 'STOPSIGNAL': case 'HEALTHCHECK':
      break;
    default:
      throw new Error(`reproduce-image does not know how to replay ${instr}; teach it or avoid it`);
  }
}
if (stages.length === 0) throw new Error('no FROM in the Dockerfile');
process.stdout.write(JSON.stringify({ stages }, null, 2));
JS

STAGE_COUNT=$(node -e "const p=require('$WORK/plan.json');console.log(p.stages.length)")
FINAL=$(node -e "const p=require('$WORK/plan.json');console.log(p.stages.at(-1).name)")
step "Dockerfile: $STAGE_COUNT stages, final \"$FINAL\"; Node $NODE_VERSION; folder $WORK"

# Path of a stage's file system: /app/x in stage S is $WORK/stages/S/app/x.
stage_root() { echo "$WORK/stages/$1"; }
in_stage() { # stage, workdir, path -> host path
  local root path=$3
  root=$(stage_root "$1")
  [[ "$path" == /* ]] || path="${2%/}/$path"
  echo "$root$path"
}

# ---- 2. Replay every stage in order ----
for ((i = 0; i < STAGE_COUNT; i++)); do
  NAME=$(node -e "console.log(require('$WORK/plan.json').stages[$i].name)")
  FROM=$(node -e "console.log(require('$WORK/plan.json').stages[$i].from)")
  step "stage $NAME (FROM $FROM)"
  mkdir -p "$(stage_root "$NAME")"
  STEPS=$(node -e "console.log(require('$WORK/plan.json').stages[$i].steps.length)")
  for ((j = 0; j < STEPS; j++)); do
    S="require('$WORK/plan.json').stages[$i].steps[$j]"
    KIND=$(node -e "console.log($S.kind)")
    WD=$(node -e "console.log($S.workdir)")
    HOST_WD=$(in_stage "$NAME" "$WD" "$WD")
    mkdir -p "$HOST_WD"
    if [[ "$KIND" == copy ]]; then
      FROM_STAGE=$(node -e "console.log($S.from ?? '')")
      DEST=$(node -e "console.log($S.dest)")
      mapfile -t SRCS < <(node -e "for (const s of $S.srcs) console.log(s)")
      step "  COPY ${FROM_STAGE:+--from=$FROM_STAGE }${SRCS[*]} $DEST"
      HOST_DEST=$(in_stage "$NAME" "$WD" "$DEST")
      for SRC in "${SRCS[@]}"; do
        if [[ -n "$FROM_STAGE" ]]; then
          HOST_SRC=$(in_stage "$FROM_STAGE" "/" "$SRC")
        else
          [[ "$SRC" != /* && "$SRC" != ..* ]] || fail "COPY source outside the build context: $SRC"
          HOST_SRC="$ROOT/$SRC"
        fi
        [[ -e "$HOST_SRC" ]] || fail "COPY source missing: ${FROM_STAGE:+stage $FROM_STAGE: }$SRC"
        if [[ -d "$HOST_SRC" ]]; then
          # COPY dir dest copies the directory's contents into dest.
          mkdir -p "$HOST_DEST"
          cp -R "$HOST_SRC/." "$HOST_DEST/"
        elif [[ "$DEST" == */ || ${#SRCS[@]} -gt 1 ]]; then
          mkdir -p "$HOST_DEST"
          cp "$HOST_SRC" "$HOST_DEST/"
        else
          mkdir -p "$(dirname "$HOST_DEST")"
          cp "$HOST_SRC" "$HOST_DEST"
        fi
      done
    else
      CMD=$(node -e "console.log($S.cmd)")
      mapfile -t ENVS < <(node -e "for (const [k, v] of Object.entries($S.env)) console.log(k + '=' + v)")
      step "  RUN $CMD"
      (cd "$HOST_WD" && env ${ENVS[@]+"${ENVS[@]}"} bash -euo pipefail -c "$CMD") || fail "RUN failed in stage $NAME: $CMD"
    fi
  done
done

# ---- 3. The final stage: contents ----
P="require('$WORK/plan.json').stages.at(-1)"
WORKDIR=$(node -e "console.log($P.workdir)")
APP=$(in_stage "$FINAL" "$WORKDIR" "$WORKDIR")
USER_NAME=$(node -e "console.log($P.user)")
mapfile -t ENTRYPOINT < <(node -e "for (const s of $P.entrypoint ?? []) console.log(s)")
mapfile -t DEFAULT_CMD < <(node -e "for (const s of $P.cmd ?? []) console.log(s)")
mapfile -t RUN_ENV < <(node -e "for (const [k, v] of Object.entries($P.env)) console.log(k + '=' + v)")
[[ ${#ENTRYPOINT[@]} -gt 0 ]] || fail "the final stage has no ENTRYPOINT"
[[ "$USER_NAME" != root && "$USER_NAME" != 0 ]] || fail "the final stage runs as root (USER $USER_NAME)"
[[ "${ENTRYPOINT[0]}" == node ]] || fail "ENTRYPOINT should start node directly (it receives SIGTERM as PID 1), got ${ENTRYPOINT[0]}"

step "final stage: $(cd "$APP" && ls -A | tr '\n' ' ')"
for unwanted in src test scripts tsconfig.json .git; do
  [[ ! -e "$APP/$unwanted" ]] || fail "the final stage holds $unwanted"
done
# Every package the lock file marks dev-only must be absent (typescript, vitest, ...).
DEV_FOUND=$(node -e "
  const { existsSync } = require('node:fs');
  const lock = require('$ROOT/package-lock.json');
  const found = Object.entries(lock.packages).filter(([p, v]) => p !== '' && v.dev === true && existsSync('$APP/' + p)).map(([p]) => p);
  console.log(found.slice(0, 10).join(' '));
")
[[ -z "$DEV_FOUND" ]] || fail "the final stage holds dev dependencies: $DEV_FOUND"
[[ -e "$APP/node_modules/@aws-sdk/client-s3" ]] || fail "the final stage lacks production dependencies (node_modules/@aws-sdk/client-s3)"
[[ -z "$(find "$APP" -path "$APP/node_modules" -prune -o -name '*.ts' -print)" ]] || fail "the final stage holds TypeScript sources"
[[ -f "$APP/${ENTRYPOINT[1]:-dist/cli.js}" ]] || fail "the entry point ${ENTRYPOINT[1]:-} is missing"
# The entry point is the bundle's (scripts/build.ts), with its source maps for stack traces.
[[ -f "$APP/dist/bundle/cli.js" && -f "$APP/dist/bundle/cli.js.map" ]] || fail "dist/ holds no bundle (dist/bundle/cli.js and its .map): is npm run build scripts/build.ts?"

# As USER does: unprivileged, files not its own (only possible as root here).
AS_USER=()
if [[ $(id -u) == 0 ]] && command -v setpriv >/dev/null; then
  chmod 755 "$WORK" "$WORK/stages"
  chmod -R a+rX,go-w "$(stage_root "$FINAL")"
  if setpriv --reuid=65534 --regid=65534 --clear-groups "$NODE_BIN" --version >/dev/null 2>&1; then
    AS_USER=(setpriv --reuid=65534 --regid=65534 --clear-groups)
    step "running as uid 65534 (the image runs as USER $USER_NAME), files owned by root"
  else
    step "note: uid 65534 cannot run $NODE_BIN here; running as $(id -un)"
  fi
fi

# The program as the container runs it: the stage's ENV only, no ambient
# AWS or Google configuration from this machine. It execs, so call it in a
# subshell, "(run_image ...)", or in the background, "run_image ... &": either
# way the process that remains is node itself.
run_image() { # env assignments..., --, args...
  local envs=()
  while [[ "$1" != -- ]]; do envs+=("$1"); shift; done
  shift
  cd "$APP"
  exec env -i PATH="$NODE_DIR:/usr/local/bin:/usr/bin:/bin" HOME=/nonexistent \
    ${RUN_ENV[@]+"${RUN_ENV[@]}"} ${envs[@]+"${envs[@]}"} \
    ${AS_USER[@]+"${AS_USER[@]}"} "${ENTRYPOINT[@]}" "$@"
}

# ---- 4. --help ----
OUT="$WORK/out.txt"
(run_image -- --help) > "$OUT" 2>&1 || { cat "$OUT" >&2; fail "--help exited non-zero"; }
grep -q 'Usage: gcs2s3' "$OUT" || { cat "$OUT" >&2; fail "--help printed no usage"; }
step "ok: --help"
for command in pull serve backfill verify; do
  (run_image -- "$command" --help) > "$OUT" 2>&1 || { cat "$OUT" >&2; fail "$command --help exited non-zero"; }
  grep -q "Usage: gcs2s3 $command" "$OUT" || { cat "$OUT" >&2; fail "$command --help printed no usage"; }
  step "ok: $command --help"
done

# ---- 5. The default CMD without configuration: exit 2, naming the variable ----
set +e
(run_image -- ${DEFAULT_CMD[@]+"${DEFAULT_CMD[@]}"}) > "$OUT" 2>&1
STATUS=$?
set -e
[[ $STATUS == 2 ]] && grep -q AWS_ROLE_ARN "$OUT" || { cat "$OUT" >&2; fail "CMD [${DEFAULT_CMD[*]}] with no configuration: expected exit 2 naming AWS_ROLE_ARN, got $STATUS"; }
step "ok: CMD [${DEFAULT_CMD[*]}] unconfigured exits 2: $(head -1 "$OUT")"

# ---- 6. serve: health check, then SIGTERM ----
PORT=$(node -e "const s=require('node:net').createServer().listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close()})")
LOG="$WORK/serve.log"
run_image PORT="$PORT" PUSH_AUTH=disabled AWS_ROLE_ARN=arn:aws:iam::123456789012:role/x S3_BUCKET=some-bucket -- serve > "$LOG" 2>&1 &
SERVER_PID=$!
HEALTH=000
for _ in $(seq 1 100); do
  HEALTH=$(node -e "
    fetch('http://127.0.0.1:$PORT/healthz').then((r) => console.log(r.status), () => console.log('000'));
  ")
  [[ "$HEALTH" == 200 ]] && break
  kill -0 "$SERVER_PID" 2>/dev/null || { cat "$LOG" >&2; fail "serve exited before answering /healthz"; }
  sleep 0.1
done
[[ "$HEALTH" == 200 ]] || { cat "$LOG" >&2; fail "GET /healthz answered $HEALTH, not 200, within 10 s"; }
step "ok: serve answers GET /healthz 200 on port $PORT"

# In the container node is PID 1 and gets the signal itself; here the
# background subshell exec'd into env, then setpriv, then node: one process.
if [[ -e /proc/$SERVER_PID/exe ]]; then
  EXE=$(readlink "/proc/$SERVER_PID/exe" || true)
  [[ "$EXE" == "$(readlink -f "$NODE_BIN")" ]] || fail "the process to signal is $EXE, not node itself"
fi
kill -TERM "$SERVER_PID"
STOPPED=false
for _ in $(seq 1 100); do
  if ! kill -0 "$SERVER_PID" 2>/dev/null; then STOPPED=true; break; fi
  sleep 0.1
done
$STOPPED || { cat "$LOG" >&2; fail "serve still running 10 s after SIGTERM (Cloud Run would SIGKILL it)"; }
set +e
wait "$SERVER_PID"
STATUS=$?
set -e
SERVER_PID=""
[[ $STATUS == 0 ]] || { cat "$LOG" >&2; fail "serve exited $STATUS after SIGTERM, expected 0"; }
grep -q '"severity"' "$LOG" || { cat "$LOG" >&2; fail "serve logged no structured (JSON) line"; }
step "ok: serve exits 0 within 10 s of SIGTERM"
echo "reproduce-image: image build and start steps reproduced: OK"
