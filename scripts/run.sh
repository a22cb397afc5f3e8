#!/usr/bin/env bash
# Serves the gateway on http://127.0.0.1:3000 with the shipped policies (policies/), with the
# demo API behind them on 127.0.0.1:8081 (users) and 127.0.0.1:8082 (catalog). Installs what is
# missing first. Ctrl-C stops both.
#
#   CORSGATE_POLICIES=dir  serve another policy folder
#   CORSGATE_ADDR=host:port  listen elsewhere (default 127.0.0.1:3000)
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
export PATH="${CARGO_HOME:-$HOME/.cargo}/bin:$PATH"
addr="${CORSGATE_ADDR:-127.0.0.1:3000}"

echo "run: checking and compiling the policies into the component"
cargo build --locked --release --target wasm32-wasip2 --package corsgate
cargo build --locked --release --package corsgate-testkit --bin corsgate-demo-api

pids=()
cleanup() { for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done; }
trap cleanup EXIT INT TERM

target/release/corsgate-demo-api 127.0.0.1:8081 127.0.0.1:8082 &
pids+=($!)

cat <<EOT

corsgate is starting on http://$addr (Ctrl-C stops it). Try:

  # a preflight answered at the edge (204, never reaches the API)
  curl -si -X OPTIONS http://$addr/users/42 -H 'Origin: https://app.example.com' \\
       -H 'Access-Control-Request-Method: PUT' -H 'Access-Control-Request-Headers: authorization,content-type'

  # the same preflight from an origin the policy does not allow (403)
  curl -si -X OPTIONS http://$addr/users/42 -H 'Origin: https://evil.example' -H 'Access-Control-Request-Method: PUT'

  # an actual request, forwarded to the users API with the CORS headers attached
  curl -si http://$addr/users/42 -H 'Origin: https://app.example.com'

  # a public route ("*"), and an exact route
  curl -si http://$addr/catalog/items -H 'Origin: https://anyone.example'
  curl -si http://$addr/health

EOT
wasmtime serve -S cli --addr "$addr" target/wasm32-wasip2/release/corsgate.wasm &
pids+=($!)
wait -n "${pids[@]}"
