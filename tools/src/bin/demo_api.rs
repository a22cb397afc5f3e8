//! The demo API behind the shipped policies: the test upstream on a fixed loopback port.
//! `corsgate-demo-api [ADDR...]` (default 127.0.0.1:8081); it answers with a JSON echo of each
//! request, and the query options of `corsgate_testkit::upstream`.

use corsgate_testkit::upstream::TestUpstream;

fn main() {
    let addrs: Vec<String> = std::env::args().skip(1).collect();
    let addrs = if addrs.is_empty() {
        vec!["127.0.0.1:8081".to_string()]
    } else {
        addrs
    };
    let servers: Vec<TestUpstream> = addrs.iter().map(|a| TestUpstream::start_on(a)).collect();
    for server in &servers {
        eprintln!("demo API listening on http://{}", server.addr);
    }
    loop {
        std::thread::park();
    }
}
