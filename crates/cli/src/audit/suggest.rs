//! `corsgate audit --suggest OUT_DIR`: the tightest policy folder that keeps every request the
//! logs show as allowed working, written as every policy file of the folder. Only entries of `allow_origins`, `allow_methods` and
//! `allow_headers` that no request used are taken out (a narrowing, never a widening), each file
//! is validated as `corsgate check` validates it, and `corsgate diff` of the folder against the
//! suggestion is printed. A route whose window is too short or too small to judge is left as it
//! is; when no route can be judged, nothing is written.

use std::path::Path;
use std::process::ExitCode;

use corsgate_core::config::diff::diff;
use corsgate_core::config::narrow::narrowed_text;
use corsgate_core::config::schema::Key;
use corsgate_core::config::{load_policies, LoadedPolicy, PolicySource};

use super::findings::{Audit, RouteAudit};
use super::text::duration;
use crate::diff::{print_human, validated};
use crate::error::CliError;

/// How much of a route's log is enough to call an allowance unused.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Thresholds {
    /// The least time its lines under the folder's version must cover, in milliseconds.
    pub(crate) min_window_ms: u64,
    /// The fewest CORS requests under the folder's version.
    pub(crate) min_requests: u64,
}

/// Writes the suggestion into `out_dir` and prints what it changes.
pub(crate) fn suggest(
    out_dir: &Path,
    audit: &Audit,
    policies: &[LoadedPolicy<'_>],
    thresholds: Thresholds,
) -> Result<ExitCode, CliError> {
    if out_dir.exists()
        && std::fs::read_dir(out_dir)
            .map_err(|e| CliError::Io(format!("cannot read {}: {e}", out_dir.display())))?
            .next()
            .is_some()
    {
        return Err(CliError::Usage(format!(
            "{} is not empty; --suggest writes a whole folder into an empty or new one",
            out_dir.display()
        )));
    }
    let mut judged = 0;
    let mut texts = Vec::new();
    println!("suggestion:");
    for (route, policy) in audit.routes.iter().zip(policies) {
        let text = match too_little(route, thresholds) {
            Some(why) => {
                println!("  route {}: left as it is, {why}", route.name);
                policy.source.text.clone()
            }
            None if every_origin_unused(route, policy) => {
                println!(
                    "  route {}: left as it is, no allowed request used any of its origins (narrowing would leave allow_origins empty: remove the route if it serves no page)",
                    route.name
                );
                policy.source.text.clone()
            }
            None => {
                judged += 1;
                if route.unused.is_empty() {
                    println!(
                        "  route {}: every allowance was used, left as it is",
                        route.name
                    );
                }
                narrowed_text(&policy.document, |key, entry| {
                    !route
                        .unused
                        .iter()
                        .any(|u| u.key == key && u.entry == entry)
                })
            }
        };
        texts.push(text);
    }
    if judged == 0 {
        println!(
            "refused: no route has enough of the log to judge (thresholds: --min-days {}, --min-requests {}); nothing written",
            thresholds.min_window_ms / 86_400_000,
            thresholds.min_requests
        );
        return Ok(ExitCode::from(1));
    }
    let mut sources: Vec<PolicySource> = policies
        .iter()
        .zip(texts)
        .map(|(policy, text)| PolicySource {
            name: policy.source.name.clone(),
            file: out_dir
                .join(format!("{}.toml", policy.source.name))
                .display()
                .to_string(),
            text,
        })
        .collect();
    // A narrowing the validator refuses (a setting that needs the entry taken out) is not
    // suggested: that route keeps its file and says why.
    if let Err(errors) = load_policies(&sources) {
        for (source, policy) in sources.iter_mut().zip(policies) {
            let invalid: Vec<String> = errors
                .iter()
                .filter(|e| e.location.file == source.file)
                .map(|e| e.message.clone())
                .collect();
            if !invalid.is_empty() {
                println!(
                    "  route {}: left as it is, the narrowed file would be invalid: {}",
                    source.name,
                    invalid.join("; ")
                );
                source.text = policy.source.text.clone();
            }
        }
    }
    std::fs::create_dir_all(out_dir)
        .map_err(|e| CliError::Io(format!("cannot create {}: {e}", out_dir.display())))?;
    for source in &sources {
        std::fs::write(&source.file, &source.text)
            .map_err(|e| CliError::Io(format!("cannot write {}: {e}", source.file)))?;
    }
    let suggested = validated(&sources)?;
    println!(
        "wrote {} ({} file(s)); corsgate diff of the folder against it:",
        out_dir.display(),
        sources.len()
    );
    print_human(&diff(policies, &suggested));
    Ok(ExitCode::SUCCESS)
}

/// Whether no entry of the route's `allow_origins` was used: taking them all out would leave a
/// route that allows no origin, which is no narrowing a person would want done for them.
fn every_origin_unused(route: &RouteAudit, policy: &LoadedPolicy<'_>) -> bool {
    let listed = policy
        .document
        .strings(Key::AllowOrigins)
        .map_or(0, |list| list.value.len());
    let unused = route
        .unused
        .iter()
        .filter(|u| u.key == Key::AllowOrigins)
        .count();
    listed > 0 && unused == listed
}

/// Why a route's log is too short or too small to judge, if it is.
fn too_little(route: &RouteAudit, thresholds: Thresholds) -> Option<String> {
    let requests = route.current_allowed;
    let span = route.current_window.span_ms();
    if requests < thresholds.min_requests {
        return Some(format!(
            "{requests} allowed CORS request(s) under this folder's version, fewer than --min-requests {}",
            thresholds.min_requests
        ));
    }
    if span < thresholds.min_window_ms {
        return Some(format!(
            "its lines under this folder's version cover {}, less than --min-days {}",
            duration(span),
            thresholds.min_window_ms as f64 / 86_400_000.0
        ));
    }
    None
}
