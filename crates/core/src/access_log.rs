//! The one structured log line per request, in logfmt (`key=value`, quoted when needed), on
//! stderr, which both `wasmtime serve` and Spin show, and the setting that chooses which
//! requests get one.
//!
//! Values from the request are escaped and length-capped, so a hostile header cannot forge
//! extra lines or flood the log.

use std::fmt::Write;

use crate::decision::RequestKind;
use crate::outcome::Outcome;
use crate::plan::RequestHead;
use crate::report_only::{Report, Verdict};

/// Longest request-supplied value written to the log, in bytes.
const MAX_VALUE_LEN: usize = 256;

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

    /// The line as written, newline included, when this setting wants it.
    pub fn render(self, line: &LogLine<'_>) -> Option<String> {
        self.wants(line).then(|| {
            let mut text = line.format();
            text.push('\n');
            text
        })
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

/// Fields of one log line, in a fixed order. The decision, reason and statuses come from the
/// request's [`Outcome`]. Made by the engine only: an [`Answer`](crate::plan::Answer) or a
/// finished [`Exchange`](crate::exchange::Exchange) hands it over complete.
#[derive(Debug)]
pub struct LogLine<'a> {
    pub(crate) route: Option<&'a str>,
    pub(crate) kind: RequestKind,
    pub(crate) method: &'a [u8],
    pub(crate) path: &'a str,
    pub(crate) origin: Option<&'a [u8]>,
    pub(crate) outcome: Outcome<'a>,
    /// On a report-only route: the policy's verdict beside the upstream's.
    pub(crate) report: Option<Report>,
    /// Response body bytes relayed from the upstream.
    pub(crate) body_bytes: Option<u64>,
    pub(crate) duration_us: u64,
}

impl<'a> LogLine<'a> {
    /// The line of a request whose head was `head`, ended as `outcome` `duration_us` after it
    /// began.
    pub(crate) fn new(
        head: &RequestHead<'a>,
        route: Option<&'a str>,
        outcome: Outcome<'a>,
        duration_us: u64,
    ) -> Self {
        LogLine {
            route,
            kind: head.kind(),
            method: head.cors.method,
            path: head.path(),
            origin: head.cors.origin.first().copied(),
            outcome,
            report: None,
            body_bytes: None,
            duration_us,
        }
    }

    /// What became of the request.
    pub fn outcome(&self) -> &Outcome<'a> {
        &self.outcome
    }

    /// The line as written: logfmt, without its newline.
    pub fn format(&self) -> String {
        let mut line = String::with_capacity(200);
        line.push_str("corsgate");
        field(&mut line, "route", self.route.unwrap_or("-").as_bytes());
        field(&mut line, "kind", self.kind.name().as_bytes());
        field(&mut line, "method", self.method);
        field(&mut line, "path", self.path.as_bytes());
        field(&mut line, "origin", self.origin.unwrap_or(b"-"));
        field(&mut line, "decision", self.outcome.decision().as_bytes());
        if let Some(reason) = self.outcome.reason() {
            field(&mut line, "reason", reason.as_bytes());
        }
        let _ = write!(line, " status={}", self.outcome.status());
        match self.outcome.upstream_status() {
            Some(status) => {
                let _ = write!(line, " upstream_status={status}");
            }
            None => line.push_str(" upstream_status=-"),
        }
        if let Some(bytes) = self.body_bytes {
            let _ = write!(line, " body_bytes={bytes}");
        }
        if let Some(report) = &self.report {
            line.push_str(" report_only=true");
            for (key, verdict) in [("would", report.would), ("upstream", report.upstream)] {
                field(&mut line, key, verdict.word().as_bytes());
                if let Verdict::Reject(why) = verdict {
                    field(&mut line, &format!("{key}_reason"), why.as_bytes());
                }
            }
            field(
                &mut line,
                "agrees",
                if report.agrees() { b"yes" } else { b"no" },
            );
        }
        let _ = write!(
            line,
            " duration_ms={}.{:03}",
            self.duration_us / 1000,
            self.duration_us % 1000
        );
        line
    }
}

/// ` key=value`, quoting the value when it is empty or holds anything but plain printable
/// characters; bytes outside printable ASCII are written as `\xNN`.
fn field(line: &mut String, key: &str, value: &[u8]) {
    let truncated = value.len() > MAX_VALUE_LEN;
    let value = &value[..value.len().min(MAX_VALUE_LEN)];
    let plain = !value.is_empty()
        && !truncated
        && value
            .iter()
            .all(|&b| b.is_ascii_graphic() && b != b'"' && b != b'\\' && b != b'=');
    let _ = write!(line, " {key}=");
    if plain {
        // Checked to be ASCII just above.
        line.push_str(std::str::from_utf8(value).unwrap_or_default());
        return;
    }
    line.push('"');
    for &b in value {
        match b {
            b'"' => line.push_str("\\\""),
            b'\\' => line.push_str("\\\\"),
            b' '..=b'~' => line.push(char::from(b)),
            _ => {
                let _ = write!(line, "\\x{b:02x}");
            }
        }
    }
    if truncated {
        line.push_str("...");
    }
    line.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decision::{CorsRequest, PreflightRejection};
    use crate::outcome::{Side, UpstreamCause};

    fn line(outcome: Outcome<'static>) -> LogLine<'static> {
        let head = RequestHead {
            path_and_query: "/users/1?q=1",
            cors: CorsRequest {
                method: b"OPTIONS",
                origin: &[b"https://evil.example"],
                request_method: &[b"PUT"],
                ..CorsRequest::default()
            },
        };
        LogLine::new(&head, Some("users"), outcome, 0)
    }

    #[test]
    fn formats_one_line_per_request() {
        let mut rejected = line(Outcome::Rejected(PreflightRejection::Origin));
        rejected.duration_us = 1234;
        assert_eq!(
            rejected.format(),
            "corsgate route=users kind=preflight method=OPTIONS path=/users/1 origin=https://evil.example decision=rejected reason=\"origin not allowed\" status=403 upstream_status=- duration_ms=1.234"
        );
        let mut forwarded = line(Outcome::Forwarded { status: 201 });
        forwarded.body_bytes = Some(10);
        assert!(
            forwarded.format().ends_with(
                "decision=forwarded status=201 upstream_status=201 body_bytes=10 duration_ms=0.000"
            ),
            "{}",
            forwarded.format()
        );
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
