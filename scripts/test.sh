#!/usr/bin/env bash
# Runs every test: the core's unit and property tests, the CLI tests, the black-box tests of the
# real component on `wasmtime serve` and on `spin up` with real upstreams, the browser tests in
# headless Chromium on both hosts, the Spin example app, template and registry round trip.
# Installs what is missing first (scripts/setup.sh --tests).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh --tests
export PATH="${CARGO_HOME:-$HOME/.cargo}/bin:$PATH"
cargo test --workspace --locked
