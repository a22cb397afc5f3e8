//! Responses the gateway makes itself: preflight answers, 404/400, 502/504.

use spin_sdk::http::{Fields, OutgoingBody, OutgoingResponse};
use spin_sdk::wit::wasi::http0_2_0::types::ResponseOutparam;

/// Header fields from name/value pairs, in one host call. Should the host refuse the list (a
/// forbidden name or bytes not allowed in a field, which can only come from the upstream, never
/// from policy), the pairs are added one by one and the refused ones skipped.
pub fn fields<'a>(headers: impl IntoIterator<Item = (&'a str, &'a [u8])>) -> Fields {
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

/// Sends a complete response with a short plain-text body (or none when `body` is empty).
pub fn send(out: ResponseOutparam, status: u16, headers: &[(&str, &[u8])], body: &str) {
    let mut all: Vec<(&str, &[u8])> = headers.to_vec();
    if !body.is_empty() {
        all.push(("content-type", b"text/plain; charset=utf-8"));
        all.push(("x-content-type-options", b"nosniff"));
    }
    let response = OutgoingResponse::new(fields(all));
    let _ = response.set_status_code(status);
    if body.is_empty() {
        // No body stream at all: the host sends an empty body without setting one up.
        ResponseOutparam::set(out, Ok(response));
        return;
    }
    let outgoing_body = response.body().expect("a new response has a body");
    ResponseOutparam::set(out, Ok(response));
    let stream = outgoing_body.write().expect("a new body has a stream");
    for chunk in body.as_bytes().chunks(4096) {
        if stream.blocking_write_and_flush(chunk).is_err() {
            return; // The client went away; nothing left to tell it.
        }
    }
    drop(stream);
    let _ = OutgoingBody::finish(outgoing_body, None);
}
