//! `corsgate check`: every error and warning of a policy folder, for people or for tools.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use corsgate_core::config::{
    load_policies, read_policy_dir, warnings, ConfigError, ConfigWarning, PolicySource,
};
use serde_json::json;

use crate::error::CliError;
use crate::render::{diagnostic, Style};
use crate::{spin, Format};

pub(crate) fn run(
    dir: &Path,
    format: Format,
    spin_manifest: Option<PathBuf>,
    no_spin: bool,
) -> Result<ExitCode, CliError> {
    let sources = read_sources(dir)?;
    let manifest = match (no_spin, spin_manifest) {
        (true, _) => None,
        (false, Some(path)) => Some(path),
        (false, None) => manifest_beside(dir),
    };
    let skipped_manifest = (!no_spin && manifest.is_none()).then(|| {
        format!(
            "no spin.toml beside {}: the allowed_outbound_hosts check was skipped (name one with --spin FILE)",
            dir.display()
        )
    });
    let mut report_only: Vec<String> = Vec::new();
    let (mut errors, warnings, routes) = match load_policies(&sources) {
        Ok(loaded) => {
            let warnings: Vec<ConfigWarning> = loaded.iter().flat_map(warnings).collect();
            report_only = loaded
                .iter()
                .filter(|l| l.route.cors().report_only())
                .map(|l| l.route.name().to_string())
                .collect();
            let errors = match &manifest {
                Some(path) => spin::uncovered_upstreams(path, &loaded)?,
                None => Vec::new(),
            };
            (errors, warnings, loaded.len())
        }
        Err(errors) => (errors, Vec::new(), 0),
    };
    errors.sort_by(|a, b| {
        (&a.location.file, a.location.span.start).cmp(&(&b.location.file, b.location.span.start))
    });
    match format {
        Format::Human => {
            if let Some(note) = &skipped_manifest {
                println!("note: {note}");
            }
            for route in &report_only {
                println!("note: route `{route}` is report-only: the gateway forwards its requests untouched and only logs what the policy would decide");
            }
            print_human(&sources, &errors, &warnings, routes)
        }
        Format::Json => print_json(
            &errors,
            &warnings,
            routes,
            manifest.as_deref(),
            &report_only,
        ),
    }
    Ok(if errors.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

/// The Spin manifest that deploys a policy folder: `spin.toml` in the folder's parent, where
/// `spin new` and the shipped project put it, whatever the current folder is.
fn manifest_beside(dir: &Path) -> Option<PathBuf> {
    let absolute;
    let dir = if dir.file_name().is_some() {
        dir
    } else {
        absolute = dir.canonicalize().ok()?;
        &absolute
    };
    let parent = dir.parent()?;
    let path = if parent.as_os_str().is_empty() {
        PathBuf::from("spin.toml")
    } else {
        parent.join("spin.toml")
    };
    path.is_file().then_some(path)
}

/// Reads the folder; an unreadable or empty folder is a usage error (exit 2).
pub(crate) fn read_sources(dir: &Path) -> Result<Vec<PolicySource>, CliError> {
    let sources = read_policy_dir(dir).map_err(|e| CliError::Io(e.to_string()))?;
    if sources.is_empty() {
        return Err(CliError::Usage(format!(
            "no policy files (*.toml) in {}",
            dir.display()
        )));
    }
    Ok(sources)
}

/// Prints every error with its source line and returns them as a [`CliError`] when there are any.
pub(crate) fn report_errors(sources: &[PolicySource], errors: &[ConfigError]) -> CliError {
    print_errors(Style::for_stdout(), sources, errors);
    CliError::Invalid(errors.len())
}

fn print_errors(style: Style, sources: &[PolicySource], errors: &[ConfigError]) {
    for e in errors {
        let help = e.help.as_deref();
        print!(
            "{}",
            diagnostic(style, "error", &e.location, &e.message, help, sources)
        );
    }
}

fn print_human(
    sources: &[PolicySource],
    errors: &[ConfigError],
    warnings: &[ConfigWarning],
    routes: usize,
) {
    let style = Style::for_stdout();
    print_errors(style, sources, errors);
    for w in warnings {
        print!(
            "{}",
            diagnostic(style, "warning", &w.location, &w.message, None, sources)
        );
    }
    if errors.is_empty() {
        println!(
            "{} {routes} route(s) valid, {} warning(s)",
            style.green("ok:"),
            warnings.len()
        );
    } else {
        println!(
            "{} {} error(s), {} warning(s); nothing would be deployed",
            style.red("invalid:"),
            errors.len(),
            warnings.len()
        );
    }
}

fn print_json(
    errors: &[ConfigError],
    warnings: &[ConfigWarning],
    routes: usize,
    manifest: Option<&Path>,
    report_only: &[String],
) {
    let errors: Vec<_> = errors
        .iter()
        .map(|e| json!({"file": e.location.file, "line": e.location.line, "column": e.location.column, "kind": format!("{:?}", e.kind), "message": e.message, "help": e.help}))
        .collect();
    let warnings: Vec<_> = warnings
        .iter()
        .map(|w| json!({"file": w.location.file, "line": w.location.line, "column": w.location.column, "kind": format!("{:?}", w.kind), "message": w.message}))
        .collect();
    println!(
        "{}",
        json!({"valid": errors.is_empty(), "routes": routes, "report_only": report_only, "spin_manifest": manifest.map(|m| m.display().to_string()), "errors": errors, "warnings": warnings})
    );
}
