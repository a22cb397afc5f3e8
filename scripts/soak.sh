#!/usr/bin/env bash
# Bounded soak, run apart from the test suite: mixed preflight / GET / POST-with-body load on
# two routes, some origins disallowed, for SOAK_SECONDS (default 600), every answer's status and
# Access-Control-Allow-Origin checked, and the host's memory reported (start, peak, end). The
# corsgate-soak binary builds and serves the gateway through the test kit's harness.
#   SOAK_SECONDS=600 SOAK_WORKERS=4 SOAK_HOST=wasmtime|spin scripts/soak.sh
set -euo pipefail
cd "$(dirname "$0")/.."
# The soak serves on wasmtime unless SOAK_HOST=spin.
if [ "${SOAK_HOST:-wasmtime}" = spin ]; then scripts/setup.sh; else scripts/setup.sh --wasmtime; fi
export PATH="${CARGO_HOME:-$HOME/.cargo}/bin:$PATH"
exec cargo run --locked --release --package corsgate-tools --bin corsgate-soak
