//! A forward's exchange with the upstream, without the I/O: the upstream request's head, the
//! client response's head, the outcome of whatever happened upstream and the finished log line
//! all live here, once, for every adapter. An adapter feeds the exchange facts (the upstream's
//! status and headers, the body bytes it moved, which side broke off, a failure, the elapsed
//! time) and writes what it returns.
//!
//! The steps are types, so an adapter cannot log a forward it never finished:
//! [`Exchange`] → [`Exchange::respond`] → [`Relay`] → [`Relay::finish`], or
//! [`Exchange`] → [`Exchange::fail`] → [`Failed`] → [`Failed::finish`].

use std::borrow::Cow;
use std::cell::Cell;

use crate::access_log::LogLine;
use crate::decision::{merge_vary, RequestKind, VARY};
use crate::forwarding::{
    copies_request_header, copies_response_header, header_values, is_hop_by_hop, x_forwarded_for,
    ClientAddress,
};
use crate::live::LiveView;
use crate::outcome::{Outcome, Side, UpstreamFailure};
use crate::plan::{Answer, Forward, ForwardCors, HeaderLines, RequestHead};
use crate::report_only::{upstream_verdict, Report};
use crate::route::{Route, Scheme};

/// The scheme the client used to reach the gateway, as the host reports it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ClientScheme<'a> {
    /// `http`, also when the host does not say.
    Http,
    /// `https`
    Https,
    /// Any other scheme the host names.
    Other(&'a str),
}

impl<'a> ClientScheme<'a> {
    /// The scheme as `X-Forwarded-Proto` carries it.
    pub fn as_str(&self) -> &'a str {
        match self {
            ClientScheme::Http => "http",
            ClientScheme::Https => "https",
            ClientScheme::Other(other) => other,
        }
    }
}

/// What the host tells about the client's connection.
#[derive(Clone, Copy, Debug)]
pub struct ClientConnection<'a> {
    /// The scheme the client used.
    pub scheme: ClientScheme<'a>,
    /// The authority the client asked for (its `Host`), when the host reports it.
    pub authority: Option<&'a str>,
    /// Where the client's address can be read, if anywhere.
    pub address: ClientAddress,
}

/// The part of the upstream request's head a host refused to set.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum TargetPart {
    /// The method.
    Method,
    /// The scheme.
    Scheme,
    /// The authority (`host[:port]`).
    Authority,
    /// The path and query.
    PathWithQuery,
}

impl TargetPart {
    /// The part as a log reason names it.
    pub fn name(self) -> &'static str {
        match self {
            TargetPart::Method => "method",
            TargetPart::Scheme => "scheme",
            TargetPart::Authority => "authority",
            TargetPart::PathWithQuery => "path and query",
        }
    }
}

/// The head of the request the adapter sends upstream (its method is the client's).
#[derive(Debug)]
pub struct UpstreamRequest<'h> {
    /// The upstream's scheme.
    pub scheme: Scheme,
    /// `host[:port]`: the connection target and the upstream's `Host`.
    pub authority: Cow<'h, str>,
    /// The path and query: the only target it can have.
    pub path_with_query: &'h str,
    /// The client's headers minus hop-by-hop ones and host metadata, with the `X-Forwarded-*`
    /// headers set.
    pub headers: HeaderLines<'h>,
    /// Whether the client framed its body with `Content-Length` (copied upstream): the adapter
    /// then moves the body itself, under the deadline; otherwise the host frames it.
    pub has_content_length: bool,
    /// How long the upstream may take to send its response head, in milliseconds, counted
    /// from the last progress of the request body.
    pub timeout_ms: u32,
}

/// A forward between the plan and the upstream's answer.
#[derive(Debug)]
pub struct Exchange<'t, 'r> {
    forward: Forward<'t>,
    head: RequestHead<'r>,
    /// Whether the client's headers, read for the upstream request, held `Cookie`: for the log,
    /// which `corsgate audit` reads to tell whether a route's `allow_credentials` is used (an
    /// `Authorization` header proves nothing: a page's script may set it without credentials
    /// mode `include`). Read where the headers are anyway, so it costs no host call.
    credentials: Cell<Option<bool>>,
}

impl<'t: 'r, 'r> Exchange<'t, 'r> {
    /// The exchange of `forward`, planned for the request whose head is `head`.
    pub fn new(forward: Forward<'t>, head: RequestHead<'r>) -> Exchange<'t, 'r> {
        Exchange {
            forward,
            head,
            credentials: Cell::new(None),
        }
    }

    /// The route.
    pub fn route(&self) -> &'t Route {
        self.forward.route()
    }

    /// Decides the request's CORS again, with the origins `live` gives its route now; before
    /// [`Exchange::respond`] or [`Exchange::fail`]. The decision shapes only the response's
    /// headers (the upstream request is the same whatever it is), so a live route's list may
    /// be read while the upstream answers, and a cold instance's forwarded request waits for
    /// the slower of the two, not for both in turn (BENCHMARKS.md, "Live origin lists").
    pub fn decide_with(&mut self, live: LiveView<'_>) {
        self.forward.decide_with(live, &self.head);
    }

    /// The upstream request's head, from the client's header lines and what the host tells of
    /// its connection: the client's headers minus hop-by-hop headers and host metadata, with
    /// `X-Forwarded-For` appended to (the client address where the host reports it, see
    /// [`ClientAddress`], else `unknown`) and `X-Forwarded-Proto` and `-Host` set from what
    /// the host reports. `Host` itself is the upstream's, set by the host from the authority.
    pub fn upstream_request<'h, N, V>(
        &'h self,
        client_headers: &'h [(N, V)],
        connection: ClientConnection<'h>,
    ) -> UpstreamRequest<'h>
    where
        N: AsRef<str>,
        V: AsRef<[u8]>,
    {
        self.credentials
            .set(Some(client_headers.iter().any(|(n, _)| {
                n.as_ref().eq_ignore_ascii_case("cookie")
                    || n.as_ref().eq_ignore_ascii_case("authorization")
            })));
        let client = connection.address.client_ip(client_headers);
        let earlier = header_values(client_headers, "x-forwarded-for");
        let forwarded_for = x_forwarded_for(&earlier, &client);
        let mut headers: HeaderLines<'h> = client_headers
            .iter()
            .filter(|(n, _)| copies_request_header(n.as_ref()))
            .map(|(n, v)| (n.as_ref(), Cow::Borrowed(v.as_ref())))
            .collect();
        let has_content_length = headers
            .iter()
            .any(|(n, _)| n.eq_ignore_ascii_case("content-length"));
        headers.push(("x-forwarded-for", Cow::Owned(forwarded_for)));
        headers.push((
            "x-forwarded-proto",
            Cow::Borrowed(connection.scheme.as_str().as_bytes()),
        ));
        if let Some(host) = connection.authority {
            headers.push(("x-forwarded-host", Cow::Borrowed(host.as_bytes())));
        }
        let upstream = self.route().upstream();
        UpstreamRequest {
            scheme: upstream.scheme(),
            authority: upstream.authority(),
            path_with_query: self.forward.target(),
            headers,
            has_content_length,
            timeout_ms: self.route().timeout_ms(),
        }
    }

    /// The upstream answered with `status` and `upstream_headers`: the relay of its answer.
    /// On a report-only route, this is where a browser's judgement of that answer is made.
    pub fn respond<N, V>(self, status: u16, upstream_headers: &[(N, V)]) -> Relay<'t, 'r>
    where
        N: AsRef<str>,
        V: AsRef<[u8]>,
    {
        let report = match self.forward.cors() {
            ForwardCors::ReportOnly { would: Some(would) } => Some(Report {
                would: *would,
                upstream: upstream_verdict(&self.head.cors, status, upstream_headers),
            }),
            _ => None,
        };
        Relay {
            exchange: self,
            status,
            report,
        }
    }

    /// No response head came, for `failure`: the gateway answers in the upstream's place.
    pub fn fail(self, failure: UpstreamFailure) -> Failed<'t, 'r> {
        let outcome = match failure {
            UpstreamFailure::Unreachable(cause) => Outcome::UpstreamError(cause),
            UpstreamFailure::Timeout => Outcome::Timeout {
                timeout_ms: self.route().timeout_ms(),
            },
            UpstreamFailure::ClientAborted => Outcome::ClientAborted,
        };
        Failed {
            exchange: self,
            outcome,
        }
    }

    fn log_line(self, outcome: Outcome<'r>, duration_us: u64) -> LogLine<'r> {
        let mut line = LogLine::new(&self.head, Some(self.forward.route()), outcome, duration_us);
        line.live = self.forward.live();
        if !self.head.cors.origin.is_empty() {
            if let ForwardCors::Enforced(cors) = self.forward.cors() {
                line.cors_granted = Some(cors.grants);
            }
            if self.head.kind() == RequestKind::Actual {
                line.credentials = self.credentials.get();
            }
        }
        line
    }
}

/// The upstream's answer on its way to the client.
#[derive(Debug)]
pub struct Relay<'t, 'r> {
    exchange: Exchange<'t, 'r>,
    status: u16,
    report: Option<Report>,
}

impl<'t: 'r, 'r> Relay<'t, 'r> {
    /// The client response's headers for the upstream's `upstream_headers`: the upstream's,
    /// minus hop-by-hop and every `Access-Control-*` header, plus the gateway's CORS headers
    /// and `Vary` merged with the upstream's. On a report-only route the upstream's headers pass
    /// as they are, hop-by-hop ones aside.
    pub fn client_headers<'h, N, V>(&'h self, upstream_headers: &'h [(N, V)]) -> HeaderLines<'h>
    where
        N: AsRef<str>,
        V: AsRef<[u8]>,
    {
        let ForwardCors::Enforced(cors) = self.exchange.forward.cors() else {
            return upstream_headers
                .iter()
                .filter(|(n, _)| !is_hop_by_hop(n.as_ref()))
                .map(|(n, v)| (n.as_ref(), Cow::Borrowed(v.as_ref())))
                .collect();
        };
        let vary = merge_vary(&header_values(upstream_headers, VARY), cors.vary);
        let mut headers: HeaderLines<'h> = upstream_headers
            .iter()
            .filter(|(n, _)| copies_response_header(n.as_ref()))
            .map(|(n, v)| (n.as_ref(), Cow::Borrowed(v.as_ref())))
            .collect();
        headers.extend(cors.headers.iter().map(|(n, v)| (n, Cow::Borrowed(v))));
        headers.extend(vary.map(|v| (VARY, Cow::Owned(v))));
        headers
    }

    /// The log line once the body is done: `body` says how many bytes moved and which side
    /// broke off, if one did; `None` when the adapter hands the body on without seeing its end
    /// (the middleware). `duration_us` is the time since the request began.
    pub fn finish(self, body: Option<BodyRelayed>, duration_us: u64) -> LogLine<'r> {
        let status = self.status;
        let outcome = match body.and_then(|b| b.broke_off) {
            None => Outcome::Forwarded { status },
            Some(side) => Outcome::BodyBrokeOff { status, side },
        };
        let report = self.report;
        let mut line = self.exchange.log_line(outcome, duration_us);
        line.body_bytes = body.map(|b| b.bytes);
        line.report = report;
        line
    }
}

/// How relaying a response body ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BodyRelayed {
    /// Body bytes moved to the client.
    pub bytes: u64,
    /// The side that went away before the body's end, if one did.
    pub broke_off: Option<Side>,
}

/// A forward that got no response head: the gateway's answer in the upstream's place.
#[derive(Debug)]
pub struct Failed<'t, 'r> {
    exchange: Exchange<'t, 'r>,
    outcome: Outcome<'r>,
}

impl<'t: 'r, 'r> Failed<'t, 'r> {
    /// The answer: `502`, `504` or `400`, with the CORS headers a forwarded response would
    /// carry, so the page's script can read the error instead of seeing an opaque failure. A
    /// report-only route leaves CORS to the upstream, which did not answer: no CORS headers.
    pub fn answer(&self) -> Answer<'_> {
        let route = self.exchange.route();
        let outcome = self.outcome.clone();
        match self.exchange.forward.cors() {
            ForwardCors::Enforced(cors) => Answer::new(
                Some(route),
                outcome,
                Some(cors.headers.borrowed()),
                merge_vary(&[], cors.vary),
            ),
            ForwardCors::ReportOnly { .. } => Answer::new(Some(route), outcome, None, None),
        }
    }

    /// The log line, `duration_us` after the request began.
    pub fn finish(self, duration_us: u64) -> LogLine<'r> {
        self.exchange.log_line(self.outcome, duration_us)
    }
}
