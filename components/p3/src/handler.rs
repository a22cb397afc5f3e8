//! One request, start to finish: read its head, ask the engine's plan, answer or forward, log.
//!
//! The response head goes back to the host as soon as it is known, while the body may still be
//! on its way and the log line is written only at the very end; so the request is served by a
//! task of its own (spawned within the export call, as wit-bindgen runs them), which hands the
//! response over through a channel and carries on.

use std::io::Write;
use std::sync::OnceLock;

use corsgate_core::access_log::LogLine;
use corsgate_core::settings::Settings;
use corsgate_core::{plan, Plan};
use futures::channel::oneshot;
use wasip3::clocks::monotonic_clock;
use wasip3::http::types::{ErrorCode, Request, Response};
use wasip3::wit_bindgen;

use crate::incoming::Incoming;
use crate::respond;
use crate::routes::ROUTES;
use crate::upstream::{forward, Relayed};

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
    let (route, outcome, relayed) = match plan(&ROUTES, &head) {
        Plan::Answer(answer) => {
            respond::answer(respond, &answer).await;
            (answer.route, answer.outcome, None)
        }
        Plan::Forward(forward_plan) => {
            let (outcome, relayed) =
                forward(request, &incoming, &forward_plan, settings, respond).await;
            (Some(forward_plan.route), outcome, relayed)
        }
    };
    let mut line = LogLine::new(&head, route.map(|r| &*r.name), outcome);
    if let Some(Relayed { bytes, report }) = relayed {
        line.body_bytes = Some(bytes);
        line.report = report;
    }
    line.duration_us = (monotonic_clock::now() - started) / 1000;
    if settings.access_log.wants(&line) {
        // One write, newline included: each write is a host call.
        let mut text = line.format();
        text.push('\n');
        let _ = std::io::stderr().write_all(text.as_bytes());
    }
}
