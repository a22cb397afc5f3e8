//! `corsgate routes`: one line per route, in matching order.

use std::path::Path;
use std::process::ExitCode;

use corsgate_core::config::load_policies;
use corsgate_core::method::AllowedMethods;
use corsgate_core::origins::AllowedOrigins;
use corsgate_core::{PreflightMode, RouteTable};

use crate::check::{read_sources, report_errors};
use crate::error::CliError;

pub(crate) fn run(dir: &Path) -> Result<ExitCode, CliError> {
    let sources = read_sources(dir)?;
    let loaded = load_policies(&sources).map_err(|errors| report_errors(&sources, &errors))?;
    let table = RouteTable::new(loaded.into_iter().map(|l| l.route).collect());
    let rows: Vec<[String; 4]> = table
        .routes()
        .iter()
        .map(|r| {
            let origins = match r.cors().origins() {
                AllowedOrigins::Any => "*".to_string(),
                AllowedOrigins::Listed { exact, patterns } => format!(
                    "{} origin(s){}",
                    exact.len() + patterns.len(),
                    if patterns.is_empty() {
                        ""
                    } else {
                        " incl. wildcards"
                    }
                ),
            };
            let methods = match r.cors().methods() {
                AllowedMethods::Any => "*".to_string(),
                AllowedMethods::Listed(m) => m.join(","),
            };
            let mut summary = format!("{origins}; methods {methods}");
            if !r.cors().allow_headers_value().is_empty() {
                summary.push_str(&format!("; headers {}", r.cors().allow_headers_value()));
            }
            if r.cors().allow_credentials() {
                summary.push_str("; credentials");
            }
            if let Some(max_age) = r.cors().max_age_value() {
                summary.push_str(&format!("; max-age {max_age}"));
            }
            if r.cors().preflight() == PreflightMode::Forward {
                summary.push_str("; preflight forwarded");
            }
            let target = format!(
                "{}{}",
                r.upstream().url(),
                if r.strip_prefix() {
                    " (prefix stripped)"
                } else {
                    ""
                }
            );
            [r.path().display(), r.name().to_string(), target, summary]
        })
        .collect();
    let header = ["PATH", "ROUTE", "UPSTREAM", "POLICY"].map(String::from);
    let widths: Vec<usize> = (0..3)
        .map(|i| {
            rows.iter()
                .chain([&header])
                .map(|r| r[i].len())
                .max()
                .unwrap_or(0)
        })
        .collect();
    for row in [&header].into_iter().chain(rows.iter()) {
        println!(
            "{:w0$}  {:w1$}  {:w2$}  {}",
            row[0],
            row[1],
            row[2],
            row[3],
            w0 = widths[0],
            w1 = widths[1],
            w2 = widths[2]
        );
    }
    Ok(ExitCode::SUCCESS)
}
