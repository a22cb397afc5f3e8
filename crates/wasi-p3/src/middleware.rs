//! The WASIp3 middleware: one request, start to finish: read its head, ask the engine's plan,
//! answer, or pass the request to the next handler and its response back with the policy's CORS
//! headers; log. Paths without a policy pass through untouched.

use std::future::Future;

use corsgate_core::access_log::LogLine;
use corsgate_core::settings::Settings;
use corsgate_core::{governs, plan_live, Exchange, Plan, RouteTable};
use wasip3::clocks::monotonic_clock;
use wasip3::http::types::{ErrorCode, Request, Response};
use wasip3::wit_future;

use crate::incoming::Incoming;
use crate::instance::{elapsed_us, log};
use crate::live::{self, LiveStore, ReadAlongside};
use crate::respond;
use crate::upstream::classify;

/// Serves `request` by the routes of `table` under `settings` (both the instance's), a `[live]`
/// route with the origins the instance last read from `live_store`, in front of `next`, the
/// handler the middleware guards.
pub async fn serve<Next, Answered>(
    table: &'static RouteTable,
    settings: &'static Settings,
    live_store: &'static impl LiveStore,
    request: Request,
    next: Next,
) -> Result<Response, ErrorCode>
where
    Next: FnOnce(Request) -> Answered,
    Answered: Future<Output = Result<Response, ErrorCode>>,
{
    // A path without a policy is the app's: handed on before anything else is read, the clock
    // included (it is not logged).
    let path_with_query = request.get_path_with_query().unwrap_or_default();
    if !governs(table, &path_with_query) {
        return next(request).await;
    }
    let started = monotonic_clock::now();
    let incoming = Incoming::read(&request, path_with_query);
    let lines = incoming.cors_lines();
    let head = incoming.head(&lines);
    let path = &incoming.path_with_query;
    let list = live::read_for(table, settings, live_store, path, head.kind()).await;
    let (line, response) = match live::with_view(|view| plan_live(table, view, &head)) {
        Plan::Answer(answer) => {
            let response = respond::answer_now(&answer);
            (answer.log_line(&head, elapsed_us(started)), response)
        }
        Plan::Forward(planned) => {
            let exchange = Exchange::new(planned, head);
            through_next(request, exchange, next, started, list).await
        }
    };
    log(&line, settings);
    Ok(response)
}

/// The request through the next handler, its response back with the gateway's CORS headers;
/// the body passes as the app's own stream, never copied through this component. The log line
/// is finished when the head is back: the body's end is not seen here. `list`: the live
/// route's list, read while the app answers.
async fn through_next<'r, Next, Answered>(
    request: Request,
    mut exchange: Exchange<'static, 'r>,
    next: Next,
    started: u64,
    list: ReadAlongside<impl Future<Output = ()>>,
) -> (LogLine<'r>, Response)
where
    Next: FnOnce(Request) -> Answered,
    Answered: Future<Output = Result<Response, ErrorCode>>,
{
    let (answered, redecision) = list.join(next(request)).await;
    redecision.apply(&mut exchange);
    match answered {
        Ok(response) => {
            let status = response.get_status_code();
            let app_headers = response.get_headers().copy_all();
            let relay = exchange.respond(status, &app_headers);
            let fields = respond::fields(relay.client_headers(&app_headers));
            let (_done, done_reader) = wit_future::new(|| Ok(()));
            let (body, trailers) = Response::consume_body(response, done_reader);
            let response = respond::response(status, fields, Some(body), trailers);
            (relay.finish(None, elapsed_us(started)), response)
        }
        Err(code) => {
            let failed = exchange.fail(classify(&code));
            let response = respond::answer_now(&failed.answer());
            (failed.finish(elapsed_us(started)), response)
        }
    }
}
