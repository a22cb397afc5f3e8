//! `BENCH_ONLY=live`: a route with `[live]` against the same route without it (issue 25), side
//! by side in one run, on `wasmtime serve` (the file channel) and Spin 4.1 (the Spin flavor,
//! Redis on loopback), with a published list that allows what the baseline allows, so both
//! decide alike:
//! - edge preflights and forwarded GETs under each host's default reuse (128 requests an
//!   instance) with `CORSGATE_LIVE_TTL=1`, five times the reads of the default TTL;
//! - a fresh instance per request (`--max-instance-reuse-count 1`): every request is a cold
//!   instance's first, which reads the store before it decides;
//! - the store reads Redis counted during the Spin runs, per second.

use std::path::{Path, PathBuf};

use corsgate_core::config::load_route_table;
use corsgate_core::live::list::{ceilings_sha256, ListDocument, STORE_KEY};
use corsgate_testkit::harness::{Artifact, Component, Host, ServeOptions, Target as Serving};
use corsgate_testkit::redis::Redis;
use corsgate_testkit::world::write_policies;

use crate::p3::built;
use crate::report::{paired_reference, problems_section, table};
use crate::settings::Settings;
use crate::wrk::{interleaved, served, Config, Load};

/// Issue 25's target: a live route at least at this share of the compiled-only route's
/// throughput.
const TARGET: f64 = 0.97;

/// The TTL measured: a read per instance per second.
const TTL_SECONDS: &str = "1";

/// Every request on a fresh instance.
const FRESH: &[&str] = &["--max-instance-reuse-count", "1"];

/// The figures, as markdown lines.
pub(crate) fn figures(settings: &Settings, work: &Path, upstream: &str) -> Vec<String> {
    let small = std::fs::read_to_string(
        corsgate_testkit::harness::repo_root().join("bench/policies/small.toml"),
    )
    .expect("bench/policies/small.toml")
    .replace("{UPSTREAM}", upstream)
    .replace("{PREFLIGHT}", "edge");
    let live_policy = format!(
        "{small}\n[live]\nceiling = [\"https://app.example.com\", \"https://admin.example.com\", \"http://localhost:*\", \"https://*.partner.example\"]\nwhen_unreadable = \"baseline\"\n"
    );
    let folder = |name: &str, text: &str| {
        let dir = work.join("policies").join(name);
        write_policies(&dir, &[("api.toml".to_string(), text.to_string())], &[]);
        dir
    };
    let compiled_folder = folder("live-bench-compiled", &small);
    let live_folder = folder("live-bench-live", &live_policy);
    let value = published_value(&live_folder);

    let live_dir = work.join("live-bench/live");
    std::fs::create_dir_all(&live_dir).expect("create the live folder");
    std::fs::write(live_dir.join("origins.json"), &value).expect("write the live list");
    let redis = Redis::start(&work.join("live-bench/redis"));
    redis.set(STORE_KEY, value.as_bytes());

    let builds = Builds {
        compiled: built(
            work,
            "corsgate-p3-live-bench-compiled",
            Component::artifact(Artifact::P3, &compiled_folder),
        ),
        live_file: built(
            work,
            "corsgate-p3-live-bench-file",
            Component::artifact(Artifact::P3, &live_folder),
        ),
        compiled_spin: built(
            work,
            "corsgate-p3-spin-kv-live-bench-compiled",
            Component::artifact(Artifact::P3, &compiled_folder).feature("spin-kv"),
        ),
        live_spin: built(
            work,
            "corsgate-p3-spin-kv-live-bench-live",
            Component::artifact(Artifact::P3, &live_folder).feature("spin-kv"),
        ),
        live_dir,
        redis_url: redis.url(),
        upstream: upstream.to_string(),
    };

    let mut steady = Vec::new();
    for load in [Load::Preflight, Load::Get] {
        steady.extend(builds.pairs(settings, work, &[], "default reuse", load));
    }
    redis.cli(&["CONFIG", "RESETSTAT"]);
    interleaved(settings, work, "live, default reuse", &mut steady);
    let steady_reads = redis.calls("get");
    let mut fresh = builds.pairs(
        settings,
        work,
        FRESH,
        "a fresh instance per request",
        Load::Preflight,
    );
    interleaved(settings, work, "live, fresh instances", &mut fresh);

    let mut out = vec![
        format!("### Steady state (default reuse, `CORSGATE_LIVE_TTL={TTL_SECONDS}`)"),
        String::new(),
    ];
    out.extend(table(&steady, &paired_reference(&steady), true));
    out.push(String::new());
    out.extend(steady.chunks(2).map(|pair| {
        let share = pair[1].share_of(&pair[0]);
        format!(
            "- {}: live at {share} of the compiled-only throughput, p99 {:+.2} ms (target at least {:.0} %: {})",
            pair[1].label.trim_start_matches("live, "),
            pair[1].p99() - pair[0].p99(),
            TARGET * 100.0,
            if share.median_round >= TARGET { "met" } else { "**not met**" }
        )
    }));
    let spin_seconds = (settings.rounds * settings.seconds * 2) as f64;
    out.push(format!(
        "- Redis answered {steady_reads} GETs during the {spin_seconds:.0} s of Spin 4.1 runs on the live route: {:.1} reads per second",
        steady_reads as f64 / spin_seconds
    ));
    out.extend([
        String::new(),
        "### A cold instance's first request (`--max-instance-reuse-count 1`)".into(),
        String::new(),
    ]);
    out.extend(table(&fresh, &paired_reference(&fresh), true));
    out.push(String::new());
    out.extend(fresh.chunks(2).map(|pair| {
        format!(
            "- {}: reading the list costs a cold instance {:+.0} µs of server CPU ({:.0} → {:.0} µs)",
            pair[1].label.trim_start_matches("live, "),
            pair[1].cpu_us() - pair[0].cpu_us(),
            pair[0].cpu_us(),
            pair[1].cpu_us()
        )
    }));
    out.extend(problems_section(&[&steady, &fresh]));
    out
}

/// The canonical list that allows, on the live route, what its baseline allows.
fn published_value(live_folder: &Path) -> String {
    let table = load_route_table(live_folder).expect("the bench's live policy is valid");
    let baseline = [
        "https://app.example.com",
        "https://admin.example.com",
        "http://localhost:*",
    ];
    ListDocument {
        generation: 1,
        ceilings_sha256: ceilings_sha256(&table),
        routes: vec![(
            "api".into(),
            baseline.iter().map(|s| s.to_string()).collect(),
        )],
    }
    .canonical()
}

/// The four builds and where their lists are.
struct Builds {
    compiled: PathBuf,
    live_file: PathBuf,
    compiled_spin: PathBuf,
    live_spin: PathBuf,
    live_dir: PathBuf,
    redis_url: String,
    /// The demo API, which Spin must be told the gateway may call.
    upstream: String,
}

impl Builds {
    /// Compiled-only then live, on `wasmtime serve` then Spin 4.1, served with `host_args`.
    fn pairs(
        &self,
        settings: &Settings,
        work: &Path,
        host_args: &'static [&'static str],
        how: &str,
        load: Load,
    ) -> Vec<Config> {
        let base = || {
            ServeOptions::default()
                .cpu(settings.server_cpu())
                .env("CORSGATE_LIVE_TTL", TTL_SECONDS)
                .host_args(host_args)
                .allow_outbound([format!("http://{}", self.upstream)])
        };
        let mount = format!("{}::/corsgate/live", self.live_dir.display());
        let wasmtime = base().host_args(&["--dir", &mount]);
        let spin = base().live_redis(&self.redis_url);
        let config = |build: &str, host: Host, wasm: &Path, options: ServeOptions| {
            let host_name = if host == Host::Spin4 {
                "Spin 4.1"
            } else {
                host.name()
            };
            Config::new(
                format!("{build}, {host_name}, {}, {how}", load.name()),
                served(work, &format!("-{build}"), Serving::p3(host), wasm, options),
                "/api/x",
                load,
            )
            .short("the compiled-only route")
        };
        vec![
            config(
                "compiled-only",
                Host::Wasmtime,
                &self.compiled,
                wasmtime.clone(),
            ),
            config("live", Host::Wasmtime, &self.live_file, wasmtime),
            config(
                "compiled-only",
                Host::Spin4,
                &self.compiled_spin,
                spin.clone(),
            ),
            config("live", Host::Spin4, &self.live_spin, spin),
        ]
    }
}
