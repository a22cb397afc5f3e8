#!/usr/bin/env bash
# Builds a release into target/corsgate-release/dist: the prebuilt WASIp3 components, the CLI as
# a Spin plugin (tarball and manifest), SHA256SUMS, the Spin templates (corsgate-templates.tar.gz)
# and the app pushed to registries (app/: spin.toml and the policies it serves). The work is
# done by `corsgate-release` (tools/src/bin/release/); this script only runs its steps.
#
#   --verify-reproducible  build a second time from a fresh checkout of HEAD at another path,
#                          into another target folder, and fail unless every artifact is
#                          byte-identical (needs a clean working tree; doubles the build time)
#   --push HOST:PORT       push the components and the app to that registry (plain HTTP:
#                          a local or test registry) with `spin registry push`
#   --release-url URL      where dist/ will be served from, which the plugin manifest and the
#                          templates name (default: its file:// URL, for installing here)
#
#   SOURCE_DATE_EPOCH      the time stamped into the release (default: HEAD's commit time)
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="${CARGO_HOME:-$HOME/.cargo}/bin:$PATH"

verify=false
registry=""
release_url=()
while [ $# -gt 0 ]; do
  case "$1" in
    --verify-reproducible) verify=true ;;
    --push) registry="$2"; shift ;;
    --release-url) release_url=(--release-url "$2"); shift ;;
    *) echo "usage: scripts/release.sh [--verify-reproducible] [--push HOST:PORT] [--release-url URL]" >&2; exit 2 ;;
  esac
  shift
done

work=target/corsgate-release
cargo build --locked --release --package corsgate-tools --bin corsgate-release
tool=target/release/corsgate-release
if [ -n "${CARGO_TARGET_DIR:-}" ]; then tool="$CARGO_TARGET_DIR/release/corsgate-release"; fi

if $verify && [ -n "$(git status --porcelain --untracked-files=no)" ]; then
  echo "release: --verify-reproducible compares builds of HEAD: commit or stash your changes first" >&2
  exit 2
fi

started=$(date +%s)
"$tool" build --out "$work/dist" --target-dir "$work/target" "${release_url[@]}"
echo "release: built in $(( $(date +%s) - started )) s"

if $verify; then
  # Another path, another target folder, nothing reused: only the sources are shared.
  second=$(mktemp -d "${TMPDIR:-/tmp}/corsgate-release.XXXXXX")
  trap 'git worktree remove --force "$second/checkout" 2>/dev/null; rm -rf "$second"' EXIT
  git worktree add --quiet --detach "$second/checkout" HEAD
  started=$(date +%s)
  "$tool" build --source "$second/checkout" --out "$second/dist" --target-dir "$second/target" "${release_url[@]}"
  echo "release: second build in $(( $(date +%s) - started )) s"
  "$tool" compare "$work/dist" "$second/dist"
fi

if [ -n "$registry" ]; then
  spin=$(command -v spin || echo ../shared/tools/spin/4.1.0-pre0/spin)
  "$tool" push --out "$work/dist" --registry "$registry" --spin "$spin"
fi
echo "release: $work/dist"
