//! Bakes a [`RouteTable`] into Rust source: a constant expression of `static` data, so the
//! component carries its policies compiled in and an instance starts with nothing to build.

use super::error::{ConfigError, ErrorKind};
use super::schema::Key;
use crate::live::LiveRule;
use crate::method::AllowedMethods;
use crate::origin_set::OriginSet;
use crate::origins::{AllowedOrigins, HostPattern, OriginPattern, PortPattern};
use crate::policy::{CorsPolicy, PreflightMode};
use crate::request_headers::AllowedHeaders;
use crate::route::{Route, RoutePath, RouteTable, Scheme};

const CRATE: &str = "::corsgate_core";

/// A constant expression of type `corsgate_core::RouteTable`, for
/// `static ROUTES: corsgate_core::RouteTable = <expression>;`. The route paths, read on every
/// request, are slices of one string so that matching touches as little memory as possible.
///
/// Lists of values made by the engine's `const` constructors are `static` items of the
/// expression's block: a constructor call's value is not promoted to `'static` as a literal's
/// is, so `&[Route::new(..)]` could not be borrowed for the table's lifetime.
pub fn route_table_expression(table: &RouteTable) -> String {
    let mut all_paths = String::new();
    let mut path_exprs = Vec::new();
    for route in table.routes() {
        path_exprs.push(route_path(&route.path, &mut all_paths));
    }
    let mut items = Items::default();
    let routes: Vec<String> = table
        .routes()
        .iter()
        .zip(&path_exprs)
        .map(|(route, path)| route_expr(route, path, &mut items))
        .collect();
    let paths = items.list("ROUTE_PATHS", "route::RoutePath", &path_exprs);
    let routes = items.list("ROUTE_LIST", "route::Route", &routes);
    format!(
        "{{ const PATHS: &str = {all_paths:?}; {} {CRATE}::route::RouteTable::baked({paths}, {routes}) }}",
        items.0.join(" ")
    )
}

/// The `static` items of the table expression's block.
#[derive(Default)]
struct Items(Vec<String>);

impl Items {
    /// A `static` array of `elements` of the engine's type `ty`, named after `name` and its
    /// place; the expression borrowing it.
    fn list(&mut self, name: &str, ty: &str, elements: &[String]) -> String {
        if elements.is_empty() {
            return "&[]".into();
        }
        let name = format!("{name}_{}", self.0.len());
        self.0.push(format!(
            "static {name}: [{CRATE}::{ty}; {}] = [{}];",
            elements.len(),
            elements.join(",")
        ));
        format!("&{name}")
    }
}

/// The route path as a slice of `PATHS`, appending its text there.
fn route_path(path: &RoutePath, all_paths: &mut String) -> String {
    let (variant, value) = match path {
        RoutePath::Exact(p) => ("Exact", p),
        RoutePath::Prefix(p) => ("Prefix", p),
    };
    let start = all_paths.len();
    all_paths.push_str(value);
    format!(
        "{CRATE}::route::RoutePath::{variant}(::std::borrow::Cow::Borrowed({CRATE}::text::static_slice(PATHS, {start}, {})))",
        all_paths.len()
    )
}

fn text(t: &str) -> String {
    // `str`'s Debug output is a valid Rust string literal.
    format!("::std::borrow::Cow::Borrowed({t:?})")
}

fn list<T>(items: &[T], item: impl Fn(&T) -> String) -> String {
    let inner: Vec<String> = items.iter().map(item).collect();
    format!("::std::borrow::Cow::Borrowed(&[{}])", inner.join(","))
}

fn option(value: Option<&str>) -> String {
    match value {
        Some(t) => format!("Some({})", text(t)),
        None => "None".into(),
    }
}

fn scheme(s: Scheme) -> String {
    format!("{CRATE}::route::Scheme::{s:?}")
}

fn route_expr(r: &Route, path: &str, items: &mut Items) -> String {
    let upstream = r.upstream();
    let port = match upstream.port() {
        Some(port) => format!("Some({port})"),
        None => "None".into(),
    };
    format!(
        "{CRATE}::route::Route::new({}, {path}, {CRATE}::route::Upstream::new({}, {}, {port}, {}), {}, {}, {}, {CRATE}::route::PolicyId::Baked({:?}))",
        text(r.name()),
        scheme(upstream.scheme()),
        text(upstream.host()),
        text(upstream.base_path()),
        r.strip_prefix(),
        r.timeout_ms(),
        cors_expr(r.cors(), items),
        r.policy_id()
    )
}

fn allowed_origins(origins: &AllowedOrigins, items: &mut Items) -> String {
    match origins {
        AllowedOrigins::Any => format!("{CRATE}::origins::AllowedOrigins::Any"),
        AllowedOrigins::Listed { exact, patterns } => {
            let patterns: Vec<String> = patterns.iter().map(pattern).collect();
            format!(
                "{CRATE}::origins::AllowedOrigins::Listed {{ exact: {}, patterns: ::std::borrow::Cow::Borrowed({}) }}",
                origin_set(exact),
                items.list("PATTERNS", "origins::OriginPattern", &patterns)
            )
        }
    }
}

fn live_rule(rule: Option<&LiveRule>, items: &mut Items) -> String {
    let Some(rule) = rule else {
        return "None".into();
    };
    format!(
        "Some({CRATE}::live::LiveRule::new({}, {CRATE}::live::WhenUnreadable::{:?}))",
        allowed_origins(rule.ceiling(), items),
        rule.when_unreadable()
    )
}

fn cors_expr(c: &CorsPolicy, items: &mut Items) -> String {
    let origins = allowed_origins(&c.origins, items);
    let methods = match &c.methods {
        AllowedMethods::Any => format!("{CRATE}::method::AllowedMethods::Any"),
        AllowedMethods::Listed(m) => {
            format!(
                "{CRATE}::method::AllowedMethods::Listed({})",
                list(m, |t| text(t))
            )
        }
    };
    let AllowedHeaders { any, names } = &c.headers;
    let preflight = match c.preflight {
        PreflightMode::Edge => "Edge",
        PreflightMode::Forward => "Forward",
    };
    format!(
        "{CRATE}::policy::CorsPolicy::new({origins}, {methods}, {CRATE}::request_headers::AllowedHeaders::new({any}, {}), {CRATE}::policy::PolicySwitches {{ allow_credentials: {}, allow_private_network: {}, preflight: {CRATE}::policy::PreflightMode::{preflight}, report_only: {} }}, {CRATE}::policy::HeaderValues {{ allow_methods: {}, allow_headers: {}, expose_headers: {}, max_age: {} }}, {})",
        list(names, |t| text(t)),
        c.allow_credentials,
        c.allow_private_network,
        c.report_only,
        text(c.allow_methods_value()),
        text(c.allow_headers_value()),
        option(c.expose_headers_value()),
        option(c.max_age_value()),
        live_rule(c.live(), items)
    )
}

fn origin_set(set: &OriginSet) -> String {
    let slots: Vec<String> = set.slots().iter().map(|s| format!("{s}u32")).collect();
    let entries: Vec<String> = set.entries().iter().map(|t| text(t)).collect();
    format!(
        "{CRATE}::origin_set::OriginSet::baked(&[{}], &[{}])",
        slots.join(","),
        entries.join(",")
    )
}

fn pattern(p: &OriginPattern) -> String {
    let host = match &p.host {
        HostPattern::Exact(h) => format!("{CRATE}::origins::HostPattern::Exact({})", text(h)),
        HostPattern::Subdomains(s) => {
            format!("{CRATE}::origins::HostPattern::Subdomains({})", text(s))
        }
    };
    let port = match p.port {
        PortPattern::Default => "Default".to_string(),
        PortPattern::Any => "Any".to_string(),
        PortPattern::Exact(n) => format!("Exact({n})"),
    };
    format!(
        "{CRATE}::origins::OriginPattern::new({}, {host}, {CRATE}::origins::PortPattern::{port})",
        scheme(p.scheme)
    )
}

/// Whether the component being built serves routes with `[live]`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LiveRoutes {
    /// It reads the live list and keeps it per instance (the WASIp3 gateway and middleware).
    Served,
    /// It cannot: the WASIp2 gateway, whose every request Spin serves with a fresh instance, so
    /// each would read the store. A live route fails its build.
    Refused,
}

/// A component's build script: compiles the policy folder named by `CORSGATE_POLICIES` (absolute,
/// or relative to the repository root, as CONTRACT.md §3 says; default `policies`) into
/// `$OUT_DIR/compiled.rs` as `ROUTES`, beside the run-time settings' values in the build's
/// environment as `BUILT_IN_SETTINGS` (`built_in_settings`). `repo_root` is the repository
/// root as seen from the package (`.` for the WASIp2 gateway at the root, `../..` for
/// `components/*`). An invalid policy or setting fails the build with every error, a policy's
/// as `file:line:column: message`. One copy for every component built from the engine.
pub fn build_script(repo_root: &str, live: LiveRoutes) -> std::process::ExitCode {
    use std::path::{Path, PathBuf};
    use std::process::ExitCode;

    let settings = match built_in_settings() {
        Ok(settings) => settings,
        Err(problems) => {
            for problem in &problems {
                eprintln!("corsgate: invalid setting in the build's environment: {problem}");
            }
            eprintln!("corsgate: set it to one of those values or unset it; nothing was built");
            return ExitCode::FAILURE;
        }
    };
    println!("cargo:rerun-if-env-changed=CORSGATE_POLICIES");
    let named = std::env::var("CORSGATE_POLICIES").unwrap_or_else(|_| "policies".into());
    // Relative to the package root, the build script's working directory, so errors name files
    // the way the user wrote the folder (prefixed with the way up from a nested package).
    let dir = if Path::new(&named).is_absolute() || repo_root == "." {
        PathBuf::from(named)
    } else {
        Path::new(repo_root).join(named)
    };
    // A folder here makes cargo rescan it for any added, removed or changed file.
    println!("cargo:rerun-if-changed={}", dir.display());
    match compile_for(&dir, live) {
        Ok(table) => {
            let out_dir = PathBuf::from(std::env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"));
            let source = format!(
                "/// The route table compiled from `{}`.\npub(crate) static ROUTES: ::corsgate_core::RouteTable = {};\n{settings}",
                dir.display(),
                route_table_expression(&table)
            );
            std::fs::write(out_dir.join("compiled.rs"), source)
                .expect("write the compiled route table and settings");
            ExitCode::SUCCESS
        }
        Err(errors) => {
            eprintln!("corsgate: invalid policies in {}:", dir.display());
            for error in &errors {
                eprintln!("{error}");
            }
            eprintln!("corsgate: {} error(s); nothing was built", errors.len());
            ExitCode::FAILURE
        }
    }
}

/// The route table of `dir`, refusing live routes where `live` says so.
fn compile_for(dir: &std::path::Path, live: LiveRoutes) -> Result<RouteTable, Vec<ConfigError>> {
    let sources = super::read_policy_dir(dir).map_err(|e| vec![e])?;
    let loaded = super::load_policies(&sources)?;
    let refused: Vec<ConfigError> = loaded
        .iter()
        .filter(|policy| live == LiveRoutes::Refused && policy.route.cors().live().is_some())
        .map(|policy| {
            policy.document.error(
                ErrorKind::LiveNotServed,
                policy.document.span_of(Key::Ceiling),
                format!(
                    "route `{}` has `[live]`, which the WASIp2 gateway cannot serve: Spin gives every WASIp2 request a fresh instance, which would read the store on every request",
                    policy.route.name()
                ),
                Some("build the WASIp3 gateway (`corsgate-p3`, components/p3) or middleware (components/middleware), or use their prebuilt artifacts; or remove `[live]`".into()),
            )
        })
        .collect();
    if !refused.is_empty() {
        return Err(refused);
    }
    Ok(RouteTable::new(
        loaded.into_iter().map(|l| l.route).collect(),
    ))
}

/// The run-time settings' values in the build's environment (`CORSGATE_ACCESS_LOG=problems
/// cargo build ...`), checked, as the source of `BUILT_IN_SETTINGS`: the defaults an adapter
/// falls back on where its run-time environment is silent (Spin 4.1 gives a middleware none).
/// A value that is not understood fails the build with what is valid.
fn built_in_settings() -> Result<String, Vec<String>> {
    use crate::settings::Settings;

    let built_in: Vec<(&str, String)> = Settings::variables()
        .filter_map(|name| {
            println!("cargo:rerun-if-env-changed={name}");
            std::env::var(name).ok().map(|value| (name, value))
        })
        .collect();
    let problems = Settings::problems(|name| {
        built_in
            .iter()
            .find(|(built_in_name, _)| *built_in_name == name)
            .map(|(_, value)| value.clone())
    });
    if !problems.is_empty() {
        return Err(problems);
    }
    let entries: Vec<String> = built_in
        .iter()
        .map(|(name, value)| format!("({name:?}, {:?})", value.trim()))
        .collect();
    Ok(format!(
        "/// The settings' values in the build's environment, as (variable, value).\npub(crate) static BUILT_IN_SETTINGS: &[(&str, &str)] = &[{}];\n",
        entries.join(", ")
    ))
}
