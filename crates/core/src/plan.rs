//! The request plan: everything the gateway decides about a request, in one place, so that each
//! host adapter is only I/O glue and `corsgate explain` can never disagree with the gateway.
//!
//! [`plan`] takes the route table and the request's head and returns either an [`Answer`] made
//! at the edge (status, headers, body and [`Outcome`]) or a [`Forward`]: the route, the upstream
//! target and what the gateway does about CORS on the way back. A forward then goes through an
//! [`Exchange`](crate::exchange::Exchange), which turns what happened upstream into the client's
//! response head, the final [`Outcome`] and the log line.
//!
//! A [`Forward`] borrows only the route table, never the request: an adapter that serves the
//! forward from a task of its own (the WASIp3 gateway) moves it there with the request it read,
//! and plans once.

use std::borrow::Cow;

use crate::access_log::LogLine;
use crate::decision::{
    forwarded_with, preflight_with, CorsRequest, ForwardedCors, HeaderList, RequestKind, VARY,
};
use crate::live::{LiveUsed, LiveView};
use crate::origins::AllowedOrigins;
use crate::outcome::Outcome;
use crate::policy::PreflightMode;
use crate::report_only::{policy_verdict_with, Verdict};
use crate::route::{Route, RouteTable, Routed, RoutingError};

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
    /// The path, without the query.
    pub fn path(&self) -> &'a str {
        self.path_and_query
            .split_once('?')
            .map_or(self.path_and_query, |(path, _)| path)
    }

    /// The query, without its `?`, if there is one.
    pub fn query(&self) -> Option<&'a str> {
        self.path_and_query.split_once('?').map(|(_, query)| query)
    }

    /// A preflight, or any other request.
    pub fn kind(&self) -> RequestKind {
        self.cors.kind()
    }
}

/// What the gateway does with a request: answer it at the edge or forward it. `'t` is the route
/// table's lifetime, `'r` the request's.
#[derive(Debug)]
pub enum Plan<'t, 'r> {
    /// Answered by the gateway; nothing is forwarded.
    Answer(Answer<'r>),
    /// Sent to the route's upstream.
    Forward(Forward<'t>),
}

/// Whether a route's policy governs the request target `path_and_query` at all: a middleware
/// hands every other path to the app untouched, before reading anything else of the request.
/// A path that climbs out of its route is still governed (the plan refuses it).
pub fn governs(table: &RouteTable, path_and_query: &str) -> bool {
    !matches!(
        route_of_target(table, path_and_query),
        Err(RoutingError::NoRoute)
    )
}

/// Whether the request target `path_and_query` is on a route whose origins come from a live
/// list: only such a request reads the store or waits for it.
pub fn takes_live_origins(table: &RouteTable, path_and_query: &str) -> bool {
    route_of_target(table, path_and_query).is_ok_and(|routed| routed.route.cors().live().is_some())
}

/// The route of a request target (its path; the query set aside), before anything else of the
/// request is read.
fn route_of_target<'t, 'p>(
    table: &'t RouteTable,
    path_and_query: &'p str,
) -> Result<Routed<'t, 'p>, RoutingError> {
    let head = RequestHead {
        path_and_query,
        cors: CorsRequest::default(),
    };
    table.route(head.path())
}

/// Decides what the gateway does with a request, every live route with its baseline origins
/// (a build or tool that reads no live store).
pub fn plan<'t: 'r, 'r>(table: &'t RouteTable, head: &RequestHead<'r>) -> Plan<'t, 'r> {
    plan_live(table, LiveView::UNPUBLISHED, head)
}

/// Decides what the gateway does with a request, a live route with the origins `live` gives
/// it.
pub fn plan_live<'t: 'r, 'r>(
    table: &'t RouteTable,
    live: LiveView<'_>,
    head: &RequestHead<'r>,
) -> Plan<'t, 'r> {
    let routed = match table.route(head.path()) {
        Ok(routed) => routed,
        Err(error) => {
            let outcome = match error {
                RoutingError::NoRoute => Outcome::NotFound,
                RoutingError::BadPath(_) | RoutingError::ClimbsOutOfRoute => Outcome::BadPath,
            };
            return Plan::Answer(Answer::new(None, outcome, None, None));
        }
    };
    let route: &'t Route = routed.route;
    let policy = route.cors();
    let (origins, live_used) = live.origins(route);
    let edge = policy.preflight() == PreflightMode::Edge && !policy.report_only();
    if head.kind() == RequestKind::Preflight && edge {
        let decision = preflight_with(policy, origins, &head.cors);
        let outcome = match decision.result {
            Ok(()) => Outcome::Allowed,
            Err(rejection) => Outcome::Rejected(rejection),
        };
        let mut answer = Answer::new(Some(route), outcome, Some(decision.headers), None);
        answer.live = live_used;
        return Plan::Answer(answer);
    }
    Plan::Forward(Forward {
        route,
        target: route.upstream_path_and_query(&routed.path, head.query()),
        cors: forward_cors(route, origins, head),
        live: live_used,
    })
}

/// What the gateway does about CORS on the way back from `route`'s upstream, for the request
/// `head` judged against `origins` (the route's own, or its live list's).
fn forward_cors<'t>(
    route: &'t Route,
    origins: &AllowedOrigins,
    head: &RequestHead<'_>,
) -> ForwardCors<'t> {
    let policy = route.cors();
    if policy.report_only() {
        ForwardCors::ReportOnly {
            would: policy_verdict_with(policy, origins, &head.cors),
        }
    } else {
        ForwardCors::Enforced(forwarded_with(policy, origins, &head.cors).owned())
    }
}

/// The answer to every request of an instance that has no valid policy (a prebuilt artifact
/// whose policy folder is missing or invalid): `503`, no CORS header, whatever was asked.
pub fn policy_unavailable<'r>() -> Answer<'r> {
    Answer::new(None, Outcome::PolicyUnavailable, None, None)
}

/// A response the gateway makes itself.
#[derive(Clone, Debug)]
pub struct Answer<'a> {
    route: Option<&'a Route>,
    outcome: Outcome<'a>,
    /// The CORS headers (for a preflight answer, its `Vary` included).
    cors: Option<HeaderList<'a>>,
    /// `Vary` of an answer made in the upstream's place.
    vary: Option<Vec<u8>>,
    /// On a live route: which origins it was decided with.
    live: Option<LiveUsed>,
}

impl<'a> Answer<'a> {
    pub(crate) fn new(
        route: Option<&'a Route>,
        outcome: Outcome<'a>,
        cors: Option<HeaderList<'a>>,
        vary: Option<Vec<u8>>,
    ) -> Answer<'a> {
        Answer {
            route,
            outcome,
            cors,
            vary,
            live: None,
        }
    }

    /// The route, when the path has one.
    pub fn route(&self) -> Option<&'a Route> {
        self.route
    }

    /// What became of the request.
    pub fn outcome(&self) -> &Outcome<'a> {
        &self.outcome
    }

    /// The response status.
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

    /// The request's log line, `duration_us` after it began.
    pub fn log_line(self, head: &RequestHead<'a>, duration_us: u64) -> LogLine<'a> {
        let mut line = LogLine::new(head, self.route, self.outcome, duration_us);
        line.live = self.live;
        line
    }
}

/// What the gateway does about CORS on a forwarded request's way back.
#[derive(Clone, Debug)]
pub enum ForwardCors<'t> {
    /// The gateway owns the CORS headers: the upstream's go, these are set.
    Enforced(ForwardedCors<'t, Vec<u8>>),
    /// Report-only rollout: the upstream's CORS headers pass untouched, and the log holds what
    /// the policy would have decided (`None`: not a CORS request) beside the upstream's answer.
    ReportOnly {
        /// The policy's verdict on the request.
        would: Option<Verdict>,
    },
}

/// A request on its way to the route's upstream.
#[derive(Clone, Debug)]
pub struct Forward<'t> {
    route: &'t Route,
    /// The upstream request's path and query: the only target it can have.
    target: String,
    cors: ForwardCors<'t>,
    /// On a live route: which origins it was decided with.
    live: Option<LiveUsed>,
}

impl<'t> Forward<'t> {
    /// The route.
    pub fn route(&self) -> &'t Route {
        self.route
    }

    /// The upstream request's path and query.
    pub fn target(&self) -> &str {
        &self.target
    }

    /// What the gateway does about CORS on the way back.
    pub fn cors(&self) -> &ForwardCors<'t> {
        &self.cors
    }

    /// On a live route: which origins it was decided with.
    pub fn live(&self) -> Option<LiveUsed> {
        self.live
    }

    /// Decides the request `head` again, with the origins `live` gives the route now.
    pub(crate) fn decide_with(&mut self, live: LiveView<'_>, head: &RequestHead<'_>) {
        let (origins, live_used) = live.origins(self.route);
        self.cors = forward_cors(self.route, origins, head);
        self.live = live_used;
    }
}
