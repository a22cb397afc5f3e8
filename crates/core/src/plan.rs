//! The request plan: everything the gateway decides about a request, in one place, so that each
//! host adapter is only I/O glue and `corsgate explain` can never disagree with the gateway.
//!
//! [`plan`] takes the route table and the request's head and returns either an [`Answer`] made
//! at the edge (status, headers, body and [`Outcome`]) or a [`Forward`]: the route, the upstream
//! target and the CORS headers to attach. A [`Forward`] then assembles both header sets (the
//! upstream request's, the client response's) and turns whatever happened upstream into the
//! final [`Outcome`] or, on failure, into the gateway's own [`Answer`].

use std::borrow::Cow;

use crate::decision::{
    forwarded, merge_vary, preflight, CorsRequest, ForwardedCors, HeaderList, RequestKind, VARY,
};
use crate::forwarding::{
    copies_request_header, copies_response_header, header_values, is_hop_by_hop, x_forwarded_for,
    ClientAddress,
};
use crate::outcome::{Outcome, Side, UpstreamFailure};
use crate::policy::PreflightMode;
use crate::report_only::{policy_verdict, upstream_verdict, Report};
use crate::route::{Route, RouteTable, RoutingError};

/// Header lines as the adapters hand them to the host: names, and values borrowed where they
/// can be.
pub type HeaderLines<'a> = Vec<(&'a str, Cow<'a, [u8]>)>;

/// What the plan reads of a request.
#[derive(Clone, Copy, Debug)]
pub struct RequestHead<'a> {
    /// The request target as the host reports it: path and query (origin-form).
    pub path_and_query: &'a str,
    /// The method and the CORS request headers.
    pub cors: CorsRequest<'a>,
}

impl<'a> RequestHead<'a> {
    pub fn path(&self) -> &'a str {
        self.path_and_query
            .split_once('?')
            .map_or(self.path_and_query, |(path, _)| path)
    }

    pub fn query(&self) -> Option<&'a str> {
        self.path_and_query.split_once('?').map(|(_, query)| query)
    }

    pub fn kind(&self) -> RequestKind {
        self.cors.kind()
    }
}

#[derive(Debug)]
pub enum Plan<'a> {
    /// Answered by the gateway; nothing is forwarded.
    Answer(Answer<'a>),
    /// Sent to the route's upstream.
    Forward(Forward<'a>),
}

/// Whether a route's policy governs the request target `path_and_query` at all: a middleware
/// hands every other path to the app untouched, before reading anything else of the request.
/// A path that climbs out of its route is still governed (the plan refuses it).
pub fn governs(table: &RouteTable, path_and_query: &str) -> bool {
    let head = RequestHead {
        path_and_query,
        cors: CorsRequest::default(),
    };
    !matches!(table.route(head.path()), Err(RoutingError::NoRoute))
}

/// Decides what the gateway does with a request.
pub fn plan<'a>(table: &'a RouteTable, head: &RequestHead<'a>) -> Plan<'a> {
    let routed = match table.route(head.path()) {
        Ok(routed) => routed,
        Err(error) => {
            let outcome = match error {
                RoutingError::NoRoute => Outcome::NotFound,
                RoutingError::BadPath(_) | RoutingError::ClimbsOutOfRoute => Outcome::BadPath,
            };
            return Plan::Answer(Answer {
                route: None,
                outcome,
                cors: None,
                vary: None,
            });
        }
    };
    let route = routed.route;
    let edge = route.cors.preflight == PreflightMode::Edge && !route.cors.report_only;
    if head.kind() == RequestKind::Preflight && edge {
        let decision = preflight(&route.cors, &head.cors);
        return Plan::Answer(Answer {
            route: Some(route),
            outcome: match decision.result {
                Ok(()) => Outcome::Allowed,
                Err(rejection) => Outcome::Rejected(rejection),
            },
            cors: Some(decision.headers),
            vary: None,
        });
    }
    Plan::Forward(Forward {
        route,
        target: route.upstream_path_and_query(&routed.path, head.query()),
        cors: forwarded(&route.cors, &head.cors),
        request: head.cors,
    })
}

/// A response the gateway makes itself.
#[derive(Clone, Debug)]
pub struct Answer<'a> {
    /// The route, when the path has one.
    pub route: Option<&'a Route>,
    pub outcome: Outcome<'a>,
    /// The CORS headers (for a preflight answer, its `Vary` included).
    cors: Option<HeaderList<'a>>,
    /// `Vary` of an answer made in the upstream's place.
    vary: Option<Vec<u8>>,
}

impl Answer<'_> {
    pub fn status(&self) -> u16 {
        self.outcome.status()
    }

    /// The body: empty for a `204`, else a short plain text.
    pub fn body(&self) -> Cow<'static, str> {
        self.outcome.body().unwrap_or_default()
    }

    /// Every header line of the answer: the CORS headers, `Vary`, and for a text body its
    /// type, never to be sniffed as anything else.
    pub fn headers(&self) -> impl Iterator<Item = (&'static str, &[u8])> + '_ {
        let text_body = !self.body().is_empty();
        let body_headers: [(&'static str, &'static [u8]); 2] = [
            ("content-type", b"text/plain; charset=utf-8"),
            ("x-content-type-options", b"nosniff"),
        ];
        self.cors
            .iter()
            .flat_map(HeaderList::iter)
            .chain(self.vary.as_deref().map(|v| (VARY, v)))
            .chain(body_headers.into_iter().filter(move |_| text_body))
    }
}

/// What the host tells about the client's connection.
#[derive(Clone, Copy, Debug)]
pub struct ClientConnection<'a> {
    /// The scheme the client used (`http` when the host does not say).
    pub scheme: &'a str,
    /// The authority the client asked for (its `Host`).
    pub authority: Option<&'a str>,
    /// Where the client's address can be read, if anywhere.
    pub address: ClientAddress,
}

/// A request on its way to the route's upstream.
#[derive(Clone, Debug)]
pub struct Forward<'a> {
    pub route: &'a Route,
    /// The upstream request's path and query: the only target it can have.
    pub target: String,
    /// The CORS headers of the response, whatever it turns out to be (none on a report-only
    /// route, whose upstream keeps answering CORS itself).
    pub cors: ForwardedCors<'a>,
    request: CorsRequest<'a>,
}

impl<'a> Forward<'a> {
    /// The upstream request's headers: the client's, minus hop-by-hop headers and host
    /// metadata, with `X-Forwarded-For` appended to (the client address where the host reports
    /// it, see [`ClientAddress`], else `unknown`) and `X-Forwarded-Proto` and `-Host` set from
    /// what the host reports. `Host` itself is the upstream's, set by the host from the
    /// authority.
    pub fn upstream_headers<'h, N, V>(
        &self,
        client_headers: &'h [(N, V)],
        connection: ClientConnection<'h>,
    ) -> HeaderLines<'h>
    where
        N: AsRef<str>,
        V: AsRef<[u8]>,
    {
        let client = connection.address.client_ip(client_headers);
        let earlier = header_values(client_headers, "x-forwarded-for");
        let forwarded_for = x_forwarded_for(&earlier, &client);
        let mut headers: HeaderLines<'h> = client_headers
            .iter()
            .filter(|(n, _)| copies_request_header(n.as_ref()))
            .map(|(n, v)| (n.as_ref(), Cow::Borrowed(v.as_ref())))
            .collect();
        headers.push(("x-forwarded-for", Cow::Owned(forwarded_for)));
        headers.push((
            "x-forwarded-proto",
            Cow::Borrowed(connection.scheme.as_bytes()),
        ));
        if let Some(host) = connection.authority {
            headers.push(("x-forwarded-host", Cow::Borrowed(host.as_bytes())));
        }
        headers
    }

    /// Whether the route is in report-only rollout.
    pub fn report_only(&self) -> bool {
        self.route.cors.report_only
    }

    /// On a report-only route, what the policy would decide for this CORS request beside how a
    /// browser judges the upstream's answer (`status`, `upstream_headers`).
    pub fn report<N: AsRef<str>, V: AsRef<[u8]>>(
        &self,
        status: u16,
        upstream_headers: &[(N, V)],
    ) -> Option<Report> {
        if !self.report_only() {
            return None;
        }
        Some(Report {
            would: policy_verdict(&self.route.cors, &self.request)?,
            upstream: upstream_verdict(&self.request, status, upstream_headers),
        })
    }

    /// The client response's headers for an upstream response with `upstream_headers`: the
    /// upstream's, minus hop-by-hop and every `Access-Control-*` header, plus the gateway's CORS
    /// headers and `Vary` merged with the upstream's. On a report-only route the upstream's
    /// headers pass as they are, hop-by-hop ones aside.
    pub fn response_headers<'h, N, V>(&self, upstream_headers: &'h [(N, V)]) -> HeaderLines<'h>
    where
        'a: 'h,
        N: AsRef<str>,
        V: AsRef<[u8]>,
    {
        if self.report_only() {
            return upstream_headers
                .iter()
                .filter(|(n, _)| !is_hop_by_hop(n.as_ref()))
                .map(|(n, v)| (n.as_ref(), Cow::Borrowed(v.as_ref())))
                .collect();
        }
        let vary = merge_vary(&header_values(upstream_headers, VARY), self.cors.vary);
        let mut headers: HeaderLines<'h> = upstream_headers
            .iter()
            .filter(|(n, _)| copies_response_header(n.as_ref()))
            .map(|(n, v)| (n.as_ref(), Cow::Borrowed(v.as_ref())))
            .collect();
        headers.extend(self.cors.headers.iter().map(|(n, v)| (n, Cow::Borrowed(v))));
        headers.extend(vary.map(|v| (VARY, Cow::Owned(v))));
        headers
    }

    /// The outcome of an exchange whose response (`status`) was relayed, by how its body ended.
    pub fn relayed(&self, status: u16, broke_off: Option<Side>) -> Outcome<'a> {
        match broke_off {
            None => Outcome::Forwarded { status },
            Some(side) => Outcome::BodyBrokeOff { status, side },
        }
    }

    /// The gateway's answer in the upstream's place when no response head came: `502`, `504`
    /// or `400`, with the CORS headers a forwarded response would carry, so the page's script
    /// can read the error instead of seeing an opaque failure.
    pub fn failed(&self, failure: UpstreamFailure) -> Answer<'a> {
        let outcome = match failure {
            UpstreamFailure::Unreachable(cause) => Outcome::UpstreamError(cause),
            UpstreamFailure::Timeout => Outcome::Timeout {
                timeout_ms: self.route.timeout_ms,
            },
            UpstreamFailure::ClientAborted => Outcome::ClientAborted,
        };
        // A report-only route leaves CORS to the upstream, which did not answer.
        let enforced = !self.report_only();
        Answer {
            route: Some(self.route),
            outcome,
            cors: enforced.then_some(self.cors.headers),
            vary: merge_vary(&[], self.cors.vary).filter(|_| enforced),
        }
    }
}
