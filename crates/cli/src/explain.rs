//! `corsgate explain`: what the gateway decides for a request, step by step with the rule that
//! decided it, the exact response, and what the browser then does: allow, or the console error a
//! Chromium user sees plus the one-line policy change that fixes it.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, ValueEnum};
use corsgate_core::config::{load_policies, LoadedPolicy};
use corsgate_core::decision::{
    forwarded, preflight, CorsRequest, HeaderList, PreflightRejection, ALLOW_CREDENTIALS,
    ALLOW_ORIGIN,
};
use corsgate_core::method::{is_cors_safelisted_method, AllowedMethods};
use corsgate_core::request_headers::HeaderRejection;
use corsgate_core::request_origin::RequestOrigin;
use corsgate_core::{PreflightMode, RouteTable, RoutingError};

use crate::check::{read_sources, report_errors};
use crate::error::CliError;
use crate::har::{self, PageRequest};
use crate::render::Style;

#[derive(Args, Debug)]
pub struct ExplainArgs {
    /// The page's origin (`Origin` header), e.g. https://app.example.com.
    #[arg(long)]
    origin: Option<String>,
    /// The method the page's fetch() uses.
    #[arg(long, default_value = "GET")]
    method: String,
    /// A request header the page sets: a name (`X-Token`) or curl style (`Content-Type: application/json`). Repeatable.
    #[arg(long = "header", short = 'H')]
    headers: Vec<String>,
    /// fetch()'s credentials mode.
    #[arg(long, value_enum, default_value_t = Credentials::SameOrigin)]
    credentials: Credentials,
    /// Explain the preflight even when the browser would not send one.
    #[arg(long)]
    preflight: bool,
    /// Read the request from a HAR file saved from the browser's network panel.
    #[arg(long)]
    har: Option<PathBuf>,
    /// Which HAR entry (0-based; default: the first cross-origin request).
    #[arg(long, requires = "har")]
    entry: Option<usize>,
    /// The gateway's base URL, for the browser's messages.
    #[arg(long, default_value = "http://127.0.0.1:3000")]
    gateway: String,
    /// Request path (and query); taken from the HAR entry when --har is given.
    path: Option<String>,
    /// The policy folder.
    #[arg(default_value = "policies")]
    dir: PathBuf,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum Credentials {
    Omit,
    SameOrigin,
    Include,
}

pub fn run(args: &ExplainArgs) -> Result<ExitCode, CliError> {
    let request = page_request(args)?;
    let sources = read_sources(&args.dir)?;
    let loaded = load_policies(&sources).map_err(|errors| report_errors(&sources, &errors))?;
    let report = explain(&request, &loaded);
    print!("{}", report.render(Style::for_stdout()));
    Ok(if report.browser_allows {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

fn page_request(args: &ExplainArgs) -> Result<PageRequest, CliError> {
    if let Some(har) = &args.har {
        return har::read(har, args.entry);
    }
    let path = args
        .path
        .clone()
        .ok_or_else(|| CliError::Usage("give the request PATH (or --har FILE)".into()))?;
    if !path.starts_with('/') {
        return Err(CliError::Usage(format!("PATH must start with `/`: {path}")));
    }
    let headers = args
        .headers
        .iter()
        .map(|h| match h.split_once(':') {
            Some((name, value)) => (name.trim().to_string(), Some(value.trim().to_string())),
            None => (h.trim().to_string(), None),
        })
        .collect();
    Ok(PageRequest {
        gateway: args.gateway.trim_end_matches('/').to_string(),
        path,
        origin: args.origin.clone(),
        method: args.method.clone(),
        headers,
        credentials: args.credentials == Credentials::Include,
        was_preflight: args.preflight,
    })
}

/// What the explanation found.
#[derive(Debug, Default)]
pub struct Report {
    lines: Vec<Line>,
    pub browser_allows: bool,
}

#[derive(Debug)]
enum Line {
    Heading(String),
    Step { ok: bool, text: String },
    Plain(String),
    Verdict { ok: bool, text: String },
    Fix(String),
}

impl Report {
    fn heading(&mut self, t: impl Into<String>) {
        self.lines.push(Line::Heading(t.into()));
    }
    fn step(&mut self, ok: bool, t: impl Into<String>) {
        self.lines.push(Line::Step { ok, text: t.into() });
    }
    fn plain(&mut self, t: impl Into<String>) {
        self.lines.push(Line::Plain(t.into()));
    }

    pub fn render(&self, style: Style) -> String {
        let mut out = String::new();
        for line in &self.lines {
            match line {
                Line::Heading(t) => out.push_str(&format!("\n{}\n", style.bold(t))),
                Line::Step { ok: true, text } => {
                    out.push_str(&format!("  {} {text}\n", style.green("✓")))
                }
                Line::Step { ok: false, text } => {
                    out.push_str(&format!("  {} {text}\n", style.red("✗")))
                }
                Line::Plain(t) => out.push_str(&format!("  {t}\n")),
                Line::Verdict { ok: true, text } => {
                    out.push_str(&format!("\n{} {text}\n", style.green("browser: ALLOWED.")))
                }
                Line::Verdict { ok: false, text } => {
                    out.push_str(&format!("\n{} {text}\n", style.red("browser: BLOCKED.")))
                }
                Line::Fix(t) => out.push_str(&format!("{} {t}\n", style.cyan("fix:"))),
            }
        }
        out
    }
}

fn rule(policy: &LoadedPolicy<'_>, table: &'static str, key: &'static str) -> String {
    match policy.document.line_of(table, key) {
        0 => format!("`{key}` not set, default applies ({})", policy.source.file),
        line => format!("`{key}` at {}:{line}", policy.source.file),
    }
}

/// CORS-safelisted request headers (https://fetch.spec.whatwg.org/#cors-safelisted-request-header),
/// simplified to names and the `Content-Type` essence; anything else needs a preflight.
fn needs_permission(name: &str, value: Option<&str>) -> bool {
    match name.to_ascii_lowercase().as_str() {
        "accept" | "accept-language" | "content-language" => false,
        "content-type" => !value.is_some_and(|v| {
            let essence = v
                .split(';')
                .next()
                .unwrap_or("")
                .trim()
                .to_ascii_lowercase();
            [
                "application/x-www-form-urlencoded",
                "multipart/form-data",
                "text/plain",
            ]
            .contains(&essence.as_str())
        }),
        _ => true,
    }
}

pub fn explain(req: &PageRequest, loaded: &[LoadedPolicy<'_>]) -> Report {
    let mut r = Report::default();
    let url = format!("{}{}", req.gateway, req.path);
    let raw_path = req.path.split('?').next().unwrap_or("/");
    r.heading(format!(
        "request: {} {} from {}",
        req.method,
        req.path,
        req.origin.as_deref().unwrap_or("(no Origin)")
    ));

    let table = RouteTable::new(loaded.iter().map(|l| l.route.clone()).collect());
    let route = match table.route(raw_path) {
        Ok(routed) => routed.route,
        Err(error) => {
            let (status, why) = match error {
                RoutingError::NoRoute => (404, "no route matches this path".to_string()),
                _ => (
                    400,
                    "the path leaves its route (dot segments) or is not a valid request path"
                        .to_string(),
                ),
            };
            r.step(
                false,
                format!("routing: {why}: the gateway answers {status}, forwards nothing"),
            );
            r.lines.push(Line::Verdict {
                ok: false,
                text: format!(
                    "{status} without CORS headers; the console shows a CORS error for {url}"
                ),
            });
            r.lines.push(Line::Fix(format!("add a policy file whose `path` covers {raw_path} (e.g. `path = \"{raw_path}/...\"`)")));
            return r;
        }
    };
    let policy = loaded
        .iter()
        .find(|l| l.route.name == route.name)
        .expect("routed to a loaded policy");
    r.step(
        true,
        format!(
            "route `{}` ({}): {} → {}",
            route.name,
            rule(policy, "route", "path"),
            route.path.display(),
            route.upstream.url()
        ),
    );

    let Some(origin) = req.origin.as_deref() else {
        r.plain("no Origin: not a CORS request; forwarded without CORS checks");
        r.browser_allows = true;
        r.lines.push(Line::Verdict {
            ok: true,
            text: "same-origin or non-browser request".into(),
        });
        return r;
    };
    if RequestOrigin::parse(origin.as_bytes()).is_none() {
        r.plain(format!("note: `{origin}` is not how a browser serializes an origin (lowercase, no default port, no path); it can never match"));
    }

    let mut unsafe_names: Vec<String> = req
        .headers
        .iter()
        .filter(|(n, v)| needs_permission(n, v.as_deref()))
        .map(|(n, _)| n.to_ascii_lowercase())
        .collect();
    unsafe_names.sort();
    unsafe_names.dedup();
    let needs_preflight = req.was_preflight
        || !is_cors_safelisted_method(req.method.as_bytes())
        || !unsafe_names.is_empty();
    let origin_line = [origin.as_bytes()];
    let acrh_value = unsafe_names.join(",");
    let acrh_line = [acrh_value.as_bytes()];
    let acrm_line = [req.method.as_bytes()];
    let preflight_request = CorsRequest {
        method: b"OPTIONS",
        origin: &origin_line,
        request_method: &acrm_line,
        request_headers: if unsafe_names.is_empty() {
            &[]
        } else {
            &acrh_line
        },
        request_private_network: &[],
    };

    if needs_preflight {
        let why = if !is_cors_safelisted_method(req.method.as_bytes()) {
            format!("{} is not a CORS-safelisted method", req.method)
        } else if !unsafe_names.is_empty() {
            format!("the page sets {}", unsafe_names.join(", "))
        } else {
            "asked for with --preflight".into()
        };
        r.heading(format!("preflight: OPTIONS {} ({why})", req.path));
        let decision = preflight(&route.cors, &preflight_request);
        explain_steps(&mut r, policy, req, &decision.result);
        let (status, mode) = match (route.cors.preflight, decision.result.is_ok()) {
            (PreflightMode::Edge, true) => (204, "answered at the edge"),
            (PreflightMode::Edge, false) => (403, "answered at the edge"),
            (PreflightMode::Forward, _) => (
                0,
                "forwarded: the upstream picks the status, the gateway sets these headers",
            ),
        };
        r.plain(format!("response ({mode}):"));
        if status != 0 {
            r.plain(format!("  HTTP {status}"));
        }
        let headers = if route.cors.preflight == PreflightMode::Forward {
            forwarded(&route.cors, &preflight_request).headers
        } else {
            decision.headers
        };
        print_headers(&mut r, &headers);
        if let Err(rejection) = decision.result {
            let message = format!(
                "Response to preflight request doesn't pass access control check: {}",
                missing_acao()
            );
            r.lines.push(Line::Verdict {
                ok: false,
                text: console(&url, origin, &message),
            });
            r.plain(format!(
                "(Chromium names the missing header; the gateway refused at the {} step)",
                rejection.step()
            ));
            r.lines
                .push(Line::Fix(fix_for(&rejection, policy, origin, &req.method)));
            return r;
        }
        if let Some(message) = credentials_problem(&headers, req.credentials) {
            r.lines.push(Line::Verdict { ok: false, text: console(&url, origin, &format!("Response to preflight request doesn't pass access control check: {message}")) });
            r.lines.push(Line::Fix(credentials_fix(policy)));
            return r;
        }
    }

    r.heading(format!("actual request: {} {}", req.method, req.path));
    let actual = CorsRequest {
        method: req.method.as_bytes(),
        ..preflight_request
    };
    let answer = forwarded(
        &route.cors,
        &CorsRequest {
            request_method: &[],
            request_headers: &[],
            ..actual
        },
    );
    r.plain(format!(
        "forwarded to {}{}; the gateway sets:",
        route.upstream.url(),
        route
            .upstream_path_and_query(raw_path, req.path.split_once('?').map(|(_, q)| q))
            .trim_start_matches(&*route.upstream.base_path)
    ));
    print_headers(&mut r, &answer.headers);
    if !answer.vary.is_empty() {
        r.plain(format!(
            "  vary: {} (merged with the upstream's)",
            answer.vary.join(", ")
        ));
    }
    if answer.headers.get(ALLOW_ORIGIN).is_none() {
        r.step(
            false,
            format!(
                "origin `{origin}` is not allowed ({})",
                rule(policy, "cors", "allow_origins")
            ),
        );
        r.lines.push(Line::Verdict {
            ok: false,
            text: console(&url, origin, &missing_acao()),
        });
        r.lines.push(Line::Fix(origin_fix(policy, origin)));
        return r;
    }
    if let Some(message) = credentials_problem(&answer.headers, req.credentials) {
        r.lines.push(Line::Verdict {
            ok: false,
            text: console(&url, origin, &message),
        });
        r.lines.push(Line::Fix(credentials_fix(policy)));
        return r;
    }
    r.browser_allows = true;
    let exposed = route
        .cors
        .expose_headers_value
        .as_deref()
        .unwrap_or("none beyond the safelisted ones");
    r.lines.push(Line::Verdict {
        ok: true,
        text: format!("the page can read the response (exposed headers: {exposed})"),
    });
    r
}

fn explain_steps(
    r: &mut Report,
    policy: &LoadedPolicy<'_>,
    req: &PageRequest,
    result: &Result<(), PreflightRejection<'_>>,
) {
    let failed = result.as_ref().err();
    let origin_ok = !matches!(failed, Some(PreflightRejection::Origin));
    r.step(
        origin_ok,
        format!(
            "origin {} ({})",
            if origin_ok { "allowed" } else { "not allowed" },
            rule(policy, "cors", "allow_origins")
        ),
    );
    if !origin_ok {
        return;
    }
    let method = &req.method;
    match failed {
        Some(PreflightRejection::Method(_)) => r.step(
            false,
            format!(
                "method {method} not allowed ({}); methods are case-sensitive",
                rule(policy, "cors", "allow_methods")
            ),
        ),
        _ if is_cors_safelisted_method(method.as_bytes()) => r.step(
            true,
            format!("method {method} is CORS-safelisted: always allowed"),
        ),
        _ => r.step(
            true,
            format!(
                "method {method} allowed ({})",
                rule(policy, "cors", "allow_methods")
            ),
        ),
    }
    if matches!(failed, Some(PreflightRejection::Method(_))) {
        return;
    }
    match failed {
        Some(PreflightRejection::Headers(HeaderRejection::NotAllowed(name))) => r.step(
            false,
            format!(
                "request header `{}` not allowed ({})",
                String::from_utf8_lossy(name),
                rule(policy, "cors", "allow_headers")
            ),
        ),
        Some(PreflightRejection::Headers(_)) => {
            r.step(false, "request header list malformed or too long")
        }
        _ => r.step(
            true,
            format!(
                "request headers allowed ({})",
                rule(policy, "cors", "allow_headers")
            ),
        ),
    }
}

fn print_headers(r: &mut Report, headers: &HeaderList<'_>) {
    if headers.is_empty() {
        r.plain("  (no CORS headers)");
    }
    for (name, value) in headers.iter() {
        r.plain(format!("  {name}: {}", String::from_utf8_lossy(value)));
    }
}

fn missing_acao() -> String {
    "No 'Access-Control-Allow-Origin' header is present on the requested resource.".into()
}

/// Chromium's console line for a blocked fetch.
fn console(url: &str, origin: &str, message: &str) -> String {
    format!("the console shows:\n  Access to fetch at '{url}' from origin '{origin}' has been blocked by CORS policy: {message}")
}

fn credentials_problem(headers: &HeaderList<'_>, credentials: bool) -> Option<String> {
    if !credentials {
        return None;
    }
    match (headers.get(ALLOW_ORIGIN), headers.get(ALLOW_CREDENTIALS)) {
        (Some(b"*"), _) => Some("The value of the 'Access-Control-Allow-Origin' header in the response must not be the wildcard '*' when the request's credentials mode is 'include'.".into()),
        (_, None) => Some("The value of the 'Access-Control-Allow-Credentials' header in the response is '' which must be 'true' when the request's credentials mode is 'include'.".into()),
        _ => None,
    }
}

fn credentials_fix(policy: &LoadedPolicy<'_>) -> String {
    if policy.route.cors.origins.is_any() {
        format!("list the page's origin instead of \"*\" in `allow_origins` and set `allow_credentials = true` in {}", policy.source.file)
    } else {
        format!(
            "set `allow_credentials = true` in [cors] of {}",
            policy.source.file
        )
    }
}

fn origin_fix(policy: &LoadedPolicy<'_>, origin: &str) -> String {
    match RequestOrigin::parse(origin.as_bytes()) {
        Some(_) => format!("add \"{origin}\" to `allow_origins` ({})", rule(policy, "cors", "allow_origins")),
        None => format!("`{origin}` is not a browser-serialized origin; check what the page really sends (DevTools → Network → Origin)"),
    }
}

fn fix_for(
    rejection: &PreflightRejection<'_>,
    policy: &LoadedPolicy<'_>,
    origin: &str,
    method: &str,
) -> String {
    match rejection {
        PreflightRejection::Origin => origin_fix(policy, origin),
        PreflightRejection::Method(_) => match &policy.route.cors.methods {
            AllowedMethods::Listed(_) if policy.document.line_of("cors", "allow_methods") > 0 => {
                format!(
                    "add \"{method}\" to `allow_methods` ({})",
                    rule(policy, "cors", "allow_methods")
                )
            }
            _ => format!(
                "add `allow_methods = [\"GET\", \"HEAD\", \"POST\", \"{method}\"]` to [cors] of {}",
                policy.source.file
            ),
        },
        PreflightRejection::Headers(HeaderRejection::NotAllowed(name)) => {
            let name = String::from_utf8_lossy(name);
            match policy.document.line_of("cors", "allow_headers") {
                0 => format!(
                    "add `allow_headers = [\"{name}\"]` to [cors] of {}",
                    policy.source.file
                ),
                _ => format!(
                    "add \"{name}\" to `allow_headers` ({})",
                    rule(policy, "cors", "allow_headers")
                ),
            }
        }
        PreflightRejection::Headers(_) => {
            "the page sends a malformed or oversized header list; check the request in DevTools"
                .into()
        }
    }
}
