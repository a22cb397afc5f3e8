//! `corsgate-bench`: load benchmarks of the corsgate component, side by side in one run
//! (scripts/bench.sh runs it; it writes target/bench/results.md and prints the same).
//!
//! Method, chosen because these 2-core machines are noisy:
//! - The server under test (the host, nginx) runs on CPU 0; wrk and the upstream run on CPU 1.
//!   The server's core is then the bottleneck, so 1 / throughput is the server's CPU time per
//!   request, and configurations compare by it.
//! - Configurations that are compared run interleaved: `BENCH_ROUNDS` rounds, each
//!   configuration once per round (in reverse order every other round), and every figure is
//!   the median over the rounds.
//! - Each wrk run is bounded: `BENCH_SECONDS` seconds, `BENCH_CONNECTIONS` connections.
//!   Components are built and served through the test kit's harness, on 127.0.0.1 with an
//!   ephemeral port, and stopped by PID when their run ends, and on any failure.

mod audit;
mod baseline;
mod chart;
mod instructions;
mod live;
mod p3;
mod prebuilt;
mod report;
mod settings;
mod wrk;

use std::collections::HashMap;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::rc::Rc;
use std::time::{Duration, Instant};

use corsgate_testkit::client::{send, send_streaming, Body, Request};
use corsgate_testkit::expect::APP;
use corsgate_testkit::harness::{
    on_cpu, repo_root, Component, Host, ServeOptions, Target as Serving,
};
use corsgate_testkit::process::{peak_rss_kib, rss_kib, wait_for_port, ChildGuard};
use corsgate_testkit::world::write_policies;

use crate::report::{percent, problems_section, table, versus};
use crate::settings::{Only, Settings};
use crate::wrk::{interleaved, served, Config, Load, Target};

const REUSE: &[&str] = &["--max-instance-reuse-count", "128"];
const GIB: u64 = 1 << 30;
/// Log only problems: the configurations that show what the access log line costs.
const QUIET: &[(&str, &str)] = &[("CORSGATE_ACCESS_LOG", "problems")];

fn main() {
    let settings = Rc::new(Settings::from_env());
    let work = repo_root().join("target/bench");
    std::fs::create_dir_all(&work).expect("create target/bench");
    if settings.only == Only::Audit {
        let figures = audit::figures(&settings, &work);
        write_only(&settings, &work, "results-audit.md", &figures);
        return;
    }
    let (demo, upstream) = start_demo_api(&settings);
    if let Some(checkout) = &settings.baseline {
        let figures = baseline::figures(&settings, &work, &upstream, checkout);
        write_only(&settings, &work, "results-baseline.md", &figures);
        return;
    }
    if settings.only == Only::Prebuilt {
        let figures = prebuilt::figures(&settings, &work, &upstream);
        write_only(&settings, &work, "results-prebuilt.md", &figures);
        return;
    }
    if settings.only == Only::Live {
        let figures = live::figures(&settings, &work, &upstream);
        write_only(&settings, &work, "results-live.md", &figures);
        return;
    }

    eprintln!("bench: building components");
    let components = Components::build(&work, &upstream);
    let nginx = nginx_starter(&work, &upstream, &settings);
    let wasip3 = p3::figures(&settings, &work, &upstream, &components.small, &nginx);
    if settings.only == Only::P3 {
        write_only(&settings, &work, "results-p3.md", &wasip3);
        return;
    }

    let bench = Bench {
        settings: &settings,
        work: &work,
        upstream: &upstream,
    };
    let fresh = bench.preflights(&components, &[], "");
    let reused = bench.preflights(&components, REUSE, ", instance reuse 128");
    let actual = bench.actual_requests(&components);
    let mut alternatives = bench.edge_saving(&components);
    alternatives.extend(bench.nginx_recipe(&nginx));
    let wrong = nginx_recipe_mistakes(&nginx());
    let cold = cold_starts(&settings, &work, &components);
    let hosts = bench.hosts_side_by_side(&components);
    let streaming = bench.streaming(&components.small);
    drop(demo);
    write_chart(&work, &hosts, &alternatives);

    let mut out = wasip3;
    out.extend(hosts_section(&hosts, &streaming));
    out.extend(preflights_section(&fresh, &reused));
    out.extend(actual_section(&actual));
    out.extend(alternatives_section(&alternatives, settings.connections));
    out.extend(steps(&fresh, &reused));
    let wasmtime_streaming = &streaming[0].1;
    out.extend(targets(&fresh, &reused, &actual, wasmtime_streaming));
    out.extend(cold_start_section(&cold));
    out.extend(nginx_mistakes_section(&wrong));
    out.extend(problems_section(&[
        &fresh,
        &reused,
        &actual,
        &hosts,
        &alternatives,
    ]));
    out.push(String::new());
    out.push(footer(&settings));
    let text = out.join("\n");
    std::fs::write(work.join("results.md"), format!("{text}\n")).expect("write results.md");
    println!("{text}");
}

/// The upstream: the demo API on the client CPU, and its address.
fn start_demo_api(settings: &Settings) -> (ChildGuard, String) {
    let demo_api = std::env::current_exe()
        .expect("own path")
        .with_file_name("corsgate-demo-api");
    let upstream_port = corsgate_testkit::process::free_port();
    let upstream = format!("127.0.0.1:{upstream_port}");
    let mut demo = ChildGuard::new(
        "corsgate-demo-api",
        on_cpu(settings.client_cpu(), &demo_api)
            .arg(&upstream)
            .spawn()
            .expect("start corsgate-demo-api (scripts/bench.sh builds it)"),
    );
    wait_for_port(
        upstream.parse().expect("address"),
        Duration::from_secs(10),
        &mut demo,
    );
    (demo, upstream)
}

/// One part of the figures (`BENCH_ONLY`, `BENCH_BASELINE`) and the footer, in
/// `work/<file>` and on stdout.
fn write_only(settings: &Settings, work: &Path, file: &str, figures: &[String]) {
    let text = format!("{}\n\n{}\n", figures.join("\n"), footer(settings));
    std::fs::write(work.join(file), &text).unwrap_or_else(|e| panic!("write {file}: {e}"));
    print!("{text}");
}

/// The WASIp2 components measured: corsgate under three policies, and the references.
struct Components {
    small: PathBuf,
    forward_mode: PathBuf,
    large: PathBuf,
    noop: PathBuf,
    cors: PathBuf,
    cors_logged: PathBuf,
    forwarder: PathBuf,
}

impl Components {
    fn build(work: &Path, upstream: &str) -> Components {
        let small_text = std::fs::read_to_string(repo_root().join("bench/policies/small.toml"))
            .expect("bench/policies/small.toml")
            .replace("{UPSTREAM}", upstream);
        let with_mode = |mode: &str| {
            vec![(
                "api.toml".to_string(),
                small_text.replace("{PREFLIGHT}", mode),
            )]
        };
        Components {
            small: gateway(work, "corsgate-small", with_mode("edge")),
            forward_mode: gateway(work, "corsgate-forward-mode", with_mode("forward")),
            large: gateway(work, "corsgate-large", large_policy(&small_text)),
            noop: reference(work, "noop", "bench-noop", &[]),
            cors: reference(work, "noop-cors", "bench-noop", &[("BENCH_MODE", "cors")]),
            cors_logged: reference(
                work,
                "noop-cors-logged",
                "bench-noop",
                &[("BENCH_MODE", "cors-logged")],
            ),
            forwarder: reference(
                work,
                "forwarder",
                "bench-forward",
                &[("BENCH_UPSTREAM", upstream)],
            ),
        }
    }
}

/// The gateway built with `files` as its policies, as `work/<name>.wasm`.
fn gateway(work: &Path, name: &str, files: Vec<(String, String)>) -> PathBuf {
    let policies = work.join("policies").join(name);
    write_policies(&policies, &files, &[]);
    Component::gateway(&policies).build(&work.join(format!("{name}.wasm")))
}

/// A reference component built from `package` with `env`, as `work/<name>.wasm`.
fn reference(work: &Path, name: &str, package: &'static str, env: &[(&str, &str)]) -> PathBuf {
    let component = env
        .iter()
        .fold(Component::package(package), |c, (k, v)| c.env(k, v));
    component.build(&work.join(format!("{name}.wasm")))
}

/// What every WASIp2 measurement shares: the settings, the work folder, the upstream.
struct Bench<'a> {
    settings: &'a Settings,
    work: &'a Path,
    upstream: &'a str,
}

impl Bench<'_> {
    /// Each host under its default settings, the upstream allowed (Spin enforces it).
    fn serve_options(&self, host_args: &[&str], env: &[(&str, &str)]) -> ServeOptions {
        env.iter().fold(
            ServeOptions::default()
                .host_args(host_args)
                .cpu(self.settings.server_cpu())
                .allow_outbound([format!("http://{}", self.upstream)]),
            |o, (k, v)| o.env(k, v),
        )
    }

    fn component_on(
        &self,
        host: Host,
        wasm: &Path,
        host_args: &[&str],
        env: &[(&str, &str)],
    ) -> impl Fn() -> Target + 'static {
        served(
            self.work,
            "",
            Serving::p2(host),
            wasm,
            self.serve_options(host_args, env),
        )
    }

    fn component(
        &self,
        wasm: &Path,
        host_args: &[&str],
        env: &[(&str, &str)],
    ) -> impl Fn() -> Target + 'static {
        self.component_on(Host::Wasmtime, wasm, host_args, env)
    }

    fn interleaved(&self, title: &str, configs: &mut [Config]) {
        interleaved(self.settings, self.work, title, configs);
    }

    /// Edge preflights against the reference components, on fresh instances or with
    /// `host_args` (instance reuse); `preflight_reference` relies on this order.
    fn preflights(&self, c: &Components, host_args: &[&str], suffix: &str) -> Vec<Config> {
        let mut configs = vec![
            Config::new(
                format!("trivial component, 204 (the host's limit){suffix}"),
                self.component(&c.noop, host_args, &[]),
                "/api/x",
                Load::Preflight,
            )
            .short("the limit"),
            Config::new(
                format!("trivial component making a CORS answer's host calls{suffix}"),
                self.component(&c.cors, host_args, &[]),
                "/api/x",
                Load::Preflight,
            )
            .short("the CORS-calls component"),
            Config::new(
                format!("the same plus an access log line's host calls{suffix}"),
                self.component(&c.cors_logged, host_args, &[]),
                "/api/x",
                Load::Preflight,
            )
            .short("the logged CORS-calls component"),
            Config::new(
                format!("corsgate preflight, allowed{suffix}"),
                self.component(&c.small, host_args, &[]),
                "/api/x",
                Load::Preflight,
            )
            .short("the small policy"),
            Config::new(
                format!("corsgate preflight, rejected (403){suffix}"),
                self.component(&c.small, host_args, &[]),
                "/api/x",
                Load::Rejected,
            ),
            Config::new(
                format!("corsgate preflight, 100 routes × 100 origins (last route){suffix}"),
                self.component(&c.large, host_args, &[]),
                "/r099/x",
                Load::Preflight,
            ),
            Config::new(
                format!("corsgate preflight, allowed, CORSGATE_ACCESS_LOG=problems{suffix}"),
                self.component(&c.small, host_args, QUIET),
                "/api/x",
                Load::Preflight,
            ),
        ];
        self.interleaved(&format!("preflight{suffix}"), &mut configs);
        configs
    }

    /// Actual requests, forwarded: the upstream alone, the trivial forwarder and corsgate;
    /// `actual_reference` relies on this order.
    fn actual_requests(&self, c: &Components) -> Vec<Config> {
        let direct_base = format!("http://{}", self.upstream);
        let mut actual = vec![
            Config::new(
                "demo upstream called directly",
                move || Target {
                    base: direct_base.clone(),
                    _alive: Box::new(()),
                },
                "/api/x",
                Load::Get,
            ),
            Config::new(
                "trivial forwarding component, GET",
                self.component(&c.forwarder, &[], &[]),
                "/api/x",
                Load::Get,
            )
            .short("the trivial forwarder"),
            Config::new(
                "corsgate actual request, GET forwarded",
                self.component(&c.small, &[], &[]),
                "/api/x",
                Load::Get,
            ),
            Config::new(
                "trivial forwarding component, GET, instance reuse 128",
                self.component(&c.forwarder, REUSE, &[]),
                "/api/x",
                Load::Get,
            )
            .short("the trivial forwarder"),
            Config::new(
                "corsgate actual request, GET, instance reuse 128",
                self.component(&c.small, REUSE, &[]),
                "/api/x",
                Load::Get,
            ),
            Config::new(
                "corsgate actual request, GET, CORSGATE_ACCESS_LOG=problems",
                self.component(&c.small, &[], QUIET),
                "/api/x",
                Load::Get,
            ),
        ];
        self.interleaved("actual", &mut actual);
        actual
    }

    /// The edge saving: the same preflight answered at the edge and forwarded to an upstream
    /// 50 ms away (`alternatives_section` relies on this order).
    fn edge_saving(&self, c: &Components) -> Vec<Config> {
        let mut edge = vec![
            Config::new(
                "corsgate preflight, edge, upstream 50 ms away",
                self.component(&c.small, &[], &[]),
                "/api/x?delay_head_ms=50",
                Load::Preflight,
            ),
            Config::new(
                "corsgate preflight, forward, upstream 50 ms away",
                self.component(&c.forward_mode, &[], &[]),
                "/api/x?delay_head_ms=50",
                Load::Preflight,
            ),
        ];
        self.interleaved("edge saving", &mut edge);
        edge
    }

    /// nginx with the usual recipe on the same upstream and CPU.
    fn nginx_recipe(&self, nginx: &Rc<dyn Fn() -> Target>) -> Vec<Config> {
        let mut configs = vec![
            Config::new(
                "nginx recipe, preflight allowed",
                {
                    let n = Rc::clone(nginx);
                    move || n()
                },
                "/api/x",
                Load::Preflight,
            ),
            Config::new(
                "nginx recipe, GET proxied",
                {
                    let n = Rc::clone(nginx);
                    move || n()
                },
                "/api/x",
                Load::Get,
            ),
        ];
        self.interleaved("nginx", &mut configs);
        configs
    }

    /// Both hosts side by side, each under its default settings: edge preflights against the
    /// trivial component, forwarded requests against the trivial forwarder (Spin pools upstream
    /// connections, wasmtime opens one per request); `hosts_section` relies on this order.
    fn hosts_side_by_side(&self, c: &Components) -> Vec<Config> {
        let mut hosts = Vec::new();
        for host in Host::ALL {
            hosts.extend([
                Config::new(
                    format!("trivial component, 204, {host}"),
                    self.component_on(host, &c.noop, &[], &[]),
                    "/api/x",
                    Load::Preflight,
                )
                .short("the trivial component"),
                Config::new(
                    format!("corsgate preflight, allowed, {host}"),
                    self.component_on(host, &c.small, &[], &[]),
                    "/api/x",
                    Load::Preflight,
                ),
                Config::new(
                    format!("trivial forwarding component, GET, {host}"),
                    self.component_on(host, &c.forwarder, &[], &[]),
                    "/api/x",
                    Load::Get,
                )
                .short("the trivial forwarder"),
                Config::new(
                    format!("corsgate actual request, GET, {host}"),
                    self.component_on(host, &c.small, &[], &[]),
                    "/api/x",
                    Load::Get,
                ),
            ]);
        }
        self.interleaved("hosts", &mut hosts);
        hosts
    }

    /// Streaming: the serving process's memory while 1 GiB passes each way, on each host.
    fn streaming(&self, small: &Path) -> Vec<(Host, Streaming)> {
        Host::ALL
            .into_iter()
            .map(|host| {
                let dir = self.work.join(format!("streaming-{host}"));
                (
                    host,
                    stream_a_gib(host.serve(small, &dir, &self.serve_options(&[], &[]))),
                )
            })
            .collect()
    }
}

/// One policy's cold start: spawn to first answered preflight, then one request.
struct ColdStart {
    name: &'static str,
    size: u64,
    ready_ms: f64,
    first_ms: f64,
    status: u16,
}

/// Cold start and size of the small and the large policy's gateway.
fn cold_starts(settings: &Settings, work: &Path, c: &Components) -> Vec<ColdStart> {
    [
        ("small", &c.small, "/api/x"),
        ("large", &c.large, "/r099/x"),
    ]
    .into_iter()
    .map(|(name, wasm, path)| {
        let server = Host::Wasmtime.serve(
            wasm,
            &work.join(format!("cold-{name}")),
            &ServeOptions::default().cpu(settings.server_cpu()),
        );
        let started = Instant::now();
        let answer = send(
            server.addr,
            &Request::new("OPTIONS", path)
                .origin(APP)
                .header("Access-Control-Request-Method", "PUT"),
        )
        .expect("first request");
        ColdStart {
            name,
            size: std::fs::metadata(wasm).map_or(0, |m| m.len()),
            ready_ms: server.ready_after.as_secs_f64() * 1000.0,
            first_ms: started.elapsed().as_secs_f64() * 1000.0,
            status: answer.status,
        }
    })
    .collect()
}

/// target/bench/throughput.svg: both hosts' figures, nginx's beside them.
fn write_chart(work: &Path, hosts: &[Config], alternatives: &[Config]) {
    let chart_bars: Vec<(&Config, &str)> = hosts
        .iter()
        .map(|c| {
            (
                c,
                if c.label.ends_with("spin") {
                    "spin"
                } else {
                    "wasmtime"
                },
            )
        })
        .chain(alternatives[2..].iter().map(|c| (c, "nginx")))
        .collect();
    std::fs::write(work.join("throughput.svg"), chart::throughput(&chart_bars))
        .expect("write throughput.svg");
}

/// `title` as a markdown heading between blank lines.
fn heading(title: &str) -> [String; 3] {
    [String::new(), format!("### {title}"), String::new()]
}

/// Both hosts' table, each host compared with its trivial component and forwarder, and the
/// streaming figures.
fn hosts_section(hosts: &[Config], streaming: &[(Host, Streaming)]) -> Vec<String> {
    let hosts_reference: HashMap<String, &Config> = [(1, 0), (3, 2), (5, 4), (7, 6)]
        .into_iter()
        .map(|(of, against)| (hosts[of].label.clone(), &hosts[against]))
        .collect();
    let mut out =
        heading("Spin and wasmtime side by side (each under its default settings)").to_vec();
    out.extend(table(hosts, &hosts_reference, true));
    out.push(String::new());
    for (host, s) in streaming {
        out.push(format!(
            "Streaming on {host}: 1 GiB down ({}, {:.1} s) and 1 GiB up ({}, {:.1} s): serving process RSS {:.1} MiB at start, {:.1} MiB peak, {:.1} MiB at the end.",
            s.down.0, s.down.1.as_secs_f64(), s.up.0, s.up.1.as_secs_f64(),
            mib(s.rss_start), mib(s.rss_peak), mib(s.rss_end)
        ));
    }
    out
}

/// The edge preflights' tables, fresh instances then instance reuse.
fn preflights_section(fresh: &[Config], reused: &[Config]) -> Vec<String> {
    let mut out = heading("Preflights answered at the edge (wasmtime serve)").to_vec();
    out.extend(table(fresh, &preflight_reference(fresh), true));
    out.push(String::new());
    out.extend(table(reused, &preflight_reference(reused), true));
    out
}

/// The forwarded requests' table, corsgate against the trivial forwarder.
fn actual_section(actual: &[Config]) -> Vec<String> {
    let actual_reference: HashMap<String, &Config> = [(2, 1), (4, 3), (5, 1)]
        .into_iter()
        .map(|(of, against)| (actual[of].label.clone(), &actual[against]))
        .collect();
    let mut out = heading("Actual requests, forwarded (wasmtime serve)").to_vec();
    out.extend(table(actual, &actual_reference, true));
    out
}

/// The edge saving and nginx's table, and the edge saving in one sentence.
fn alternatives_section(alternatives: &[Config], connections: u64) -> Vec<String> {
    let mut out = heading("What users pick instead, and the edge saving").to_vec();
    out.extend(table(alternatives, &HashMap::new(), false));
    let (edge_config, forwarded) = (&alternatives[0], &alternatives[1]);
    out.push(String::new());
    out.push(format!(
        "Edge saving: a preflight answered at the edge takes {:.2} ms (p50) against {:.2} ms when forwarded to an upstream 50 ms away ({:.0}× faster, {:.0}× the throughput at {} connections).",
        edge_config.p50(), forwarded.p50(), forwarded.p50() / edge_config.p50(), edge_config.rps() / forwarded.rps(), connections
    ));
    out
}

fn cold_start_section(cold: &[ColdStart]) -> Vec<String> {
    let mut out = heading("Policy size and cold start").to_vec();
    out.push("| policy | component size | spawn to first answer | first request | status |".into());
    out.push("|---|---:|---:|---:|---|".into());
    for c in cold {
        out.push(format!(
            "| {} | {} KiB | {:.0} ms | {:.2} ms | {} |",
            c.name,
            c.size / 1024,
            c.ready_ms,
            c.first_ms,
            c.status
        ));
    }
    out
}

fn nginx_mistakes_section(wrong: &[String]) -> Vec<String> {
    let mut out = vec![
        String::new(),
        "What the nginx recipe gets wrong (checked against it in this run):".into(),
        String::new(),
    ];
    out.extend(wrong.iter().map(|w| format!("- {w}")));
    out
}

/// Downloads and uploads 1 GiB through `server`, reading its serving process's memory.
fn stream_a_gib(server: corsgate_testkit::harness::Server) -> Streaming {
    let rss_start = rss_kib(server.serving_pid()).unwrap_or(0);
    let started = Instant::now();
    let (down_status, _, down) = send_streaming(
        server.addr,
        &Request::new("GET", &format!("/api/big?bytes={GIB}")),
    )
    .expect("download");
    let down_time = started.elapsed();
    let started = Instant::now();
    let up = send(
        server.addr,
        &Request::new("POST", "/api/upload").body(Body::Pattern(GIB)),
    )
    .expect("upload");
    let up_time = started.elapsed();
    assert!(down.complete && down.len == GIB, "the download was cut");
    Streaming {
        down: (down_status, down_time),
        up: (up.status, up_time),
        rss_start,
        rss_peak: peak_rss_kib(server.serving_pid()).unwrap_or(0),
        rss_end: rss_kib(server.serving_pid()).unwrap_or(0),
    }
}

struct Streaming {
    down: (u16, Duration),
    up: (u16, Duration),
    rss_start: u64,
    rss_peak: u64,
    rss_end: u64,
}

fn mib(kib: u64) -> f64 {
    kib as f64 / 1024.0
}

/// Which preflight configuration each is compared with (limit, shaped, logged, allowed,
/// rejected, big, quiet: the order of the preflight group).
fn preflight_reference(c: &[Config]) -> HashMap<String, &Config> {
    [(1, 0), (2, 0), (3, 0), (4, 0), (5, 3), (6, 0)]
        .into_iter()
        .map(|(of, against)| (c[of].label.clone(), &c[against]))
        .collect()
}

/// 100 routes of 100 origins each, the app's origin last.
fn large_policy(small_text: &str) -> Vec<(String, String)> {
    (0..100)
        .map(|r| {
            let mut origins: Vec<String> = (0..99).map(|o| format!("\"https://app{r}-{o}.example.com\"")).collect();
            origins.push(format!("\"{APP}\""));
            let text = small_text
                .replace("path = \"/api/...\"", &format!("path = \"/r{r:03}/...\""))
                .replace("{PREFLIGHT}", "edge")
                .replace(
                    "allow_origins = [\"https://app.example.com\", \"https://admin.example.com\", \"http://localhost:*\"]",
                    &format!("allow_origins = [{}]", origins.join(", ")),
                );
            (format!("r{r:03}.toml"), text)
        })
        .collect()
}

/// nginx with bench/nginx.conf on the server CPU, started afresh for each run.
fn nginx_starter(work: &Path, upstream: &str, settings: &Rc<Settings>) -> Rc<dyn Fn() -> Target> {
    let prefix = work.join("nginx");
    let _ = std::fs::remove_dir_all(&prefix);
    std::fs::create_dir_all(&prefix).expect("nginx prefix");
    let port = corsgate_testkit::process::free_port();
    let conf = std::fs::read_to_string(repo_root().join("bench/nginx.conf"))
        .expect("bench/nginx.conf")
        .replace("{PORT}", &port.to_string())
        .replace("{UPSTREAM}", upstream)
        .replace("{PREFIX}", &prefix.display().to_string());
    std::fs::write(prefix.join("nginx.conf"), conf).expect("write nginx.conf");
    let settings = Rc::clone(settings);
    Rc::new(move || {
        let child = on_cpu(settings.server_cpu(), "nginx")
            .arg("-p")
            .arg(&prefix)
            .arg("-c")
            .arg(prefix.join("nginx.conf"))
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .process_group(0)
            .spawn()
            .expect("start nginx (scripts/bench.sh installs it)");
        // nginx serves from worker processes: the whole group goes, not the master alone.
        let mut guard = ChildGuard::group("nginx", child);
        let addr = format!("127.0.0.1:{port}").parse().expect("address");
        wait_for_port(addr, Duration::from_secs(10), &mut guard);
        Target {
            base: format!("http://{addr}"),
            _alive: Box::new(guard),
        }
    })
}

/// What the usual nginx recipe gets wrong, checked against the running nginx.
fn nginx_recipe_mistakes(nginx: &Target) -> Vec<String> {
    let addr = nginx
        .base
        .trim_start_matches("http://")
        .parse()
        .expect("address");
    let ask = |request: Request| send(addr, &request).expect("nginx answers");
    let preflight = |origin: &str| Request::new("OPTIONS", "/api/x").origin(origin);
    let mut wrong = Vec::new();
    let r = ask(Request::new("GET", "/api/x?header=Access-Control-Allow-Origin%3A*").origin(APP));
    let allow_origin = r.head.all("access-control-allow-origin");
    if allow_origin.len() > 1 {
        let values: Vec<String> = allow_origin
            .iter()
            .map(|v| String::from_utf8_lossy(v).into_owned())
            .collect();
        wrong.push(format!(
            "two `Access-Control-Allow-Origin` headers when the upstream sends its own ({})",
            values.join(", ")
        ));
    }
    let vary = r
        .head
        .all("vary")
        .iter()
        .map(|v| String::from_utf8_lossy(v).to_ascii_lowercase())
        .collect::<String>();
    if !vary.contains("origin") {
        wrong.push("no `Vary: Origin` on responses that depend on the origin (shared caches can serve one origin's answer to another)".into());
    }
    let r = ask(preflight(APP)
        .header("Access-Control-Request-Method", "PATCH")
        .header("Access-Control-Request-Headers", "x-anything"));
    if r.status == 204 && r.header_count("access-control-allow-origin") > 0 {
        wrong.push("no preflight validation: a preflight for a method and header the policy does not allow gets `204` with `Access-Control-Allow-Origin`".into());
    }
    let r = ask(preflight("https://evil.example").header("Access-Control-Request-Method", "PUT"));
    if r.status == 204 {
        wrong.push("a disallowed origin's preflight gets `204` with `Access-Control-Allow-Credentials: true` and the method list (only the origin header is missing)".into());
    }
    if ask(preflight(APP)).status == 204 {
        wrong.push("every `OPTIONS` is treated as a preflight, even without `Access-Control-Request-Method`: the API never sees its own OPTIONS requests".into());
    }
    wrong
}

/// Where a preflight's time goes: the difference between neighbouring reference components.
fn steps(fresh: &[Config], reused: &[Config]) -> Vec<String> {
    let mut out = vec![
        String::new(),
        "### Where a preflight's time goes (server CPU per request, medians)".into(),
        String::new(),
        "| step | fresh instance | instance reuse 128 |".into(),
        "|---|---:|---:|".into(),
        format!(
            "| the host: accept, instantiate, call, answer `204` | {:.1} µs | {:.1} µs |",
            fresh[0].cpu_us(),
            reused[0].cpu_us()
        ),
    ];
    for (text, before, after) in [
        ("+ the host calls of any CORS answer (read 4 headers, set 6)", 0, 1),
        ("+ the host calls of an access log line (method, path, 2 clock readings, 1 stderr write)", 1, 2),
        ("+ corsgate's own work (a bigger instance, routing, the decision, building the answer)", 2, 3),
    ] {
        out.push(format!(
            "| {text} | {:+.1} µs | {:+.1} µs |",
            fresh[after].cpu_us() - fresh[before].cpu_us(),
            reused[after].cpu_us() - reused[before].cpu_us()
        ));
    }
    out.push(format!(
        "| = corsgate's allowed preflight | {:.1} µs | {:.1} µs |",
        fresh[3].cpu_us(),
        reused[3].cpu_us()
    ));
    out
}

/// The targets, each with its figure from this run and whether it was met.
fn targets(
    fresh: &[Config],
    reused: &[Config],
    actual: &[Config],
    streaming: &Streaming,
) -> Vec<String> {
    let [limit, shaped, logged, allowed, _, big, quiet] = fresh else {
        panic!("seven preflight configurations")
    };
    let (forward_fresh, actual_fresh, forward_reused, actual_reused, actual_quiet) =
        (&actual[1], &actual[2], &actual[3], &actual[4], &actual[5]);
    let ratio = |a: &Config, b: &Config| format!("{:.2}×", a.p99() / b.p99());
    let rows = [
        ("preflight throughput ≥ 90 % of the trivial component's", format!("{} (reuse: {})", percent(allowed.rps(), limit.rps()), percent(reused[3].rps(), reused[0].rps())), allowed.rps() >= 0.9 * limit.rps()),
        ("preflight p99 ≤ 1.2× the trivial component's", format!("{} (reuse: {})", ratio(allowed, limit), ratio(&reused[3], &reused[0])), allowed.p99() <= 1.2 * limit.p99()),
        ("the same against a component making only the host calls of a logged CORS answer", format!("{}; reuse: {}", versus(allowed, logged), versus(&reused[3], &reused[2])), allowed.rps() >= 0.9 * logged.rps() && allowed.p99() <= 1.2 * logged.p99()),
        ("the same with `CORSGATE_ACCESS_LOG=problems`, against the unlogged CORS-calls component", format!("{}; reuse: {}; against the trivial component: {}", versus(quiet, shaped), versus(&reused[6], &reused[1]), percent(quiet.rps(), limit.rps())), quiet.rps() >= 0.9 * shaped.rps() && quiet.p99() <= 1.2 * shaped.p99()),
        ("actual-request throughput ≥ 95 % of the trivial forwarder's", format!("{} (reuse: {}; with `CORSGATE_ACCESS_LOG=problems`: {})", percent(actual_fresh.rps(), forward_fresh.rps()), percent(actual_reused.rps(), forward_reused.rps()), percent(actual_quiet.rps(), forward_fresh.rps())), actual_fresh.rps() >= 0.95 * forward_fresh.rps()),
        ("100 × 100 policy within 5 % of the small one", format!("{} (reuse: {})", percent(big.rps(), allowed.rps()), percent(reused[5].rps(), reused[3].rps())), big.rps() >= 0.95 * allowed.rps()),
        ("peak memory independent of body size", format!("{:.1} MiB at start, {:.1} MiB peak after 2 GiB", mib(streaming.rss_start), mib(streaming.rss_peak)), streaming.rss_peak < streaming.rss_start + 64 * 1024),
    ];
    let mut out = vec![
        String::new(),
        "### Targets in this run".into(),
        String::new(),
        "| target | measured | met |".into(),
        "|---|---|---|".into(),
    ];
    out.extend(rows.iter().map(|(target, measured, met)| {
        format!(
            "| {target} | {measured} | {} |",
            if *met { "yes" } else { "**no**" }
        )
    }));
    out
}

/// What ran where: the run's settings, versions, CPU and date.
fn footer(settings: &Settings) -> String {
    let first_line = |program: &str, arg: &str| -> String {
        Command::new(program)
            .arg(arg)
            .output()
            .map(|o| {
                let text = if o.stdout.is_empty() {
                    o.stderr
                } else {
                    o.stdout
                };
                String::from_utf8_lossy(&text)
                    .lines()
                    .next()
                    .unwrap_or_default()
                    .to_string()
            })
            .unwrap_or_default()
    };
    let wasmtime = corsgate_testkit::harness::wasmtime();
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|info| {
            info.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split_once(':'))
                .map(|(_, m)| m.trim().to_string())
        })
        .unwrap_or_else(|| "unknown CPU".into());
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let placement = if settings.pinned {
        "server on CPU 0, wrk and upstream on CPU 1"
    } else {
        "unpinned"
    };
    format!(
        "wrk -t{} -c{} -d{}s, {} interleaved rounds, medians; {placement}; {}; {}; {}; {}; {}; {cpu}, {cores} cores; {}",
        if settings.pinned { 1 } else { 2 },
        settings.connections,
        settings.seconds,
        settings.rounds,
        first_line(&wasmtime.display().to_string(), "--version"),
        corsgate_testkit::harness::spin()
            .map(|spin| first_line(&spin.display().to_string(), "--version"))
            .unwrap_or_default(),
        corsgate_testkit::harness::spin4()
            .map(|spin| first_line(&spin.display().to_string(), "--version"))
            .unwrap_or_default(),
        first_line("rustc", "--version").split(" (").next().unwrap_or_default(),
        first_line("nginx", "-v"),
        first_line("date", "+%Y-%m-%d"),
    )
}
