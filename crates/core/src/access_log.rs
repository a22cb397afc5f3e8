//! The one structured log line per request on stderr, which both `wasmtime serve` and Spin
//! show: its fields ([`LogLine`]), the setting that chooses which requests get one
//! ([`AccessLog`]), the two ways it is written ([`LogFormat`]: logfmt, the default, or one JSON
//! object per line) and the reader `corsgate audit` parses them back with ([`record`]).
//!
//! Values from the request are escaped and length-capped, so a hostile header cannot forge
//! extra lines or fields, or flood the log.

mod encode;
pub mod record;

use std::borrow::Cow;

pub use encode::{time_text, LogFormat};

use crate::decision::RequestKind;
use crate::live::LiveUsed;
use crate::outcome::Outcome;
use crate::plan::RequestHead;
use crate::report_only::{Report, Verdict};
use crate::route::Route;

/// Which requests get a line: the component's `CORSGATE_ACCESS_LOG` environment variable.
///
/// Writing the line is one of the costliest steps of an edge-answered preflight (a host call
/// and a write on the host, BENCHMARKS.md), so busy deployments may keep only the lines that
/// need a look.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AccessLog {
    /// Every request (the default).
    All,
    /// Requests that did not end as the policy intends: rejections, unknown or invalid paths,
    /// upstream errors and timeouts, aborted uploads, bodies that broke off, and report-only
    /// requests on which the policy and the upstream disagree.
    Problems,
    /// None.
    Off,
}

impl AccessLog {
    /// The environment variable that holds the setting, also read from the build's environment.
    pub const VARIABLE: &'static str = "CORSGATE_ACCESS_LOG";

    /// The setting from the variable's value (`None`: unset, meaning `all`). An unknown value
    /// is an error that says what is valid; at run time the gateway then logs every request
    /// ([`Settings`](crate::settings::Settings)), so a typo never silences the log.
    pub fn from_setting(value: Option<&str>) -> Result<AccessLog, String> {
        match value.map(str::trim) {
            None | Some("all") => Ok(AccessLog::All),
            Some("problems") => Ok(AccessLog::Problems),
            Some("off") => Ok(AccessLog::Off),
            Some(other) => Err(format!(
                "{}={other:?} is not one of all, problems, off",
                AccessLog::VARIABLE
            )),
        }
    }

    /// Whether this setting keeps `line`.
    pub fn wants(self, line: &LogLine<'_>) -> bool {
        match self {
            AccessLog::All => true,
            AccessLog::Problems => {
                line.outcome.is_problem() || line.report.is_some_and(|r| !r.agrees())
            }
            AccessLog::Off => false,
        }
    }
}

/// Fields of one log line, in a fixed order: new fields are only ever added just before `time`,
/// which ends every line, so a reader that goes by position keeps working up to there. The decision, reason and statuses come from the
/// request's [`Outcome`]. Made by the engine only: an [`Answer`](crate::plan::Answer) or a
/// finished [`Exchange`](crate::exchange::Exchange) hands it over complete.
#[derive(Debug)]
pub struct LogLine<'a> {
    pub(crate) route: Option<&'a Route>,
    pub(crate) kind: RequestKind,
    pub(crate) method: &'a [u8],
    pub(crate) path: &'a str,
    pub(crate) origin: Option<&'a [u8]>,
    /// A preflight's `Access-Control-Request-Method` and `-Headers` lines.
    pub(crate) request_method: &'a [&'a [u8]],
    pub(crate) request_headers: &'a [&'a [u8]],
    pub(crate) outcome: Outcome<'a>,
    /// On a report-only route: the policy's verdict beside the upstream's.
    pub(crate) report: Option<Report>,
    /// Response body bytes relayed from the upstream.
    pub(crate) body_bytes: Option<u64>,
    /// On a forwarded request with `Origin` whose CORS headers the gateway wrote: whether they
    /// grant it (a preflight under `preflight = "forward"`: every step; any other request: its
    /// origin).
    pub(crate) cors_granted: Option<bool>,
    /// On a forwarded actual request with `Origin`: whether it carried `Cookie`.
    pub(crate) credentials: Option<bool>,
    /// On a live route: which origins the decision used.
    pub(crate) live: Option<LiveUsed>,
    pub(crate) duration_us: u64,
}

/// A field's value as the line holds it, before either format writes it.
#[derive(Clone, Debug)]
pub(crate) enum Value<'v> {
    /// A word of the gateway's own (a route name, a decision, a reason).
    Word(&'v str),
    /// A value the request supplied: escaped and capped when written.
    Request(Cow<'v, [u8]>),
    /// A count or a status.
    Number(u64),
    /// A duration in microseconds, written in milliseconds with three decimals.
    Micros(u64),
    /// `yes` or `no`.
    Flag(bool),
    /// A point in time, in milliseconds since the Unix epoch, written as RFC 3339 UTC.
    Time(u64),
    /// Nothing (`-` in logfmt, `null` in JSON).
    Absent,
}

impl<'a> LogLine<'a> {
    /// The line of a request whose head was `head`, ended as `outcome` `duration_us` after it
    /// began.
    pub(crate) fn new(
        head: &RequestHead<'a>,
        route: Option<&'a Route>,
        outcome: Outcome<'a>,
        duration_us: u64,
    ) -> Self {
        let preflight = head.kind() == RequestKind::Preflight;
        LogLine {
            route,
            kind: head.kind(),
            method: head.cors.method,
            path: head.path(),
            origin: head.cors.origin.first().copied(),
            request_method: if preflight {
                head.cors.request_method
            } else {
                &[]
            },
            request_headers: if preflight {
                head.cors.request_headers
            } else {
                &[]
            },
            outcome,
            report: None,
            body_bytes: None,
            cors_granted: None,
            credentials: None,
            live: None,
            duration_us,
        }
    }

    /// What became of the request.
    pub fn outcome(&self) -> &Outcome<'a> {
        &self.outcome
    }

    /// The line as written in logfmt, without its newline and time.
    pub fn format(&self) -> String {
        LogFormat::Logfmt.write(self, None)
    }

    /// Every field in order, `time` last when given, as (key, value): the one list both
    /// formats write.
    pub(crate) fn each_field(
        &self,
        time: Option<u64>,
        mut field: impl FnMut(&'static str, Value<'_>),
    ) {
        field(
            "route",
            self.route.map_or(Value::Absent, |r| Value::Word(r.name())),
        );
        field("kind", Value::Word(self.kind.name()));
        field("method", Value::Request(Cow::Borrowed(self.method)));
        field("path", Value::Request(Cow::Borrowed(self.path.as_bytes())));
        field(
            "origin",
            self.origin
                .map_or(Value::Absent, |o| Value::Request(Cow::Borrowed(o))),
        );
        field("decision", Value::Word(self.outcome.decision()));
        if let Some(reason) = self.outcome.reason() {
            field("reason", Value::Word(&reason));
        }
        field("status", Value::Number(u64::from(self.outcome.status())));
        field(
            "upstream_status",
            self.outcome
                .upstream_status()
                .map_or(Value::Absent, |s| Value::Number(u64::from(s))),
        );
        if let Some(bytes) = self.body_bytes {
            field("body_bytes", Value::Number(bytes));
        }
        if let Some(report) = &self.report {
            field("report_only", Value::Word("true"));
            for (key, reason_key, verdict) in [
                ("would", "would_reason", report.would),
                ("upstream", "upstream_reason", report.upstream),
            ] {
                field(key, Value::Word(verdict.word()));
                if let Verdict::Reject(why) = verdict {
                    field(reason_key, Value::Word(why));
                }
            }
            field("agrees", Value::Flag(report.agrees()));
        }
        field("duration_ms", Value::Micros(self.duration_us));
        field(
            "policy",
            self.route
                .map_or(Value::Absent, |r| Value::Word(r.policy_id())),
        );
        if self.kind == RequestKind::Preflight {
            field("request_method", joined(self.request_method));
            field("request_headers", joined(self.request_headers));
        }
        if let Some(granted) = self.cors_granted {
            field(
                "cors",
                Value::Word(if granted { "granted" } else { "withheld" }),
            );
        }
        if let Some(credentials) = self.credentials {
            field("credentials", Value::Flag(credentials));
        }
        match self.live {
            None => {}
            Some(LiveUsed::Generation(generation)) => field("live", Value::Number(generation)),
            Some(LiveUsed::Baseline) => field("live", Value::Word("baseline")),
            Some(LiveUsed::Denied) => field("live", Value::Word("denied")),
        }
        if let Some(unix_ms) = time {
            field("time", Value::Time(unix_ms));
        }
    }
}

/// A header's lines as one value, joined as a list header's lines combine (RFC 9110 §5.3).
fn joined<'v>(lines: &[&'v [u8]]) -> Value<'v> {
    match lines {
        [] => Value::Absent,
        [one] => Value::Request(Cow::Borrowed(one)),
        many => Value::Request(Cow::Owned(many.join(&b","[..]))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decision::{CorsRequest, PreflightRejection};
    use crate::outcome::{Side, UpstreamCause};

    use crate::access_log::record::{parse_line, Field};
    use crate::route::RouteTable;

    /// The route every line of these tests was decided on.
    fn users_route() -> &'static Route {
        static TABLE: std::sync::OnceLock<RouteTable> = std::sync::OnceLock::new();
        let table = TABLE.get_or_init(|| {
            crate::config::route_table_from_toml(&[(
                "users",
                "[route]\npath = \"/users/...\"\nupstream = \"http://127.0.0.1:9\"\n[cors]\nallow_origins = [\"https://app.example.com\"]\n",
            )])
            .expect("valid policy")
        });
        &table.routes()[0]
    }

    fn line(outcome: Outcome<'static>) -> LogLine<'static> {
        let head = RequestHead {
            path_and_query: "/users/1?q=1",
            cors: CorsRequest {
                method: b"OPTIONS",
                origin: &[b"https://evil.example"],
                request_method: &[b"PUT"],
                request_headers: &[b"content-type, x-trace", b"x-more"],
                ..CorsRequest::default()
            },
        };
        LogLine::new(&head, Some(users_route()), outcome, 0)
    }

    #[test]
    fn formats_one_line_per_request() {
        let id = users_route().policy_id();
        assert_eq!(id.len(), 12, "{id}");
        let mut rejected = line(Outcome::Rejected(PreflightRejection::Origin));
        rejected.duration_us = 1234;
        assert_eq!(
            rejected.format(),
            format!("corsgate route=users kind=preflight method=OPTIONS path=/users/1 origin=https://evil.example decision=rejected reason=\"origin not allowed\" status=403 upstream_status=- duration_ms=1.234 policy={id} request_method=PUT request_headers=\"content-type, x-trace,x-more\"")
        );
        let mut forwarded = line(Outcome::Forwarded { status: 201 });
        forwarded.kind = RequestKind::Actual;
        forwarded.body_bytes = Some(10);
        forwarded.cors_granted = Some(false);
        forwarded.credentials = Some(true);
        let text = LogFormat::Logfmt.write(&forwarded, Some(1_796_623_200_123));
        assert!(
            text.ends_with(&format!(
                "decision=forwarded status=201 upstream_status=201 body_bytes=10 duration_ms=0.000 policy={id} cors=withheld credentials=yes time=2026-12-07T06:00:00.123Z"
            )),
            "{text}"
        );
        assert_eq!(
            LogFormat::Json.write(&forwarded, Some(1_796_623_200_123)),
            format!("{{\"log\":\"corsgate\",\"route\":\"users\",\"kind\":\"actual\",\"method\":\"OPTIONS\",\"path\":\"/users/1\",\"origin\":\"https://evil.example\",\"decision\":\"forwarded\",\"status\":201,\"upstream_status\":201,\"body_bytes\":10,\"duration_ms\":0.000,\"policy\":\"{id}\",\"cors\":\"withheld\",\"credentials\":true,\"time\":\"2026-12-07T06:00:00.123Z\"}}")
        );
    }

    #[test]
    fn times_are_written_as_utc_dates() {
        let cases: &[(&str, u64, &str)] = &[
            ("the epoch", 0, "1970-01-01T00:00:00.000Z"),
            ("a leap day", 951_782_400_999, "2000-02-29T00:00:00.999Z"),
            (
                "end of a year",
                1_798_761_599_000,
                "2026-12-31T23:59:59.000Z",
            ),
        ];
        for (name, unix_ms, expected) in cases {
            let text = LogFormat::Logfmt.write(&line(Outcome::Allowed), Some(*unix_ms));
            assert!(
                text.ends_with(&format!(" time={expected}")),
                "{name}: {text}"
            );
        }
    }

    #[test]
    fn both_formats_read_back_to_the_same_fields() {
        let mut hostile = line(Outcome::Rejected(PreflightRejection::Origin));
        hostile.origin = Some(b"a\" route=x \\ \xff\r\ncorsgate route=y");
        for format in [LogFormat::Logfmt, LogFormat::Json] {
            let text = format.write(&hostile, Some(1_000));
            let record = parse_line(text.as_bytes())
                .expect("well formed")
                .expect("a gateway line");
            assert_eq!(
                record.get(Field::Origin),
                Some(&b"a\" route=x \\ \xff\r\ncorsgate route=y"[..]),
                "{format:?}: {text}"
            );
            assert_eq!(record.text(Field::Route), Some("users"), "{format:?}");
            assert_eq!(record.text(Field::Decision), Some("rejected"), "{format:?}");
            assert_eq!(record.text(Field::UpstreamStatus), None, "{format:?}");
            assert_eq!(
                record.text(Field::RequestHeaders),
                Some("content-type, x-trace,x-more"),
                "{format:?}"
            );
            assert_eq!(record.text(Field::Time), Some("1970-01-01T00:00:01.000Z"));
        }
    }

    #[test]
    fn setting_values() {
        struct Case {
            name: &'static str,
            /// The variable's value (`None`: unset).
            value: Option<&'static str>,
            /// The setting, or `Err` for a value that is not understood.
            expected: Result<AccessLog, ()>,
        }
        let cases: &[Case] = &[
            Case {
                name: "unset means all",
                value: None,
                expected: Ok(AccessLog::All),
            },
            Case {
                name: "all",
                value: Some("all"),
                expected: Ok(AccessLog::All),
            },
            Case {
                name: "problems",
                value: Some("problems"),
                expected: Ok(AccessLog::Problems),
            },
            Case {
                name: "off",
                value: Some("off"),
                expected: Ok(AccessLog::Off),
            },
            Case {
                name: "surrounding spaces",
                value: Some(" off\n"),
                expected: Ok(AccessLog::Off),
            },
            Case {
                name: "unknown word",
                value: Some("verbose"),
                expected: Err(()),
            },
            Case {
                name: "case matters",
                value: Some("OFF"),
                expected: Err(()),
            },
            Case {
                name: "empty",
                value: Some(""),
                expected: Err(()),
            },
        ];
        for case in cases {
            let name = case.name;
            let got = AccessLog::from_setting(case.value);
            assert_eq!(got.clone().map_err(|_| ()), case.expected, "{name}");
            if let Err(message) = got {
                assert!(
                    message.contains("CORSGATE_ACCESS_LOG")
                        && message.contains("all, problems, off"),
                    "{name}: {message}"
                );
            }
        }
    }

    #[test]
    fn which_lines_each_setting_keeps() {
        struct Case {
            name: &'static str,
            outcome: Outcome<'static>,
            /// Whether `problems` keeps the line.
            problem: bool,
        }
        let cases: Vec<Case> = vec![
            Case {
                name: "allowed preflight",
                outcome: Outcome::Allowed,
                problem: false,
            },
            Case {
                name: "forwarded, complete",
                outcome: Outcome::Forwarded { status: 200 },
                problem: false,
            },
            Case {
                name: "forwarded, upstream error status",
                outcome: Outcome::Forwarded { status: 503 },
                problem: false,
            },
            Case {
                name: "forwarded, body broke off",
                outcome: Outcome::BodyBrokeOff {
                    status: 200,
                    side: Side::Upstream,
                },
                problem: true,
            },
            Case {
                name: "rejected preflight",
                outcome: Outcome::Rejected(PreflightRejection::Origin),
                problem: true,
            },
            Case {
                name: "no route",
                outcome: Outcome::NotFound,
                problem: true,
            },
            Case {
                name: "bad path",
                outcome: Outcome::BadPath,
                problem: true,
            },
            Case {
                name: "upstream unreachable",
                outcome: Outcome::UpstreamError(UpstreamCause::ConnectionRefused),
                problem: true,
            },
            Case {
                name: "timeout",
                outcome: Outcome::Timeout { timeout_ms: 5000 },
                problem: true,
            },
            Case {
                name: "client aborted",
                outcome: Outcome::ClientAborted,
                problem: true,
            },
        ];
        for case in cases {
            let name = case.name;
            let line = line(case.outcome);
            assert!(AccessLog::All.wants(&line), "{name}: all keeps every line");
            assert_eq!(AccessLog::Problems.wants(&line), case.problem, "{name}");
            assert!(!AccessLog::Off.wants(&line), "{name}: off keeps none");
        }
    }

    #[test]
    fn hostile_values_cannot_break_the_line() {
        let cases: &[(&str, &[u8], &str)] = &[
            (
                "crlf injection",
                b"a\r\ncorsgate route=x",
                "origin=\"a\\x0d\\x0acorsgate route=x\"",
            ),
            ("quote", b"a\"b", "origin=\"a\\\"b\""),
            ("non-utf8", b"\xff\xfe", "origin=\"\\xff\\xfe\""),
            ("empty", b"", "origin=\"\""),
        ];
        for (name, origin, expected) in cases {
            let mut hostile = line(Outcome::Allowed);
            hostile.origin = Some(origin);
            let text = hostile.format();
            assert!(text.contains(expected), "case {name}: {text}");
            assert!(!text.contains('\n') && !text.contains('\r'), "case {name}");
        }
        let long = vec![b'a'; 10_000];
        let mut hostile = line(Outcome::Allowed);
        hostile.origin = Some(&long);
        let text = hostile.format();
        assert!(
            text.len() < 600,
            "a long value is capped: {} bytes",
            text.len()
        );
    }
}
