#!/usr/bin/env bash
# Serves the gateway on http://127.0.0.1:3000 with the shipped policies (policies/), with the
# demo API behind them on 127.0.0.1:8081 (users) and 127.0.0.1:8082 (catalog). Installs what is
# missing first. Ctrl-C stops everything.
#
# With Spin installed it runs as Spin users run it: `spin watch` builds the component
# (`spin build`, spin.toml's build command), serves it with `spin up`, and rebuilds and restarts
# it when a policy file changes (an invalid edit fails the build, which prints every error).
# Without Spin it serves on `wasmtime serve`, and an edit is checked with `corsgate check` and,
# when valid, rebuilt and restarted (an invalid edit keeps the previous build serving).
#
#   CORSGATE_HOST=spin|wasmtime  which host (default: spin when installed)
#   CORSGATE_POLICIES=dir     serve another policy folder (wasmtime only: spin.toml watches policies/)
#   CORSGATE_ADDR=host:port   listen elsewhere (default 127.0.0.1:3000)
#   CORSGATE_ACCESS_LOG=all|problems|off   which requests get a log line (default all)
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
export PATH="${CARGO_HOME:-$HOME/.cargo}/bin:$PATH"
addr="${CORSGATE_ADDR:-127.0.0.1:3000}"
policies="${CORSGATE_POLICIES:-policies}"
export CORSGATE_POLICIES="$policies"

build_gateway() {
  cargo build --locked --release --target wasm32-wasip2 --package corsgate
}

echo "run: checking the policies in $policies"
cargo build --locked --release --package corsgate-tools --package corsgate-cli --bin corsgate-demo-api --bin corsgate
target/release/corsgate check "$policies"

host="${CORSGATE_HOST:-}"
if [ -z "$host" ]; then
  if command -v spin >/dev/null 2>&1; then host=spin; else host=wasmtime; fi
fi
# wasmtime-cli compiles from source (about 17 minutes once per machine): only when it serves.
if [ "$host" = wasmtime ]; then
  scripts/setup.sh --wasmtime
fi

pids=()
gateway_pid=""
cleanup() { for pid in "${pids[@]}" $gateway_pid; do kill "$pid" 2>/dev/null || true; done; }
trap cleanup EXIT INT TERM

target/release/corsgate-demo-api 127.0.0.1:8081 127.0.0.1:8082 &
pids+=($!)

start_gateway() {
  wasmtime serve -S cli --addr "$addr" --env "CORSGATE_ACCESS_LOG=${CORSGATE_ACCESS_LOG:-all}" \
    target/wasm32-wasip2/release/corsgate.wasm &
  gateway_pid=$!
}

cat <<EOT

corsgate is starting on http://$addr under $host (Ctrl-C stops it). Try:

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

  # why would the browser block this?
  target/release/corsgate explain --origin https://evil.example --method PUT /users/42

Edit a file in $policies/ and the gateway reloads.

EOT
if [ "$host" = spin ]; then
  # spin.toml passes CORSGATE_ACCESS_LOG=all; -e overrides it for this run.
  spin watch -- --listen "$addr" -e "CORSGATE_ACCESS_LOG=${CORSGATE_ACCESS_LOG:-all}" &
  gateway_pid=$!
  wait "$gateway_pid"
  exit
fi

echo "run: compiling the policies into the component"
build_gateway
start_gateway

fingerprint() { find "$policies" -maxdepth 1 -name '*.toml' -printf '%f %T@ %s\n' 2>/dev/null | sort | sha256sum; }
last=$(fingerprint)
while true; do
  sleep 1
  for pid in "${pids[@]}" "$gateway_pid"; do
    kill -0 "$pid" 2>/dev/null || { echo "run: a server exited (pid $pid); stopping" >&2; exit 1; }
  done
  now=$(fingerprint)
  [ "$now" = "$last" ] && continue
  last=$now
  echo "run: $policies changed; checking"
  if target/release/corsgate check "$policies" && build_gateway; then
    kill "$gateway_pid" 2>/dev/null || true
    wait "$gateway_pid" 2>/dev/null || true
    start_gateway
    echo "run: reloaded with the new policies"
  else
    echo "run: not reloaded; still serving the previous policies" >&2
  fi
done
