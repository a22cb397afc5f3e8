//! Report-only rollout (`report_only = true`): the route's requests pass untouched and its
//! upstream keeps answering CORS itself, while the gateway works out what its policy would have
//! decided and judges the upstream's answer the way a browser would, so that every request the
//! new policy would treat differently shows in the log before the policy takes over.

use crate::decision::{preflight_with, CorsRequest, RequestKind};
use crate::forwarding::header_values;
use crate::method::is_cors_safelisted_method;
use crate::origins::{AllowedOrigins, OriginVerdict};
use crate::outcome::rejection_reason;
use crate::policy::CorsPolicy;
use crate::request_headers::{wildcard_covers, MAX_REQUEST_HEADERS_BYTES};

/// The two verdicts of a report-only request: the policy's and the upstream's.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Report {
    /// What the route's policy would have decided had it been enforced (the log's `would`).
    pub would: Verdict,
    /// How a browser judges the answer the upstream actually gave (the log's `upstream`).
    pub upstream: Verdict,
}

impl Report {
    /// Whether both verdicts allow or both reject, whatever step each rejects at: enforcing
    /// the policy would not change what the browser lets the page have (the log's `agrees`).
    pub fn agrees(&self) -> bool {
        matches!(
            (self.would, self.upstream),
            (Verdict::Allow, Verdict::Allow) | (Verdict::Reject(_), Verdict::Reject(_))
        )
    }
}

/// Whether a browser lets the page have the response, and if not, at which step.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// The browser hands the response to the page (or, for a preflight, goes on to the actual
    /// request).
    Allow,
    /// The browser withholds the response; the text names the failed step for the log's
    /// `*_reason` field.
    Reject(&'static str),
}

impl Verdict {
    /// The verdict as the log writes it: `allow` or `reject`.
    pub fn word(self) -> &'static str {
        match self {
            Verdict::Allow => "allow",
            Verdict::Reject(_) => "reject",
        }
    }
}

/// What the policy would decide for a CORS request (`None` for a request without `Origin`,
/// which CORS does not concern).
pub fn policy_verdict(policy: &CorsPolicy, request: &CorsRequest<'_>) -> Option<Verdict> {
    policy_verdict_with(policy, &policy.origins, request)
}

/// [`policy_verdict`] with `origins` standing for the policy's own: a live route's current list.
pub fn policy_verdict_with(
    policy: &CorsPolicy,
    origins: &AllowedOrigins,
    request: &CorsRequest<'_>,
) -> Option<Verdict> {
    if request.origin.is_empty() {
        return None;
    }
    Some(match request.kind() {
        RequestKind::Preflight => match preflight_with(policy, origins, request).result {
            Ok(()) => Verdict::Allow,
            Err(rejection) => Verdict::Reject(rejection_reason(&rejection)),
        },
        RequestKind::Actual => match origins.judge(request.origin) {
            OriginVerdict::AnyOrigin | OriginVerdict::Allowed(_) => Verdict::Allow,
            OriginVerdict::Absent | OriginVerdict::Denied => Verdict::Reject("origin not allowed"),
        },
    })
}

/// The comma-separated tokens of header lines, trimmed, empty ones skipped, within the same
/// byte bound as the gateway's own parsing.
fn tokens<'s, 'a>(lines: &'s [&'a [u8]]) -> impl Iterator<Item = &'a [u8]> + 's {
    let mut budget = MAX_REQUEST_HEADERS_BYTES;
    lines
        .iter()
        .take_while(move |line| {
            let fits = line.len() <= budget;
            budget = budget.saturating_sub(line.len());
            fits
        })
        .flat_map(|line| line.split(|&b| b == b','))
        .map(<[u8]>::trim_ascii)
        .filter(|t| !t.is_empty())
}

/// How a browser judges the upstream's answer (`status`, `headers`) to `request`: the CORS check
/// (<https://fetch.spec.whatwg.org/#cors-check>) and, for a preflight, the checks of
/// <https://fetch.spec.whatwg.org/#cors-preflight-fetch> (an ok status, the method, every
/// requested header; `*` never covers `Authorization`).
pub fn upstream_verdict<N: AsRef<str>, V: AsRef<[u8]>>(
    request: &CorsRequest<'_>,
    status: u16,
    headers: &[(N, V)],
) -> Verdict {
    let values = |name: &str| header_values(headers, name);
    let origin = request.origin.first().copied().unwrap_or_default();
    match values("access-control-allow-origin").as_slice() {
        [one] if one.trim_ascii() == b"*" || one.trim_ascii() == origin => {}
        [] => return Verdict::Reject("no Access-Control-Allow-Origin"),
        _ => return Verdict::Reject("Access-Control-Allow-Origin does not match"),
    }
    if request.kind() == RequestKind::Actual {
        return Verdict::Allow;
    }
    if !(200..300).contains(&status) {
        return Verdict::Reject("preflight status not ok");
    }
    let methods = values("access-control-allow-methods");
    let method = request.request_method.first().copied().unwrap_or_default();
    let method_ok =
        is_cors_safelisted_method(method) || tokens(&methods).any(|m| m == method || m == b"*");
    if !method_ok {
        return Verdict::Reject("method not allowed");
    }
    let allowed = values("access-control-allow-headers");
    let any = tokens(&allowed).any(|h| h == b"*");
    let header_ok = |name: &[u8]| {
        tokens(&allowed).any(|h| h.eq_ignore_ascii_case(name)) || (any && wildcard_covers(name))
    };
    if !tokens(request.request_headers).all(header_ok) {
        return Verdict::Reject("request header not allowed");
    }
    Verdict::Allow
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn upstream_answers_as_a_browser_judges_them() {
        let origin: &[&[u8]] = &[b"https://app.example.com"];
        let put: &[&[u8]] = &[b"PUT"];
        let auth: &[&[u8]] = &[b"authorization, x-a"];
        let actual = CorsRequest {
            method: b"GET",
            origin,
            ..CorsRequest::default()
        };
        let preflight = CorsRequest {
            method: b"OPTIONS",
            origin,
            request_method: put,
            request_headers: auth,
            ..CorsRequest::default()
        };
        struct Case<'a> {
            name: &'static str,
            request: CorsRequest<'a>,
            /// The upstream's status.
            status: u16,
            /// The upstream's response headers.
            headers: Vec<(&'static str, &'static str)>,
            /// How a browser judges that answer.
            verdict: Verdict,
        }
        let cases: Vec<Case> = vec![
            Case {
                name: "echoed origin",
                request: actual,
                status: 200,
                headers: vec![("Access-Control-Allow-Origin", "https://app.example.com")],
                verdict: Verdict::Allow,
            },
            Case {
                name: "star",
                request: actual,
                status: 500,
                headers: vec![("access-control-allow-origin", "*")],
                verdict: Verdict::Allow,
            },
            Case {
                name: "none",
                request: actual,
                status: 200,
                headers: vec![],
                verdict: Verdict::Reject("no Access-Control-Allow-Origin"),
            },
            Case {
                name: "another origin",
                request: actual,
                status: 200,
                headers: vec![("access-control-allow-origin", "https://evil.example")],
                verdict: Verdict::Reject("Access-Control-Allow-Origin does not match"),
            },
            Case {
                name: "two lines",
                request: actual,
                status: 200,
                headers: vec![
                    ("access-control-allow-origin", "*"),
                    ("access-control-allow-origin", "*"),
                ],
                verdict: Verdict::Reject("Access-Control-Allow-Origin does not match"),
            },
            Case {
                name: "preflight allowed",
                request: preflight,
                status: 204,
                headers: vec![
                    ("access-control-allow-origin", "*"),
                    ("access-control-allow-methods", "GET, PUT"),
                    ("access-control-allow-headers", "Authorization, X-A"),
                ],
                verdict: Verdict::Allow,
            },
            Case {
                name: "preflight: star does not cover authorization",
                request: preflight,
                status: 204,
                headers: vec![
                    ("access-control-allow-origin", "*"),
                    ("access-control-allow-methods", "*"),
                    ("access-control-allow-headers", "*"),
                ],
                verdict: Verdict::Reject("request header not allowed"),
            },
            Case {
                name: "preflight: method missing",
                request: preflight,
                status: 200,
                headers: vec![
                    ("access-control-allow-origin", "*"),
                    ("access-control-allow-methods", "GET"),
                ],
                verdict: Verdict::Reject("method not allowed"),
            },
            Case {
                name: "preflight: not an ok status",
                request: preflight,
                status: 404,
                headers: vec![("access-control-allow-origin", "*")],
                verdict: Verdict::Reject("preflight status not ok"),
            },
        ];
        for case in cases {
            assert_eq!(
                upstream_verdict(&case.request, case.status, &case.headers),
                case.verdict,
                "case {}",
                case.name
            );
        }
    }
}
