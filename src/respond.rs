//! Writing responses: header fields, and the answers the gateway makes itself.

use corsgate_core::Answer;
use spin_sdk::http::{Fields, OutgoingBody, OutgoingResponse};
use spin_sdk::wit::wasi::http0_2_0::types::ResponseOutparam;

pub use self::fields::fields;

#[path = "fields.rs"]
mod fields;

/// Sends an answer of the plan's, with its short plain-text body (or none).
pub fn send(out: ResponseOutparam, answer: &Answer<'_>) {
    let response = OutgoingResponse::new(fields(answer.headers()));
    let _ = response.set_status_code(answer.status());
    let body = answer.body();
    if body.is_empty() {
        // No body stream at all: the host sends an empty body without setting one up.
        ResponseOutparam::set(out, Ok(response));
        return;
    }
    let outgoing_body = response.body().expect("a new response has a body");
    ResponseOutparam::set(out, Ok(response));
    let stream = outgoing_body.write().expect("a new body has a stream");
    // Bodies are a line of text, far below the 4096 bytes one write may carry.
    if stream.blocking_write_and_flush(body.as_bytes()).is_err() {
        return; // The client went away; nothing left to tell it.
    }
    drop(stream);
    let _ = OutgoingBody::finish(outgoing_body, None);
}
