//! Writing responses: header fields, bodies, and the answers the gateway makes itself.

use std::future::Future;

use corsgate_core::Answer;
use wasip3::http::types::{ErrorCode, Fields, Response, Trailers};
use wasip3::wit_bindgen::{self, FutureReader, StreamReader};
use wasip3::{wit_future, wit_stream};

corsgate_wasi_http::fields!(pub(crate) Fields);

/// Trailers for a body that ends cleanly, with none.
pub(crate) fn no_trailers() -> FutureReader<Result<Option<Trailers>, ErrorCode>> {
    let (_writer, reader) = wit_future::new(|| Ok(None));
    reader
}

/// A response with the given status, headers and body stream.
pub(crate) fn response(
    status: u16,
    headers: Fields,
    body: Option<StreamReader<u8>>,
    trailers: FutureReader<Result<Option<Trailers>, ErrorCode>>,
) -> Response {
    // The transmit future says whether the host delivered the response; an answer of the
    // gateway's own has nothing to do about a client that left.
    let (response, _transmitted) = Response::new(headers, body, trailers);
    let _ = response.set_status_code(status);
    response
}

/// An answer of the plan's, returned from the export call at once, with its body (if any)
/// written by a task of its own once the host reads it.
pub(crate) fn answer_now(planned: &Answer<'_>) -> Response {
    let (response, write_body) = answer(planned);
    if let Some(write_body) = write_body {
        wit_bindgen::spawn(write_body);
    }
    response
}

/// An answer of the plan's, and the writing of its short plain-text body (none for a `204`),
/// to run once the response is on its way: the host reads the body only then.
pub(crate) fn answer(
    answer: &Answer<'_>,
) -> (Response, Option<impl Future<Output = ()> + 'static>) {
    let body = answer.body();
    let (stream, writer) = if body.is_empty() {
        (None, None)
    } else {
        let (writer, reader) = wit_stream::new();
        (Some(reader), Some(writer))
    };
    let response = response(
        answer.status(),
        fields(answer.headers()),
        stream,
        no_trailers(),
    );
    let bytes = body.into_owned().into_bytes();
    let write = writer.map(|mut writer| async move {
        // Whatever is unwritten was for a client that left.
        let _unwritten = writer.write_all(bytes).await;
    });
    (response, write)
}
