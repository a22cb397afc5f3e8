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
use corsgate_core::decision::{is_access_control_header, PreflightRejection, ALLOW_ORIGIN, VARY};
use corsgate_core::method::is_cors_safelisted_method;
use corsgate_core::plan::ForwardCors;
use corsgate_core::report_only::Verdict;
use corsgate_core::request_headers::HeaderRejection;
use corsgate_core::request_origin::RequestOrigin;
use corsgate_core::{
    plan, Answer, CorsRequest, Forward, Outcome, Plan, RequestHead, Route, RouteTable,
};

pub(crate) use self::args::ExplainArgs;
use self::browser::{credentials_problem, preflight_for, Preflight};
pub(crate) use self::console::BrowserEngine;
use self::console::{shows, Blocked, Status};
use self::fixes::{credentials_fix, origin_fix, preflight_fix, rule};
use self::report::{BrowserVerdict, GatewayAnswer, Report};
use crate::check::{read_sources, report_errors};
use crate::error::CliError;
use crate::har::PageRequest;
use crate::render::Style;
use crate::Format;

pub(crate) fn run(args: &ExplainArgs) -> Result<ExitCode, CliError> {
    let request = args.page_request()?;
    let sources = read_sources(&args.dir)?;
    let loaded = load_policies(&sources).map_err(|errors| report_errors(&sources, &errors))?;
    let report = explain(&request, &loaded, args.browser);
    match args.format {
        Format::Human => print!("{}", report.render(Style::for_stdout())),
        Format::Json => println!("{:#}", report.json()),
    }
    Ok(match report.verdict {
        Some(BrowserVerdict::Allowed) => ExitCode::SUCCESS,
        Some(BrowserVerdict::Blocked) | None => ExitCode::from(1),
        Some(BrowserVerdict::DependsOnUpstream) => ExitCode::from(3),
    })
}

pub(crate) fn explain(
    req: &PageRequest,
    loaded: &[LoadedPolicy<'_>],
    engine: BrowserEngine,
) -> Report {
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
    let actual = actual_request(req, &origin_line);
    let forward = match plan(&table, &actual) {
        Plan::Forward(forward) => forward,
        Plan::Answer(answer) => {
            explain_unrouted(&mut r, &answer, &actual, req, &url, engine);
            return r;
        }
    };
    let policy = explain_route(&mut r, loaded, forward.route());
    let Some(origin) = req.origin.as_deref() else {
        r.plain("no Origin: not a CORS request; forwarded without CORS checks");
        forwarded_headers(&mut r, &forward, &actual);
        r.verdict(true, "same-origin or non-browser request");
        return r;
    };
    let page = Page {
        req,
        url: &url,
        origin,
        engine,
    };
    explain_cors(&mut r, &table, &actual, &forward, policy, &page);
    r
}

/// The request as the page sends it, `origin_line` being its `Origin` header (if any).
fn actual_request<'a>(req: &'a PageRequest, origin_line: &'a [&'a [u8]]) -> RequestHead<'a> {
    RequestHead {
        path_and_query: &req.path,
        cors: CorsRequest {
            method: req.method.as_bytes(),
            origin: origin_line,
            ..CorsRequest::default()
        },
    }
}

/// A path no route takes, or one that is not a valid request path: the gateway answers itself,
/// with no CORS headers, so a cross-origin page cannot read even that answer.
fn explain_unrouted(
    r: &mut Report,
    answer: &Answer<'_>,
    actual: &RequestHead<'_>,
    req: &PageRequest,
    url: &str,
    engine: BrowserEngine,
) {
    let path = actual.path();
    r.gateway_answers(GatewayAnswer {
        status: Some(answer.status()),
        cors: Some(Vec::new()),
        ..GatewayAnswer::to("actual", actual)
    });
    let why = match answer.outcome() {
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
        r.verdict(false, shows(engine, blocked, url, origin));
    } else {
        r.verdict(false, format!("{status}: no route"));
    }
    r.fix(format!(
        "add a policy file whose `path` covers {path} (e.g. `path = \"{path}/...\"`)"
    ));
}

/// The route that took the request; the policy file that defines it.
fn explain_route<'l, 's>(
    r: &mut Report,
    loaded: &'l [LoadedPolicy<'s>],
    route: &Route,
) -> &'l LoadedPolicy<'s> {
    let policy = loaded
        .iter()
        .find(|l| l.route.name() == route.name())
        .expect("routed to a loaded policy");
    r.step(
        true,
        format!(
            "route `{}` ({}): {} → {}",
            route.name(),
            rule(policy, Key::Path),
            route.path().display(),
            route.upstream().url()
        ),
    );
    policy
}

/// A cross-origin request: the preflight when the browser sends one, then, if the preflight
/// lets it, the actual request.
fn explain_cors(
    r: &mut Report,
    table: &RouteTable,
    actual: &RequestHead<'_>,
    forward: &Forward<'_>,
    policy: &LoadedPolicy<'_>,
    page: &Page<'_>,
) {
    let origin = page.origin;
    if RequestOrigin::parse(origin.as_bytes()).is_none() {
        r.plain(format!("note: `{origin}` is not how a browser serializes an origin (lowercase, no default port, no path); it can never match"));
    }
    if let Some(preflight) = preflight_for(page.req) {
        if !explain_preflight(r, table, actual, &preflight, policy, page) {
            return;
        }
    }
    explain_actual(r, actual, forward, policy, page);
}

/// The page making the request, as the browser reports it.
struct Page<'a> {
    req: &'a PageRequest,
    url: &'a str,
    origin: &'a str,
    engine: BrowserEngine,
}

impl Page<'_> {
    /// The console lines the page's browser engine prints when it blocks the request so.
    fn console(&self, blocked: Blocked) -> String {
        shows(self.engine, blocked, self.url, self.origin)
    }
}

/// The preflight the browser sends before `actual` (an `OPTIONS` request asking for its method
/// and headers: https://fetch.spec.whatwg.org/#cors-preflight-fetch), its steps and answer from
/// the plan; whether the browser goes on to the actual request.
fn explain_preflight(
    r: &mut Report,
    table: &RouteTable,
    actual: &RequestHead<'_>,
    preflight: &Preflight,
    policy: &LoadedPolicy<'_>,
    page: &Page<'_>,
) -> bool {
    let req = page.req;
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
        ..*actual
    };
    let answer = PreflightAnswer::planned(table, &head);
    explain_steps(r, policy, req, answer.rejection.as_ref());
    answer.report(r, &head);
    preflight_verdict(r, &answer, policy, page)
}

/// The gateway's answer to a preflight, as the plan makes it.
struct PreflightAnswer<'a> {
    /// `None` when forwarded: the upstream picks it.
    status: Option<u16>,
    /// Who answers, in the report's words.
    mode: &'static str,
    /// The CORS headers the gateway sets; `None` on a report-only route, whose upstream's own
    /// pass untouched.
    headers: Option<Vec<(&'static str, Vec<u8>)>>,
    rejection: Option<PreflightRejection<'a>>,
    /// On a report-only route: what the policy would decide.
    would: Option<Verdict>,
}

impl<'a> PreflightAnswer<'a> {
    /// The plan's answer to the preflight `head`.
    fn planned(table: &'a RouteTable, head: &RequestHead<'a>) -> Self {
        match plan(table, head) {
            Plan::Answer(answer) => {
                let rejection = match answer.outcome() {
                    Outcome::Rejected(rejection) => Some(*rejection),
                    _ => None,
                };
                PreflightAnswer {
                    status: Some(answer.status()),
                    mode: "answered at the edge",
                    headers: Some(cors_headers(answer.headers())),
                    rejection,
                    would: None,
                }
            }
            Plan::Forward(forward) => match forward.cors() {
                ForwardCors::Enforced(cors) => PreflightAnswer {
                    status: None,
                    mode: "forwarded: the upstream picks the status, the gateway sets these headers",
                    headers: Some(cors_headers(cors.headers.iter())),
                    rejection: None,
                    would: None,
                },
                ForwardCors::ReportOnly { would } => PreflightAnswer {
                    status: None,
                    mode: "forwarded on a report-only route: the upstream answers, with its own CORS headers, which the gateway passes untouched",
                    headers: None,
                    rejection: None,
                    would: *would,
                },
            },
        }
    }

    /// The header lines the gateway sets, as the report and the browser's checks read them.
    fn header_lines(&self) -> Vec<(&str, &[u8])> {
        self.headers
            .iter()
            .flatten()
            .map(|(n, v)| (*n, v.as_slice()))
            .collect()
    }

    /// Who answered, the status when known, the CORS headers.
    fn report(&self, r: &mut Report, head: &RequestHead<'_>) {
        r.plain(format!("response ({}):", self.mode));
        if let Some(status) = self.status {
            r.plain(format!("  HTTP {status}"));
        }
        let (cors, vary) = GatewayAnswer::cors_from(self.header_lines().into_iter());
        r.gateway_answers(GatewayAnswer {
            status: self.status,
            cors: self.headers.as_ref().map(|_| cors),
            vary,
            ..GatewayAnswer::to("preflight", head)
        });
        match self.would {
            Some(would) => report_only_note(r, would),
            None if self.headers.is_none() => r.plain("  (the gateway sets no CORS header)"),
            None => r.headers(self.header_lines()),
        }
    }
}

/// The browser's verdict on a report-only route, where the gateway sets no CORS header.
const REPORT_ONLY_VERDICT: &str = "report-only route: the upstream's own CORS headers decide (the access log compares them with this policy)";

/// On a report-only route: the gateway sets no CORS header; what the policy would decide once
/// enforced (the access log says the same, beside the upstream's answer).
fn report_only_note(r: &mut Report, would: Verdict) {
    r.plain("  (the gateway sets no CORS header: report_only = true)");
    match would {
        Verdict::Allow => r.plain("  once enforced, this policy would allow it"),
        Verdict::Reject(why) => r.plain(format!(
            "  once enforced, this policy would refuse it: {why}"
        )),
    }
}

/// Whether the browser goes on after the preflight: not when the gateway refused it, nor when
/// its headers fail the browser's credentials check.
fn preflight_verdict(
    r: &mut Report,
    answer: &PreflightAnswer<'_>,
    policy: &LoadedPolicy<'_>,
    page: &Page<'_>,
) -> bool {
    let (req, origin) = (page.req, page.origin);
    if answer.headers.is_none() {
        r.depends_on_upstream(REPORT_ONLY_VERDICT);
        return false;
    }
    if let (Some(rejection), Some(status)) = (&answer.rejection, answer.status) {
        r.plain(format!(
            "(the browser's message will not say why: the gateway refused at the {} step)",
            rejection.step()
        ));
        r.verdict(false, page.console(Blocked::PreflightRefused { status }));
        r.fix(preflight_fix(rejection, policy, origin, &req.method));
        return false;
    }
    if let Some(blocked) = credentials_problem(&answer.header_lines(), req.credentials, true) {
        r.verdict(false, page.console(blocked));
        r.fix(credentials_fix(policy));
        return false;
    }
    true
}

/// The actual request: what is forwarded, the CORS headers the gateway sets on the response,
/// and whether the page can read it.
fn explain_actual(
    r: &mut Report,
    actual: &RequestHead<'_>,
    forward: &Forward<'_>,
    policy: &LoadedPolicy<'_>,
    page: &Page<'_>,
) {
    let req = page.req;
    let upstream = forward.route().upstream();
    r.heading(format!("actual request: {} {}", req.method, req.path));
    r.plain(format!(
        "forwarded to {}{}; the gateway sets:",
        upstream.url(),
        forward.target().trim_start_matches(upstream.base_path())
    ));
    match forwarded_headers(r, forward, actual) {
        Some(cors) => actual_verdict(r, &cors, forward.route(), policy, page),
        None => r.depends_on_upstream(REPORT_ONLY_VERDICT),
    }
}

/// Reports the CORS headers the gateway sets on a forwarded request's response, and returns
/// them; `None` on a report-only route, where it sets none.
fn forwarded_headers(
    r: &mut Report,
    forward: &Forward<'_>,
    actual: &RequestHead<'_>,
) -> Option<Vec<(&'static str, Vec<u8>)>> {
    let cors = match forward.cors() {
        ForwardCors::Enforced(cors) => cors,
        ForwardCors::ReportOnly { would } => {
            r.gateway_answers(GatewayAnswer::to("actual", actual));
            match would {
                Some(would) => report_only_note(r, *would),
                None => r.plain("  (the gateway sets no CORS header: report_only = true)"),
            }
            return None;
        }
    };
    let headers = cors_headers(cors.headers.iter());
    let (lines, _) = GatewayAnswer::cors_from(headers.iter().map(|(n, v)| (*n, v.as_slice())));
    r.gateway_answers(GatewayAnswer {
        cors: Some(lines),
        vary: cors.vary.iter().map(|t| t.to_string()).collect(),
        ..GatewayAnswer::to("actual", actual)
    });
    r.headers(headers.iter().map(|(n, v)| (*n, v.as_slice())));
    if !cors.vary.is_empty() {
        r.plain(format!(
            "  vary: {} (merged with the upstream's)",
            cors.vary.join(", ")
        ));
    }
    Some(headers)
}

/// The browser's CORS check of the actual response (https://fetch.spec.whatwg.org/#cors-check):
/// the origin must be allowed, and credentials too when the page sends them.
fn actual_verdict(
    r: &mut Report,
    cors: &[(&'static str, Vec<u8>)],
    route: &Route,
    policy: &LoadedPolicy<'_>,
    page: &Page<'_>,
) {
    let (req, origin) = (page.req, page.origin);
    if !cors.iter().any(|(n, _)| *n == ALLOW_ORIGIN) {
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
        r.verdict(false, page.console(blocked));
        r.fix(origin_fix(policy, origin));
        return;
    }
    let headers: Vec<(&str, &[u8])> = cors.iter().map(|(n, v)| (*n, v.as_slice())).collect();
    if let Some(blocked) = credentials_problem(&headers, req.credentials, false) {
        r.verdict(false, page.console(blocked));
        r.fix(credentials_fix(policy));
        return;
    }
    let exposed = route
        .cors()
        .expose_headers_value()
        .unwrap_or("none beyond the safelisted ones");
    r.verdict(
        true,
        format!("the page can read the response (exposed headers: {exposed})"),
    );
}

/// The CORS header lines among a response's (`Vary` and the CORS headers; not the body's type).
fn cors_headers<'h>(
    headers: impl Iterator<Item = (&'static str, &'h [u8])>,
) -> Vec<(&'static str, Vec<u8>)> {
    headers
        .filter(|(n, _)| is_access_control_header(n) || *n == VARY)
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
