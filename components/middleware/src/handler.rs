//! One request, start to finish: read its head, ask the engine's plan, answer, or pass the
//! request to the next handler and its response back with the policy's CORS headers; log.

use std::io::Write;
use std::sync::OnceLock;

use corsgate_core::access_log::LogLine;
use corsgate_core::settings::Settings;
use corsgate_core::{plan, Forward, Outcome, Plan};
use futures::channel::oneshot;
use wasip3::clocks::monotonic_clock;
use wasip3::http::types::{ErrorCode, Request, Response};
use wasip3::wit_bindgen;

use self::classify::classify;
use crate::export::next;
use crate::incoming::Incoming;
use crate::respond;
use crate::routes::ROUTES;

#[path = "../../../src/classify.rs"]
mod classify;

pub async fn handle(request: Request) -> Result<Response, ErrorCode> {
    let (respond, response) = oneshot::channel();
    wit_bindgen::spawn(serve(request, respond));
    response
        .await
        .map_err(|_| ErrorCode::InternalError(Some("corsgate: no response".into())))
}

/// The instance's settings, read on its first request: an instance serves many.
fn settings() -> &'static Settings {
    static SETTINGS: OnceLock<Settings> = OnceLock::new();
    SETTINGS.get_or_init(|| {
        let settings = Settings::from_env(|name| std::env::var(name).ok());
        let mut text = String::new();
        for warning in &settings.warnings {
            text.push_str("corsgate warning: ");
            text.push_str(warning);
            text.push('\n');
        }
        if !text.is_empty() {
            let _ = std::io::stderr().write_all(text.as_bytes());
        }
        settings
    })
}

async fn serve(request: Request, respond: oneshot::Sender<Response>) {
    let started = monotonic_clock::now();
    let settings = settings();
    let incoming = Incoming::read(&request);
    let lines = incoming.cors_lines();
    let head = incoming.head(&lines);
    let (route, outcome) = match plan(&ROUTES, &head) {
        // Not the gateway's path: the app's, as it is.
        Plan::Answer(answer) if answer.outcome == Outcome::NotFound => {
            if let Ok(response) = next(request).await {
                let _ = respond.send(response);
            }
            return;
        }
        Plan::Answer(answer) => {
            respond::answer(respond, &answer).await;
            (answer.route, answer.outcome)
        }
        Plan::Forward(forward) => (
            Some(forward.route),
            through_next(request, &forward, respond).await,
        ),
    };
    let mut line = LogLine::new(&head, route.map(|r| &*r.name), outcome);
    line.duration_us = (monotonic_clock::now() - started) / 1000;
    if settings.access_log.wants(&line) {
        // One write, newline included: each write is a host call.
        let mut text = line.format();
        text.push('\n');
        let _ = std::io::stderr().write_all(text.as_bytes());
    }
}

/// The request through the next handler, its response back with the gateway's CORS headers;
/// the body passes as the host's own stream, never copied through this component.
async fn through_next<'a>(
    request: Request,
    forward: &Forward<'a>,
    respond: oneshot::Sender<Response>,
) -> Outcome<'a> {
    match next(request).await {
        Ok(response) => {
            let status = response.get_status_code();
            let app_headers = response.get_headers().copy_all();
            let headers = forward.response_headers(&app_headers);
            let fields = respond::fields(headers.iter().map(|(n, v)| (*n, &**v)));
            let (_done, done_reader) = wasip3::wit_future::new(|| Ok(()));
            let (body, trailers) = Response::consume_body(response, done_reader);
            let _ = respond.send(respond::response(status, fields, Some(body), trailers));
            forward.relayed(status, None)
        }
        Err(code) => {
            let answer = forward.failed(classify(&code));
            respond::answer(respond, &answer).await;
            answer.outcome
        }
    }
}
