#!/usr/bin/env python3
"""Load benchmarks of the corsgate component, run side by side in one go (called by bench.sh).

Every server runs on 127.0.0.1 with an ephemeral port and is stopped by PID when its
measurement ends (and on any failure). Each wrk run is bounded: BENCH_SECONDS seconds (default
10) with BENCH_CONNECTIONS connections (default 8) on 2 threads. The markdown table is printed
and written to target/bench/results.md.
"""

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
WORK = ROOT / "target" / "bench"
SECONDS = int(os.environ.get("BENCH_SECONDS", "10"))
CONNECTIONS = int(os.environ.get("BENCH_CONNECTIONS", "8"))
WASMTIME = shutil.which("wasmtime") or str(Path.home() / ".cargo" / "bin" / "wasmtime")
APP = "https://app.example.com"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until(check, what, timeout=60.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = check()
        if result:
            return result
        time.sleep(0.01)
    raise RuntimeError(f"{what} not ready within {timeout} s")


@contextmanager
def process(args, log_name, env=None):
    """Starts a process, yields it, and stops it by PID whatever happens."""
    log = open(WORK / log_name, "w")
    proc = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env)
    try:
        yield proc
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


def port_open(port):
    with socket.socket() as s:
        s.settimeout(0.2)
        return s.connect_ex(("127.0.0.1", port)) == 0


@contextmanager
def serve(wasm, name, extra=()):
    """`wasmtime serve` on an ephemeral port; yields (process, base URL, seconds to first answer)."""
    started = time.monotonic()
    with process([WASMTIME, "serve", "-S", "cli", "--addr", "127.0.0.1:0", *extra, str(wasm)], f"{name}.log") as proc:
        def bound_port():
            text = (WORK / f"{name}.log").read_text(errors="replace")
            match = re.search(r"Serving HTTP on http://127\.0\.0\.1:(\d+)/", text)
            if proc.poll() is not None:
                raise RuntimeError(f"wasmtime exited:\n{text}")
            return int(match.group(1)) if match and port_open(int(match.group(1))) else None
        port = wait_until(bound_port, f"wasmtime serve {name}")
        yield proc, f"http://127.0.0.1:{port}", time.monotonic() - started


def build(name, package="corsgate", policies=None, env_extra=None):
    env = dict(os.environ, CARGO_TARGET_DIR=str(WORK / "target"))
    if policies:
        env["CORSGATE_POLICIES"] = str(policies)
    env.update(env_extra or {})
    subprocess.run(["cargo", "build", "--locked", "--release", "--target", "wasm32-wasip2", "--package", package],
                   cwd=ROOT, env=env, check=True, stdout=subprocess.DEVNULL)
    built = WORK / "target" / "wasm32-wasip2" / "release" / (package.replace("-", "_") + ".wasm")
    dest = WORK / f"{name}.wasm"
    shutil.copy(built, dest)
    return dest


def write_policies(name, files):
    folder = WORK / "policies" / name
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    for file_name, text in files.items():
        (folder / file_name).write_text(text)
    return folder


LUA = {
    "preflight": f'wrk.method = "OPTIONS"\nwrk.headers["Origin"] = "{APP}"\nwrk.headers["Access-Control-Request-Method"] = "PUT"\nwrk.headers["Access-Control-Request-Headers"] = "authorization,content-type"\n',
    "rejected": 'wrk.method = "OPTIONS"\nwrk.headers["Origin"] = "https://evil.example"\nwrk.headers["Access-Control-Request-Method"] = "PUT"\n',
    "get": f'wrk.method = "GET"\nwrk.headers["Origin"] = "{APP}"\n',
}


def wrk(url, kind):
    script = WORK / f"{kind}.lua"
    script.write_text(LUA[kind])
    out = subprocess.run(["wrk", "-t2", f"-c{CONNECTIONS}", f"-d{SECONDS}s", "--timeout", "5s", "--latency", "-s", str(script), url],
                         capture_output=True, text=True, timeout=SECONDS + 30, check=True).stdout

    def latency(label):
        match = re.search(rf"^\s+{label}%\s+([\d.]+)(us|ms|s)\s*$", out, re.M)
        value, unit = float(match.group(1)), match.group(2)
        return value * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]

    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    errors = re.search(r"Socket errors: (.*)", out)
    return {"rps": rps, "p50": latency("50"), "p99": latency("99"), "non2xx": int(non2xx.group(1)) if non2xx else 0,
            "errors": errors.group(1) if errors else "", "raw": out}


def vm_kib(pid, field):
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return 0


def curl(*args):
    return subprocess.run(["curl", "-s", "-o", "/dev/null", "-w", "%{http_code} %{time_total}", *args],
                          capture_output=True, text=True, timeout=600, check=True).stdout.split()


def headers_of(url, method="GET", headers=()):
    request = urllib.request.Request(url, method=method, headers=dict(headers))
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.headers
    except urllib.error.HTTPError as error:
        return error.code, error.headers


def main():
    WORK.mkdir(parents=True, exist_ok=True)
    rows, notes = [], []
    demo = ROOT / "target" / "release" / "corsgate-demo-api"
    up_port = free_port()
    with process([str(demo), f"127.0.0.1:{up_port}"], "demo-api.log"):
        wait_until(lambda: port_open(up_port), "demo API")
        upstream = f"127.0.0.1:{up_port}"
        small_text = (ROOT / "bench" / "policies" / "small.toml").read_text().replace("{UPSTREAM}", upstream)
        print("bench: building components", file=sys.stderr)
        small = build("corsgate-small", policies=write_policies("small", {"api.toml": small_text.replace("{PREFLIGHT}", "edge")}))
        forward_mode = build("corsgate-forward-mode", policies=write_policies("forward", {"api.toml": small_text.replace("{PREFLIGHT}", "forward")}))
        large_files = {}
        for r in range(100):
            origins = ", ".join(f'"https://app{r}-{o}.example.com"' for o in range(99)) + f', "{APP}"'
            large_files[f"r{r:03}.toml"] = (small_text.replace('path = "/api/..."', f'path = "/r{r:03}/..."')
                                            .replace("{PREFLIGHT}", "edge")
                                            .replace('allow_origins = ["https://app.example.com", "https://admin.example.com", "http://localhost:*"]', f"allow_origins = [{origins}]"))
        large = build("corsgate-large", policies=write_policies("large", large_files))
        noop = build("noop", package="bench-noop")
        cors_shaped = build("noop-cors-shaped", package="bench-noop", env_extra={"BENCH_CORS_SHAPED": "1"})
        forwarder = build("forwarder", package="bench-forward", env_extra={"BENCH_UPSTREAM": upstream})

        def measure(label, wasm, path, kind, extra=(), expect_non2xx=False):
            with serve(wasm, label.replace(" ", "-"), extra) as (_, base, _):
                result = wrk(base + path, kind)
            if result["errors"] or (result["non2xx"] and not expect_non2xx):
                notes.append(f"{label}: {result['non2xx']} non-2xx, socket errors: {result['errors'] or 'none'}")
            rows.append((label, result))
            print(f"bench: {label}: {result['rps']:.0f} req/s, p50 {result['p50']:.2f} ms, p99 {result['p99']:.2f} ms", file=sys.stderr)
            return result

        limit = measure("trivial component, 204 (the host's limit)", noop, "/api/x", "preflight")
        shaped = measure("trivial component making a CORS answer's host calls", cors_shaped, "/api/x", "preflight")
        allowed = measure("corsgate preflight, allowed", small, "/api/x", "preflight")
        rejected = measure("corsgate preflight, rejected (403)", small, "/api/x", "rejected", expect_non2xx=True)
        reuse = ["--max-instance-reuse-count", "128"]
        limit_reuse = measure("trivial component, 204, instance reuse 128", noop, "/api/x", "preflight", reuse)
        shaped_reuse = measure("trivial component making a CORS answer's host calls, instance reuse 128", cors_shaped, "/api/x", "preflight", reuse)
        allowed_reuse = measure("corsgate preflight, allowed, instance reuse 128", small, "/api/x", "preflight", reuse)
        print("bench: upstream direct", file=sys.stderr)
        direct = wrk(f"http://{upstream}/api/x", "get")
        rows.append(("demo upstream called directly", direct))
        trivial_forward = measure("trivial forwarding component, GET", forwarder, "/api/x", "get")
        actual = measure("corsgate actual request, GET forwarded", small, "/api/x", "get")
        trivial_forward_reuse = measure("trivial forwarding component, GET, instance reuse 128", forwarder, "/api/x", "get", reuse)
        actual_reuse = measure("corsgate actual request, GET, instance reuse 128", small, "/api/x", "get", reuse)
        large_allowed = measure("corsgate preflight, 100 routes x 100 origins (last route)", large, "/r099/x", "preflight")
        large_reuse = measure("corsgate preflight, 100 routes x 100 origins, instance reuse 128", large, "/r099/x", "preflight", reuse)
        edge = measure("corsgate preflight, edge, upstream 50 ms away", small, "/api/x?delay_head_ms=50", "preflight")
        forwarded = measure("corsgate preflight, forward, upstream 50 ms away", forward_mode, "/api/x?delay_head_ms=50", "preflight")

        # nginx with the usual recipe, on the same upstream.
        nginx_prefix = WORK / "nginx"
        shutil.rmtree(nginx_prefix, ignore_errors=True)
        nginx_prefix.mkdir(parents=True)
        nginx_port = free_port()
        conf = (ROOT / "bench" / "nginx.conf").read_text().replace("{PORT}", str(nginx_port)).replace("{UPSTREAM}", upstream).replace("{PREFIX}", str(nginx_prefix))
        (nginx_prefix / "nginx.conf").write_text(conf)
        with process(["nginx", "-p", str(nginx_prefix), "-c", str(nginx_prefix / "nginx.conf")], "nginx.log"):
            wait_until(lambda: port_open(nginx_port), "nginx")
            base = f"http://127.0.0.1:{nginx_port}"
            for label, kind in (("nginx recipe, preflight allowed", "preflight"), ("nginx recipe, GET proxied", "get")):
                result = wrk(base + "/api/x", kind)
                rows.append((label, result))
                print(f"bench: {label}: {result['rps']:.0f} req/s", file=sys.stderr)
            wrong = []
            status, h = headers_of(base + "/api/x?header=Access-Control-Allow-Origin%3A*", headers=[("Origin", APP)])
            if len(h.get_all("Access-Control-Allow-Origin") or []) > 1:
                wrong.append(f"two `Access-Control-Allow-Origin` headers when the upstream sends its own ({', '.join(h.get_all('Access-Control-Allow-Origin'))})")
            if "origin" not in (h.get("Vary") or "").lower():
                wrong.append("no `Vary: Origin` on responses that depend on the origin (shared caches can serve one origin's answer to another)")
            status, h = headers_of(base + "/api/x", "OPTIONS", [("Origin", APP), ("Access-Control-Request-Method", "PATCH"), ("Access-Control-Request-Headers", "x-anything")])
            if status == 204 and h.get("Access-Control-Allow-Origin"):
                wrong.append("no preflight validation: a preflight for a method and header the policy does not allow gets `204` with `Access-Control-Allow-Origin`")
            status, h = headers_of(base + "/api/x", "OPTIONS", [("Origin", "https://evil.example"), ("Access-Control-Request-Method", "PUT")])
            if status == 204:
                wrong.append("a disallowed origin's preflight gets `204` with `Access-Control-Allow-Credentials: true` and the method list (only the origin header is missing)")
            status, h = headers_of(base + "/api/x", "OPTIONS", [("Origin", APP)])
            if status == 204:
                wrong.append("every `OPTIONS` is treated as a preflight, even without `Access-Control-Request-Method`: the API never sees its own OPTIONS requests")

        # Cold start and size: spawn to first answered preflight, then one request.
        cold = {}
        for name, wasm, path in (("small", small, "/api/x"), ("large", large, "/r099/x")):
            started = time.monotonic()
            with serve(wasm, f"cold-{name}") as (_, base, ready):
                code, first = curl("-X", "OPTIONS", "-H", f"Origin: {APP}", "-H", "Access-Control-Request-Method: PUT", base + path)
                cold[name] = (wasm.stat().st_size, ready * 1000, float(first) * 1000, code)

        # Streaming: the host's peak RSS while 1 GiB passes each way.
        blob = WORK / "1gib.bin"
        if not blob.exists() or blob.stat().st_size != 1 << 30:
            with open(blob, "wb") as f:
                f.truncate(1 << 30)
        with serve(small, "streaming") as (proc, base, _):
            rss_start = vm_kib(proc.pid, "VmRSS")
            code_down, down_time = curl(f"{base}/api/big?bytes={1 << 30}")
            code_up, up_time = curl("-T", str(blob), "-X", "POST", "-H", "Expect:", f"{base}/api/upload")
            rss_peak = vm_kib(proc.pid, "VmHWM")
            rss_end = vm_kib(proc.pid, "VmRSS")

    def ratio(a, b):
        return f"{a / b * 100:.0f} %"

    lines = ["| configuration | req/s | p50 | p99 | vs reference |", "|---|---:|---:|---:|---|"]
    reference = {
        "trivial component making a CORS answer's host calls": limit,
        "trivial component making a CORS answer's host calls, instance reuse 128": limit_reuse,
        "corsgate preflight, allowed": limit, "corsgate preflight, rejected (403)": limit,
        "corsgate preflight, allowed, instance reuse 128": limit_reuse,
        "corsgate actual request, GET forwarded": trivial_forward,
        "corsgate actual request, GET, instance reuse 128": trivial_forward_reuse,
        "corsgate preflight, 100 routes x 100 origins (last route)": allowed,
        "corsgate preflight, 100 routes x 100 origins, instance reuse 128": allowed_reuse,
    }
    for label, r in rows:
        ref = reference.get(label)
        versus = f"{ratio(r['rps'], ref['rps'])} of the rps, {r['p99'] / ref['p99']:.2f}× the p99" if ref else ""
        lines.append(f"| {label} | {r['rps']:,.0f} | {r['p50']:.2f} ms | {r['p99']:.2f} ms | {versus} |")
    lines += ["", f"Against the trivial component that makes the same host calls as a CORS answer: corsgate's allowed preflight runs at {ratio(allowed['rps'], shaped['rps'])} of its rps ({allowed['p99'] / shaped['p99']:.2f}× the p99) with a fresh instance per request, {ratio(allowed_reuse['rps'], shaped_reuse['rps'])} ({allowed_reuse['p99'] / shaped_reuse['p99']:.2f}× the p99) with instance reuse."]
    lines += ["", f"Edge saving: a preflight answered at the edge takes {edge['p50']:.2f} ms (p50) against {forwarded['p50']:.2f} ms when forwarded to an upstream 50 ms away ({forwarded['p50'] / edge['p50']:.0f}× faster, {edge['rps'] / forwarded['rps']:.0f}× the throughput at {CONNECTIONS} connections).", ""]
    lines += ["| policy | component size | spawn to first answer | first request | status |", "|---|---:|---:|---:|---|"]
    for name, (size, ready, first, code) in cold.items():
        lines.append(f"| {name} | {size / 1024:.0f} KiB | {ready:.0f} ms | {first:.2f} ms | {code} |")
    lines += ["", f"Streaming 1 GiB down ({code_down}, {float(down_time):.1f} s) and 1 GiB up ({code_up}, {float(up_time):.1f} s): host RSS {rss_start / 1024:.1f} MiB at start, {rss_peak / 1024:.1f} MiB peak, {rss_end / 1024:.1f} MiB at the end.", ""]
    lines += ["What the nginx recipe gets wrong (checked against it in this run):", ""] + [f"- {w}" for w in wrong]
    if notes:
        lines += ["", "Unexpected statuses or socket errors:", ""] + [f"- {n}" for n in notes]
    versions = subprocess.run([WASMTIME, "--version"], capture_output=True, text=True).stdout.strip()
    nginx_version = subprocess.run(["nginx", "-v"], capture_output=True, text=True).stderr.strip()
    lines += ["", f"wrk -t2 -c{CONNECTIONS} -d{SECONDS}s; {versions}; {nginx_version}; {os.cpu_count()} cores; {time.strftime('%Y-%m-%d')}"]
    table = "\n".join(lines)
    (WORK / "results.md").write_text(table + "\n")
    print(table)


if __name__ == "__main__":
    main()
