//! Writing responses: header fields, and the answers the gateway makes itself.

use corsgate_core::Answer;
use spin_sdk::http::{Fields, OutgoingBody, OutgoingResponse};
use spin_sdk::wit::wasi::http0_2_0::types::ResponseOutparam;

corsgate_wasi_http::fields!(pub Fields);

/// Sends an answer of the plan's, with its short plain-text body (or none).
pub(crate) fn answer(out: ResponseOutparam, answer: &Answer<'_>) {
    let response = OutgoingResponse::new(fields(answer.headers()));
    let _ = response.set_status_code(answer.status());
    let body = answer.body();
    if body.is_empty() {
        // No body stream at all: the host sends an empty body without setting one up.
        ResponseOutparam::set(out, Ok(response));
        return;
    }
    // A new response always has its body, and a new body its stream; were either refused, the
    // client gets the head alone (the status says what happened).
    let outgoing_body = response.body();
    ResponseOutparam::set(out, Ok(response));
    let Ok(outgoing_body) = outgoing_body else {
        return;
    };
    let Ok(stream) = outgoing_body.write() else {
        return;
    };
    // Bodies are a line of text, far below the 4096 bytes one write may carry.
    if stream.blocking_write_and_flush(body.as_bytes()).is_err() {
        return; // The client went away; nothing left to tell it.
    }
    drop(stream);
    let _ = OutgoingBody::finish(outgoing_body, None);
}
