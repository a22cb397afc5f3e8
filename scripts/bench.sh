#!/usr/bin/env bash
# The gateway against its limit and against what users would pick instead: the corsgate-bench
# binary builds the benchmark components through the test kit's harness, starts every server on
# loopback, runs wrk (fixed concurrency and duration, each run bounded in time) and prints the
# tables for BENCHMARKS.md (also written to target/bench/results.md). Installs wrk, nginx and GNU time if
# missing, redis-server for BENCH_ONLY=live and valgrind (callgrind) for BENCH_ONLY=prebuilt.
#   BENCH_SECONDS=5 BENCH_ROUNDS=3 BENCH_CONNECTIONS=8 scripts/bench.sh
# BENCH_ONLY=p3 (the WASIp3 figures), BENCH_ONLY=prebuilt (the prebuilt artifacts against the
# compiled-in ones), BENCH_ONLY=live (a route with `[live]` against the same route without it;
# needs redis-server) or BENCH_ONLY=audit (`corsgate audit` on generated logs up to 1 GiB)
# measures one part only, into target/bench/results-<part>.md.
# BENCH_BASELINE_REV=<git revision> measures only this build against that revision's, side by
# side (sizes, preflights and forwarded GETs of every artifact on every host): the revision is
# checked out in a git worktree under target/bench/ for the benchmark to build.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh --wasmtime
export PATH="${CARGO_HOME:-$HOME/.cargo}/bin:$PATH"
if ! command -v wrk >/dev/null || ! command -v nginx >/dev/null || [ ! -x /usr/bin/time ] \
    || ! command -v redis-server >/dev/null || ! command -v redis-cli >/dev/null \
    || ! command -v valgrind >/dev/null; then
  sudo_cmd=""; [ "$(id -u)" -eq 0 ] || sudo_cmd="sudo"
  $sudo_cmd apt-get update
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y wrk nginx-light time redis-server redis-tools valgrind
fi
if [ -n "${BENCH_BASELINE_REV:-}" ]; then
  baseline="$PWD/target/bench/baseline-checkout"
  git worktree remove --force "$baseline" 2>/dev/null || rm -rf "$baseline"
  git worktree add --detach "$baseline" "$BENCH_BASELINE_REV"
  export BENCH_BASELINE="$baseline"
fi
cargo build --locked --release --package corsgate-tools --bin corsgate-demo-api --bin corsgate-bench
cargo build --locked --release --package corsgate-cli --bin corsgate
exec target/release/corsgate-bench "$@"
