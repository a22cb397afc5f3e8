//! What the gateway did with a request, as one value. It owns everything that follows from
//! that: the response status, the decision word of the access log (README, "Logs"), the log's
//! reason and, for responses the gateway makes itself, the short plain-text body. Adapters and
//! the CLI ask it; none of them writes a status, a decision or a reason of its own.

use std::borrow::Cow;
use std::fmt;

use crate::decision::PreflightRejection;
use crate::exchange::TargetPart;
use crate::request_headers::HeaderRejection;

/// What became of one request, from routing to the last byte of the response: each variant
/// fixes the status, the log's decision word and reason, and whether the gateway writes the
/// body itself. More variants may come as the gateway learns new ways a request can end, so
/// matches outside this crate need a wildcard arm.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Outcome<'a> {
    /// A preflight answered at the edge: `204`.
    Allowed,
    /// A preflight refused at the edge: `403`, naming the step that failed.
    Rejected(PreflightRejection<'a>),
    /// The upstream answered with `status` and its whole body was relayed.
    Forwarded {
        /// The upstream's response status, relayed unchanged.
        status: u16,
    },
    /// The upstream's head was relayed with `status`, but the body broke off on `side`: the
    /// client's response is aborted, never passed off as complete.
    BodyBrokeOff {
        /// The upstream's response status, already sent to the client.
        status: u16,
        /// The side whose stream failed first.
        side: Side,
    },
    /// No route matches the path: `404`, nothing contacted.
    NotFound,
    /// The path is not a valid request path or climbs out of its route: `400`.
    BadPath,
    /// No response head from the upstream, for `cause`: `502`.
    UpstreamError(UpstreamCause),
    /// No response head within the route's `timeout_ms`: `504`.
    Timeout {
        /// The route's upstream timeout that ran out, in milliseconds.
        timeout_ms: u32,
    },
    /// The client's request body broke off before the upstream answered: `400`.
    ClientAborted,
    /// The instance has no valid policy (a prebuilt artifact whose policy folder is missing or
    /// invalid): `503`, no CORS header, nothing contacted. Fail closed: serving without the
    /// reviewed policy would mean guessing one.
    PolicyUnavailable,
}

/// Which side of a relayed response body went away.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Side {
    /// Reading the upstream's body failed before its end: the upstream broke it off.
    Upstream,
    /// Writing to the client failed: the client closed its connection.
    Client,
}

/// Why no upstream response head arrived (the host's error, classified by the adapter).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum UpstreamCause {
    /// The upstream host refused the TCP connection.
    ConnectionRefused,
    /// Closed or reset before a response head.
    ConnectionClosed,
    /// DNS gave no address for the upstream's host name.
    NameNotResolved,
    /// The upstream destination was not found or is not available.
    Unavailable,
    /// The upstream's IP address cannot be routed to, or the host prohibits it.
    AddressUnreachable,
    /// The TLS handshake failed: a protocol error, a bad certificate or an alert.
    TlsFailed,
    /// Not a valid HTTP response, or one over the host's size limits.
    Malformed,
    /// The host refused to make the call (Spin: not in `allowed_outbound_hosts`).
    DeniedByHost,
    /// The host refused a part of the upstream request's head: nothing was sent.
    TargetRefused(TargetPart),
    /// Anything else, as the host names it.
    Other(String),
}

impl fmt::Display for UpstreamCause {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            UpstreamCause::ConnectionRefused => "connection refused",
            UpstreamCause::ConnectionClosed => "connection closed before a response",
            UpstreamCause::NameNotResolved => "upstream host name did not resolve",
            UpstreamCause::Unavailable => "upstream unavailable",
            UpstreamCause::AddressUnreachable => "upstream address not reachable",
            UpstreamCause::TlsFailed => "TLS handshake with upstream failed",
            UpstreamCause::Malformed => "malformed response from upstream",
            UpstreamCause::DeniedByHost => {
                "outbound request denied by the host (allowed_outbound_hosts?)"
            }
            UpstreamCause::TargetRefused(part) => {
                return write!(f, "the host refused the upstream request's {}", part.name())
            }
            UpstreamCause::Other(what) => return write!(f, "upstream error: {what}"),
        })
    }
}

/// How sending a request upstream failed, before any response head (the adapter's
/// classification; the route turns it into an [`Outcome`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum UpstreamFailure {
    /// The upstream could not be reached or answered unusably: [`Outcome::UpstreamError`].
    Unreachable(UpstreamCause),
    /// Connecting or waiting for the response head outlasted the route's `timeout_ms`, which
    /// the adapter hands the host: [`Outcome::Timeout`].
    Timeout,
    /// The client's request body broke off while it was being sent upstream:
    /// [`Outcome::ClientAborted`].
    ClientAborted,
}

impl UpstreamFailure {
    /// The host refused to set `part` of the upstream request's head: nothing was sent (never a
    /// request with the host's default in its place).
    pub fn refused(part: TargetPart) -> UpstreamFailure {
        UpstreamFailure::Unreachable(UpstreamCause::TargetRefused(part))
    }
}

impl Outcome<'_> {
    /// The HTTP status of the client's response: the upstream's when it answered, else the
    /// gateway's own (`204`, `400`, `403`, `404`, `502`, `503`, `504`).
    pub fn status(&self) -> u16 {
        match self {
            Outcome::Allowed => 204,
            Outcome::Rejected(_) => 403,
            Outcome::Forwarded { status } | Outcome::BodyBrokeOff { status, .. } => *status,
            Outcome::NotFound => 404,
            Outcome::BadPath | Outcome::ClientAborted => 400,
            Outcome::UpstreamError(_) => 502,
            Outcome::Timeout { .. } => 504,
            Outcome::PolicyUnavailable => 503,
        }
    }

    /// The log's `decision` word.
    pub fn decision(&self) -> &'static str {
        match self {
            Outcome::Allowed => "allowed",
            Outcome::Rejected(_) => "rejected",
            Outcome::Forwarded { .. } | Outcome::BodyBrokeOff { .. } => "forwarded",
            Outcome::NotFound => "not_found",
            Outcome::BadPath => "bad_path",
            Outcome::UpstreamError(_) => "upstream_error",
            Outcome::Timeout { .. } => "timeout",
            Outcome::ClientAborted => "client_aborted",
            Outcome::PolicyUnavailable => "policy_unavailable",
        }
    }

    /// The log's `reason`: why a request was rejected or failed (`None`: it went as intended,
    /// or the decision word says it all).
    pub fn reason(&self) -> Option<Cow<'static, str>> {
        Some(match self {
            Outcome::Rejected(rejection) => Cow::Borrowed(rejection_reason(rejection)),
            Outcome::BodyBrokeOff {
                side: Side::Upstream,
                ..
            } => Cow::Borrowed("upstream broke off the response body"),
            Outcome::BodyBrokeOff {
                side: Side::Client, ..
            } => Cow::Borrowed("client went away during the response body"),
            Outcome::UpstreamError(cause) => Cow::Owned(format!("upstream unreachable: {cause}")),
            Outcome::Timeout { timeout_ms } => {
                Cow::Owned(format!("upstream did not answer within {timeout_ms} ms"))
            }
            Outcome::ClientAborted => Cow::Borrowed("request body broke off"),
            Outcome::PolicyUnavailable => Cow::Borrowed(POLICY_UNAVAILABLE),
            Outcome::Allowed | Outcome::Forwarded { .. } | Outcome::NotFound | Outcome::BadPath => {
                return None
            }
        })
    }

    /// The plain-text body of a response the gateway makes itself (empty for `204`); `None`
    /// when the body is the upstream's. It names the failed step and echoes nothing from the
    /// request.
    pub fn body(&self) -> Option<Cow<'static, str>> {
        Some(match self {
            Outcome::Allowed => Cow::Borrowed(""),
            Outcome::Rejected(rejection) => Cow::Borrowed(match rejection {
                PreflightRejection::Origin => "CORS preflight rejected: origin not allowed\n",
                PreflightRejection::Method(_) => "CORS preflight rejected: method not allowed\n",
                PreflightRejection::Headers(HeaderRejection::NotAllowed(_)) => {
                    "CORS preflight rejected: request header not allowed\n"
                }
                PreflightRejection::Headers(_) => {
                    "CORS preflight rejected: request header list malformed or too long\n"
                }
            }),
            Outcome::NotFound => Cow::Borrowed("no route for this path\n"),
            Outcome::BadPath => {
                Cow::Borrowed("path leaves its route or is not a valid request path\n")
            }
            Outcome::PolicyUnavailable => Cow::Borrowed(
                "corsgate has no valid CORS policy loaded, so it serves no request. \
                 Its log names every problem of the policy folder as file:line:column; \
                 `corsgate check` on the folder names them too.\n",
            ),
            Outcome::UpstreamError(_) | Outcome::Timeout { .. } | Outcome::ClientAborted => {
                let reason = self.reason().unwrap_or_default();
                Cow::Owned(format!("{reason}\n"))
            }
            Outcome::Forwarded { .. } | Outcome::BodyBrokeOff { .. } => return None,
        })
    }

    /// The upstream's status, when the upstream answered.
    pub fn upstream_status(&self) -> Option<u16> {
        match self {
            Outcome::Forwarded { status } | Outcome::BodyBrokeOff { status, .. } => Some(*status),
            _ => None,
        }
    }

    /// Whether the request ended other than as the policy intends: anything but an allowed
    /// preflight or a forwarded exchange that completed (whatever status the upstream chose).
    pub fn is_problem(&self) -> bool {
        !matches!(self, Outcome::Allowed | Outcome::Forwarded { .. })
    }
}

/// The log's reason when no valid policy is loaded.
const POLICY_UNAVAILABLE: &str = "no valid policy loaded (the policy folder is missing or invalid)";

/// The log's reason for a refused preflight, naming the step.
pub(crate) fn rejection_reason(rejection: &PreflightRejection<'_>) -> &'static str {
    match rejection {
        PreflightRejection::Origin => "origin not allowed",
        PreflightRejection::Method(_) => "method not allowed",
        PreflightRejection::Headers(HeaderRejection::NotAllowed(_)) => "request header not allowed",
        PreflightRejection::Headers(_) => "request header list malformed or too long",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_outcome_owns_its_answer() {
        struct Case {
            name: &'static str,
            outcome: Outcome<'static>,
            status: u16,
            /// The log's `decision` word.
            decision: &'static str,
            /// The log's `reason`.
            reason: Option<&'static str>,
            /// The body the gateway writes (`None`: the upstream's).
            body: Option<&'static str>,
            /// Whether `problems` logging keeps it.
            problem: bool,
        }
        let cases: Vec<Case> = vec![
            Case {
                name: "allowed preflight",
                outcome: Outcome::Allowed,
                status: 204,
                decision: "allowed",
                reason: None,
                body: Some(""),
                problem: false,
            },
            Case {
                name: "rejected origin",
                outcome: Outcome::Rejected(PreflightRejection::Origin),
                status: 403,
                decision: "rejected",
                reason: Some("origin not allowed"),
                body: Some("CORS preflight rejected: origin not allowed\n"),
                problem: true,
            },
            Case {
                name: "rejected method",
                outcome: Outcome::Rejected(PreflightRejection::Method(b"PUT")),
                status: 403,
                decision: "rejected",
                reason: Some("method not allowed"),
                body: Some("CORS preflight rejected: method not allowed\n"),
                problem: true,
            },
            Case {
                name: "rejected header",
                outcome: Outcome::Rejected(PreflightRejection::Headers(
                    HeaderRejection::NotAllowed(b"x-a"),
                )),
                status: 403,
                decision: "rejected",
                reason: Some("request header not allowed"),
                body: Some("CORS preflight rejected: request header not allowed\n"),
                problem: true,
            },
            Case {
                name: "rejected header list",
                outcome: Outcome::Rejected(PreflightRejection::Headers(HeaderRejection::TooLong)),
                status: 403,
                decision: "rejected",
                reason: Some("request header list malformed or too long"),
                body: Some("CORS preflight rejected: request header list malformed or too long\n"),
                problem: true,
            },
            Case {
                name: "forwarded, any status",
                outcome: Outcome::Forwarded { status: 500 },
                status: 500,
                decision: "forwarded",
                reason: None,
                body: None,
                problem: false,
            },
            Case {
                name: "upstream broke off the body",
                outcome: Outcome::BodyBrokeOff {
                    status: 200,
                    side: Side::Upstream,
                },
                status: 200,
                decision: "forwarded",
                reason: Some("upstream broke off the response body"),
                body: None,
                problem: true,
            },
            Case {
                name: "client went away",
                outcome: Outcome::BodyBrokeOff {
                    status: 200,
                    side: Side::Client,
                },
                status: 200,
                decision: "forwarded",
                reason: Some("client went away during the response body"),
                body: None,
                problem: true,
            },
            Case {
                name: "no route",
                outcome: Outcome::NotFound,
                status: 404,
                decision: "not_found",
                reason: None,
                body: Some("no route for this path\n"),
                problem: true,
            },
            Case {
                name: "bad path",
                outcome: Outcome::BadPath,
                status: 400,
                decision: "bad_path",
                reason: None,
                body: Some("path leaves its route or is not a valid request path\n"),
                problem: true,
            },
            Case {
                name: "refused",
                outcome: Outcome::UpstreamError(UpstreamCause::ConnectionRefused),
                status: 502,
                decision: "upstream_error",
                reason: Some("upstream unreachable: connection refused"),
                body: Some("upstream unreachable: connection refused\n"),
                problem: true,
            },
            Case {
                name: "host error without a class",
                outcome: Outcome::UpstreamError(UpstreamCause::Other("InternalError".into())),
                status: 502,
                decision: "upstream_error",
                reason: Some("upstream unreachable: upstream error: InternalError"),
                body: Some("upstream unreachable: upstream error: InternalError\n"),
                problem: true,
            },
            Case {
                name: "timeout",
                outcome: Outcome::Timeout { timeout_ms: 500 },
                status: 504,
                decision: "timeout",
                reason: Some("upstream did not answer within 500 ms"),
                body: Some("upstream did not answer within 500 ms\n"),
                problem: true,
            },
            Case {
                name: "client aborted",
                outcome: Outcome::ClientAborted,
                status: 400,
                decision: "client_aborted",
                reason: Some("request body broke off"),
                body: Some("request body broke off\n"),
                problem: true,
            },
            Case {
                name: "no valid policy loaded",
                outcome: Outcome::PolicyUnavailable,
                status: 503,
                decision: "policy_unavailable",
                reason: Some("no valid policy loaded (the policy folder is missing or invalid)"),
                body: Some(
                    "corsgate has no valid CORS policy loaded, so it serves no request. \
                     Its log names every problem of the policy folder as file:line:column; \
                     `corsgate check` on the folder names them too.\n",
                ),
                problem: true,
            },
        ];
        for case in cases {
            let (outcome, name) = (&case.outcome, case.name);
            assert_eq!(outcome.status(), case.status, "case {name}: status");
            assert_eq!(outcome.decision(), case.decision, "case {name}: decision");
            assert_eq!(
                outcome.reason().as_deref(),
                case.reason,
                "case {name}: reason"
            );
            assert_eq!(outcome.body().as_deref(), case.body, "case {name}: body");
            assert_eq!(outcome.is_problem(), case.problem, "case {name}: problem");
        }
    }
}
