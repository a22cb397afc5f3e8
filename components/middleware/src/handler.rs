//! One request, start to finish: read its head, ask the engine's plan, answer, or pass the
//! request to the next handler and its response back with the policy's CORS headers; log.

use corsgate_core::access_log::LogLine;
use corsgate_core::{governs, plan, Forward, Outcome, Plan};
use wasip3::clocks::monotonic_clock;
use wasip3::http::types::{ErrorCode, Request, Response};
use wasip3::wit_bindgen;

use self::classify::classify;
use crate::export::next;
use crate::incoming::Incoming;
use crate::instance::log;
use crate::respond;
use crate::routes::ROUTES;

#[path = "../../../src/classify.rs"]
mod classify;

pub async fn handle(request: Request) -> Result<Response, ErrorCode> {
    // A path without a policy is the app's: handed on before anything else is read, the clock
    // included (it is not logged).
    let path_with_query = request.get_path_with_query().unwrap_or_default();
    if !governs(&ROUTES, &path_with_query) {
        return next(request).await;
    }
    let started = monotonic_clock::now();
    let incoming = Incoming::read(&request, path_with_query);
    let lines = incoming.cors_lines();
    let head = incoming.head(&lines);
    let (route, outcome, response) = match plan(&ROUTES, &head) {
        Plan::Answer(answer) => {
            let (response, write_body) = respond::answer(&answer);
            if let Some(write_body) = write_body {
                wit_bindgen::spawn(write_body);
            }
            (answer.route, answer.outcome, response)
        }
        Plan::Forward(forward) => {
            let (outcome, response) = through_next(request, &forward).await;
            (Some(forward.route), outcome, response)
        }
    };
    log(
        LogLine::new(&head, route.map(|r| &*r.name), outcome),
        started,
    );
    Ok(response)
}

/// The request through the next handler, its response back with the gateway's CORS headers;
/// the body passes as the app's own stream, never copied through this component. The log line
/// is written when the head is back: the body's end is not seen here.
async fn through_next<'a>(request: Request, forward: &Forward<'a>) -> (Outcome<'a>, Response) {
    match next(request).await {
        Ok(response) => {
            let status = response.get_status_code();
            let app_headers = response.get_headers().copy_all();
            let headers = forward.response_headers(&app_headers);
            let fields = respond::fields(headers.iter().map(|(n, v)| (*n, &**v)));
            let (_done, done_reader) = wasip3::wit_future::new(|| Ok(()));
            let (body, trailers) = Response::consume_body(response, done_reader);
            let response = respond::response(status, fields, Some(body), trailers);
            (forward.relayed(status, None), response)
        }
        Err(code) => {
            let answer = forward.failed(classify(&code));
            let (response, write_body) = respond::answer(&answer);
            if let Some(write_body) = write_body {
                wit_bindgen::spawn(write_body);
            }
            (answer.outcome, response)
        }
    }
}
