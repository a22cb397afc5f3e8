//! One request, start to finish: read its head, ask the engine's plan, answer or forward, log.

use std::io::Write;

use corsgate_core::access_log::LogLine;
use corsgate_core::report_only::Report;
use corsgate_core::request_origin::Scheme as UpstreamScheme;
use corsgate_core::settings::Settings;
use corsgate_core::{plan, ClientConnection, Forward, Outcome, Plan};
use spin_sdk::http::{IncomingRequest, OutgoingRequest, OutgoingResponse, Scheme};
use spin_sdk::wit::wasi::http0_2_0::types::ResponseOutparam;
use wasi::clocks::monotonic_clock;

use crate::built_in::BUILT_IN_SETTINGS;
use crate::incoming::Incoming;
use crate::respond::{fields, send};
use crate::routes::ROUTES;
use crate::upstream::{exchange, relay_body};

pub fn handle(request: IncomingRequest, out: ResponseOutparam) {
    let started = monotonic_clock::now();
    let settings = Settings::read(|name| std::env::var(name).ok(), BUILT_IN_SETTINGS);
    let incoming = Incoming::read(&request);
    let lines = incoming.cors_lines();
    let head = incoming.head(&lines);
    let (route, outcome, relayed) = match plan(&ROUTES, &head) {
        Plan::Answer(answer) => {
            send(out, &answer);
            (answer.route, answer.outcome, None)
        }
        Plan::Forward(forward) => {
            let (outcome, relayed) = forward_request(&request, &incoming, &forward, &settings, out);
            (Some(forward.route), outcome, relayed)
        }
    };
    let mut line = LogLine::new(&head, route.map(|r| &*r.name), outcome);
    if let Some(relayed) = relayed {
        line.body_bytes = Some(relayed.bytes);
        line.report = relayed.report;
    }
    line.duration_us = (monotonic_clock::now() - started) / 1000;
    write_log_line(&line, &settings);
}

/// What relaying an upstream's answer leaves for the log.
struct Relayed {
    bytes: u64,
    report: Option<Report>,
}

/// Sends the request upstream and relays the answer, or answers in the upstream's place.
/// Returns the outcome and, when an answer was relayed, what the log says of it. The request is borrowed: its
/// header fields (in `incoming`) are its children and must go first, or Spin traps with
/// "resource has children" (wasmtime does not check).
fn forward_request<'a>(
    request: &IncomingRequest,
    incoming: &Incoming,
    forward: &Forward<'a>,
    settings: &Settings,
    out: ResponseOutparam,
) -> (Outcome<'a>, Option<Relayed>) {
    let scheme = match request.scheme() {
        Some(Scheme::Https) => "https".to_string(),
        Some(Scheme::Other(other)) => other,
        Some(Scheme::Http) | None => "http".to_string(),
    };
    let authority = request.authority();
    let connection = ClientConnection {
        scheme: &scheme,
        authority: authority.as_deref(),
        address: settings.client_address,
    };
    let headers = forward.upstream_headers(incoming.all_headers(), connection);
    let outgoing = OutgoingRequest::new(fields(headers.iter().map(|(n, v)| (*n, &**v))));
    let upstream = &forward.route.upstream;
    let _ = outgoing.set_method(&incoming.method);
    let _ = outgoing.set_scheme(Some(&match upstream.scheme {
        UpstreamScheme::Http => Scheme::Http,
        UpstreamScheme::Https => Scheme::Https,
    }));
    let _ = outgoing.set_authority(Some(&upstream.authority));
    let _ = outgoing.set_path_with_query(Some(&forward.target));
    let has_length = headers
        .iter()
        .any(|(n, _)| n.eq_ignore_ascii_case("content-length"));
    match exchange(request, outgoing, has_length, forward.route.timeout_ms) {
        Ok(response) => {
            let status = response.status();
            let upstream_headers = response.headers().entries();
            let report = forward.report(status, &upstream_headers);
            let client_headers = forward.response_headers(&upstream_headers);
            let client_response =
                OutgoingResponse::new(fields(client_headers.iter().map(|(n, v)| (*n, &**v))));
            let _ = client_response.set_status_code(status);
            let client_body = client_response.body().expect("a new response has a body");
            ResponseOutparam::set(out, Ok(client_response));
            let (bytes, broke_off) = relay_body(&response, client_body);
            (
                forward.relayed(status, broke_off),
                Some(Relayed { bytes, report }),
            )
        }
        Err(failure) => {
            let answer = forward.failed(failure);
            send(out, &answer);
            (answer.outcome, None)
        }
    }
}

/// The request's line, when the `CORSGATE_ACCESS_LOG` setting wants it, after any warning about
/// the settings, in one write, newline included: each write is a host call (`eprintln!` makes
/// two).
fn write_log_line(line: &LogLine<'_>, settings: &Settings) {
    let mut text = String::new();
    for warning in &settings.warnings {
        text.push_str("corsgate warning: ");
        text.push_str(warning);
        text.push('\n');
    }
    if settings.access_log.wants(line) {
        text.push_str(&line.format());
        text.push('\n');
    }
    if !text.is_empty() {
        let _ = std::io::stderr().write_all(text.as_bytes());
    }
}
