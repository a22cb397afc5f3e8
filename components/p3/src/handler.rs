//! One request, start to finish: read its head, ask the engine's plan, answer or forward, log.
//!
//! An answer of the gateway's own is returned at once. A forwarded request's response head goes
//! back to the host as soon as it is known, while the body may still be on its way and the log
//! line is written only at the very end; so it is served by a task of its own (spawned within
//! the export call, as wit-bindgen runs them), which hands the response over through a channel
//! and carries on. (The task and channel cost about a tenth of a preflight: BENCHMARKS.md.)

use corsgate_core::access_log::LogLine;
use corsgate_core::{plan, Plan};
use futures::channel::oneshot;
use wasip3::clocks::monotonic_clock;
use wasip3::http::types::{ErrorCode, Request, Response};
use wasip3::wit_bindgen;

use crate::incoming::Incoming;
use crate::instance::{log, settings};
use crate::respond;
use crate::routes::ROUTES;
use crate::upstream::{forward, Relayed};

pub async fn handle(request: Request) -> Result<Response, ErrorCode> {
    let started = monotonic_clock::now();
    let incoming = Incoming::read(&request, request.get_path_with_query().unwrap_or_default());
    if let Some(response) = answer_here(&incoming, started) {
        return Ok(response);
    }
    let (respond, response) = oneshot::channel();
    wit_bindgen::spawn(forward_and_log(request, incoming, respond, started));
    response
        .await
        .map_err(|_| ErrorCode::InternalError(Some("corsgate: no response".into())))
}

/// The gateway's own answer, logged, when the plan is to answer (preflights, most of all): no
/// task, no channel; `None` when the request is to be forwarded.
fn answer_here(incoming: &Incoming, started: u64) -> Option<Response> {
    let lines = incoming.cors_lines();
    let head = incoming.head(&lines);
    let Plan::Answer(answer) = plan(&ROUTES, &head) else {
        return None;
    };
    let (response, write_body) = respond::answer(&answer);
    if let Some(write_body) = write_body {
        wit_bindgen::spawn(write_body);
    }
    log(
        LogLine::new(&head, answer.route.map(|r| &*r.name), answer.outcome),
        started,
    );
    Some(response)
}

/// A forwarded request, in a task of its own that owns what was read of it: the response head
/// goes back through `respond` while the body may still be on its way, and the log line is
/// written at the very end. (The plan is made again here, from the same head: it borrows what
/// the task now owns, and costs far less than a host call.)
async fn forward_and_log(
    request: Request,
    incoming: Incoming,
    respond: oneshot::Sender<Response>,
    started: u64,
) {
    let lines = incoming.cors_lines();
    let head = incoming.head(&lines);
    let Plan::Forward(forward_plan) = plan(&ROUTES, &head) else {
        unreachable!("the same head was planned as a forward a moment ago");
    };
    let (outcome, relayed) = forward(request, &incoming, &forward_plan, settings(), respond).await;
    let mut line = LogLine::new(&head, Some(&*forward_plan.route.name), outcome);
    if let Some(Relayed { bytes, report }) = relayed {
        line.body_bytes = Some(bytes);
        line.report = report;
    }
    log(line, started);
}
