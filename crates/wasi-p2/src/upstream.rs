//! Talking to the upstream: send the request with its body streamed, wait for the response head
//! under the route's timeout, then stream the response body to the client.
//!
//! Bodies pass through a fixed 64 KiB window with backpressure (write only what `check-write`
//! permits, flush, wait), so memory does not grow with body size. Resource order matters in
//! wasi-http: a stream is dropped before the body it belongs to, a body before its message.

use corsgate_core::outcome::Side;
use corsgate_core::{UpstreamCause, UpstreamFailure};
use spin_sdk::http::{ErrorCode, IncomingRequest, IncomingResponse, OutgoingBody, OutgoingRequest};
use spin_sdk::wit::wasi::http0_2_0::outgoing_handler;
use spin_sdk::wit::wasi::http0_2_0::types::{IncomingBody, RequestOptions};
use wasi::clocks::monotonic_clock;
use wasi::io::poll::{self, Pollable};
use wasi::io::streams::{InputStream, OutputStream, StreamError};

corsgate_wasi_http::classify!(ErrorCode);

const CHUNK: u64 = 64 * 1024;

/// 24 hours: the longest upload the host lets through before the response head.
const HOST_FIRST_BYTE_TIMEOUT_NS: u64 = 24 * 3600 * 1_000_000_000;

/// Sends `outgoing` with the body of `request` and waits for the response head. The deadline
/// is `timeout_ms` after the last progress: the start, each uploaded chunk, the upload's end.
///
/// The upstream request is framed as the client framed its own: with `Content-Length` when it
/// had one (the header is copied), chunked when it streamed a body without one, and with no
/// body at all when it had none. The host strips `Transfer-Encoding`, so the last two are told
/// apart by the body's first read; a bodiless `DELETE` then does not reach the upstream with an
/// empty chunked body, which some upstreams and firewalls refuse.
pub fn send(
    request: &IncomingRequest,
    outgoing: OutgoingRequest,
    has_length: bool,
    timeout_ms: u32,
) -> Result<IncomingResponse, UpstreamFailure> {
    let timeout_ns = u64::from(timeout_ms) * 1_000_000;
    let mut deadline = monotonic_clock::now() + timeout_ns;
    let source = ClientBody::open(request);
    let first_bytes = match (&source, has_length) {
        (Some(source), false) => source.first_bytes(deadline)?,
        (None, false) => None,
        (_, true) => Some(Vec::new()),
    };
    let sink_body = match first_bytes {
        Some(_) => Some(
            outgoing
                .body()
                .map_err(|()| other("request body unavailable"))?,
        ),
        None => None,
    };
    // The deadline below decides. The host's first-byte timer runs from the start of the
    // request, upload included, so at the route timeout it would cut any upload slower than
    // that; it is pushed out of the way. Connecting is bounded by the route timeout as well.
    let options = RequestOptions::new();
    let _ = options.set_connect_timeout(Some(timeout_ns));
    let _ = options.set_first_byte_timeout(Some(HOST_FIRST_BYTE_TIMEOUT_NS));
    let future = outgoing_handler::handle(outgoing, Some(options)).map_err(|c| classify(&c))?;
    let mut upload = match (source, sink_body, first_bytes) {
        (Some(source), Some(sink_body), Some(pending)) => Upload::start(source, sink_body, pending),
        (_, sink_body, _) => {
            if let Some(body) = sink_body {
                let _ = OutgoingBody::finish(body, None);
            }
            None
        }
    };
    loop {
        if let Some(result) = future.get() {
            drop(upload);
            return match result {
                Ok(Ok(response)) => Ok(response),
                Ok(Err(code)) => Err(classify(&code)),
                Err(()) => Err(other("response already taken")),
            };
        }
        let mut waiting_on: Option<Pollable> = None;
        if let Some(active) = &mut upload {
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
                Step::ClientFailed => return Err(UpstreamFailure::ClientAborted),
                // The upstream stopped reading; its answer (say a 413) may still come.
                Step::UpstreamFailed => {
                    upload = None;
                    continue;
                }
            }
        }
        if monotonic_clock::now() >= deadline {
            return Err(UpstreamFailure::Timeout);
        }
        wait_for(deadline, [Some(&future.subscribe()), waiting_on.as_ref()]);
    }
}

/// Blocks until one of `pollables` is ready or `deadline` passes.
fn wait_for<const N: usize>(deadline: u64, pollables: [Option<&Pollable>; N]) {
    let timer = monotonic_clock::subscribe_instant(deadline);
    let mut all: Vec<&Pollable> = vec![&timer];
    all.extend(pollables.into_iter().flatten());
    poll::poll(&all);
}

/// The client's request body. Field order is drop order: the stream before its body.
struct ClientBody {
    stream: InputStream,
    _body: IncomingBody,
}

impl ClientBody {
    fn open(request: &IncomingRequest) -> Option<ClientBody> {
        let body = request.consume().ok()?;
        let stream = body.stream().ok()?;
        Some(ClientBody {
            stream,
            _body: body,
        })
    }

    /// The body's first bytes, or `None` when it ended without any: the client sent no body.
    fn first_bytes(&self, deadline: u64) -> Result<Option<Vec<u8>>, UpstreamFailure> {
        loop {
            match self.stream.read(CHUNK) {
                Ok(data) if data.is_empty() => {}
                Ok(data) => return Ok(Some(data)),
                Err(StreamError::Closed) => return Ok(None),
                Err(StreamError::LastOperationFailed(_)) => {
                    return Err(UpstreamFailure::ClientAborted)
                }
            }
            if monotonic_clock::now() >= deadline {
                return Err(UpstreamFailure::Timeout);
            }
            wait_for(deadline, [Some(&self.stream.subscribe())]);
        }
    }
}

/// The request body on its way up: the client's stream and the upstream's.
struct Upload {
    // Field order is drop order: streams before their bodies.
    sink: OutputStream,
    source: ClientBody,
    sink_body: OutgoingBody,
    /// Bytes read from the client and not yet written upstream.
    pending: Vec<u8>,
}

enum Step {
    Moved,
    Done,
    Wait(Pollable),
    ClientFailed,
    UpstreamFailed,
}

impl Upload {
    fn start(source: ClientBody, sink_body: OutgoingBody, pending: Vec<u8>) -> Option<Upload> {
        let Ok(sink) = sink_body.write() else {
            let _ = OutgoingBody::finish(sink_body, None);
            return None;
        };
        Some(Upload {
            sink,
            source,
            sink_body,
            pending,
        })
    }

    /// Moves at most one chunk without blocking.
    fn step(&mut self) -> Step {
        let permit = match self.sink.check_write() {
            Ok(0) => return Step::Wait(self.sink.subscribe()),
            Ok(permit) => usize::try_from(permit.min(CHUNK)).unwrap_or(usize::MAX),
            Err(_) => return Step::UpstreamFailed,
        };
        if self.pending.is_empty() {
            match self.source.stream.read(permit as u64) {
                Ok(data) if data.is_empty() => return Step::Wait(self.source.stream.subscribe()),
                Ok(data) => self.pending = data,
                Err(StreamError::Closed) => return Step::Done,
                Err(StreamError::LastOperationFailed(_)) => return Step::ClientFailed,
            }
        }
        let n = self.pending.len().min(permit);
        match self
            .sink
            .write(&self.pending[..n])
            .and_then(|()| flush(&self.sink))
        {
            Ok(()) => {
                self.pending.drain(..n);
                Step::Moved
            }
            Err(_) => Step::UpstreamFailed,
        }
    }

    fn finish(self) {
        let _ = flush(&self.sink);
        drop(self.sink);
        drop(self.source);
        let _ = OutgoingBody::finish(self.sink_body, None);
    }
}

/// Streams the upstream's response body into the client's response body. Returns the bytes
/// relayed and, when the body did not complete, which side broke it off: then the client's
/// response is aborted, not finished, so it cannot mistake a truncated body for a whole one.
pub fn relay_body(response: &IncomingResponse, client_body: OutgoingBody) -> (u64, Option<Side>) {
    let Ok(upstream_body) = response.consume() else {
        return (0, Some(Side::Upstream));
    };
    let (Ok(input), Ok(output)) = (upstream_body.stream(), client_body.write()) else {
        return (0, Some(Side::Upstream));
    };
    let mut moved = 0u64;
    let broke_off = loop {
        match input.blocking_read(CHUNK) {
            Ok(data) => {
                if write_all(&output, &data).is_err() {
                    break Some(Side::Client);
                }
                moved += data.len() as u64;
            }
            Err(StreamError::Closed) => break None,
            Err(StreamError::LastOperationFailed(_)) => break Some(Side::Upstream),
        }
    };
    drop(input);
    let _trailers = IncomingBody::finish(upstream_body);
    drop(output);
    if broke_off.is_none() {
        let _ = OutgoingBody::finish(client_body, None);
    }
    (moved, broke_off)
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

fn other(what: &str) -> UpstreamFailure {
    UpstreamFailure::Unreachable(UpstreamCause::Other(what.into()))
}
