//! Loading a policy folder: one route per `*.toml` file, validated together.

use std::path::Path;

use super::document::{parse_document, PolicyDocument};
use super::error::{ConfigError, ErrorKind};
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
        ConfigError::whole_file(
            ErrorKind::Io,
            what.display().to_string(),
            format!("cannot read: {e}"),
            None,
        )
    };
    let mut sources = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(|e| io_error(e, dir))? {
        let entry = entry.map_err(|e| io_error(e, dir))?;
        let path = entry.path();
        let Some(name) = path
            .file_name()
            .and_then(|n| n.to_str())
            .and_then(policy_route_name)
        else {
            continue;
        };
        if !is_file(&entry, &path) {
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

/// Whether a folder entry is a file (or a link to one): the entry's own type says so without
/// asking the file system again, which a prebuilt artifact pays for per host call
/// (BENCHMARKS.md, "Prebuilt against compiled-in").
fn is_file(entry: &std::fs::DirEntry, path: &Path) -> bool {
    match entry.file_type() {
        Ok(kind) if kind.is_symlink() => path.is_file(),
        Ok(kind) => kind.is_file(),
        Err(_) => false,
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

/// The route table of `sources`, validated together ([`load_policies`]).
fn compile(sources: &[PolicySource]) -> Result<RouteTable, Vec<ConfigError>> {
    let loaded = load_policies(sources)?;
    Ok(RouteTable::new(
        loaded.into_iter().map(|l| l.route).collect(),
    ))
}

/// Reads and validates `dir` into the route table.
pub fn load_route_table(dir: &Path) -> Result<RouteTable, Vec<ConfigError>> {
    let sources = read_policy_dir(dir).map_err(|e| vec![e])?;
    compile(&sources)
}

/// The route table of the policy folder a prebuilt artifact reads at run time from its files
/// mount: as [`load_route_table`], and a folder without a policy file is an error too (an empty
/// table would answer every request `404`, where the likely cause is a mount of the wrong
/// folder).
pub fn load_policy_folder(dir: &Path) -> Result<RouteTable, Vec<ConfigError>> {
    let sources = read_policy_dir(dir).map_err(|e| vec![e])?;
    route_table_of_folder(&dir.display().to_string(), sources)
}

/// The route table of the policy files `sources`, read from the folder `folder` (as errors name
/// it) by the caller: in name order, validated together, and an error when there is none. A
/// prebuilt artifact reads the files its own way ([`policy_route_name`] says which) and hands
/// them here.
pub fn route_table_of_folder(
    folder: &str,
    mut sources: Vec<PolicySource>,
) -> Result<RouteTable, Vec<ConfigError>> {
    if sources.is_empty() {
        return Err(vec![ConfigError::whole_file(
            ErrorKind::NoPolicyFiles,
            folder.to_string(),
            "no policy files (*.toml) in this folder".into(),
            Some(format!("mount the folder of your policy files at {folder}")),
        )]);
    }
    sources.sort_by(|a, b| a.name.cmp(&b.name));
    compile(&sources)
}

/// The route name of a policy file called `file_name` (its stem), or `None` for a file the
/// folder's readers skip: anything but `*.toml`, and names starting with `_` or `.`.
pub fn policy_route_name(file_name: &str) -> Option<&str> {
    let name = file_name.strip_suffix(".toml")?;
    (!name.is_empty() && !name.starts_with(['_', '.'])).then_some(name)
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
    compile(&sources)
}

/// The route of one policy file's text (named `route`).
pub fn route_from_toml(text: &str) -> Result<Route, Vec<ConfigError>> {
    let table = route_table_from_toml(&[("route", text)])?;
    Ok(table.routes()[0].clone())
}
