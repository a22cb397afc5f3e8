//! Black-box tests of the real component on real hosts with real upstreams on loopback,
//! CONTRACT.md §2 point by point, one module per theme. Every case runs against each gateway
//! artifact on each host that runs it: the WASIp2 gateway on `wasmtime serve` and on `spin up`
//! 3.6 (`wasmtime::…`, `spin::…`), the WASIp3 gateway on `wasmtime serve` and on Spin 4.1
//! (`p3-wasmtime::…`, `p3-spin4::…`). One gateway per target for the whole binary (custom
//! harness, so it is stopped by PID after the last test, failures included).

mod actual;
mod concurrency;
mod faults;
mod forwarding;
mod hostile;
mod hosts;
mod logging;
mod policies;
mod preflight;
mod rollout;
mod support;

use corsgate_testkit::cases::run_on_targets;
use corsgate_testkit::harness::Target;
use corsgate_testkit::world::Gateway;

fn main() {
    let cases = [
        preflight::cases(),
        actual::cases(),
        forwarding::cases(),
        faults::cases(),
        hostile::cases(),
        logging::cases(),
        hosts::cases(),
        rollout::cases(),
        concurrency::cases(),
    ]
    .concat();
    run_on_targets(
        |target: Target| {
            Gateway::start(target, "host", ["http://127.0.0.1:1", "http://127.0.0.1:2"])
        },
        cases,
        policies::cases(),
    );
}
