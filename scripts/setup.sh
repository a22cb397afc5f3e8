#!/usr/bin/env bash
# Installs what corsgate needs, skipping whatever is already there (idempotent):
#   - the wasm32-wasip2 Rust target;
#   - with --wasmtime or --tests: wasmtime-cli 48.0.8, the reference host (~17 min to compile on
#     2 cores, once per machine); scripts/run.sh asks for it only when it serves on wasmtime;
#   - spin (3.6.3, what SpinKube's shim embeds): from PATH; else the binary kept beside the
#     repository in ../shared/tools/spin/, copied into cargo's bin folder. On your own machine,
#     install Spin with Spin's installer (https://spinframework.dev/install). In CI a missing
#     spin is an error: the Spin tests must not be skipped there;
#   - Spin 4.1 or later for the WASIp3 gateway: the installed spin when it is that recent, else
#     ../shared/tools/spin/4.1.0-pre0/spin, which the tests use where it lies (it is not
#     installed, so `spin` stays 3.6.3). In CI, having neither is an error;
#   - with --tests: what only the tests need: the three browser engines and their WebDriver
#     servers (Debian's chromium + chromium-driver, firefox-esr, webkit2gtk-driver with xvfb;
#     geckodriver from crates.io, about 4 minutes to compile once), wac-cli (composes the
#     middleware with an app, from crates.io, about 5 minutes once), docker-registry (an OCI
#     registry on loopback the gateway is published to) and redis-server (the store of the live
#     origin list tests); --browser is the same.
set -euo pipefail

want_tests=false
want_wasmtime=false
for arg in "$@"; do
  case "$arg" in
    --tests|--browser) want_tests=true; want_wasmtime=true ;;
    --wasmtime) want_wasmtime=true ;;
    *) echo "usage: scripts/setup.sh [--wasmtime] [--tests]" >&2; exit 2 ;;
  esac
done

export PATH="${CARGO_HOME:-$HOME/.cargo}/bin:$PATH"

if ! rustup target list --installed | grep -qx wasm32-wasip2; then
  echo "setup: adding the wasm32-wasip2 target"
  rustup target add wasm32-wasip2
fi

if $want_wasmtime && [ "$(wasmtime --version 2>/dev/null | awk '{print $2}')" != "48.0.8" ]; then
  echo "setup: installing wasmtime-cli 48.0.8 (compiles from source; about 17 minutes on 2 cores)"
  cargo install wasmtime-cli --version 48.0.8 --locked
fi

repo="$(cd "$(dirname "$0")/.." && pwd)"
if ! command -v spin >/dev/null 2>&1; then
  shared_spin="$repo/../shared/tools/spin/3.6.3/spin"
  if [ -x "$shared_spin" ]; then
    echo "setup: installing spin from $shared_spin"
    install -m 0755 "$shared_spin" "${CARGO_HOME:-$HOME/.cargo}/bin/spin"
  elif [ -n "${CI:-}" ]; then
    echo "setup: spin is not installed and $shared_spin is missing; the Spin tests cannot run" >&2
    exit 1
  else
    echo "setup: spin is not installed: the Spin tests are skipped and scripts/run.sh serves on" >&2
    echo "       wasmtime. Install it with Spin's installer: https://spinframework.dev/install" >&2
  fi
fi
if command -v spin >/dev/null 2>&1; then
  spin --version >/dev/null || { echo "setup: spin does not run: $(command -v spin)" >&2; exit 1; }
fi

# Spin >= 4.1 for the WASIp3 gateway (the test harness looks in the same places).
spin_version() { "$1" --version 2>/dev/null | awk '{print $2}'; }
is_spin4() { case "$(spin_version "$1")" in 4.[1-9]*|4.[1-9][0-9]*|[5-9].*) return 0 ;; *) return 1 ;; esac; }
spin4=""
if command -v spin >/dev/null 2>&1 && is_spin4 "$(command -v spin)"; then
  spin4="$(command -v spin)"
elif [ -x "$repo/../shared/tools/spin/4.1.0-pre0/spin" ] && is_spin4 "$repo/../shared/tools/spin/4.1.0-pre0/spin"; then
  spin4="$repo/../shared/tools/spin/4.1.0-pre0/spin"
fi
if [ -z "$spin4" ]; then
  if [ -n "${CI:-}" ]; then
    echo "setup: no Spin 4.1 or later (installed spin, or ../shared/tools/spin/4.1.0-pre0/spin): the WASIp3 tests cannot run" >&2
    exit 1
  fi
  echo "setup: no Spin 4.1 or later: the WASIp3 gateway's Spin tests are skipped" >&2
fi

missing=()
if $want_tests; then
  command -v chromium >/dev/null 2>&1 || missing+=(chromium)
  command -v chromedriver >/dev/null 2>&1 || missing+=(chromium-driver)
  command -v firefox-esr >/dev/null 2>&1 || missing+=(firefox-esr)
  command -v WebKitWebDriver >/dev/null 2>&1 || missing+=(webkit2gtk-driver)
  command -v Xvfb >/dev/null 2>&1 || missing+=(xvfb)
  command -v docker-registry >/dev/null 2>&1 || missing+=(docker-registry)
  # The store behind Spin's key-value API in the live origin list tests (redis-cli comes with it).
  command -v redis-server >/dev/null 2>&1 || missing+=(redis-server)
  command -v redis-cli >/dev/null 2>&1 || missing+=(redis-tools)
fi
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing Debian's ${missing[*]}"
  sudo_cmd=""
  [ "$(id -u)" -eq 0 ] || sudo_cmd="sudo"
  $sudo_cmd apt-get update
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y "${missing[@]}"
fi

if $want_tests && [ "$(wac --version 2>/dev/null | awk '{print $2}')" != "0.12.0" ]; then
  echo "setup: installing wac-cli 0.12.0, which composes the middleware with an app (compiles from crates.io; about 5 minutes on 2 cores)"
  cargo install wac-cli --version 0.12.0 --locked
fi

if $want_tests && [ "$(geckodriver --version 2>/dev/null | awk 'NR==1 {print $2}')" != "0.37.1" ]; then
  echo "setup: installing geckodriver 0.37.1 (compiles from crates.io; about 4 minutes on 2 cores)"
  cargo install geckodriver --version 0.37.1 --locked
fi
