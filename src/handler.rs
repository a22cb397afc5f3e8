//! One request, start to finish: route, decide, answer or forward, log.

use std::io::Write;

use corsgate_core::access_log::{AccessLog, LogLine};
use corsgate_core::decision::{merge_vary, ForwardedCors};
use corsgate_core::forwarding::{
    client_ip, copies_request_header, copies_response_header, x_forwarded_for,
};
use corsgate_core::{
    forwarded, preflight, CorsRequest, PreflightMode, RequestKind, Route, RoutingError,
};
use spin_sdk::http::{IncomingRequest, OutgoingRequest, OutgoingResponse, Scheme};
use spin_sdk::wit::wasi::http0_2_0::types::ResponseOutparam;
use wasi::clocks::monotonic_clock;

use crate::incoming::{lines, RequestHead};
use crate::respond::{fields, send};
use crate::routes::ROUTES;
use crate::upstream::{exchange, relay_body, Failure, Relay};

pub fn handle(request: IncomingRequest, out: ResponseOutparam) {
    let started = monotonic_clock::now();
    let head = RequestHead::read(&request);
    let origin = lines(&head.origin);
    let request_method = lines(&head.request_method);
    let request_headers = lines(&head.request_headers);
    let request_private_network = lines(&head.request_private_network);
    let cors_request = CorsRequest {
        method: head.method_name().as_bytes(),
        origin: &origin,
        request_method: &request_method,
        request_headers: &request_headers,
        request_private_network: &request_private_network,
    };
    let mut log = LogLine {
        kind: match cors_request.kind() {
            RequestKind::Preflight => "preflight",
            RequestKind::Actual => "actual",
        },
        method: head.method_name().as_bytes(),
        path: head.path(),
        origin: origin.first().copied(),
        ..LogLine::default()
    };

    match ROUTES.route(head.path()) {
        Err(error) => {
            let (status, decision, body) = match error {
                RoutingError::NoRoute => (404, "not_found", "no route for this path\n"),
                RoutingError::BadPath(_) | RoutingError::ClimbsOutOfRoute => (
                    400,
                    "bad_path",
                    "path leaves its route or is not a valid request path\n",
                ),
            };
            send(out, status, &[], body);
            log.decision = decision;
            log.status = status;
        }
        Ok(routed) => {
            let route = routed.route;
            log.route = Some(&route.name);
            if cors_request.kind() == RequestKind::Preflight
                && route.cors.preflight == PreflightMode::Edge
            {
                answer_preflight(route, &cors_request, out, &mut log);
            } else {
                let target = route.upstream_path_and_query(&routed.path, head.query());
                forward(
                    &request,
                    &head,
                    route,
                    &cors_request,
                    &target,
                    out,
                    &mut log,
                );
            }
        }
    }
    log.duration_us = (monotonic_clock::now() - started) / 1000;
    write_log_line(&log);
}

/// The request's line, when the `CORSGATE_ACCESS_LOG` setting wants it, in one write, newline
/// included: each write is a host call (`eprintln!` makes two).
fn write_log_line(log: &LogLine<'_>) {
    let setting = std::env::var_os(AccessLog::VARIABLE);
    let setting = setting.as_ref().map(|value| value.to_string_lossy());
    let mut text = String::new();
    let access_log = AccessLog::from_setting(setting.as_deref()).unwrap_or_else(|warning| {
        text.push_str("corsgate warning: ");
        text.push_str(&warning);
        text.push('\n');
        AccessLog::All
    });
    if access_log.wants(log) {
        text.push_str(&log.format());
        text.push('\n');
    }
    if !text.is_empty() {
        let _ = std::io::stderr().write_all(text.as_bytes());
    }
}

fn answer_preflight(
    route: &Route,
    request: &CorsRequest<'_>,
    out: ResponseOutparam,
    log: &mut LogLine<'_>,
) {
    let decision = preflight(&route.cors, request);
    let headers: Vec<(&str, &[u8])> = decision.headers.iter().collect();
    match decision.result {
        Ok(()) => {
            send(out, 204, &headers, "");
            log.decision = "allowed";
            log.status = 204;
        }
        Err(rejection) => {
            send(out, 403, &headers, rejection.body());
            log.decision = "rejected";
            log.reason = Some(
                rejection
                    .body()
                    .trim_end()
                    .trim_start_matches("CORS preflight rejected: ")
                    .into(),
            );
            log.status = 403;
        }
    }
}

fn forward<'a>(
    request: &IncomingRequest,
    head: &'a RequestHead,
    route: &'a Route,
    cors_request: &CorsRequest<'a>,
    target: &str,
    out: ResponseOutparam,
    log: &mut LogLine<'a>,
) {
    let cors = forwarded(&route.cors, cors_request);
    let outgoing = upstream_request(request, head, route, target);
    match exchange(request, outgoing, route.timeout_ms) {
        Ok(response) => {
            let status = response.status();
            let upstream_headers = response.headers().entries();
            let vary_lines: Vec<&[u8]> = upstream_headers
                .iter()
                .filter(|(n, _)| n.eq_ignore_ascii_case("vary"))
                .map(|(_, v)| v.as_slice())
                .collect();
            let vary = merge_vary(&vary_lines, cors.vary);
            let mut headers: Vec<(&str, &[u8])> = upstream_headers
                .iter()
                .filter(|(n, _)| copies_response_header(n))
                .map(|(n, v)| (n.as_str(), v.as_slice()))
                .collect();
            // Pushed one by one so each `'static` name shortens to the local borrow.
            for (name, value) in cors.headers.iter() {
                headers.push((name, value));
            }
            if let Some(vary) = &vary {
                headers.push(("vary", vary));
            }
            let client_response = OutgoingResponse::new(fields(headers));
            let _ = client_response.set_status_code(status);
            let client_body = client_response.body().expect("a new response has a body");
            ResponseOutparam::set(out, Ok(client_response));
            log.decision = "forwarded";
            log.status = status;
            log.upstream_status = Some(status);
            let (bytes, reason) = match relay_body(&response, client_body) {
                Relay::Complete(bytes) => (bytes, None),
                Relay::UpstreamBroke(bytes) => {
                    (bytes, Some("upstream broke off the response body"))
                }
                Relay::ClientGone(bytes) => {
                    (bytes, Some("client went away during the response body"))
                }
            };
            log.body_bytes = Some(bytes);
            log.reason = reason.map(Into::into);
        }
        Err(failure) => {
            let (status, decision, body) = match failure {
                Failure::Timeout => (
                    504,
                    "timeout",
                    format!("upstream did not answer within {} ms\n", route.timeout_ms),
                ),
                Failure::Unreachable(why) => (
                    502,
                    "upstream_error",
                    format!("upstream unreachable: {why}\n"),
                ),
                Failure::ClientAborted => (
                    400,
                    "client_aborted",
                    "request body broke off\n".to_string(),
                ),
            };
            send_gateway_error(out, &cors, status, &body);
            log.decision = decision;
            log.status = status;
            // The specific cause, as the response body names it.
            log.reason = Some(body.trim_end().to_string().into());
        }
    }
}

/// A response the gateway makes in the upstream's place carries the CORS headers a forwarded
/// one would, so the page's script can read the error instead of seeing an opaque failure.
fn send_gateway_error(out: ResponseOutparam, cors: &ForwardedCors<'_>, status: u16, body: &str) {
    let vary = merge_vary(&[], cors.vary);
    let mut headers: Vec<(&str, &[u8])> = cors.headers.iter().collect();
    headers.extend(vary.as_deref().map(|v| ("vary", v)));
    send(out, status, &headers, body);
}

/// The request as the upstream gets it: the client's headers minus hop-by-hop and host
/// metadata, the `X-Forwarded-*` set, and the route's upstream as the only possible target.
fn upstream_request(
    request: &IncomingRequest,
    head: &RequestHead,
    route: &Route,
    target: &str,
) -> OutgoingRequest {
    let all = head.all_headers();
    let named = |name: &str| -> Vec<&[u8]> {
        all.iter()
            .filter(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_slice())
            .collect()
    };
    let client = client_ip(named("spin-client-addr").first().copied());
    let forwarded_for = x_forwarded_for(&named("x-forwarded-for"), &client);
    let scheme = match request.scheme() {
        Some(Scheme::Https) => "https".to_string(),
        Some(Scheme::Other(other)) => other,
        Some(Scheme::Http) | None => "http".to_string(),
    };
    let authority = request.authority();
    let mut headers: Vec<(&str, &[u8])> = all
        .iter()
        .filter(|(n, _)| copies_request_header(n))
        .map(|(n, v)| (n.as_str(), v.as_slice()))
        .collect();
    headers.push(("x-forwarded-for", &forwarded_for));
    headers.push(("x-forwarded-proto", scheme.as_bytes()));
    if let Some(host) = &authority {
        headers.push(("x-forwarded-host", host.as_bytes()));
    }
    let outgoing = OutgoingRequest::new(fields(headers));
    let _ = outgoing.set_method(&head.method);
    let _ = outgoing.set_scheme(Some(&match route.upstream.scheme {
        corsgate_core::request_origin::Scheme::Http => Scheme::Http,
        corsgate_core::request_origin::Scheme::Https => Scheme::Https,
    }));
    let _ = outgoing.set_authority(Some(&route.upstream.authority));
    let _ = outgoing.set_path_with_query(Some(target));
    outgoing
}
