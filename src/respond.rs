//! Writing responses: header fields, and the answers the gateway makes itself.

use corsgate_core::Answer;
use spin_sdk::http::{Fields, OutgoingBody, OutgoingResponse};
use spin_sdk::wit::wasi::http0_2_0::types::ResponseOutparam;

/// Header fields from name/value pairs, in one host call. Should the host refuse the list (a
/// forbidden name or bytes not allowed in a field, which can only come from the upstream, never
/// from policy), the pairs are added one by one and the refused ones skipped.
pub fn fields<'n, 'v>(headers: impl IntoIterator<Item = (&'n str, &'v [u8])>) -> Fields {
    let list: Vec<(String, Vec<u8>)> = headers
        .into_iter()
        .map(|(n, v)| (n.to_string(), v.to_vec()))
        .collect();
    Fields::from_list(&list).unwrap_or_else(|_| {
        let fields = Fields::new();
        for (name, value) in &list {
            let _ = fields.append(name, value);
        }
        fields
    })
}

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
