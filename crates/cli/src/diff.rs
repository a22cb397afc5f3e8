//! `corsgate diff`: what a policy change does to access, for the pull request that makes it.
//! Both folders are validated first; the comparison itself is the engine's
//! ([`corsgate_core::config::diff`]).

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

use clap::{Args, ValueEnum};
use corsgate_core::config::diff::{diff, Direction, RouteDiff};
use corsgate_core::config::{load_policies, policy_route_name, LoadedPolicy, PolicySource};
use serde_json::json;

use crate::check::{read_sources, report_errors};
use crate::error::CliError;
use crate::render::Style;
use crate::Format;

#[derive(Args, Debug)]
pub(crate) struct DiffArgs {
    /// The policy folder before the change (with --git: the folder to compare with itself).
    old: Option<PathBuf>,
    /// The policy folder after the change.
    new: Option<PathBuf>,
    /// Compare a folder (OLD, default `policies`) with itself at this git revision.
    #[arg(long, value_name = "REV")]
    git: Option<String>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Human)]
    format: Format,
    /// What makes the exit status 1: any change of access (default), or only a widening.
    #[arg(long, value_enum, default_value_t = FailOn::Change)]
    fail_on: FailOn,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum FailOn {
    /// Access gained or lost.
    Change,
    /// Access gained.
    Widen,
}

pub(crate) fn run(args: &DiffArgs) -> Result<ExitCode, CliError> {
    let (old_sources, new_sources) = match (&args.git, &args.old, &args.new) {
        (Some(rev), dir, None) => {
            let dir = dir.clone().unwrap_or_else(|| PathBuf::from("policies"));
            (sources_at(rev, &dir)?, read_sources(&dir)?)
        }
        (None, Some(old), Some(new)) => (read_sources(old)?, read_sources(new)?),
        _ => {
            return Err(CliError::Usage(
                "give two policy folders (OLD NEW), or --git REV [DIR]".into(),
            ))
        }
    };
    let (old, new) = (validated(&old_sources)?, validated(&new_sources)?);
    let routes = diff(&old, &new);
    match args.format {
        Format::Human => print_human(&routes),
        Format::Json => print_json(&routes),
    }
    let counts = |direction| {
        routes
            .iter()
            .flat_map(|r| &r.changes)
            .any(|c| c.direction == direction)
    };
    let fails = match args.fail_on {
        FailOn::Widen => counts(Direction::Widens),
        FailOn::Change => counts(Direction::Widens) || counts(Direction::Narrows),
    };
    Ok(if fails {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

/// The folder's policies; an invalid folder prints its errors and is a usage error (exit 2):
/// there is nothing meaningful to compare.
pub(crate) fn validated(sources: &[PolicySource]) -> Result<Vec<LoadedPolicy<'_>>, CliError> {
    load_policies(sources).map_err(|errors| {
        let invalid = report_errors(sources, &errors);
        CliError::Usage(format!(
            "{invalid} (in a folder compared; nothing was diffed)"
        ))
    })
}

/// The policy files of `dir` as git has them at `rev`, named `<dir>@<rev>/<file>`.
fn sources_at(rev: &str, dir: &Path) -> Result<Vec<PolicySource>, CliError> {
    let git = |args: &[&str]| -> Result<String, CliError> {
        let output = Command::new("git")
            .arg("-C")
            .arg(dir)
            .args(args)
            .output()
            .map_err(|e| CliError::Io(format!("git: {e}")))?;
        if !output.status.success() {
            return Err(CliError::Io(format!(
                "git {}: {}",
                args.join(" "),
                String::from_utf8_lossy(&output.stderr).trim()
            )));
        }
        String::from_utf8(output.stdout)
            .map_err(|_| CliError::Io(format!("git {}: not UTF-8", args.join(" "))))
    };
    let mut sources = Vec::new();
    for file in git(&["ls-tree", "--name-only", rev, "./"])?.lines() {
        let Some(name) = policy_route_name(file) else {
            continue;
        };
        sources.push(PolicySource {
            name: name.to_string(),
            file: format!("{}@{rev}/{file}", dir.display()),
            text: git(&["show", &format!("{rev}:./{file}")])?,
        });
    }
    if sources.is_empty() {
        return Err(CliError::Usage(format!(
            "no policy files (*.toml) in {} at {rev}",
            dir.display()
        )));
    }
    Ok(sources)
}

/// Routes that widen access first, then by name.
fn review_order(routes: &[RouteDiff]) -> Vec<&RouteDiff> {
    let mut ordered: Vec<&RouteDiff> = routes.iter().collect();
    ordered.sort_by_key(|r| (!r.widens(), r.route.clone()));
    ordered
}

pub(crate) fn print_human(routes: &[RouteDiff]) {
    let style = Style::for_stdout();
    if routes.is_empty() {
        println!("{} no route changes", style.green("same:"));
        return;
    }
    let mut totals = [0usize; 3];
    for route in review_order(routes) {
        println!(
            "{}",
            style.bold(&format!("route {} ({})", route.route, route.status.name()))
        );
        for c in &route.changes {
            let word = match c.direction {
                Direction::Widens => style.red("widens "),
                Direction::Narrows => style.yellow("narrows"),
                Direction::Changes => "changes".to_string(),
            };
            totals[c.direction as usize] += 1;
            println!(
                "  {word} {}:{}  {}: {}",
                c.at.file, c.at.line, c.key, c.what
            );
        }
    }
    println!(
        "{} route(s) differ: {} widening(s), {} narrowing(s), {} other change(s)",
        routes.len(),
        totals[0],
        totals[1],
        totals[2]
    );
}

pub(crate) fn print_json(routes: &[RouteDiff]) {
    let routes_json: Vec<_> = review_order(routes)
        .into_iter()
        .map(|r| {
            let changes: Vec<_> = r
                .changes
                .iter()
                .map(|c| json!({"direction": c.direction.name(), "key": c.key.name(), "what": c.what, "file": c.at.file, "line": c.at.line, "column": c.at.column}))
                .collect();
            json!({"route": r.route, "status": r.status.name(), "changes": changes})
        })
        .collect();
    let any = |d: Direction| {
        routes
            .iter()
            .flat_map(|r| &r.changes)
            .any(|c| c.direction == d)
    };
    println!(
        "{}",
        json!({"widens": any(Direction::Widens), "narrows": any(Direction::Narrows), "routes": routes_json})
    );
}
