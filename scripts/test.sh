#!/usr/bin/env bash
# Runs every test: the core's unit and property tests, the CLI tests, the black-box tests of the
# real component on `wasmtime serve` and on `spin up` with real upstreams, the browser tests in
# headless Chromium on both hosts, the Spin example app, template and registry round trip, and
# `corsgate audit` on the logs those runs wrote.
# Installs what is missing first (scripts/setup.sh --tests).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh --tests
export PATH="${CARGO_HOME:-$HOME/.cargo}/bin:$PATH"
cargo test --workspace --locked
# The audit reads back every line the host and browser suites' gateways just wrote
# (tests/audit.rs, the_suites_own_logs_read_back_whole).
cargo test --locked --test audit -- --ignored
