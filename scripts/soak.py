#!/usr/bin/env python3
"""The soak of scripts/soak.sh: builds the gateway with the soak policies, runs the
corsgate-soak client for SOAK_SECONDS against it, samples the host's RSS every second, and
exits non-zero on any unexpected answer."""

import os
import re
import subprocess
import sys
import threading

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(__file__))
from bench import ROOT, WORK, build, free_port, port_open, process, serve, vm_kib, wait_until, write_policies  # noqa: E402

SECONDS = int(os.environ.get("SOAK_SECONDS", "600"))
WORKERS = int(os.environ.get("SOAK_WORKERS", "4"))


def main():
    WORK.mkdir(parents=True, exist_ok=True)
    up_port = free_port()
    with process([str(ROOT / "target" / "release" / "corsgate-demo-api"), f"127.0.0.1:{up_port}"], "soak-demo-api.log"):
        wait_until(lambda: port_open(up_port), "demo API")
        upstream = f"127.0.0.1:{up_port}"
        api = (ROOT / "bench" / "policies" / "small.toml").read_text().replace("{UPSTREAM}", upstream).replace("{PREFLIGHT}", "edge")
        public = (ROOT / "bench" / "soak" / "public.toml").read_text().replace("{UPSTREAM}", upstream)
        wasm = build("corsgate-soak", policies=write_policies("soak", {"api.toml": api, "public.toml": public}))
        with serve(wasm, "soak") as (proc, base, _):
            samples, stop = [], threading.Event()

            def sample():
                while not stop.is_set():
                    samples.append(vm_kib(proc.pid, "VmRSS"))
                    stop.wait(1.0)

            sampler = threading.Thread(target=sample)
            sampler.start()
            result = subprocess.run([str(ROOT / "target" / "release" / "corsgate-soak"), base.removeprefix("http://"), str(SECONDS), str(WORKERS)],
                                    capture_output=True, text=True, timeout=SECONDS + 120)
            stop.set()
            sampler.join()
    out = result.stdout
    checked = int(re.search(r"checked=(\d+)", out).group(1))
    unexpected = int(re.search(r"unexpected=(\d+)", out).group(1))
    summary = (f"soak: {SECONDS} s, {WORKERS} workers, {checked} answers checked ({checked / SECONDS:.0f}/s), "
               f"{unexpected} unexpected; host RSS start {samples[0] / 1024:.1f} MiB, peak {max(samples) / 1024:.1f} MiB, "
               f"end {samples[-1] / 1024:.1f} MiB")
    print(summary)
    problem = re.search(r"first_unexpected=(.*)", out)
    if problem:
        print("soak: first unexpected answer:", problem.group(1))
    (WORK / "soak-results.txt").write_text(summary + "\n")
    sys.exit(result.returncode)


if __name__ == "__main__":
    main()
