//! `BENCH_ONLY=audit`: `corsgate audit` on generated gateway logs of growing size, its CPU time
//! and peak memory, to show it reads at least 100 MB/s on one core with memory flat as the log
//! grows. The lines are the engine's own: each is a request planned against the shipped
//! policies and written by the gateway's log writer, so the audit parses what a gateway writes.

use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use corsgate_core::access_log::LogFormat;
use corsgate_core::exchange::{BodyRelayed, ClientConnection, ClientScheme};
use corsgate_core::forwarding::ClientAddress;
use corsgate_core::{plan, CorsRequest, Exchange, Plan, RequestHead, RouteTable};
use corsgate_testkit::harness::{on_cpu, repo_root};
use corsgate_testkit::rng::Rng;

use crate::settings::Settings;

const MIB: u64 = 1 << 20;

/// The logs audited: (size, format).
const LOGS: [(u64, LogFormat); 4] = [
    (256 * MIB, LogFormat::Logfmt),
    (512 * MIB, LogFormat::Logfmt),
    (1024 * MIB, LogFormat::Logfmt),
    (1024 * MIB, LogFormat::Json),
];

/// The figures section for BENCHMARKS.md.
pub(crate) fn figures(settings: &Settings, work: &Path) -> Vec<String> {
    let policies = repo_root().join("policies");
    let table_of_policies =
        corsgate_core::config::load_route_table(&policies).expect("the shipped policies");
    let cli = repo_root().join("target/release/corsgate");
    assert!(cli.exists(), "scripts/bench.sh builds {}", cli.display());
    let logs: Vec<(PathBuf, u64, LogFormat)> = LOGS
        .iter()
        .map(|&(size, format)| {
            let path = work.join(format!("audit-{}-{}.log", size / MIB, name(format)));
            eprintln!("bench: writing {}", path.display());
            let lines = write_log(&path, size, format, &table_of_policies);
            (path, lines, format)
        })
        .collect();
    // The largest logfmt log again, gzip-compressed: what rotated logs usually are.
    let (plain, lines, format) = logs[2].clone();
    let compressed = plain.with_extension("log.gz");
    eprintln!("bench: writing {}", compressed.display());
    gzip(&plain, &compressed);
    let mut logs = logs;
    logs.push((compressed, lines, format));
    let mut runs: Vec<Vec<(Duration, u64)>> = vec![Vec::new(); logs.len()];
    for round in 0..settings.rounds {
        for (i, (path, _, _)) in logs.iter().enumerate() {
            eprintln!("bench: audit round {round}: {}", path.display());
            runs[i].push(audit(settings, &cli, path, &policies, work));
        }
    }
    let rows: Vec<Vec<String>> = logs
        .iter()
        .zip(&runs)
        .map(|((path, lines, format), runs)| {
            // Throughput counts the log's own bytes: a gzipped log's once decompressed.
            let gzipped = path.extension().is_some_and(|x| x == "gz");
            let plain = if gzipped {
                path.with_extension("")
            } else {
                path.clone()
            };
            let size = std::fs::metadata(plain).map_or(0, |m| m.len());
            let mut times: Vec<Duration> = runs.iter().map(|(t, _)| *t).collect();
            times.sort();
            let time = times[times.len() / 2];
            let peak = runs.iter().map(|(_, kib)| *kib).max().unwrap_or(0);
            vec![
                format!(
                    "{} MiB, {}{}",
                    size / MIB,
                    name(*format),
                    if gzipped {
                        format!(
                            ", gzip ({} MiB on disk)",
                            std::fs::metadata(path).map_or(0, |m| m.len()) / MIB
                        )
                    } else {
                        String::new()
                    }
                ),
                format!("{lines}"),
                format!("{:.2} s", time.as_secs_f64()),
                format!("{:.0} MB/s", size as f64 / 1e6 / time.as_secs_f64()),
                format!("{:.2} M lines/s", *lines as f64 / 1e6 / time.as_secs_f64()),
                format!("{:.1} MiB", peak as f64 / 1024.0),
            ]
        })
        .collect();
    let mut out = vec![
        "### Auditing a log\n".to_string(),
        "| log | lines | CPU time (median) | throughput per CPU second | lines per CPU second | peak RSS |".to_string(),
        "|---|---:|---:|---:|---:|---:|".to_string(),
    ];
    out.extend(rows.iter().map(|row| format!("| {} |", row.join(" | "))));
    out
}

fn gzip(from: &Path, to: &Path) {
    let mut input = std::fs::File::open(from).expect("open the log");
    let output = BufWriter::new(std::fs::File::create(to).expect("create the gzip log"));
    let mut encoder = flate2::write::GzEncoder::new(output, flate2::Compression::fast());
    std::io::copy(&mut input, &mut encoder).expect("gzip the log");
    encoder.finish().expect("gzip the log");
}

fn name(format: LogFormat) -> &'static str {
    match format {
        LogFormat::Logfmt => "logfmt",
        LogFormat::Json => "json",
    }
}

/// One audit of `log`, pinned to the server CPU: its CPU time (user and system) and peak
/// resident memory, as GNU time reports them from the kernel's accounting. CPU time rather than
/// wall time: the figure is what one core must spend, whatever else the machine runs.
fn audit(
    settings: &Settings,
    cli: &Path,
    log: &Path,
    policies: &Path,
    work: &Path,
) -> (Duration, u64) {
    let report = work.join("audit-time.txt");
    let status = on_cpu(settings.server_cpu(), "/usr/bin/time")
        .args(["-f", "%U %S %M", "-o"])
        .arg(&report)
        .arg(cli)
        .arg("audit")
        .arg(log)
        .arg("--policies")
        .arg(policies)
        .args(["--format", "json"])
        .stdout(Stdio::null())
        .status()
        .expect("run corsgate audit under /usr/bin/time (apt-get install time)");
    assert!(status.success(), "corsgate audit {} failed", log.display());
    let text = std::fs::read_to_string(&report).expect("GNU time's report");
    let fields: Vec<f64> = text
        .split_whitespace()
        .filter_map(|f| f.parse().ok())
        .collect();
    let [user, system, max_rss_kib] = fields[..] else {
        panic!("GNU time's report: {text:?}");
    };
    (Duration::from_secs_f64(user + system), max_rss_kib as u64)
}

/// Writes about `size` bytes of gateway lines in `format` to `path`, with some of the host's
/// own output between them; returns how many lines. A week of traffic: per 100 requests, 55
/// allowed preflights, 25 forwarded CORS GETs (a third with a cookie), 10 refused preflights
/// (a few near misses among them), 5 requests without `Origin`, 3 with no route, and 2 lines
/// of the host's own.
fn write_log(path: &Path, size: u64, format: LogFormat, table: &RouteTable) -> u64 {
    let file = std::fs::File::create(path).expect("create the log");
    let mut out = BufWriter::with_capacity(1 << 20, file);
    let mut rng = Rng::new(size ^ 0x5eed);
    let allowed = [
        "https://app.example.com",
        "https://pr-12.preview.example.com",
        "https://pr-31.preview.example.com",
        "http://localhost:5173",
    ];
    let refused = [
        "http://app.example.com",
        "https://www.app.example.com",
        "https://evil.example",
        "https://app.example.com.attacker.example",
    ];
    let paths = ["/users/42", "/users/7/orders", "/catalog/items", "/health"];
    let mut written = 0;
    let mut lines = 0;
    let mut now_ms: u64 = 1_796_000_000_000;
    while written < size {
        now_ms += rng.below(300) as u64;
        let roll = rng.below(100);
        let text = if roll < 2 {
            format!(
                "stderr [{}] :: note from the host, not the gateway",
                rng.below(1000)
            )
        } else {
            let (method, origin, request_method): (&[u8], Option<&str>, Option<&[u8]>) = match roll
            {
                2..=56 => (b"OPTIONS", Some(rng.pick(&allowed)), Some(b"PUT")),
                57..=81 => (b"GET", Some(rng.pick(&allowed)), None),
                82..=91 => (b"OPTIONS", Some(rng.pick(&refused)), Some(b"DELETE")),
                92..=96 => (b"GET", None, None),
                _ => (b"GET", None, None),
            };
            let path = if roll >= 97 {
                "/nowhere"
            } else {
                rng.pick(&paths)
            };
            let origin_lines: Vec<&[u8]> = origin.map(str::as_bytes).into_iter().collect();
            let method_lines: Vec<&[u8]> = request_method.into_iter().collect();
            let header_lines: Vec<&[u8]> = if request_method.is_some() {
                vec![b"content-type"]
            } else {
                Vec::new()
            };
            let head = RequestHead {
                path_and_query: path,
                cors: CorsRequest {
                    method,
                    origin: &origin_lines,
                    request_method: &method_lines,
                    request_headers: &header_lines,
                    ..CorsRequest::default()
                },
            };
            let cookie = rng.below(3) == 0;
            let line = match plan(table, &head) {
                Plan::Answer(answer) => answer.log_line(&head, 60 + rng.below(200) as u64),
                Plan::Forward(forward) => {
                    let exchange = Exchange::new(forward, head);
                    let client: Vec<(&str, &[u8])> = if cookie {
                        vec![("cookie", b"sid=1")]
                    } else {
                        Vec::new()
                    };
                    let _ = exchange.upstream_request(
                        &client,
                        ClientConnection {
                            scheme: ClientScheme::Https,
                            authority: None,
                            address: ClientAddress::Unknown,
                        },
                    );
                    exchange.respond(200, &[] as &[(&str, &[u8])]).finish(
                        Some(BodyRelayed {
                            bytes: 300 + rng.below(3000) as u64,
                            broke_off: None,
                        }),
                        400 + rng.below(2000) as u64,
                    )
                }
            };
            format.write(&line, Some(now_ms))
        };
        out.write_all(text.as_bytes()).expect("write the log");
        out.write_all(b"\n").expect("write the log");
        written += text.len() as u64 + 1;
        lines += 1;
    }
    out.flush().expect("write the log");
    lines
}
