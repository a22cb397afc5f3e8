//! Forwarding over `wasi:http/client@0.3.0`: bodies streamed both ways with backpressure (a
//! stream write completes only when the other side has taken the bytes), the route's
//! `timeout_ms` as the deadline for the upstream's response head, pushed back whenever the
//! request body moves (as in the WASIp2 gateway: a long upload is not a slow upstream).
//!
//! The outgoing request's transmit future is held until its body is done: dropping it early
//! lets the host cut the upstream body short (Wasmtime issue #14227; spin-sdk 7's `send` drops
//! it, which is why this component uses the WASI bindings directly).

use std::cell::Cell;
use std::future::Future;
use std::pin::pin;
use std::rc::Rc;

use corsgate_core::access_log::LogLine;
use corsgate_core::exchange::{BodyRelayed, UpstreamRequest};
use corsgate_core::outcome::Side;
use corsgate_core::settings::Settings;
use corsgate_core::{Answer, ClientConnection, Exchange, UpstreamFailure};
use futures::channel::oneshot;
use futures::future::{select, Either};
use wasip3::clocks::monotonic_clock;
use wasip3::http::client;
use wasip3::http::types::{
    ErrorCode, Fields, Method, Request, RequestOptions, Response, Scheme, Trailers,
};
use wasip3::wit_bindgen::{FutureReader, FutureWriter, StreamReader, StreamResult, StreamWriter};
use wasip3::{wit_future, wit_stream};

use crate::incoming::Incoming;
use crate::instance::elapsed_us;
use crate::live::ReadAlongside;
use crate::respond;
use crate::task::spawn;

corsgate_wasi_http::classify!(pub(crate) ErrorCode);

/// How much one read asks for: the size the WASIp2 gateway moves per step.
const CHUNK: usize = 64 * 1024;

/// The host's own first-byte timeout, set far out: the route's deadline is enforced here,
/// pushed back while the request body moves, which a host timer counted from the request's
/// start cannot do.
const HOST_FIRST_BYTE_TIMEOUT_NS: u64 = 24 * 3600 * 1_000_000_000;

type TrailersResult = Result<Option<Trailers>, ErrorCode>;

/// Sends the request upstream and relays the answer (handing the response head to `respond`
/// as soon as it is known), or answers in the upstream's place; the log line once done. `list`:
/// the live route's list, read while the upstream answers.
pub(crate) async fn forward<'r>(
    request: Request,
    incoming: &'r Incoming,
    mut exchange: Exchange<'static, 'r>,
    settings: &Settings,
    respond: oneshot::Sender<Response>,
    started: u64,
    list: ReadAlongside<impl Future<Output = ()>>,
) -> LogLine<'r> {
    let scheme = request.get_scheme();
    // Spin sets it from `Host`; `wasmtime serve` 48 sets none for a WASIp3 request and hands
    // no `Host` header either, so there it is unknown.
    let authority = request.get_authority();
    let connection = ClientConnection {
        scheme: client_scheme(&scheme),
        authority: authority.as_deref(),
        address: settings.client_address,
    };
    let (sent, redecision) = {
        let upstream = exchange.upstream_request(&incoming.headers, connection);
        list.join(send(request, &incoming.method, &upstream)).await
    };
    redecision.apply(&mut exchange);
    match sent {
        Ok(response) => {
            let status = response.get_status_code();
            let upstream_headers = response.get_headers().copy_all();
            let relay = exchange.respond(status, &upstream_headers);
            let client_fields = respond::fields(relay.client_headers(&upstream_headers));
            let (bytes, broke_off) = relay_body(response, status, client_fields, respond).await;
            relay.finish(Some(BodyRelayed { bytes, broke_off }), elapsed_us(started))
        }
        Err(failure) => {
            let failed = exchange.fail(failure);
            send_answer(respond, &failed.answer()).await;
            failed.finish(elapsed_us(started))
        }
    }
}

/// Sends the upstream request and waits for its response head, or says why none came.
///
/// With `Content-Length`, the body goes through the component, which pushes the deadline
/// back as it moves; without, the body is handed to the host as it is: a body relayed by the
/// component is always framed chunked by the host, which would turn a request without a body
/// into one with an empty chunked body. Such a request's deadline counts from its start
/// (browsers send `Content-Length` with every body they send over HTTP/1.1).
async fn send(
    request: Request,
    method: &Method,
    upstream: &UpstreamRequest<'_>,
) -> Result<Response, UpstreamFailure> {
    let timeout_ns = u64::from(upstream.timeout_ms) * 1_000_000;
    let headers = respond::fields(upstream.headers.iter().map(|(n, v)| (*n, v)));
    let (client_done, client_done_reader) = wit_future::new(|| Ok(()));
    let (client_body, client_trailers) = Request::consume_body(request, client_done_reader);
    // When the request body last moved: the deadline counts from there.
    let progress = Rc::new(Cell::new(monotonic_clock::now()));
    let (body, trailers, upload) = if upstream.has_content_length {
        let (sink, body) = wit_stream::new();
        let (sink_trailers, trailers) = wit_future::new(|| Ok(None));
        let upload = Upload {
            source: client_body,
            source_trailers: client_trailers,
            sink,
            sink_trailers,
            progress: progress.clone(),
        };
        (body, trailers, Some(upload))
    } else {
        (client_body, client_trailers, None)
    };
    let options = RequestOptions::new();
    let _ = options.set_connect_timeout(Some(timeout_ns));
    let _ = options.set_first_byte_timeout(Some(HOST_FIRST_BYTE_TIMEOUT_NS));
    let (outgoing, transmitted) = Request::new(headers, Some(body), trailers, Some(options));
    set_target(&outgoing, method, upstream)?;
    let (aborted, aborted_reader) = oneshot::channel();
    spawn(async move {
        if let Some(upload) = upload {
            if let Err(code) = upload.run().await {
                let _ = aborted.send(());
                let _ = client_done.write(Err(code)).await;
                return;
            }
        }
        // Held until the body is done (module comment).
        let transmitted = transmitted.await;
        let _ = client_done.write(transmitted).await;
    })
    .await;
    let send = pin!(client::send(outgoing));
    let deadline = pin!(deadline(&progress, timeout_ns, aborted_reader));
    match select(send, deadline).await {
        Either::Left((result, _)) => result.map_err(|code| classify(&code)),
        Either::Right((failure, _)) => Err(failure),
    }
}

corsgate_wasi_http::client_scheme!(Scheme);
corsgate_wasi_http::set_target!(Request, Method, Scheme);

/// The next bytes of a body; `None` at its end.
async fn read_chunk(body: &mut StreamReader<u8>) -> Option<Vec<u8>> {
    loop {
        let (result, data) = body.read(Vec::with_capacity(CHUNK)).await;
        match result {
            StreamResult::Complete(_) if data.is_empty() => continue,
            StreamResult::Complete(_) => return Some(data),
            StreamResult::Dropped | StreamResult::Cancelled => return None,
        }
    }
}

/// Resolves when no response head has come `timeout_ns` after the request body last moved
/// (`Timeout`), or when the client's body broke off (`ClientAborted`).
async fn deadline(
    progress: &Cell<u64>,
    timeout_ns: u64,
    aborted: oneshot::Receiver<()>,
) -> UpstreamFailure {
    let mut passed = pin!(async {
        loop {
            let now = monotonic_clock::now();
            let due = progress.get().saturating_add(timeout_ns);
            if now >= due {
                return;
            }
            monotonic_clock::wait_for(due - now).await;
        }
    });
    match select(passed.as_mut(), aborted).await {
        Either::Left(_) => UpstreamFailure::Timeout,
        Either::Right((Ok(()), _)) => UpstreamFailure::ClientAborted,
        // The upload ended without trouble: only the clock is left.
        Either::Right((Err(oneshot::Canceled), _)) => {
            passed.await;
            UpstreamFailure::Timeout
        }
    }
}

/// The client's request body on its way upstream through the component.
struct Upload {
    source: StreamReader<u8>,
    source_trailers: FutureReader<TrailersResult>,
    sink: StreamWriter<u8>,
    sink_trailers: FutureWriter<TrailersResult>,
    progress: Rc<Cell<u64>>,
}

impl Upload {
    /// Moves the body; `Err` when the client's broke off (the upstream's then does too).
    async fn run(mut self) -> Result<(), ErrorCode> {
        while let Some(data) = read_chunk(&mut self.source).await {
            if !self.sink.write_all(data).await.is_empty() {
                // The upstream stopped reading (it answered, or failed): nothing to do.
                return Ok(());
            }
            self.progress.set(monotonic_clock::now());
        }
        drop(self.sink);
        match self.source_trailers.await {
            Ok(_) => {
                let _ = self.sink_trailers.write(Ok(None)).await;
                Ok(())
            }
            Err(code) => {
                let _ = self.sink_trailers.write(Err(code.clone())).await;
                Err(code)
            }
        }
    }
}

/// Relays the upstream's response to the client, handing its head to `respond`; returns the
/// body bytes moved and which side broke off, if one did.
async fn relay_body(
    response: Response,
    status: u16,
    headers: Fields,
    respond: oneshot::Sender<Response>,
) -> (u64, Option<Side>) {
    let (_source_done, source_done_reader) = wit_future::new(|| Ok(()));
    let (mut source, source_trailers) = Response::consume_body(response, source_done_reader);
    let (mut sink, body) = wit_stream::new();
    let (sink_trailers, trailers) = wit_future::new(|| Ok(None));
    if respond
        .send(respond::response(status, headers, Some(body), trailers))
        .is_err()
    {
        return (0, Some(Side::Client));
    }
    let mut moved = 0u64;
    while let Some(data) = read_chunk(&mut source).await {
        let len = data.len() as u64;
        if !sink.write_all(data).await.is_empty() {
            return (moved, Some(Side::Client));
        }
        moved += len;
    }
    drop(sink);
    // The body stream ends the same way whether the upstream finished or broke off; its
    // trailers say which, and the client's response ends the same way.
    let ending: TrailersResult = source_trailers.await.map(|_| None);
    let broke_off = ending.is_err().then_some(Side::Upstream);
    let _ = sink_trailers.write(ending).await;
    (moved, broke_off)
}

/// Sends an answer of the plan's through `respond`, then writes its body.
async fn send_answer(respond: oneshot::Sender<Response>, answer: &Answer<'_>) {
    let (response, write_body) = respond::answer(answer);
    if respond.send(response).is_ok() {
        if let Some(write_body) = write_body {
            write_body.await;
        }
    }
}
