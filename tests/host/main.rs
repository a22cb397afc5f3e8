//! Black-box tests of the real component on a real host with real upstreams on loopback,
//! CONTRACT.md §2 point by point, one module per theme. One gateway is started for the whole
//! binary (custom harness, so it is stopped by PID after the last test, failures included).

mod actual;
mod faults;
mod forwarding;
mod hostile;
mod logging;
mod policies;
mod preflight;
mod support;

use corsgate_testkit::cases::run_cases;
use corsgate_testkit::harness::Host;
use corsgate_testkit::world::Gateway;

fn main() {
    let cases = [
        preflight::cases(),
        actual::cases(),
        forwarding::cases(),
        faults::cases(),
        hostile::cases(),
        logging::cases(),
        policies::cases(),
    ]
    .concat();
    run_cases(
        || {
            Gateway::start(
                Host::Wasmtime,
                "host",
                ["http://127.0.0.1:1", "http://127.0.0.1:2"],
            )
        },
        cases,
    );
}
