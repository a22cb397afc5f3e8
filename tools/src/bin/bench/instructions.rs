//! Instructions per request, counted by callgrind (valgrind): the prebuilt gateway against the
//! compiled-in one on `wasmtime serve`, a comparison this machine's noise does not move.
//! Throughput here moves 10 to 20 % from round to round, so a question of one point takes
//! dozens of rounds; a count of instructions comes out the same to 0.1 % run after run.
//!
//! It counts work, not time: no cache miss and no thread switch is in it (Spin 4.1 sends each
//! file-system call to another thread: that cost is in the timed figures only), and valgrind
//! counts a `rep stos` once per byte, so the host zeroing a read's buffer weighs more here than
//! it takes. Spin 4.1 is not counted here: its binary is stripped and its thread pools' work
//! moves with valgrind's slowness, so its counts are indicative only (BENCHMARKS.md).
//!
//! Method: the component compiled ahead of time for a baseline x86-64 (code compiled for this
//! CPU's newer instructions does not load under valgrind's CPU); `wasmtime serve` under
//! callgrind; [`WARMUP`] requests on one kept-alive connection, the counters zeroed
//! (`callgrind_control -z`), [`COUNTED`] requests, the counters dumped (`callgrind_control -d`).

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use corsgate_testkit::harness::{wasmtime, ServeOptions, Target as Serving};

use crate::wrk::Load;

/// Requests before the count: the first instances' compilation-free start-up and the
/// connection's, left out.
const WARMUP: usize = 256;

/// Requests counted: a multiple of the 128 requests `wasmtime serve` gives an instance, so
/// every count holds the same number of instances' first requests (10), wherever it starts.
const COUNTED: usize = 1280;

/// The instructions per request of `wasm` served as `serving` (on `wasmtime serve`) under
/// callgrind with `options`, repeating `load` to `path`; the files go to `dir`.
pub(crate) fn per_request(
    dir: &Path,
    serving: Serving,
    wasm: &Path,
    options: ServeOptions,
    load: Load,
    path: &str,
) -> f64 {
    std::fs::create_dir_all(dir).expect("create the count's folder");
    let precompiled = dir.join("component.cwasm");
    run(Command::new(wasmtime())
        .args(["compile", "--target", "x86_64-unknown-linux-gnu"])
        .args(["-W", "component-model-async"])
        .arg(wasm)
        .arg("-o")
        .arg(&precompiled));

    let counts = dir.join("callgrind.out");
    let options = options
        .under(&[
            "valgrind",
            "--tool=callgrind",
            &format!("--callgrind-out-file={}", counts.display()),
        ])
        .host_args(&["--allow-precompiled"]);
    let server = serving.serve(&precompiled, dir, &options);

    let request = load.http1(path);
    let mut connection = Connection::open(server.addr);
    connection.repeat(&request, WARMUP);
    run(Command::new("callgrind_control")
        .arg("-z")
        .arg(server.pid().to_string()));
    connection.repeat(&request, COUNTED);
    run(Command::new("callgrind_control")
        .arg("-d")
        .arg(server.pid().to_string()));
    // The first dump after the start is written to `<file>.1`.
    let dump = dir.join("callgrind.out.1");
    summary(&std::fs::read_to_string(&dump).expect("read callgrind's dump")) as f64 / COUNTED as f64
}

/// The `summary:` line of a callgrind dump: the instructions it counted.
fn summary(dump: &str) -> u64 {
    dump.lines()
        .find_map(|line| line.strip_prefix("summary: "))
        .and_then(|count| count.trim().parse().ok())
        .expect("a callgrind dump has a summary line")
}

fn run(command: &mut Command) {
    let output = command
        .stdin(Stdio::null())
        .output()
        .expect("run a valgrind or wasmtime tool");
    assert!(
        output.status.success(),
        "{command:?} failed:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
}

/// One kept-alive HTTP/1.1 connection.
struct Connection {
    reader: BufReader<TcpStream>,
}

impl Connection {
    fn open(addr: SocketAddr) -> Connection {
        let stream = TcpStream::connect(addr).expect("connect to the host");
        stream
            .set_read_timeout(Some(Duration::from_secs(60)))
            .expect("set a read timeout");
        Connection {
            reader: BufReader::new(stream),
        }
    }

    /// Sends `request` `times` times, one after the other, each answered `204` (an edge
    /// preflight granted: a count of anything else would not be the one asked for).
    fn repeat(&mut self, request: &str, times: usize) {
        for _ in 0..times {
            self.reader
                .get_mut()
                .write_all(request.as_bytes())
                .expect("send a request");
            let status = self.read_response();
            assert_eq!(status, 204, "an edge preflight granted");
        }
    }

    /// Reads one response, its body included; returns its status.
    fn read_response(&mut self) -> u16 {
        let mut line = String::new();
        self.reader
            .read_line(&mut line)
            .expect("read a status line");
        let status = line
            .split(' ')
            .nth(1)
            .and_then(|code| code.parse().ok())
            .unwrap_or_else(|| panic!("not an HTTP status line: {line:?}"));
        let mut length = 0;
        loop {
            line.clear();
            self.reader.read_line(&mut line).expect("read a header");
            if line == "\r\n" || line.is_empty() {
                break;
            }
            if let Some((name, value)) = line.split_once(':') {
                if name.eq_ignore_ascii_case("content-length") {
                    length = value.trim().parse().expect("a content length");
                }
            }
        }
        let mut body = vec![0; length];
        self.reader.read_exact(&mut body).expect("read a body");
        status
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_dump_is_read_by_its_summary_line() {
        let cases = [
            (
                "events: Ir\nsummary: 181672049\ntotals: 181672300\n",
                181_672_049,
            ),
            ("# callgrind format\nversion: 1\nsummary: 7\n", 7),
        ];
        for (dump, instructions) in cases {
            assert_eq!(summary(dump), instructions, "{dump}");
        }
    }
}
