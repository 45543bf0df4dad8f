#!/usr/bin/env bash
# Installs the binaries the local stack (scripts/local-stack.sh) runs, into .tools/bin
# (gitignored), and checks the tools it cannot install itself. Idempotent: a tool whose
# binary is already there at the pinned version is left alone, so a second run is a no-op.
#
#   bash scripts/install-tools.sh        (also run by `npm run setup`)
#
# Needs: go (builds fake-gcs-server, MinIO and Toxiproxy from the Go module proxy), java and
# Google's Pub/Sub emulator (Debian package google-cloud-cli-pubsub-emulator). Installs
# Debian's rclone (the bench's comparison, DESIGN.md §4) with apt-get when it is missing
# and this runs as root; otherwise it says how.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BIN="$ROOT/.tools/bin"

# Pinned versions. MinIO publishes no semver module tags, so it is pinned by
# pseudo-version (commit 7aac2a2c5b7c of 2026-02-12).
FAKE_GCS_MODULE=github.com/fsouza/fake-gcs-server
FAKE_GCS_VERSION=v1.55.1
MINIO_MODULE=github.com/minio/minio
MINIO_VERSION=v0.0.0-20260212201848-7aac2a2c5b7c
# Shopify's TCP fault proxy; the fault-injection tests (test/integration/faults*.test.ts)
# start their own on private ports.
TOXIPROXY_MODULE=github.com/Shopify/toxiproxy/v2/cmd/server
TOXIPROXY_VERSION=v2.5.0
# fake-gcs-server v1.55.1's go.mod says `go 1.25.8`; MinIO's says 1.24.
GO_MIN_VERSION=1.25.8

fail() { echo "install-tools: $*" >&2; exit 1; }

# Prints the Pub/Sub emulator launcher's path, or nothing.
find_pubsub_emulator() {
  local root candidates=()
  [[ -n "${PUBSUB_EMULATOR_LAUNCHER:-}" ]] && candidates+=("$PUBSUB_EMULATOR_LAUNCHER")
  if command -v gcloud >/dev/null 2>&1; then
    root="$(gcloud info --format='value(installation.sdk_root)' 2>/dev/null || true)"
    [[ -n "$root" ]] && candidates+=("$root/platform/pubsub-emulator/bin/cloud-pubsub-emulator")
  fi
  candidates+=(/usr/lib/google-cloud-sdk/platform/pubsub-emulator/bin/cloud-pubsub-emulator
    /usr/share/google-cloud-sdk/platform/pubsub-emulator/bin/cloud-pubsub-emulator)
  for c in "${candidates[@]}"; do
    if [[ -x "$c" ]]; then echo "$c"; return 0; fi
  done
}

check_prerequisites() {
  command -v go >/dev/null 2>&1 ||
    fail "missing: go (>= $GO_MIN_VERSION), needed to build fake-gcs-server and MinIO; install it from https://go.dev/dl/ (or apt-get install golang-go if Debian's is new enough)"
  local have
  have="$(go env GOVERSION)"; have="${have#go}"
  if [[ "$(printf '%s\n%s\n' "$GO_MIN_VERSION" "$have" | sort -V | head -n1)" != "$GO_MIN_VERSION" ]] &&
    [[ "$(go env GOTOOLCHAIN)" == local ]]; then
    fail "go $have is too old: fake-gcs-server $FAKE_GCS_VERSION needs go >= $GO_MIN_VERSION; upgrade from https://go.dev/dl/ or run with GOTOOLCHAIN=auto"
  fi
  java -version >/dev/null 2>&1 ||
    fail "missing: java (a JRE >= 11 runs the Pub/Sub emulator); install it with: apt-get install default-jre-headless"
  [[ -n "$(find_pubsub_emulator)" ]] ||
    fail "missing: Google's Pub/Sub emulator (platform/pubsub-emulator/bin/cloud-pubsub-emulator under gcloud's SDK root); install it with: apt-get install google-cloud-cli-pubsub-emulator (or: gcloud components install pubsub-emulator)"
}

# True when $BIN/$name is the build of $module@$version. The .version file is the
# fast path; `go version -m` reads the module version embedded in the binary.
is_installed() {
  local name=$1 module=$2 version=$3 exe="$BIN/$1"
  [[ -x "$exe" ]] || return 1
  if [[ -f "$exe.version" && "$(cat "$exe.version")" == "$module@$version" ]]; then return 0; fi
  # `module` may be a package inside the module (Toxiproxy's cmd/server): its `mod` line names the module root.
  local mod ver
  while read -r mod ver; do
    if [[ ("$module" == "$mod" || "$module" == "$mod/"*) && "$ver" == "$version" ]]; then
      echo "$module@$version" >"$exe.version"
      return 0
    fi
  done < <(go version -m "$exe" 2>/dev/null | awk '$1 == "mod" { print $2, $3 }')
  return 1
}

install_tool() {
  local name=$1 module=$2 version=$3 built=${4:-}
  if is_installed "$name" "$module" "$version"; then
    echo "install-tools: $name $version already installed"
    return 0
  fi
  echo "install-tools: building $name ($module@$version) into .tools/bin; this can take several minutes..."
  rm -f "$BIN/$name.version"
  local started=$SECONDS
  # CGO off: both are pure Go and static binaries survive libc upgrades.
  CGO_ENABLED=0 GOBIN="$BIN" go install "$module@$version" ||
    fail "building $name failed (go install $module@$version); see the output above"
  # go install names the binary after the package's last path element (cmd/server → server).
  [[ -z "$built" ]] || mv -f "$BIN/$built" "$BIN/$name"
  echo "$module@$version" >"$BIN/$name.version"
  echo "install-tools: $name built in $((SECONDS - started))s"
}

# rclone: `npm run bench` compares against Debian's build (1.60). Present → nothing to do.
install_rclone() {
  if command -v rclone >/dev/null 2>&1; then
    echo "install-tools: $(rclone version 2>/dev/null | head -n1) already installed"
    return 0
  fi
  if [[ "$(id -u)" -ne 0 ]] || ! command -v apt-get >/dev/null 2>&1; then
    echo "install-tools: rclone missing (the bench skips its comparisons); install it with: sudo apt-get install rclone" >&2
    return 0
  fi
  echo "install-tools: installing Debian's rclone (apt-get)..."
  apt-get update -qq >/dev/null || fail "apt-get update failed; rclone not installed"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq rclone >/dev/null || fail "apt-get install rclone failed"
  echo "install-tools: $(rclone version | head -n1) installed"
}

check_prerequisites
install_rclone
mkdir -p "$BIN"
install_tool fake-gcs-server "$FAKE_GCS_MODULE" "$FAKE_GCS_VERSION"
install_tool minio "$MINIO_MODULE" "$MINIO_VERSION"
install_tool toxiproxy-server "$TOXIPROXY_MODULE" "$TOXIPROXY_VERSION" server
echo "install-tools: ready (go $(go env GOVERSION), java, $(find_pubsub_emulator))"
