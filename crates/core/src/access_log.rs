//! The one structured log line per request, in logfmt (`key=value`, quoted when needed), on
//! stderr, which both `wasmtime serve` and Spin show, and the setting that chooses which
//! requests get one.
//!
//! Values from the request are escaped and length-capped, so a hostile header cannot forge
//! extra lines or flood the log.

use std::borrow::Cow;
use std::fmt::Write;

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
    /// upstream errors and timeouts, aborted uploads, bodies that broke off.
    Problems,
    /// None.
    Off,
}

impl AccessLog {
    pub const VARIABLE: &'static str = "CORSGATE_ACCESS_LOG";

    /// The setting from the variable's value (`None`: unset, meaning `all`). An unknown value
    /// is an error that says what is valid; the gateway then logs every request, so a typo
    /// never silences the log.
    pub fn from_setting(value: Option<&str>) -> Result<AccessLog, String> {
        match value.map(str::trim) {
            None | Some("all") => Ok(AccessLog::All),
            Some("problems") => Ok(AccessLog::Problems),
            Some("off") => Ok(AccessLog::Off),
            Some(other) => Err(format!(
                "{}={other:?} is not one of all, problems, off; logging every request",
                AccessLog::VARIABLE
            )),
        }
    }

    pub fn wants(self, line: &LogLine<'_>) -> bool {
        match self {
            AccessLog::All => true,
            AccessLog::Problems => line.is_problem(),
            AccessLog::Off => false,
        }
    }
}

/// Fields of one log line, in a fixed order.
#[derive(Debug, Default)]
pub struct LogLine<'a> {
    pub route: Option<&'a str>,
    /// `preflight` or `actual`.
    pub kind: &'a str,
    pub method: &'a [u8],
    pub path: &'a str,
    pub origin: Option<&'a [u8]>,
    /// `allowed`, `rejected`, `forwarded`, `not_found`, `bad_path`, `upstream_error`, `timeout`.
    pub decision: &'a str,
    /// Why a request was rejected or failed.
    pub reason: Option<Cow<'a, str>>,
    pub status: u16,
    pub upstream_status: Option<u16>,
    /// Response body bytes relayed from the upstream.
    pub body_bytes: Option<u64>,
    pub duration_us: u64,
}

impl LogLine<'_> {
    /// Whether the request ended other than as the policy intends: anything but an allowed
    /// preflight or a forwarded exchange that completed (whatever status the upstream chose).
    pub fn is_problem(&self) -> bool {
        self.reason.is_some() || !matches!(self.decision, "allowed" | "forwarded")
    }

    pub fn format(&self) -> String {
        let mut line = String::with_capacity(200);
        line.push_str("corsgate");
        field(&mut line, "route", self.route.unwrap_or("-").as_bytes());
        field(&mut line, "kind", self.kind.as_bytes());
        field(&mut line, "method", self.method);
        field(&mut line, "path", self.path.as_bytes());
        field(&mut line, "origin", self.origin.unwrap_or(b"-"));
        field(&mut line, "decision", self.decision.as_bytes());
        if let Some(reason) = &self.reason {
            field(&mut line, "reason", reason.as_bytes());
        }
        let _ = write!(line, " status={}", self.status);
        match self.upstream_status {
            Some(status) => {
                let _ = write!(line, " upstream_status={status}");
            }
            None => line.push_str(" upstream_status=-"),
        }
        if let Some(bytes) = self.body_bytes {
            let _ = write!(line, " body_bytes={bytes}");
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

    #[test]
    fn formats_one_line_per_request() {
        let line = LogLine {
            route: Some("users"),
            kind: "preflight",
            method: b"OPTIONS",
            path: "/users/1",
            origin: Some(b"https://evil.example"),
            decision: "rejected",
            reason: Some("origin not allowed".into()),
            status: 403,
            upstream_status: None,
            body_bytes: None,
            duration_us: 1234,
        };
        assert_eq!(
            line.format(),
            "corsgate route=users kind=preflight method=OPTIONS path=/users/1 origin=https://evil.example decision=rejected reason=\"origin not allowed\" status=403 upstream_status=- duration_ms=1.234"
        );
    }

    #[test]
    fn setting_values() {
        let cases: &[(&str, Option<&str>, Result<AccessLog, ()>)] = &[
            ("unset means all", None, Ok(AccessLog::All)),
            ("all", Some("all"), Ok(AccessLog::All)),
            ("problems", Some("problems"), Ok(AccessLog::Problems)),
            ("off", Some("off"), Ok(AccessLog::Off)),
            ("surrounding spaces", Some(" off\n"), Ok(AccessLog::Off)),
            ("unknown word", Some("verbose"), Err(())),
            ("case matters", Some("OFF"), Err(())),
            ("empty", Some(""), Err(())),
        ];
        for (name, value, expected) in cases {
            let got = AccessLog::from_setting(*value);
            assert_eq!(got.clone().map_err(|_| ()), *expected, "{name}");
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
        // (case, decision, reason, kept by `problems`)
        let cases: &[(&str, &str, Option<&str>, bool)] = &[
            ("allowed preflight", "allowed", None, false),
            ("forwarded, complete", "forwarded", None, false),
            (
                "forwarded, body broke off",
                "forwarded",
                Some("upstream broke off the response body"),
                true,
            ),
            (
                "rejected preflight",
                "rejected",
                Some("origin not allowed"),
                true,
            ),
            ("no route", "not_found", None, true),
            ("bad path", "bad_path", None, true),
            (
                "upstream unreachable",
                "upstream_error",
                Some("upstream unreachable: connection refused"),
                true,
            ),
            (
                "timeout",
                "timeout",
                Some("upstream did not answer within 5000 ms"),
                true,
            ),
            (
                "client aborted",
                "client_aborted",
                Some("request body broke off"),
                true,
            ),
        ];
        for (name, decision, reason, problem) in cases {
            let line = LogLine {
                decision,
                reason: reason.map(Into::into),
                ..LogLine::default()
            };
            assert!(AccessLog::All.wants(&line), "{name}: all keeps every line");
            assert_eq!(AccessLog::Problems.wants(&line), *problem, "{name}");
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
            let line = LogLine {
                origin: Some(origin),
                ..LogLine::default()
            }
            .format();
            assert!(line.contains(expected), "case {name}: {line}");
            assert!(!line.contains('\n') && !line.contains('\r'), "case {name}");
        }
        let long = vec![b'a'; 10_000];
        let line = LogLine {
            origin: Some(&long),
            ..LogLine::default()
        }
        .format();
        assert!(
            line.len() < 600,
            "a long value is capped: {} bytes",
            line.len()
        );
    }
}
