#!/usr/bin/env bash
# `npm run setup`: everything a checkout needs, from scratch, idempotent.
#   1. Node.js: the project needs Node >= 22 (package.json engines; the image is
#      Node 24). When the machine's own node is older, Node 24 is installed
#      into .tools/node24 (scripts/install-node.sh, from the npm registry) and
#      linked as node_modules/.bin/node: npm puts that folder first on PATH for
#      every `npm run`/`npm test`/`npm start`, so tests, the demo and the CLI
#      all run on Node 24. A machine with Node 22+ keeps its own.
#   2. npm ci, run by that Node (so engine checks see the Node that runs the code).
#   3. the emulators of the local stack (scripts/install-tools.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
MIN_MAJOR=22
TOOLCHAIN_MAJOR=24

command -v node >/dev/null || { echo "setup: node is missing: install Node.js (any version with npm; Node $TOOLCHAIN_MAJOR is fetched when yours is older than $MIN_MAJOR)" >&2; exit 1; }
# npm runs this script with npm_execpath set to its own CLI; fall back to the npm on PATH.
NPM_CLI=${npm_execpath:-}
if [[ -z "$NPM_CLI" || ! -f "$NPM_CLI" ]]; then
  NPM_CLI="$(dirname "$(readlink -f "$(command -v npm)")")/npm-cli.js"
fi

own_major=$(node -p 'process.versions.node.split(".")[0]')
if (( own_major >= MIN_MAJOR )); then
  NODE_BIN=$(command -v node)
  echo "setup: using this machine's Node $(node --version)"
else
  NODE_BIN=$(bash scripts/install-node.sh "$TOOLCHAIN_MAJOR" | tail -1)
  echo "setup: this machine's Node is $(node --version) (older than $MIN_MAJOR); the project runs on $("$NODE_BIN" --version) from .tools/node$TOOLCHAIN_MAJOR"
fi

"$NODE_BIN" "$NPM_CLI" ci --no-audit --no-fund
if [[ "$NODE_BIN" == "$PWD"/.tools/* ]]; then
  ln -sf "$NODE_BIN" node_modules/.bin/node
fi
bash scripts/install-tools.sh
echo "setup: done; node for npm scripts: $(PATH="$PWD/node_modules/.bin:$PATH" node --version)"
