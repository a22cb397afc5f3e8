//! `corsgate-soak`: a bounded soak (scripts/soak.sh). It builds the gateway with the soak
//! policies in front of a test upstream, serves it through the test kit's harness on
//! `SOAK_HOST` (`wasmtime`, the default, or `spin`), and runs
//! `SOAK_WORKERS` clients (default 4) for `SOAK_SECONDS` (default 600). Each worker sends requests of known kinds in rotation
//! (preflights allowed and rejected, GETs from allowed and disallowed origins, POSTs with 64 KiB
//! bodies, a public route, an unknown path) and checks every answer's status and
//! `Access-Control-Allow-Origin` against what that request must get. The host's memory is
//! sampled every second. Prints one summary line (also written to target/bench/soak-results.txt);
//! exits 1 on any unexpected answer or connection error.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use corsgate_testkit::client::{send, Body, Request};
use corsgate_testkit::expect::APP;
use corsgate_testkit::harness::{repo_root, work_dir, Component, Host, ServeOptions};
use corsgate_testkit::process::rss_kib;
use corsgate_testkit::upstream::TestUpstream;
use corsgate_testkit::world::write_policies;

struct Kind {
    name: &'static str,
    request: fn() -> Request,
    status: u16,
    allow_origin: Option<&'static str>,
}

fn kinds() -> Vec<Kind> {
    vec![
        Kind {
            name: "preflight allowed",
            request: || {
                Request::new("OPTIONS", "/api/x")
                    .origin(APP)
                    .header("Access-Control-Request-Method", "PUT")
                    .header(
                        "Access-Control-Request-Headers",
                        "authorization,content-type",
                    )
            },
            status: 204,
            allow_origin: Some(APP),
        },
        Kind {
            name: "preflight rejected",
            request: || {
                Request::new("OPTIONS", "/api/x")
                    .origin("https://evil.example")
                    .header("Access-Control-Request-Method", "PUT")
            },
            status: 403,
            allow_origin: None,
        },
        Kind {
            name: "GET allowed",
            request: || Request::new("GET", "/api/items?page=2").origin(APP),
            status: 200,
            allow_origin: Some(APP),
        },
        Kind {
            name: "GET disallowed origin",
            request: || Request::new("GET", "/api/items").origin("https://evil.example"),
            status: 200,
            allow_origin: None,
        },
        Kind {
            name: "POST 64 KiB",
            request: || {
                Request::new("POST", "/api/upload")
                    .origin(APP)
                    .body(Body::Pattern(64 * 1024))
            },
            status: 200,
            allow_origin: Some(APP),
        },
        Kind {
            name: "GET public",
            request: || Request::new("GET", "/public/catalog").origin("https://anyone.example"),
            status: 200,
            allow_origin: Some("*"),
        },
        Kind {
            name: "preflight public",
            request: || {
                Request::new("OPTIONS", "/public/catalog")
                    .origin("https://anyone.example")
                    .header("Access-Control-Request-Method", "GET")
                    .header("Access-Control-Request-Headers", "x-trace")
            },
            status: 204,
            allow_origin: Some("*"),
        },
        Kind {
            name: "unknown path",
            request: || Request::new("GET", "/nowhere").origin(APP),
            status: 404,
            allow_origin: None,
        },
    ]
}

/// The soak's settings, from the environment.
fn setting(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn main() {
    let seconds = setting("SOAK_SECONDS", 600);
    let workers = setting("SOAK_WORKERS", 4) as usize;
    let host = match std::env::var("SOAK_HOST").as_deref() {
        Ok("spin") => Host::Spin,
        Ok("wasmtime") | Err(_) => Host::Wasmtime,
        Ok(other) => {
            eprintln!("soak: SOAK_HOST={other:?} is not one of wasmtime, spin");
            std::process::exit(2);
        }
    };
    let upstream = TestUpstream::start();
    let dir = work_dir("soak");
    let policies = dir.join("policies");
    let files = [
        ("api.toml", "bench/policies/small.toml"),
        ("public.toml", "bench/soak/public.toml"),
    ]
    .map(|(name, file)| {
        let text = std::fs::read_to_string(repo_root().join(file)).expect("soak policy");
        (name.to_string(), text)
    });
    write_policies(
        &policies,
        &files,
        &[
            ("UPSTREAM", upstream.addr.to_string()),
            ("PREFLIGHT", "edge".to_string()),
        ],
    );
    let wasm = Component::gateway(&policies).build(&dir.join("corsgate.wasm"));
    let options = ServeOptions::default().allow_outbound([format!("http://{}", upstream.addr)]);
    let server = host.serve(&wasm, &dir, &options);
    eprintln!(
        "soak: {seconds} s, {workers} workers against {host} at {}",
        server.url("/")
    );

    let stop = Arc::new(AtomicBool::new(false));
    let sampler = {
        let (pid, stop) = (server.serving_pid(), Arc::clone(&stop));
        std::thread::spawn(move || {
            let mut samples = Vec::new();
            while !stop.load(Ordering::Relaxed) {
                samples.extend(rss_kib(pid));
                std::thread::sleep(Duration::from_secs(1));
            }
            samples
        })
    };
    let (checked, unexpected, first_problem) = soak(server.addr, seconds, workers);
    stop.store(true, Ordering::Relaxed);
    let samples = sampler.join().expect("sampler");
    let mib = |kib: Option<&u64>| kib.map_or(0.0, |k| *k as f64 / 1024.0);
    let summary = format!(
        "soak on {host}: {seconds} s, {workers} workers, {checked} answers checked ({:.0}/s), {unexpected} unexpected; host RSS start {:.1} MiB, peak {:.1} MiB, end {:.1} MiB",
        checked as f64 / seconds.max(1) as f64,
        mib(samples.first()),
        mib(samples.iter().max()),
        mib(samples.last()),
    );
    println!("{summary}");
    if let Some(problem) = &first_problem {
        println!("soak: first unexpected answer: {problem}");
    }
    let results = repo_root().join("target/bench");
    let _ = std::fs::create_dir_all(&results);
    let _ = std::fs::write(results.join("soak-results.txt"), format!("{summary}\n"));
    // Exiting skips destructors: the host is stopped first.
    drop(server);
    std::process::exit(if unexpected == 0 && checked > 0 { 0 } else { 1 });
}

/// Runs `workers` clients for `seconds`; returns the answers checked, the unexpected ones, and
/// the first of those.
fn soak(addr: SocketAddr, seconds: u64, workers: usize) -> (u64, u64, Option<String>) {
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let checked = Arc::new(AtomicU64::new(0));
    let unexpected = Arc::new(AtomicU64::new(0));
    let first_problem: Arc<Mutex<Option<String>>> = Arc::default();
    let handles: Vec<_> = (0..workers)
        .map(|w| {
            let (checked, unexpected, first_problem) = (
                Arc::clone(&checked),
                Arc::clone(&unexpected),
                Arc::clone(&first_problem),
            );
            std::thread::spawn(move || {
                let kinds = kinds();
                let mut i = w;
                while Instant::now() < deadline {
                    let kind = &kinds[i % kinds.len()];
                    i += 1;
                    let problem = check(addr, kind);
                    checked.fetch_add(1, Ordering::Relaxed);
                    if let Some(problem) = problem {
                        unexpected.fetch_add(1, Ordering::Relaxed);
                        first_problem.lock().expect("lock").get_or_insert(problem);
                    }
                }
            })
        })
        .collect();
    for handle in handles {
        handle.join().expect("worker");
    }
    let first = first_problem.lock().expect("lock").take();
    (
        checked.load(Ordering::Relaxed),
        unexpected.load(Ordering::Relaxed),
        first,
    )
}

/// Sends one request of `kind`; what was wrong with its answer, if anything.
fn check(addr: SocketAddr, kind: &Kind) -> Option<String> {
    match send(addr, &(kind.request)()) {
        Ok(r) => {
            let acao = r.head.all("access-control-allow-origin");
            let acao_ok = match kind.allow_origin {
                Some(expected) => acao == [expected.as_bytes()],
                None => acao.is_empty(),
            };
            (r.status != kind.status || !acao_ok).then(|| {
                format!(
                    "{}: status {} (want {}), allow-origin {:?}",
                    kind.name,
                    r.status,
                    kind.status,
                    acao.iter()
                        .map(|v| String::from_utf8_lossy(v))
                        .collect::<Vec<_>>()
                )
            })
        }
        Err(e) => Some(format!("{}: {e}", kind.name)),
    }
}
