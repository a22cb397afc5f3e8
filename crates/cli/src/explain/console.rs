//! The lines each browser engine prints on its console when it blocks a `fetch()` for CORS.
//!
//! Every text here was captured from the engine itself (2026-11-30: Chromium 156.0.8078,
//! Firefox ESR 153.8, WebKitGTK 2.50.6) by `tests/explain_console.rs`, which runs each failure
//! in the real browser against the real gateway and checks that `explain --browser <engine>`
//! prints what the engine printed. Change a text here only with a capture behind it.

use clap::ValueEnum;

/// A browser engine, for the console lines `explain` prints.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, ValueEnum)]
pub(crate) enum BrowserEngine {
    /// Chrome, Edge, Opera, Brave and the other Chromium-based browsers.
    #[default]
    Chromium,
    /// Firefox.
    Firefox,
    /// Safari and every browser on iOS.
    #[value(name = "webkit")]
    WebKit,
}

/// Why the browser blocks the response.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Blocked {
    /// The response has no `Access-Control-Allow-Origin`: the origin is not allowed, or the
    /// gateway answered itself without CORS headers (no route).
    NoAllowOrigin { status: Status },
    /// The preflight was refused: the gateway's answer has neither `Access-Control-Allow-Origin`
    /// nor an ok status.
    PreflightRefused { status: u16 },
    /// `Access-Control-Allow-Origin: *` on a credentialed request.
    WildcardOriginWithCredentials { preflight: bool },
    /// No `Access-Control-Allow-Credentials: true` on a credentialed request.
    CredentialsNotAllowed { preflight: bool },
}

/// A response status as far as `explain` knows it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Status {
    /// The gateway's own answer.
    Known(u16),
    /// Whatever the upstream answers: the gateway relays it.
    Upstream,
}

/// What [`Status::Upstream`] reads as in a console line.
pub(super) const UPSTREAM_STATUS: &str = "<the upstream's status>";

impl std::fmt::Display for Status {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Status::Known(status) => write!(f, "{status}"),
            Status::Upstream => f.write_str(UPSTREAM_STATUS),
        }
    }
}

/// The console lines `engine` prints when it blocks the page at `origin` from reading `url`.
pub(super) fn console_lines(
    engine: BrowserEngine,
    blocked: Blocked,
    url: &str,
    origin: &str,
) -> Vec<String> {
    match engine {
        BrowserEngine::Chromium => vec![chromium(blocked, url, origin)],
        BrowserEngine::Firefox => firefox(blocked, url),
        BrowserEngine::WebKit => webkit(blocked, url, origin),
    }
}

/// The verdict's text: the lines the console shows.
pub(super) fn shows(engine: BrowserEngine, blocked: Blocked, url: &str, origin: &str) -> String {
    let mut text = String::from("the console shows:");
    for line in console_lines(engine, blocked, url, origin) {
        text.push_str("\n  ");
        text.push_str(&line);
    }
    text
}

fn chromium(blocked: Blocked, url: &str, origin: &str) -> String {
    const NO_ALLOW_ORIGIN: &str =
        "No 'Access-Control-Allow-Origin' header is present on the requested resource.";
    const WILDCARD: &str = "The value of the 'Access-Control-Allow-Origin' header in the response must not be the wildcard '*' when the request's credentials mode is 'include'.";
    const NO_CREDENTIALS: &str = "The value of the 'Access-Control-Allow-Credentials' header in the response is '' which must be 'true' when the request's credentials mode is 'include'.";
    let preflight_failed = |preflight: bool| {
        if preflight {
            "Response to preflight request doesn't pass access control check: "
        } else {
            ""
        }
    };
    let reason = match blocked {
        Blocked::NoAllowOrigin { .. } => NO_ALLOW_ORIGIN.to_string(),
        Blocked::PreflightRefused { .. } => format!("{}{NO_ALLOW_ORIGIN}", preflight_failed(true)),
        Blocked::WildcardOriginWithCredentials { preflight } => {
            format!("{}{WILDCARD}", preflight_failed(preflight))
        }
        Blocked::CredentialsNotAllowed { preflight } => {
            format!("{}{NO_CREDENTIALS}", preflight_failed(preflight))
        }
    };
    format!("Access to fetch at '{url}' from origin '{origin}' has been blocked by CORS policy: {reason}")
}

fn firefox(blocked: Blocked, url: &str) -> Vec<String> {
    const BLOCKED: &str =
        "Cross-Origin Request Blocked: The Same Origin Policy disallows reading the remote resource at";
    let no_allow_origin = |status: &dyn std::fmt::Display| {
        format!("{BLOCKED} {url}. (Reason: CORS header ‘Access-Control-Allow-Origin’ missing). Status code: {status}.")
    };
    // Firefox follows a failed preflight with a second line about the request itself.
    let then_failed = |first: String, preflight: bool| {
        let mut lines = vec![first];
        if preflight {
            lines.push(format!(
                "{BLOCKED} {url}. (Reason: CORS request did not succeed). Status code: (null)."
            ));
        }
        lines
    };
    match blocked {
        Blocked::NoAllowOrigin { status } => vec![no_allow_origin(&status)],
        Blocked::PreflightRefused { status } => then_failed(no_allow_origin(&status), true),
        // (Firefox quotes the URL in this one message only.)
        Blocked::WildcardOriginWithCredentials { preflight } => then_failed(
            format!("{BLOCKED} ‘{url}’. (Reason: Credential is not supported if the CORS header ‘Access-Control-Allow-Origin’ is ‘*’)."),
            preflight,
        ),
        Blocked::CredentialsNotAllowed { preflight } => then_failed(
            format!("{BLOCKED} {url}. (Reason: expected ‘true’ in CORS header ‘Access-Control-Allow-Credentials’)."),
            preflight,
        ),
    }
}

fn webkit(blocked: Blocked, url: &str, origin: &str) -> Vec<String> {
    let reason = match blocked {
        Blocked::NoAllowOrigin { status } => format!(
            "Origin {origin} is not allowed by Access-Control-Allow-Origin. Status code: {status}"
        ),
        Blocked::PreflightRefused { status } => {
            format!("Preflight response is not successful. Status code: {status}")
        }
        Blocked::WildcardOriginWithCredentials { .. } => {
            "Cannot use wildcard in Access-Control-Allow-Origin when credentials flag is true."
                .to_string()
        }
        Blocked::CredentialsNotAllowed { .. } => {
            "Credentials flag is true, but Access-Control-Allow-Credentials is not \"true\"."
                .to_string()
        }
    };
    vec![
        reason,
        format!("Fetch API cannot load {url} due to access control checks."),
    ]
}
