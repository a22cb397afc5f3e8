//! `corsgate audit`: reads the gateway's logs against the policy folder and reports, per route,
//! what was allowed and refused (with near misses), report-only disagreements, the policy
//! versions seen and the allowances no request used; `--suggest` writes the tightest folder
//! that keeps every allowed request working. The log is read once, as a stream: memory stays
//! flat whatever its size (BENCHMARKS.md, "Auditing a log").

mod findings;
mod html;
mod near_miss;
mod read;
mod suggest;
mod tally;
mod text;
mod usage;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;

use crate::check::read_sources;
use crate::diff::validated;
use crate::error::CliError;
use crate::render::Style;
use crate::Format;
use read::{for_each_line, Input, Line};
use suggest::Thresholds;
use tally::Tally;

#[derive(Args, Debug)]
pub(crate) struct AuditArgs {
    /// Gateway logs: files (gzip-compressed or not), `-` or none for standard input. The host's
    /// other output may be mixed in; logfmt and JSON lines both count.
    logs: Vec<PathBuf>,
    /// The policy folder the gateway runs (or is about to).
    #[arg(long, default_value = "policies")]
    policies: PathBuf,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Human)]
    format: Format,
    /// Also write a self-contained HTML report with charts here.
    #[arg(long, value_name = "FILE")]
    html: Option<PathBuf>,
    /// Write the tightest policy folder that keeps every allowed request working into this
    /// (new or empty) folder, and print its diff.
    #[arg(long, value_name = "OUT_DIR")]
    suggest: Option<PathBuf>,
    /// With --suggest: the least time a route's lines must cover to call an allowance unused.
    #[arg(long, default_value_t = 7.0, value_name = "DAYS")]
    min_days: f64,
    /// With --suggest: the fewest allowed CORS requests a route needs to call an allowance unused.
    #[arg(long, default_value_t = 1000, value_name = "N")]
    min_requests: u64,
}

pub(crate) fn run(args: &AuditArgs) -> Result<ExitCode, CliError> {
    if !(args.min_days >= 0.0 && args.min_days.is_finite()) {
        return Err(CliError::Usage(format!(
            "--min-days {} is not a number of days",
            args.min_days
        )));
    }
    let sources = read_sources(&args.policies)?;
    let policies = validated(&sources)?;
    let mut tally = Tally::new(&policies);
    for input in Input::all(&args.logs) {
        let mut reader = input.open()?;
        let read = for_each_line(&mut *reader, |line| match line {
            Line::Text(text) => tally.line(text),
            Line::TooLong => tally.too_long(),
        });
        // A log cut short (a truncated .gz) loses only its end: what was read counts.
        if let Err(error) = read {
            eprintln!(
                "corsgate audit: {} ended early ({error}); the lines before count",
                input.name()
            );
        }
    }
    let audit = findings::audit(tally, &policies);
    match args.format {
        Format::Human => print!("{}", text::human(&audit, Style::for_stdout())),
        Format::Json => println!("{}", text::json(&audit)),
    }
    if let Some(path) = &args.html {
        std::fs::write(path, html::page(&audit))
            .map_err(|e| CliError::Io(format!("cannot write {}: {e}", path.display())))?;
    }
    match &args.suggest {
        Some(out_dir) => suggest::suggest(
            out_dir,
            &audit,
            &policies,
            Thresholds {
                min_window_ms: (args.min_days * 86_400_000.0) as u64,
                min_requests: args.min_requests,
            },
        ),
        None => Ok(ExitCode::SUCCESS),
    }
}
