//! Loading a policy folder: one route per `*.toml` file, validated together.

use std::path::Path;

use super::document::{parse_document, PolicyDocument};
use super::error::{ConfigError, ErrorKind, Location};
use super::schema::Key;
use super::validate::build_route;
use crate::route::{Route, RouteTable};

/// A policy file as read from disk.
#[derive(Clone, Debug)]
pub struct PolicySource {
    /// The route's name: the file stem.
    pub name: String,
    /// How errors name the file (the folder as given, joined with the file name).
    pub file: String,
    /// The file's whole content, UTF-8.
    pub text: String,
}

/// A validated policy file: its compiled route and the document it came from (for `explain`).
#[derive(Debug)]
pub struct LoadedPolicy<'s> {
    /// The file it was read from.
    pub source: &'s PolicySource,
    /// The file's keys with their spans, for pointing at lines and computing warnings.
    pub document: PolicyDocument<'s>,
    /// The compiled route, named after the file.
    pub route: Route,
}

/// Reads every policy file of `dir` in name order. Files whose name starts with `_` or `.`, and
/// anything that is not a `.toml` file, are skipped.
pub fn read_policy_dir(dir: &Path) -> Result<Vec<PolicySource>, ConfigError> {
    let io_error = |e: std::io::Error, what: &Path| {
        path_error(ErrorKind::Io, what, format!("cannot read: {e}"), None)
    };
    let mut sources = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(|e| io_error(e, dir))? {
        let path = entry.map_err(|e| io_error(e, dir))?.path();
        let Some(file_name) = path.file_name().and_then(|n| n.to_str()) else {
            continue;
        };
        let Some(name) = file_name.strip_suffix(".toml") else {
            continue;
        };
        if name.is_empty() || name.starts_with(['_', '.']) || !path.is_file() {
            continue;
        }
        let text = std::fs::read_to_string(&path).map_err(|e| io_error(e, &path))?;
        sources.push(PolicySource {
            name: name.to_string(),
            file: path.display().to_string(),
            text,
        });
    }
    sources.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(sources)
}

/// An error about a file or folder as a whole: its location is the path, line and column 0.
fn path_error(kind: ErrorKind, path: &Path, message: String, help: Option<String>) -> ConfigError {
    ConfigError {
        kind,
        location: Location {
            file: path.display().to_string(),
            line: 0,
            column: 0,
            span: 0..0,
        },
        message,
        help,
    }
}

/// Validates every source, reporting every error of every file; two routes with the same path
/// are reported on the later file, pointing at the earlier one.
pub fn load_policies(sources: &[PolicySource]) -> Result<Vec<LoadedPolicy<'_>>, Vec<ConfigError>> {
    let mut loaded: Vec<LoadedPolicy<'_>> = Vec::new();
    let mut errors = Vec::new();
    for source in sources {
        let (document, mut structural) = match parse_document(&source.file, &source.text) {
            Ok(parsed) => parsed,
            Err(mut e) => {
                errors.append(&mut e);
                continue;
            }
        };
        let route = match build_route(&source.name, &document) {
            Ok(route) if structural.is_empty() => route,
            built => {
                structural.extend(built.err().unwrap_or_default());
                structural.sort_by_key(|e| e.location.span.start);
                errors.append(&mut structural);
                continue;
            }
        };
        if let Some(earlier) = loaded.iter().find(|l| l.route.path == route.path) {
            let span = document.span_of(Key::Path);
            let earlier_at = earlier
                .document
                .location(earlier.document.span_of(Key::Path));
            errors.push(document.error(
                ErrorKind::DuplicateRoutePath,
                span,
                format!(
                    "route path `{}` is already used by `{}` at {earlier_at}",
                    route.path.display(),
                    earlier.source.name
                ),
                Some("give each route its own path, or merge the two files".into()),
            ));
            continue;
        }
        loaded.push(LoadedPolicy {
            source,
            document,
            route,
        });
    }
    if errors.is_empty() {
        Ok(loaded)
    } else {
        Err(errors)
    }
}

/// Reads and validates `dir` into the route table.
pub fn load_route_table(dir: &Path) -> Result<RouteTable, Vec<ConfigError>> {
    let sources = read_policy_dir(dir).map_err(|e| vec![e])?;
    let loaded = load_policies(&sources)?;
    Ok(RouteTable::new(
        loaded.into_iter().map(|l| l.route).collect(),
    ))
}

/// The route table of the policy folder a prebuilt artifact reads at run time from its files
/// mount: as [`load_route_table`], and a folder without a policy file is an error too (an empty
/// table would answer every request `404`, where the likely cause is a mount of the wrong
/// folder).
pub fn load_policy_folder(dir: &Path) -> Result<RouteTable, Vec<ConfigError>> {
    let sources = read_policy_dir(dir).map_err(|e| vec![e])?;
    if sources.is_empty() {
        return Err(vec![path_error(
            ErrorKind::NoPolicyFiles,
            dir,
            "no policy files (*.toml) in this folder".into(),
            Some(format!(
                "mount the folder of your policy files at {}",
                dir.display()
            )),
        )]);
    }
    let loaded = load_policies(&sources)?;
    Ok(RouteTable::new(
        loaded.into_iter().map(|l| l.route).collect(),
    ))
}

/// The route table of policies given as `(route name, TOML text)` pairs, as if each were
/// `<name>.toml` in a folder: the one way tests, benchmarks and fuzz targets make routes from text.
pub fn route_table_from_toml(files: &[(&str, &str)]) -> Result<RouteTable, Vec<ConfigError>> {
    let sources: Vec<PolicySource> = files
        .iter()
        .map(|(name, text)| PolicySource {
            name: name.to_string(),
            file: format!("{name}.toml"),
            text: text.to_string(),
        })
        .collect();
    let loaded = load_policies(&sources)?;
    Ok(RouteTable::new(
        loaded.into_iter().map(|l| l.route).collect(),
    ))
}

/// The route of one policy file's text (named `route`).
pub fn route_from_toml(text: &str) -> Result<Route, Vec<ConfigError>> {
    let table = route_table_from_toml(&[("route", text)])?;
    Ok(table.routes()[0].clone())
}
