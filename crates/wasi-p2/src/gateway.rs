//! One request, start to finish: read its head, ask the engine's plan, answer or forward, log.

use std::io::Write;

use corsgate_core::access_log::LogLine;
use corsgate_core::exchange::BodyRelayed;
use corsgate_core::outcome::Side;
use corsgate_core::settings::Settings;
use corsgate_core::{plan, ClientConnection, Exchange, Plan, RouteTable};
use spin_sdk::http::{IncomingRequest, Method, OutgoingRequest, OutgoingResponse, Scheme};
use spin_sdk::wit::wasi::http0_2_0::types::ResponseOutparam;
use wasi::clocks::monotonic_clock;

use crate::incoming::Incoming;
use crate::respond::{answer, fields};
use crate::upstream::{relay_body, send};

/// Serves `request` by the routes of `table` under `settings`, answering through `out`.
pub fn serve(
    table: &RouteTable,
    settings: &Settings,
    request: IncomingRequest,
    out: ResponseOutparam,
) {
    let started = monotonic_clock::now();
    let elapsed_us = || (monotonic_clock::now() - started) / 1000;
    let incoming = Incoming::read(&request);
    let lines = incoming.cors_lines();
    let head = incoming.head(&lines);
    let line = match plan(table, &head) {
        Plan::Answer(planned) => {
            answer(out, &planned);
            planned.log_line(&head, elapsed_us())
        }
        Plan::Forward(forward) => {
            let exchange = Exchange::new(forward, head);
            forward_request(&request, &incoming, exchange, settings, out, elapsed_us)
        }
    };
    write_log(&line, settings);
}

/// Sends the request upstream and relays the answer, or answers in the upstream's place; the
/// log line once done. The request is borrowed: its header fields (in `incoming`) are its
/// children and must go first, or Spin traps with "resource has children" (wasmtime does not
/// check).
fn forward_request<'t: 'r, 'r>(
    request: &IncomingRequest,
    incoming: &Incoming,
    exchange: Exchange<'t, 'r>,
    settings: &Settings,
    out: ResponseOutparam,
    elapsed_us: impl Fn() -> u64,
) -> LogLine<'r> {
    let scheme = request.scheme();
    let authority = request.authority();
    let connection = ClientConnection {
        scheme: client_scheme(&scheme),
        authority: authority.as_deref(),
        address: settings.client_address,
    };
    let sent = {
        let upstream = exchange.upstream_request(incoming.all_headers(), connection);
        let outgoing = OutgoingRequest::new(fields(upstream.headers.iter().map(|(n, v)| (*n, v))));
        set_target(&outgoing, &incoming.method, &upstream).and_then(|()| {
            send(
                request,
                outgoing,
                upstream.has_content_length,
                upstream.timeout_ms,
            )
        })
    };
    match sent {
        Ok(response) => {
            let status = response.status();
            let upstream_headers = response.headers().entries();
            let relay = exchange.respond(status, &upstream_headers);
            let client_response =
                OutgoingResponse::new(fields(relay.client_headers(&upstream_headers)));
            let _ = client_response.set_status_code(status);
            let client_body = client_response.body();
            ResponseOutparam::set(out, Ok(client_response));
            let (bytes, broke_off) = match client_body {
                Ok(client_body) => relay_body(&response, client_body),
                // A new response always has its body; were it ever refused, the client got the
                // head alone, and the log says the body did not reach it.
                Err(()) => (0, Some(Side::Client)),
            };
            relay.finish(Some(BodyRelayed { bytes, broke_off }), elapsed_us())
        }
        Err(failure) => {
            let failed = exchange.fail(failure);
            answer(out, &failed.answer());
            failed.finish(elapsed_us())
        }
    }
}

/// The wall clock, in milliseconds since the Unix epoch, for the log line's `time`.
fn unix_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |since| since.as_millis() as u64)
}

corsgate_wasi_http::client_scheme!(Scheme);
corsgate_wasi_http::set_target!(OutgoingRequest, Method, Scheme);

/// The settings' warnings and the request's line, when the `CORSGATE_ACCESS_LOG` setting wants
/// it, in one write, newline included: each write is a host call (`eprintln!` makes two).
fn write_log(line: &LogLine<'_>, settings: &Settings) {
    let mut text = settings.warning_lines();
    if let Some(line) = settings.log_text(line, unix_ms) {
        text.push_str(&line);
    }
    if !text.is_empty() {
        let _ = std::io::stderr().write_all(text.as_bytes());
    }
}
