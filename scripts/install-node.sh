#!/usr/bin/env bash
# Installs an official Node.js build of the given major into .tools/node<MAJOR>,
# from the npm registry package node-<platform>-<arch> (it ships the official
# binary), so no download outside the npm registry is needed. Idempotent: a
# binary already there at that major is kept. Prints the binary's path on
# stdout as its last line.
#
#   bash scripts/install-node.sh 24     (scripts/setup.sh uses it when the
#                                        machine's own Node is older than 22)
#   bash scripts/install-node.sh 22     (.ci/run's pass on the oldest supported major)
set -euo pipefail
cd "$(dirname "$0")/.."
MAJOR=${1:?usage: install-node.sh MAJOR}
[[ "$MAJOR" =~ ^[0-9]+$ ]] || { echo "install-node: MAJOR must be a number, got \"$MAJOR\"" >&2; exit 2; }

case "$(uname -s)" in
  Linux) os=linux ;;
  Darwin) os=darwin ;;
  *) echo "install-node: no Node.js package for $(uname -s); install Node.js $MAJOR yourself" >&2; exit 1 ;;
esac
case "$(uname -m)" in
  x86_64 | amd64) arch=x64 ;;
  aarch64 | arm64) arch=arm64 ;;
  *) echo "install-node: no Node.js package for $(uname -m); install Node.js $MAJOR yourself" >&2; exit 1 ;;
esac
PKG="node-$os-$arch"
DEST=".tools/node$MAJOR"
BIN="$DEST/node_modules/$PKG/bin/node"
if [[ -x "$BIN" ]] && "$BIN" --version | grep -q "^v$MAJOR\."; then
  echo "$PWD/$BIN"
  exit 0
fi
command -v npm >/dev/null || { echo "install-node: npm is missing: install Node.js with npm first" >&2; exit 1; }
echo "install-node: installing Node.js $MAJOR ($PKG from the npm registry) into $DEST" >&2
mkdir -p "$DEST"
[[ -f "$DEST/package.json" ]] || echo "{\"name\":\"node$MAJOR\",\"private\":true}" >"$DEST/package.json"
npm install --prefix "$DEST" --no-save --no-audit --no-fund --loglevel=error "$PKG@^$MAJOR" >&2 ||
  { echo "install-node: npm install $PKG@^$MAJOR failed; see above" >&2; exit 1; }
"$BIN" --version >&2
echo "$PWD/$BIN"
