//! `corsgate-soak ADDR SECONDS [WORKERS]`: a bounded soak against a running gateway built with
//! the soak policies (scripts/soak.sh). Each worker sends requests of known kinds in rotation
//! (preflights allowed and rejected, GETs from allowed and disallowed origins, POSTs with 64 KiB
//! bodies, a public route, an unknown path) and checks every answer's status and
//! `Access-Control-Allow-Origin` against what that request must get. Prints one summary line;
//! exits 1 on any unexpected answer or connection error.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use corsgate_testkit::client::{send, Body, Request};

const APP: &str = "https://app.example.com";

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

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (Some(addr), Some(seconds)) = (
        args.first().and_then(|a| a.parse::<SocketAddr>().ok()),
        args.get(1).and_then(|s| s.parse::<u64>().ok()),
    ) else {
        eprintln!("usage: corsgate-soak ADDR SECONDS [WORKERS]");
        std::process::exit(2);
    };
    let workers: usize = args.get(2).and_then(|w| w.parse().ok()).unwrap_or(4);
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
                    let problem = match send(addr, &(kind.request)()) {
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
                    };
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
    let (checked, unexpected) = (
        checked.load(Ordering::Relaxed),
        unexpected.load(Ordering::Relaxed),
    );
    println!("SOAK checked={checked} unexpected={unexpected} seconds={seconds} workers={workers}");
    if let Some(problem) = first_problem.lock().expect("lock").as_ref() {
        println!("SOAK first_unexpected={problem}");
    }
    std::process::exit(if unexpected == 0 && checked > 0 { 0 } else { 1 });
}
