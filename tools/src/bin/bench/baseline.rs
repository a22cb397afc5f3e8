//! `BENCH_BASELINE=<checkout>`: this build against another, side by side in one run. The other
//! is a checkout of an earlier revision (scripts/bench.sh makes a git worktree of
//! `BENCH_BASELINE_REV` and names it here). Both are built by the same harness with the same
//! benchmark policy; then their artifact sizes, and edge preflights and forwarded GETs of every
//! artifact on every host that runs it, the two builds interleaved in each round.

use std::path::{Path, PathBuf};

use corsgate_testkit::harness::{repo_root, Artifact, Component, ServeOptions, Target as Serving};
use corsgate_testkit::world::write_policies;

use crate::report::{table, thousands};
use crate::settings::Settings;
use crate::wrk::{interleaved, served, Config, Load};

/// The two builds compared.
const BUILDS: [&str; 2] = ["before", "after"];

/// The artifacts compared, by package.
const PACKAGES: [&str; 3] = ["corsgate", "corsgate-p3", "corsgate-middleware"];

/// The comparison's tables, as markdown lines.
pub(crate) fn figures(
    settings: &Settings,
    work: &Path,
    upstream: &str,
    baseline: &Path,
) -> Vec<String> {
    let policy = std::fs::read_to_string(repo_root().join("bench/policies/small.toml"))
        .expect("bench/policies/small.toml")
        .replace("{PREFLIGHT}", "edge")
        .replace("{UPSTREAM}", upstream);
    let policies = work.join("policies").join("baseline");
    write_policies(&policies, &[("api.toml".into(), policy)], &[]);
    let checkouts = [baseline.to_path_buf(), repo_root()];
    let built: Vec<Vec<PathBuf>> = BUILDS
        .iter()
        .zip(&checkouts)
        .map(|(build, checkout)| {
            PACKAGES
                .iter()
                .map(|package| {
                    Component::package(package)
                        .env("CORSGATE_POLICIES", &policies.display().to_string())
                        .from_checkout(checkout)
                        .build(
                            &work
                                .join("baseline")
                                .join(format!("{package}-{build}.wasm")),
                        )
                })
                .collect()
        })
        .collect();
    let mut out = vec![
        String::new(),
        format!(
            "### Before and after: this build against {}",
            baseline.display()
        ),
        String::new(),
        sizes(&built),
        String::new(),
    ];
    for serving in Serving::ALL {
        let wasm = match serving.artifact {
            Artifact::P2 => 0,
            Artifact::P3 => 1,
            // Earlier revisions have no prebuilt artifact to compare with.
            Artifact::P3Prebuilt => continue,
        };
        let mut configs: Vec<Config> = [Load::Preflight, Load::Get]
            .into_iter()
            .flat_map(|load| {
                BUILDS.iter().zip(&built).map(move |(build, artifacts)| {
                    let options = ServeOptions::default()
                        .cpu(settings.server_cpu())
                        .allow_outbound([format!("http://{upstream}")]);
                    Config::new(
                        format!("{serving}, {}, {build}", load.name()),
                        served(work, "", serving, &artifacts[wasm], options),
                        "/api/x",
                        load,
                    )
                })
            })
            .collect();
        interleaved(
            settings,
            work,
            &format!("before/after on {serving}"),
            &mut configs,
        );
        out.push(format!("#### {serving}"));
        out.push(String::new());
        out.extend(table(&configs, &Default::default(), true));
        for pair in configs.chunks(2) {
            out.push(format!(
                "- {}: after / before = {:.1} % of the throughput",
                pair[1].label,
                pair[1].rps() / pair[0].rps() * 100.0
            ));
        }
        out.push(String::new());
    }
    out
}

/// Each artifact's size, before and after.
fn sizes(built: &[Vec<PathBuf>]) -> String {
    let size = |wasm: &Path| std::fs::metadata(wasm).map_or(0, |m| m.len());
    let rows: Vec<String> = PACKAGES
        .iter()
        .enumerate()
        .map(|(i, package)| {
            let (before, after) = (size(&built[0][i]), size(&built[1][i]));
            format!(
                "| {package} | {} B | {} B | {:+.1} % |",
                thousands(before as f64),
                thousands(after as f64),
                (after as f64 / before as f64 - 1.0) * 100.0
            )
        })
        .collect();
    format!(
        "| artifact (bench policy compiled in) | before | after | change |\n|---|---:|---:|---:|\n{}",
        rows.join("\n")
    )
}
