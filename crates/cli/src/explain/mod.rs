//! `corsgate explain`: what the gateway decides for a request, step by step with the rule that
//! decided it, the exact response, and what the browser then does: allow, or the console error a
//! user sees (in Chromium, Firefox or WebKit) plus the one-line policy change that fixes it.
//!
//! The gateway's side is the engine's own request plan ([`corsgate_core::plan`]), the one the
//! component runs, so the explanation cannot disagree with the gateway.

mod args;
mod browser;
mod console;
mod fixes;
mod report;

use std::process::ExitCode;

use corsgate_core::config::schema::Key;
use corsgate_core::config::{load_policies, LoadedPolicy};
use corsgate_core::decision::{PreflightRejection, ALLOW_ORIGIN};
use corsgate_core::method::is_cors_safelisted_method;
use corsgate_core::request_headers::HeaderRejection;
use corsgate_core::request_origin::RequestOrigin;
use corsgate_core::{plan, CorsRequest, Outcome, Plan, RequestHead, RouteTable};

pub use self::args::ExplainArgs;
use self::browser::{credentials_problem, preflight_for};
pub use self::console::BrowserEngine;
use self::console::{shows, Blocked, Status};
use self::fixes::{credentials_fix, origin_fix, preflight_fix, rule};
use self::report::Report;
use crate::check::{read_sources, report_errors};
use crate::error::CliError;
use crate::har::PageRequest;
use crate::render::Style;

pub fn run(args: &ExplainArgs) -> Result<ExitCode, CliError> {
    let request = args.page_request()?;
    let sources = read_sources(&args.dir)?;
    let loaded = load_policies(&sources).map_err(|errors| report_errors(&sources, &errors))?;
    let report = explain(&request, &loaded, args.browser);
    print!("{}", report.render(Style::for_stdout()));
    Ok(if report.browser_allows {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

pub fn explain(req: &PageRequest, loaded: &[LoadedPolicy<'_>], engine: BrowserEngine) -> Report {
    let mut r = Report::default();
    let url = format!("{}{}", req.gateway, req.path);
    r.heading(format!(
        "request: {} {} from {}",
        req.method,
        req.path,
        req.origin.as_deref().unwrap_or("(no Origin)")
    ));
    let table = RouteTable::new(loaded.iter().map(|l| l.route.clone()).collect());
    let origin_line: Vec<&[u8]> = req.origin.iter().map(|o| o.as_bytes()).collect();
    let actual = RequestHead {
        path_and_query: &req.path,
        cors: CorsRequest {
            method: req.method.as_bytes(),
            origin: &origin_line,
            ..CorsRequest::default()
        },
    };
    let forward = match plan(&table, &actual) {
        Plan::Forward(forward) => forward,
        Plan::Answer(answer) => {
            let why = match answer.outcome {
                Outcome::NotFound => "no route matches this path",
                _ => "the path leaves its route (dot segments) or is not a valid request path",
            };
            let status = answer.status();
            r.step(
                false,
                format!("routing: {why}: the gateway answers {status}, forwards nothing"),
            );
            r.plain(format!("the gateway's {status} carries no CORS headers"));
            if let Some(origin) = req.origin.as_deref() {
                let blocked = Blocked::NoAllowOrigin {
                    status: Status::Known(status),
                };
                r.verdict(false, shows(engine, blocked, &url, origin));
            } else {
                r.verdict(false, format!("{status}: no route"));
            }
            let path = actual.path();
            r.fix(format!(
                "add a policy file whose `path` covers {path} (e.g. `path = \"{path}/...\"`)"
            ));
            return r;
        }
    };
    let route = forward.route;
    let policy = loaded
        .iter()
        .find(|l| l.route.name == route.name)
        .expect("routed to a loaded policy");
    r.step(
        true,
        format!(
            "route `{}` ({}): {} → {}",
            route.name,
            rule(policy, Key::Path),
            route.path.display(),
            route.upstream.url()
        ),
    );

    let Some(origin) = req.origin.as_deref() else {
        r.plain("no Origin: not a CORS request; forwarded without CORS checks");
        r.verdict(true, "same-origin or non-browser request");
        return r;
    };
    if RequestOrigin::parse(origin.as_bytes()).is_none() {
        r.plain(format!("note: `{origin}` is not how a browser serializes an origin (lowercase, no default port, no path); it can never match"));
    }

    if let Some(preflight) = preflight_for(req) {
        r.heading(format!(
            "preflight: OPTIONS {} ({})",
            req.path, preflight.why
        ));
        let acrh = preflight.request_headers.join(",");
        let acrh_line = [acrh.as_bytes()];
        let acrm_line = [req.method.as_bytes()];
        let head = RequestHead {
            cors: CorsRequest {
                method: b"OPTIONS",
                request_method: &acrm_line,
                request_headers: if acrh.is_empty() { &[] } else { &acrh_line },
                ..actual.cors
            },
            ..actual
        };
        let page = Page {
            req,
            url: &url,
            origin,
            engine,
        };
        if !explain_preflight(&mut r, &table, &head, policy, &page) {
            return r;
        }
    }

    r.heading(format!("actual request: {} {}", req.method, req.path));
    r.plain(format!(
        "forwarded to {}{}; the gateway sets:",
        route.upstream.url(),
        forward
            .target
            .trim_start_matches(&*route.upstream.base_path)
    ));
    r.headers(forward.cors.headers.iter());
    if !forward.cors.vary.is_empty() {
        r.plain(format!(
            "  vary: {} (merged with the upstream's)",
            forward.cors.vary.join(", ")
        ));
    }
    if forward.cors.headers.get(ALLOW_ORIGIN).is_none() {
        r.step(
            false,
            format!(
                "origin `{origin}` is not allowed ({})",
                rule(policy, Key::AllowOrigins)
            ),
        );
        let blocked = Blocked::NoAllowOrigin {
            status: Status::Upstream,
        };
        r.verdict(false, shows(engine, blocked, &url, origin));
        r.fix(origin_fix(policy, origin));
        return r;
    }
    let headers: Vec<(&str, &[u8])> = forward.cors.headers.iter().collect();
    if let Some(blocked) = credentials_problem(&headers, req.credentials, false) {
        r.verdict(false, shows(engine, blocked, &url, origin));
        r.fix(credentials_fix(policy));
        return r;
    }
    let exposed = route
        .cors
        .expose_headers_value
        .as_deref()
        .unwrap_or("none beyond the safelisted ones");
    r.verdict(
        true,
        format!("the page can read the response (exposed headers: {exposed})"),
    );
    r
}

/// The page making the request, as the browser reports it.
struct Page<'a> {
    req: &'a PageRequest,
    url: &'a str,
    origin: &'a str,
    engine: BrowserEngine,
}

/// The preflight's steps and answer, from the plan; whether the browser goes on to the actual
/// request.
fn explain_preflight(
    r: &mut Report,
    table: &RouteTable,
    head: &RequestHead<'_>,
    policy: &LoadedPolicy<'_>,
    page: &Page<'_>,
) -> bool {
    let Page {
        req,
        url,
        origin,
        engine,
    } = *page;
    let (status, mode, headers, rejection) = match plan(table, head) {
        Plan::Answer(answer) => {
            let rejection = match answer.outcome {
                Outcome::Rejected(rejection) => Some(rejection),
                _ => None,
            };
            let headers = cors_headers(answer.headers());
            (
                Some(answer.status()),
                "answered at the edge",
                headers,
                rejection,
            )
        }
        Plan::Forward(forward) => (
            None,
            "forwarded: the upstream picks the status, the gateway sets these headers",
            cors_headers(forward.cors.headers.iter()),
            None,
        ),
    };
    explain_steps(r, policy, req, rejection.as_ref());
    r.plain(format!("response ({mode}):"));
    if let Some(status) = status {
        r.plain(format!("  HTTP {status}"));
    }
    let headers: Vec<(&str, &[u8])> = headers.iter().map(|(n, v)| (*n, v.as_slice())).collect();
    r.headers(headers.iter().copied());
    if let (Some(rejection), Some(status)) = (rejection, status) {
        r.plain(format!(
            "(the browser's message will not say why: the gateway refused at the {} step)",
            rejection.step()
        ));
        r.verdict(
            false,
            shows(engine, Blocked::PreflightRefused { status }, url, origin),
        );
        r.fix(preflight_fix(&rejection, policy, origin, &req.method));
        return false;
    }
    if let Some(blocked) = credentials_problem(&headers, req.credentials, true) {
        r.verdict(false, shows(engine, blocked, url, origin));
        r.fix(credentials_fix(policy));
        return false;
    }
    true
}

/// The CORS header lines among a response's (`Vary` and the CORS headers; not the body's type).
fn cors_headers<'h>(
    headers: impl Iterator<Item = (&'static str, &'h [u8])>,
) -> Vec<(&'static str, Vec<u8>)> {
    headers
        .filter(|(n, _)| n.starts_with("access-control-") || *n == "vary")
        .map(|(n, v)| (n, v.to_vec()))
        .collect()
}

fn explain_steps(
    r: &mut Report,
    policy: &LoadedPolicy<'_>,
    req: &PageRequest,
    failed: Option<&PreflightRejection<'_>>,
) {
    let origin_ok = !matches!(failed, Some(PreflightRejection::Origin));
    r.step(
        origin_ok,
        format!(
            "origin {} ({})",
            if origin_ok { "allowed" } else { "not allowed" },
            rule(policy, Key::AllowOrigins)
        ),
    );
    if !origin_ok {
        return;
    }
    let method = &req.method;
    match failed {
        Some(PreflightRejection::Method(_)) => {
            r.step(
                false,
                format!(
                    "method {method} not allowed ({}); methods are case-sensitive",
                    rule(policy, Key::AllowMethods)
                ),
            );
            return;
        }
        _ if is_cors_safelisted_method(method.as_bytes()) => r.step(
            true,
            format!("method {method} is CORS-safelisted: always allowed"),
        ),
        _ => r.step(
            true,
            format!(
                "method {method} allowed ({})",
                rule(policy, Key::AllowMethods)
            ),
        ),
    }
    match failed {
        Some(PreflightRejection::Headers(HeaderRejection::NotAllowed(name))) => r.step(
            false,
            format!(
                "request header `{}` not allowed ({})",
                String::from_utf8_lossy(name),
                rule(policy, Key::AllowHeaders)
            ),
        ),
        Some(PreflightRejection::Headers(_)) => {
            r.step(false, "request header list malformed or too long")
        }
        _ => r.step(
            true,
            format!(
                "request headers allowed ({})",
                rule(policy, Key::AllowHeaders)
            ),
        ),
    }
}
