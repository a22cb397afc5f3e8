#!/usr/bin/env bash
# The gateway against its limit and against what users would pick instead: the corsgate-bench
# binary builds the benchmark components through the test kit's harness, starts every server on
# loopback, runs wrk (fixed concurrency and duration, each run bounded in time) and prints the
# tables for BENCHMARKS.md (also written to target/bench/results.md). Installs wrk and nginx if
# missing.
#   BENCH_SECONDS=5 BENCH_ROUNDS=3 BENCH_CONNECTIONS=8 scripts/bench.sh
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
export PATH="${CARGO_HOME:-$HOME/.cargo}/bin:$PATH"
if ! command -v wrk >/dev/null || ! command -v nginx >/dev/null; then
  sudo_cmd=""; [ "$(id -u)" -eq 0 ] || sudo_cmd="sudo"
  $sudo_cmd apt-get update
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y wrk nginx-light
fi
cargo build --locked --release --package corsgate-tools --bin corsgate-demo-api --bin corsgate-bench
exec target/release/corsgate-bench "$@"
