#!/usr/bin/env python3
"""Load benchmarks of the corsgate component, side by side in one run (called by bench.sh).

Method, chosen because these 2-core machines are noisy:
- The server under test (`wasmtime serve`, nginx) runs on CPU 0; wrk and the native upstream run
  on CPU 1 (`taskset`, when there are two CPUs or more). The server's core is then the
  bottleneck, so 1 / throughput is the server's CPU time per request, and configurations
  compare by it.
- Configurations that are compared run interleaved: BENCH_ROUNDS rounds (default 3), each
  configuration once per round, and every figure is the median over the rounds.
- Each wrk run is bounded: BENCH_SECONDS seconds (default 5), BENCH_CONNECTIONS connections
  (default 8). Servers start on 127.0.0.1 with an ephemeral port and are stopped by PID when
  their run ends, and on any failure.
- Servers run without RUST_BACKTRACE, as in production: with it set, every error the host
  creates captures a backtrace, which alone costs 10-15 % of a request.

The markdown report is printed and written to target/bench/results.md.
"""

import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import time
import urllib.error
import urllib.request
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
WORK = ROOT / "target" / "bench"
SECONDS = int(os.environ.get("BENCH_SECONDS", "5"))
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "3"))
CONNECTIONS = int(os.environ.get("BENCH_CONNECTIONS", "8"))
WASMTIME = shutil.which("wasmtime") or str(Path.home() / ".cargo" / "bin" / "wasmtime")
APP = "https://app.example.com"
PINNED = (os.cpu_count() or 1) >= 2 and shutil.which("taskset") is not None
SERVER_ENV = {k: v for k, v in os.environ.items() if k not in ("RUST_BACKTRACE", "RUST_LIB_BACKTRACE")}
REUSE = ("--max-instance-reuse-count", "128")
QUIET = ("--env", "CORSGATE_ACCESS_LOG=problems")


def on_cpu(cpu, args):
    return ["taskset", "-c", str(cpu), *args] if PINNED else list(args)


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
    """`wasmtime serve` on CPU 0 and an ephemeral port; yields (process, base URL, seconds to ready)."""
    started = time.monotonic()
    log_name = re.sub(r"[^A-Za-z0-9.-]+", "-", name) + ".log"
    args = on_cpu(0, [WASMTIME, "serve", "-S", "cli", "--addr", "127.0.0.1:0", *extra, str(wasm)])
    with process(args, log_name, env=SERVER_ENV) as proc:
        def bound_port():
            text = (WORK / log_name).read_text(errors="replace")
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
    threads = "-t1" if PINNED else "-t2"
    out = subprocess.run(on_cpu(1, ["wrk", threads, f"-c{CONNECTIONS}", f"-d{SECONDS}s", "--timeout", "5s", "--latency", "-s", str(script), url]),
                         capture_output=True, text=True, timeout=SECONDS + 30, check=True).stdout

    def latency(label):
        match = re.search(rf"^\s+{label}%\s+([\d.]+)(us|ms|s)\s*$", out, re.M)
        value, unit = float(match.group(1)), match.group(2)
        return value * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]

    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    errors = re.search(r"Socket errors: (.*)", out)
    return {"rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)), "p50": latency("50"), "p99": latency("99"),
            "non2xx": int(non2xx.group(1)) if non2xx else 0, "errors": errors.group(1) if errors else ""}


class Config:
    """One thing to measure: a component (or nginx, or the upstream itself) and a request."""

    def __init__(self, label, start, path, kind, expect_non2xx=False):
        self.label, self.start, self.path, self.kind, self.expect_non2xx = label, start, path, kind, expect_non2xx
        self.runs = []

    def run(self):
        with self.start() as base:
            self.runs.append(wrk(base + self.path, self.kind))

    def median(self, key):
        return statistics.median(r[key] for r in self.runs)

    @property
    def rps(self):
        return self.median("rps")

    @property
    def spread(self):
        """Largest distance of a round from the median throughput, in percent."""
        return max(abs(r["rps"] - self.rps) for r in self.runs) / self.rps * 100

    def problems(self):
        bad = [r for r in self.runs if r["errors"] or (r["non2xx"] and not self.expect_non2xx)]
        return [f"{self.label}: {r['non2xx']} non-2xx, socket errors: {r['errors'] or 'none'}" for r in bad]


def component(wasm, extra=()):
    @contextmanager
    def start():
        with serve(wasm, wasm.stem, extra) as (_, base, _):
            yield base
    return start


def interleaved(title, configs):
    """Runs every configuration once per round, rounds in turn, so drift hits all alike."""
    for round_number in range(ROUNDS):
        for config in configs:
            config.run()
            r = config.runs[-1]
            print(f"bench: [{title} {round_number + 1}/{ROUNDS}] {config.label}: {r['rps']:.0f} req/s, "
                  f"p50 {r['p50']:.2f} ms, p99 {r['p99']:.2f} ms", file=sys.stderr)
    return configs


def table(configs, reference=None, cpu_per_request=True):
    columns = ["configuration", "req/s", "p50", "p99", "spread"] + ["server CPU per request"] * cpu_per_request
    aligns = ["---"] + ["---:"] * (len(columns) - 1)
    if reference:
        columns.append("vs reference")
        aligns.append("---")
    lines = ["| " + " | ".join(columns) + " |", "|" + "|".join(aligns) + "|"]
    for config in configs:
        cells = [config.label, f"{config.rps:,.0f}", f"{config.median('p50'):.2f} ms", f"{config.median('p99'):.2f} ms", f"±{config.spread:.0f} %"]
        if cpu_per_request:
            cells.append(f"{1e6 / config.rps:.0f} µs")
        if reference:
            ref = reference.get(config.label)
            cells.append(versus(config, ref) if ref else "")
        lines.append("| " + " | ".join(cells) + " |")
    return lines


def versus(config, ref):
    return f"{config.rps / ref.rps * 100:.0f} % of the rps, {config.median('p99') / ref.median('p99'):.2f}× the p99 of {ref.short}"


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


def nginx_recipe_mistakes(base):
    """What the usual nginx recipe gets wrong, checked against the running nginx."""
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
    return wrong


def main():
    WORK.mkdir(parents=True, exist_ok=True)
    report = []
    demo = ROOT / "target" / "release" / "corsgate-demo-api"
    up_port = free_port()
    with process(on_cpu(1, [str(demo), f"127.0.0.1:{up_port}"]), "demo-api.log"):
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
        cors = build("noop-cors", package="bench-noop", env_extra={"BENCH_MODE": "cors"})
        cors_logged = build("noop-cors-logged", package="bench-noop", env_extra={"BENCH_MODE": "cors-logged"})
        forwarder = build("forwarder", package="bench-forward", env_extra={"BENCH_UPSTREAM": upstream})

        def preflight_group(extra, suffix):
            configs = [
                Config("trivial component, 204 (the host's limit)" + suffix, component(noop, extra), "/api/x", "preflight"),
                Config("trivial component making a CORS answer's host calls" + suffix, component(cors, extra), "/api/x", "preflight"),
                Config("the same plus an access log line's host calls" + suffix, component(cors_logged, extra), "/api/x", "preflight"),
                Config("corsgate preflight, allowed" + suffix, component(small, extra), "/api/x", "preflight"),
                Config("corsgate preflight, rejected (403)" + suffix, component(small, extra), "/api/x", "rejected", expect_non2xx=True),
                Config("corsgate preflight, 100 routes × 100 origins (last route)" + suffix, component(large, extra), "/r099/x", "preflight"),
                Config("corsgate preflight, allowed, CORSGATE_ACCESS_LOG=problems" + suffix, component(small, extra + QUIET), "/api/x", "preflight"),
            ]
            limit, shaped, logged, allowed, rejected, big, quiet = configs
            limit.short, shaped.short, logged.short, allowed.short = "the limit", "the CORS-calls component", "the logged CORS-calls component", "the small policy"
            reference = {shaped.label: limit, logged.label: limit, allowed.label: limit, rejected.label: limit, big.label: allowed, quiet.label: limit}
            return interleaved("preflight" + suffix, configs), reference

        fresh, fresh_ref = preflight_group((), "")
        reused, reused_ref = preflight_group(REUSE, ", instance reuse 128")

        @contextmanager
        def direct():
            yield f"http://{upstream}"

        actual = [
            Config("demo upstream called directly", direct, "/api/x", "get"),
            Config("trivial forwarding component, GET", component(forwarder), "/api/x", "get"),
            Config("corsgate actual request, GET forwarded", component(small), "/api/x", "get"),
            Config("trivial forwarding component, GET, instance reuse 128", component(forwarder, REUSE), "/api/x", "get"),
            Config("corsgate actual request, GET, instance reuse 128", component(small, REUSE), "/api/x", "get"),
            Config("corsgate actual request, GET, CORSGATE_ACCESS_LOG=problems", component(small, QUIET), "/api/x", "get"),
        ]
        _, forward_fresh, actual_fresh, forward_reused, actual_reused, actual_quiet = actual
        forward_fresh.short = forward_reused.short = "the trivial forwarder"
        actual_ref = {actual_fresh.label: forward_fresh, actual_reused.label: forward_reused, actual_quiet.label: forward_fresh}
        interleaved("actual", actual)

        edge_configs = [
            Config("corsgate preflight, edge, upstream 50 ms away", component(small), "/api/x?delay_head_ms=50", "preflight"),
            Config("corsgate preflight, forward, upstream 50 ms away", component(forward_mode), "/api/x?delay_head_ms=50", "preflight"),
        ]
        edge, forwarded = interleaved("edge saving", edge_configs)

        # nginx with the usual recipe, on the same upstream and the same CPU as the gateway.
        nginx_prefix = WORK / "nginx"
        shutil.rmtree(nginx_prefix, ignore_errors=True)
        nginx_prefix.mkdir(parents=True)
        nginx_port = free_port()
        conf = (ROOT / "bench" / "nginx.conf").read_text().replace("{PORT}", str(nginx_port)).replace("{UPSTREAM}", upstream).replace("{PREFIX}", str(nginx_prefix))
        (nginx_prefix / "nginx.conf").write_text(conf)

        @contextmanager
        def nginx():
            with process(on_cpu(0, ["nginx", "-p", str(nginx_prefix), "-c", str(nginx_prefix / "nginx.conf")]), "nginx.log"):
                wait_until(lambda: port_open(nginx_port), "nginx")
                yield f"http://127.0.0.1:{nginx_port}"

        nginx_configs = interleaved("nginx", [Config("nginx recipe, preflight allowed", nginx, "/api/x", "preflight"),
                                              Config("nginx recipe, GET proxied", nginx, "/api/x", "get")])
        with nginx() as base:
            wrong = nginx_recipe_mistakes(base)

        # Cold start and size: spawn to first answered preflight, then one request.
        cold = {}
        for name, wasm, path in (("small", small, "/api/x"), ("large", large, "/r099/x")):
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

    def cpu(config):
        return 1e6 / config.rps

    report += ["### Preflights answered at the edge", ""] + table(fresh, fresh_ref) + [""] + table(reused, reused_ref)
    report += ["", "### Actual requests, forwarded", ""] + table(actual, actual_ref)
    report += ["", "### What users pick instead, and the edge saving", ""] + table(edge_configs + nginx_configs, cpu_per_request=False)
    report += ["", f"Edge saving: a preflight answered at the edge takes {edge.median('p50'):.2f} ms (p50) against "
               f"{forwarded.median('p50'):.2f} ms when forwarded to an upstream 50 ms away "
               f"({forwarded.median('p50') / edge.median('p50'):.0f}× faster, {edge.rps / forwarded.rps:.0f}× the throughput at {CONNECTIONS} connections)."]

    report += ["", "### Where a preflight's time goes (server CPU per request, medians)", "",
               "| step | fresh instance | instance reuse 128 |", "|---|---:|---:|"]
    steps = [("the host: accept, instantiate, call, answer `204`", None, 0),
             ("+ the host calls of any CORS answer (read 4 headers, set 6)", 0, 1),
             ("+ the host calls of an access log line (method, path, 2 clock readings, 1 stderr write)", 1, 2),
             ("+ corsgate's own work (a bigger instance, routing, the decision, building the answer)", 2, 3)]
    for text, before, after in steps:
        if before is None:
            lines = f"| {text} | {cpu(fresh[after]):.1f} µs | {cpu(reused[after]):.1f} µs |"
        else:
            lines = f"| {text} | {cpu(fresh[after]) - cpu(fresh[before]):+.1f} µs | {cpu(reused[after]) - cpu(reused[before]):+.1f} µs |"
        report.append(lines)
    report.append(f"| = corsgate's allowed preflight | {cpu(fresh[3]):.1f} µs | {cpu(reused[3]):.1f} µs |")

    limit, shaped, logged, allowed, rejected, big, quiet = fresh
    targets = [
        ("preflight throughput ≥ 90 % of the trivial component's", f"{allowed.rps / limit.rps * 100:.0f} % (reuse: {reused[3].rps / reused[0].rps * 100:.0f} %)", allowed.rps >= 0.9 * limit.rps),
        ("preflight p99 ≤ 1.2× the trivial component's", f"{allowed.median('p99') / limit.median('p99'):.2f}× (reuse: {reused[3].median('p99') / reused[0].median('p99'):.2f}×)", allowed.median("p99") <= 1.2 * limit.median("p99")),
        ("the same against a component making only the host calls of a logged CORS answer", f"{allowed.rps / logged.rps * 100:.0f} % of the rps, {allowed.median('p99') / logged.median('p99'):.2f}× the p99 (reuse: {reused[3].rps / reused[2].rps * 100:.0f} %, {reused[3].median('p99') / reused[2].median('p99'):.2f}×)", allowed.rps >= 0.9 * logged.rps and allowed.median("p99") <= 1.2 * logged.median("p99")),
        ("the same with `CORSGATE_ACCESS_LOG=problems`, against the unlogged CORS-calls component", f"{quiet.rps / shaped.rps * 100:.0f} % of the rps, {quiet.median('p99') / shaped.median('p99'):.2f}× the p99 (reuse: {reused[6].rps / reused[1].rps * 100:.0f} %, {reused[6].median('p99') / reused[1].median('p99'):.2f}×); against the trivial component: {quiet.rps / limit.rps * 100:.0f} %", quiet.rps >= 0.9 * shaped.rps and quiet.median("p99") <= 1.2 * shaped.median("p99")),
        ("actual-request throughput ≥ 95 % of the trivial forwarder's", f"{actual_fresh.rps / forward_fresh.rps * 100:.0f} % (reuse: {actual_reused.rps / forward_reused.rps * 100:.0f} %; with `CORSGATE_ACCESS_LOG=problems`: {actual_quiet.rps / forward_fresh.rps * 100:.0f} %)", actual_fresh.rps >= 0.95 * forward_fresh.rps),
        ("100 × 100 policy within 5 % of the small one", f"{big.rps / allowed.rps * 100:.0f} % (reuse: {reused[5].rps / reused[3].rps * 100:.0f} %)", big.rps >= 0.95 * allowed.rps),
        ("peak memory independent of body size", f"{rss_start / 1024:.1f} MiB at start, {rss_peak / 1024:.1f} MiB peak after 2 GiB", rss_peak - rss_start < 64 * 1024),
    ]
    report += ["", "### Targets in this run", "", "| target | measured | met |", "|---|---|---|"]
    report += [f"| {t} | {m} | {'yes' if ok else '**no**'} |" for t, m, ok in targets]

    report += ["", "### Policy size and cold start", "", "| policy | component size | spawn to first answer | first request | status |", "|---|---:|---:|---:|---|"]
    for name, (size, ready, first, code) in cold.items():
        report.append(f"| {name} | {size / 1024:.0f} KiB | {ready:.0f} ms | {first:.2f} ms | {code} |")
    report += ["", f"Streaming 1 GiB down ({code_down}, {float(down_time):.1f} s) and 1 GiB up ({code_up}, {float(up_time):.1f} s): "
               f"host RSS {rss_start / 1024:.1f} MiB at start, {rss_peak / 1024:.1f} MiB peak, {rss_end / 1024:.1f} MiB at the end.", ""]
    report += ["What the nginx recipe gets wrong (checked against it in this run):", ""] + [f"- {w}" for w in wrong]
    problems = [p for c in fresh + reused + actual + edge_configs + nginx_configs for p in c.problems()]
    if problems:
        report += ["", "Unexpected statuses or socket errors:", ""] + [f"- {p}" for p in problems]
    versions = subprocess.run([WASMTIME, "--version"], capture_output=True, text=True).stdout.strip()
    nginx_version = subprocess.run(["nginx", "-v"], capture_output=True, text=True).stderr.strip()
    placement = "server on CPU 0, wrk and upstream on CPU 1" if PINNED else "unpinned"
    rustc = subprocess.run(["rustc", "--version"], capture_output=True, text=True).stdout.split(" (")[0]
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines() if line.startswith("model name")), "unknown CPU")
    report += ["", f"wrk -t{1 if PINNED else 2} -c{CONNECTIONS} -d{SECONDS}s, {ROUNDS} interleaved rounds, medians; {placement}; "
               f"{versions}; {rustc}; {nginx_version}; {cpu}, {os.cpu_count()} cores; {time.strftime('%Y-%m-%d')}"]
    text = "\n".join(report)
    (WORK / "results.md").write_text(text + "\n")
    print(text)


if __name__ == "__main__":
    main()
