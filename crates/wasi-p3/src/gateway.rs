//! The WASIp3 gateway: one request, start to finish: read its head, ask the engine's plan,
//! answer or forward, log.
//!
//! An answer of the gateway's own is returned at once. A forwarded request's response head goes
//! back to the host as soon as it is known, while the body may still be on its way and the log
//! line is written only at the very end; so it is served by a task of its own (spawned within
//! the export call, as wit-bindgen runs them), which hands the response over through a channel
//! and carries on. (The task and channel cost about a tenth of a preflight: BENCHMARKS.md.)
//! The request is planned once: the plan's [`Forward`] borrows only the route table, so it
//! moves into the task beside what was read of the request. On a live route, that task also
//! reads the instance's list while the upstream answers, and the request's CORS is decided
//! again with it ([`live::read_for`]).

use std::future::Future;

use corsgate_core::settings::Settings;
use corsgate_core::{plan_live, policy_unavailable, Exchange, Forward, Plan, RouteTable};
use futures::channel::oneshot;
use wasip3::clocks::monotonic_clock;
use wasip3::http::types::{ErrorCode, Request, Response};
use wasip3::wit_bindgen;

use crate::incoming::Incoming;
use crate::instance::{elapsed_us, log};
use crate::live::{self, LiveStore, ReadAlongside};
use crate::respond;
use crate::upstream::forward;

/// Serves `request` by the routes of `table` under `settings` (both the instance's, for every
/// request it serves), a `[live]` route with the origins the instance last read from
/// `live_store`.
pub async fn serve(
    table: &'static RouteTable,
    settings: &'static Settings,
    live_store: &'static impl LiveStore,
    request: Request,
) -> Result<Response, ErrorCode> {
    let started = monotonic_clock::now();
    let incoming = Incoming::read(&request, request.get_path_with_query().unwrap_or_default());
    let (planned, list) = {
        let lines = incoming.cors_lines();
        let head = incoming.head(&lines);
        let path = &incoming.path_with_query;
        let list = live::read_for(table, settings, live_store, path, head.kind()).await;
        match live::with_view(|view| plan_live(table, view, &head)) {
            // The gateway's own answer (preflights, most of all): no task, no channel.
            Plan::Answer(answer) => {
                let response = respond::answer_now(&answer);
                log(&answer.log_line(&head, elapsed_us(started)), settings);
                return Ok(response);
            }
            Plan::Forward(planned) => (planned, list),
        }
    };
    let (respond, response) = oneshot::channel();
    wit_bindgen::spawn(forward_and_log(
        request, incoming, planned, settings, respond, started, list,
    ));
    response
        .await
        .map_err(|_| ErrorCode::InternalError(Some("corsgate: no response".into())))
}

/// Serves `request` on an instance without a valid policy (a prebuilt gateway whose policy
/// folder is missing or invalid): the engine's `503`, no CORS header, nothing contacted; logged
/// like any answer.
pub fn serve_without_policy(settings: &'static Settings, request: Request) -> Response {
    let started = monotonic_clock::now();
    let incoming = Incoming::read(&request, request.get_path_with_query().unwrap_or_default());
    let lines = incoming.cors_lines();
    let head = incoming.head(&lines);
    let answer = policy_unavailable();
    let response = respond::answer_now(&answer);
    log(&answer.log_line(&head, elapsed_us(started)), settings);
    response
}

/// A forwarded request, in a task of its own that owns what was read of it: the response head
/// goes back through `respond` while the body may still be on its way, and the log line is
/// written at the very end. `list`: its live route's list, read while the upstream answers.
async fn forward_and_log(
    request: Request,
    incoming: Incoming,
    planned: Forward<'static>,
    settings: &'static Settings,
    respond: oneshot::Sender<Response>,
    started: u64,
    list: ReadAlongside<impl Future<Output = ()>>,
) {
    let lines = incoming.cors_lines();
    let exchange = Exchange::new(planned, incoming.head(&lines));
    let line = forward(
        request, &incoming, exchange, settings, respond, started, list,
    )
    .await;
    log(&line, settings);
}
