#!/usr/bin/env bash
# Validates terraform/ with the real providers before you apply it: for each
# module and the example, `init -backend=false` and `validate`, plus
# `fmt -check -recursive` over terraform/. Uses `terraform` or, if that is not
# on PATH, `tofu` (set TERRAFORM=/path/to/binary to choose).
#
# Each folder is validated in a copy under a temporary directory, so no
# .terraform/ folder or lock file is left in the repository and a stale local
# .terraform/ cannot hide a problem. `init` downloads the providers the
# modules require (or takes them from your plugin cache or mirror); it needs
# no cloud credentials and creates nothing.
#
# Exit status: 0 all valid; 1 a check failed (its output is shown); 2 neither
# terraform nor tofu found.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

tf="${TERRAFORM:-}"
if [[ -z "$tf" ]]; then
  if command -v terraform >/dev/null 2>&1; then
    tf=terraform
  elif command -v tofu >/dev/null 2>&1; then
    tf=tofu
  else
    echo "validate-terraform: neither terraform nor tofu is on PATH; install Terraform >= 1.5 or OpenTofu, or set TERRAFORM=/path/to/binary" >&2
    exit 2
  fi
fi
if ! command -v "$tf" >/dev/null 2>&1; then
  echo "validate-terraform: TERRAFORM=$tf is not an executable" >&2
  exit 2
fi

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

failed=0
fail() {
  echo "FAIL  $1" >&2
  sed 's/^/      /' "$2" >&2
  failed=$((failed + 1))
}

if "$tf" fmt -check -recursive -diff "$root/terraform" >"$work/fmt.log" 2>&1; then
  echo "ok    $tf fmt -check -recursive terraform/"
else
  fail "terraform fmt: run \`$tf fmt -recursive terraform\`" "$work/fmt.log"
fi

# The whole tree is copied once so the example's ../../modules sources
# resolve; local state, caches and tfvars stay behind.
tar -C "$root" --exclude='.terraform' --exclude='*.tfstate' --exclude='*.tfstate.*' --exclude='*.tfvars' -cf - terraform | tar -C "$work" -xf -

dirs=()
for d in "$work"/terraform/modules/*/ "$work"/terraform/examples/*/; do
  [[ -d "$d" ]] && dirs+=("${d%/}")
done

for dir in "${dirs[@]}"; do
  name="${dir#"$work"/}"
  log="$work/$(echo "$name" | tr '/' '_').log"
  if ! (cd "$dir" && "$tf" init -backend=false -input=false -no-color) >"$log" 2>&1; then
    fail "$name: $tf init -backend=false" "$log"
  elif ! (cd "$dir" && "$tf" validate -no-color) >>"$log" 2>&1; then
    fail "$name: $tf validate" "$log"
  elif grep -q 'Warning' "$log"; then
    echo "ok    $name, with warnings:"
    sed 's/^/      /' "$log"
  else
    echo "ok    $name"
  fi
done

if [[ "$failed" -gt 0 ]]; then
  echo "validate-terraform: $failed check(s) failed" >&2
  exit 1
fi
echo "validate-terraform: ${#dirs[@]} configurations valid with $("$tf" version | head -n 1)"
