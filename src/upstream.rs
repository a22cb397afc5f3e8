//! Talking to the upstream: send the request with its body streamed, wait for the response head
//! under the route's timeout, then stream the response body to the client.
//!
//! Bodies pass through a fixed 64 KiB window with backpressure (write only what `check-write`
//! permits, flush, wait), so memory does not grow with body size. Resource order matters in
//! wasi-http: a stream is dropped before the body it belongs to, a body before its message.

use spin_sdk::http::{ErrorCode, IncomingRequest, IncomingResponse, OutgoingBody, OutgoingRequest};
use spin_sdk::wit::wasi::http0_2_0::outgoing_handler;
use spin_sdk::wit::wasi::http0_2_0::types::{IncomingBody, RequestOptions};
use wasi::clocks::monotonic_clock;
use wasi::io::poll::{self, Pollable};
use wasi::io::streams::{InputStream, OutputStream, StreamError};

const CHUNK: u64 = 64 * 1024;

/// 24 hours: the longest upload the host lets through before the response head.
const HOST_FIRST_BYTE_TIMEOUT_NS: u64 = 24 * 3600 * 1_000_000_000;

/// Why no upstream response head arrived.
pub enum Failure {
    /// Refused, reset, unresolvable, malformed…: `502`.
    Unreachable(String),
    /// Nothing within the timeout, connecting included: `504`.
    Timeout,
    /// The client's own request body broke off.
    ClientAborted,
}

/// Sends `outgoing` with the body of `request` and waits for the response head. The deadline
/// is `timeout_ms` after the last progress: the start, each uploaded chunk, the upload's end.
pub fn exchange(
    request: &IncomingRequest,
    outgoing: OutgoingRequest,
    timeout_ms: u32,
) -> Result<IncomingResponse, Failure> {
    let timeout_ns = u64::from(timeout_ms) * 1_000_000;
    let sink_body = outgoing
        .body()
        .map_err(|()| Failure::Unreachable("request body unavailable".into()))?;
    // The deadline below decides. The host's first-byte timer runs from the start of the
    // request, upload included, so at the route timeout it would cut any upload slower than
    // that; it is pushed out of the way. Connecting is bounded by the route timeout as well.
    let options = RequestOptions::new();
    let _ = options.set_connect_timeout(Some(timeout_ns));
    let _ = options.set_first_byte_timeout(Some(HOST_FIRST_BYTE_TIMEOUT_NS));
    let future =
        outgoing_handler::handle(outgoing, Some(options)).map_err(|code| classify(&code))?;

    let mut upload = Upload::start(request, sink_body);
    let mut deadline = monotonic_clock::now() + timeout_ns;
    loop {
        if let Some(result) = future.get() {
            drop(upload);
            return match result {
                Ok(Ok(response)) => Ok(response),
                Ok(Err(code)) => Err(classify(&code)),
                Err(()) => Err(Failure::Unreachable("response already taken".into())),
            };
        }
        let mut waiting_on: Option<Pollable> = None;
        if let Some(active) = &upload {
            match active.step() {
                Step::Moved => {
                    deadline = monotonic_clock::now() + timeout_ns;
                    continue;
                }
                Step::Done => {
                    if let Some(active) = upload.take() {
                        active.finish();
                    }
                    deadline = monotonic_clock::now() + timeout_ns;
                    continue;
                }
                Step::Wait(pollable) => waiting_on = Some(pollable),
                Step::ClientFailed => return Err(Failure::ClientAborted),
                // The upstream stopped reading; its answer (say a 413) may still come.
                Step::UpstreamFailed => {
                    upload = None;
                    continue;
                }
            }
        }
        if monotonic_clock::now() >= deadline {
            return Err(Failure::Timeout);
        }
        let timer = monotonic_clock::subscribe_instant(deadline);
        let response_ready = future.subscribe();
        let mut pollables = vec![&response_ready, &timer];
        pollables.extend(waiting_on.as_ref());
        poll::poll(&pollables);
    }
}

/// The request body on its way up: the client's stream and the upstream's.
struct Upload {
    // Field order is drop order: streams before their bodies.
    source: InputStream,
    sink: OutputStream,
    _source_body: Option<IncomingBody>,
    sink_body: OutgoingBody,
}

enum Step {
    Moved,
    Done,
    Wait(Pollable),
    ClientFailed,
    UpstreamFailed,
}

impl Upload {
    /// Starts the upload; a request whose body cannot be read is sent with an empty body.
    fn start(request: &IncomingRequest, sink_body: OutgoingBody) -> Option<Upload> {
        let source_body = request.consume().ok();
        let source = source_body.as_ref().and_then(|b| b.stream().ok());
        let (Some(source), Ok(sink)) = (source, sink_body.write()) else {
            let _ = OutgoingBody::finish(sink_body, None);
            return None;
        };
        Some(Upload {
            source,
            sink,
            _source_body: source_body,
            sink_body,
        })
    }

    /// Moves at most one chunk without blocking.
    fn step(&self) -> Step {
        let permit = match self.sink.check_write() {
            Ok(0) => return Step::Wait(self.sink.subscribe()),
            Ok(permit) => permit,
            Err(_) => return Step::UpstreamFailed,
        };
        match self.source.read(permit.min(CHUNK)) {
            Ok(data) if data.is_empty() => Step::Wait(self.source.subscribe()),
            Ok(data) => match self.sink.write(&data).and_then(|()| flush(&self.sink)) {
                Ok(()) => Step::Moved,
                Err(_) => Step::UpstreamFailed,
            },
            Err(StreamError::Closed) => Step::Done,
            Err(StreamError::LastOperationFailed(_)) => Step::ClientFailed,
        }
    }

    fn finish(self) {
        let Upload {
            source,
            sink,
            _source_body,
            sink_body,
        } = self;
        let _ = flush(&sink);
        drop(sink);
        drop(source);
        let _ = OutgoingBody::finish(sink_body, None);
    }
}

/// How relaying a response body ended.
pub enum Relay {
    Complete(u64),
    /// The upstream broke off mid-body: the client's response is aborted, not finished, so it
    /// cannot mistake a truncated body for a whole one.
    UpstreamBroke(u64),
    /// The client went away.
    ClientGone(u64),
}

/// Streams the upstream's response body into the client's response body.
pub fn relay_body(response: &IncomingResponse, client_body: OutgoingBody) -> Relay {
    let Ok(upstream_body) = response.consume() else {
        return Relay::UpstreamBroke(0);
    };
    let (Ok(input), Ok(output)) = (upstream_body.stream(), client_body.write()) else {
        return Relay::UpstreamBroke(0);
    };
    let mut moved = 0u64;
    let outcome = loop {
        match input.blocking_read(CHUNK) {
            Ok(data) => {
                if write_all(&output, &data).is_err() {
                    break Relay::ClientGone(moved);
                }
                moved += data.len() as u64;
            }
            Err(StreamError::Closed) => break Relay::Complete(moved),
            Err(StreamError::LastOperationFailed(_)) => break Relay::UpstreamBroke(moved),
        }
    };
    drop(input);
    let _trailers = IncomingBody::finish(upstream_body);
    drop(output);
    if let Relay::Complete(_) = outcome {
        let _ = OutgoingBody::finish(client_body, None);
    }
    outcome
}

/// Writes `data` within the stream's permits, waiting for room: the backpressure that keeps
/// memory flat when the client reads slower than the upstream sends.
fn write_all(output: &OutputStream, mut data: &[u8]) -> Result<(), StreamError> {
    while !data.is_empty() {
        let permit = output.check_write()?;
        if permit == 0 {
            output.subscribe().block();
            continue;
        }
        let n = data
            .len()
            .min(usize::try_from(permit).unwrap_or(usize::MAX));
        output.write(&data[..n])?;
        data = &data[n..];
    }
    flush(output)
}

/// Requests a flush. `Closed` is not a failure here: wasmtime closes a body stream as soon as
/// the receiver has every byte a `Content-Length` promised, which happens on the last chunk.
/// A peer that really went away shows at the next `check-write` or `write`.
fn flush(output: &OutputStream) -> Result<(), StreamError> {
    match output.flush() {
        Err(StreamError::LastOperationFailed(e)) => Err(StreamError::LastOperationFailed(e)),
        Ok(()) | Err(StreamError::Closed) => Ok(()),
    }
}

fn classify(code: &ErrorCode) -> Failure {
    let why = match code {
        ErrorCode::ConnectionTimeout
        | ErrorCode::ConnectionReadTimeout
        | ErrorCode::HttpResponseTimeout => return Failure::Timeout,
        ErrorCode::ConnectionRefused => "connection refused".to_string(),
        ErrorCode::ConnectionTerminated | ErrorCode::ConnectionLimitReached => {
            "connection closed before a response".to_string()
        }
        ErrorCode::DnsError(_) => "upstream host name did not resolve".to_string(),
        ErrorCode::DestinationUnavailable | ErrorCode::DestinationNotFound => {
            "upstream unavailable".to_string()
        }
        ErrorCode::DestinationIpUnroutable | ErrorCode::DestinationIpProhibited => {
            "upstream address not reachable".to_string()
        }
        ErrorCode::TlsProtocolError
        | ErrorCode::TlsCertificateError
        | ErrorCode::TlsAlertReceived(_) => "TLS handshake with upstream failed".to_string(),
        ErrorCode::HttpProtocolError
        | ErrorCode::HttpResponseIncomplete
        | ErrorCode::HttpResponseHeaderSectionSize(_)
        | ErrorCode::HttpResponseHeaderSize(_)
        | ErrorCode::HttpResponseBodySize(_) => "malformed response from upstream".to_string(),
        ErrorCode::HttpRequestDenied => {
            "outbound request denied by the host (allowed_outbound_hosts?)".to_string()
        }
        other => format!("upstream error: {other:?}"),
    };
    Failure::Unreachable(why)
}
