//! CORS decisions for one request against one route's policy.
//!
//! Nothing here allocates: header values are either precomputed in the policy or the request's
//! own `Origin` bytes, collected in a fixed-size [`HeaderList`].

use crate::method::is_token;
use crate::origins::OriginVerdict;
use crate::policy::CorsPolicy;
use crate::request_headers::HeaderRejection;

/// The request header lines the CORS protocol looks at. Each field holds every line of that
/// header in order (an empty slice: the header is absent).
#[derive(Clone, Copy, Debug, Default)]
pub struct CorsRequest<'a> {
    pub method: &'a [u8],
    pub origin: &'a [&'a [u8]],
    pub request_method: &'a [&'a [u8]],
    pub request_headers: &'a [&'a [u8]],
    pub request_private_network: &'a [&'a [u8]],
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RequestKind {
    /// `OPTIONS` with both `Origin` and `Access-Control-Request-Method`
    /// (https://fetch.spec.whatwg.org/#cors-preflight-request).
    Preflight,
    /// Anything else, `OPTIONS` included; a CORS request when it carries `Origin`.
    Actual,
}

impl CorsRequest<'_> {
    pub fn kind(&self) -> RequestKind {
        if self.method == b"OPTIONS" && !self.origin.is_empty() && !self.request_method.is_empty() {
            RequestKind::Preflight
        } else {
            RequestKind::Actual
        }
    }
}

pub const ALLOW_ORIGIN: &str = "access-control-allow-origin";
pub const ALLOW_CREDENTIALS: &str = "access-control-allow-credentials";
pub const ALLOW_METHODS: &str = "access-control-allow-methods";
pub const ALLOW_HEADERS: &str = "access-control-allow-headers";
pub const EXPOSE_HEADERS: &str = "access-control-expose-headers";
pub const MAX_AGE: &str = "access-control-max-age";
pub const ALLOW_PRIVATE_NETWORK: &str = "access-control-allow-private-network";
pub const VARY: &str = "vary";

/// What a preflight response varies on: the three request headers its answer depends on.
pub const PREFLIGHT_VARY: &[&str] = &[
    "Origin",
    "Access-Control-Request-Method",
    "Access-Control-Request-Headers",
];
const PREFLIGHT_VARY_VALUE: &[u8] =
    b"Origin, Access-Control-Request-Method, Access-Control-Request-Headers";

/// Up to eight response headers, in order, without allocating.
#[derive(Clone, Copy, Debug)]
pub struct HeaderList<'a> {
    items: [(&'static str, &'a [u8]); 8],
    len: usize,
}

impl<'a> HeaderList<'a> {
    const fn new() -> Self {
        HeaderList {
            items: [("", &[]); 8],
            len: 0,
        }
    }

    fn push(&mut self, name: &'static str, value: &'a [u8]) {
        self.items[self.len] = (name, value);
        self.len += 1;
    }

    pub fn iter(&self) -> impl Iterator<Item = (&'static str, &'a [u8])> + '_ {
        self.items[..self.len].iter().copied()
    }

    pub fn get(&self, name: &str) -> Option<&'a [u8]> {
        self.iter().find(|(n, _)| *n == name).map(|(_, v)| v)
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
}

/// The step of https://fetch.spec.whatwg.org/#cors-preflight-fetch that would fail in the
/// browser, and so makes the gateway refuse the preflight.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PreflightRejection<'a> {
    /// `Origin` absent from the allow-list, malformed, `null` or sent twice.
    Origin,
    /// `Access-Control-Request-Method` is not allowed (or not a single token).
    Method(&'a [u8]),
    /// `Access-Control-Request-Headers` names a header not allowed, or is malformed or too long.
    Headers(HeaderRejection<'a>),
}

impl PreflightRejection<'_> {
    /// The short plain-text body of the `403`: names the step, echoes nothing from the request.
    pub fn body(&self) -> &'static str {
        match self {
            PreflightRejection::Origin => "CORS preflight rejected: origin not allowed\n",
            PreflightRejection::Method(_) => "CORS preflight rejected: method not allowed\n",
            PreflightRejection::Headers(HeaderRejection::NotAllowed(_)) => {
                "CORS preflight rejected: request header not allowed\n"
            }
            PreflightRejection::Headers(_) => {
                "CORS preflight rejected: request header list malformed or too long\n"
            }
        }
    }

    /// A one-word step name for logs.
    pub fn step(&self) -> &'static str {
        match self {
            PreflightRejection::Origin => "origin",
            PreflightRejection::Method(_) => "method",
            PreflightRejection::Headers(_) => "headers",
        }
    }
}

#[derive(Clone, Copy, Debug)]
pub struct PreflightDecision<'a> {
    pub result: Result<(), PreflightRejection<'a>>,
    /// The complete CORS header set of the response, `Vary` included.
    pub headers: HeaderList<'a>,
}

/// Answers a preflight at the edge: `204` with `headers` when `result` is `Ok`, else `403` with
/// `headers` (then only `Vary`) and [`PreflightRejection::body`].
pub fn preflight<'a>(policy: &'a CorsPolicy, request: &CorsRequest<'a>) -> PreflightDecision<'a> {
    let mut headers = HeaderList::new();
    let result = check_preflight(policy, request, &mut headers);
    if result.is_err() {
        headers = HeaderList::new();
    }
    headers.push(VARY, PREFLIGHT_VARY_VALUE);
    PreflightDecision { result, headers }
}

/// The preflight steps in the browser's order; on success `headers` holds every
/// `Access-Control-*` header of the answer.
fn check_preflight<'a>(
    policy: &'a CorsPolicy,
    request: &CorsRequest<'a>,
    headers: &mut HeaderList<'a>,
) -> Result<(), PreflightRejection<'a>> {
    push_origin_headers(policy, request, headers).ok_or(PreflightRejection::Origin)?;

    let method = match request.request_method {
        [one] if is_token(one) => *one,
        [one, ..] => return Err(PreflightRejection::Method(one)),
        [] => return Err(PreflightRejection::Method(b"")),
    };
    if !policy.methods.allows(method) {
        return Err(PreflightRejection::Method(method));
    }
    // `allow_methods = []` allows only the safelisted methods, which need no header.
    if !policy.allow_methods_value.is_empty() {
        headers.push(ALLOW_METHODS, policy.allow_methods_value.as_bytes());
    }

    let asked_headers = policy
        .headers
        .check_request(request.request_headers)
        .map_err(PreflightRejection::Headers)?;
    if asked_headers {
        headers.push(ALLOW_HEADERS, policy.allow_headers_value.as_bytes());
    }
    if let Some(max_age) = &policy.max_age_value {
        headers.push(MAX_AGE, max_age.as_bytes());
    }
    // Private Network Access (https://wicg.github.io/private-network-access/#cors-preflight):
    // answered only when asked and enabled; otherwise the preflight proceeds without it and the
    // browser enforces the refusal.
    if policy.allow_private_network && request.request_private_network == [b"true"] {
        headers.push(ALLOW_PRIVATE_NETWORK, b"true");
    }
    Ok(())
}

/// `Access-Control-Allow-Origin` and `-Allow-Credentials` when the origin is allowed.
fn push_origin_headers<'a>(
    policy: &'a CorsPolicy,
    request: &CorsRequest<'a>,
    headers: &mut HeaderList<'a>,
) -> Option<OriginVerdict<'a>> {
    let verdict = policy.origins.judge(request.origin);
    match verdict {
        OriginVerdict::AnyOrigin => headers.push(ALLOW_ORIGIN, b"*"),
        OriginVerdict::Allowed(origin) => {
            headers.push(ALLOW_ORIGIN, origin);
            if policy.allow_credentials {
                headers.push(ALLOW_CREDENTIALS, b"true");
            }
        }
        OriginVerdict::Absent | OriginVerdict::Denied => return None,
    }
    Some(verdict)
}

/// The CORS headers of a response that came from (or stands in for) the upstream.
#[derive(Clone, Copy, Debug)]
pub struct ForwardedCors<'a> {
    pub origin: OriginVerdict<'a>,
    /// Headers to set; every `Access-Control-*` header of the upstream must go first.
    pub headers: HeaderList<'a>,
    /// Tokens to merge into the upstream's `Vary` (see [`merge_vary`]).
    pub vary: &'static [&'static str],
}

/// CORS headers for a forwarded response. Browsers check methods and request headers only in
/// preflights, so an actual response depends on the origin alone
/// (https://fetch.spec.whatwg.org/#cors-check). A preflight forwarded under
/// `preflight = "forward"` that the policy allows also gets the preflight headers, so the
/// browser can go on to the actual request.
pub fn forwarded<'a>(policy: &'a CorsPolicy, request: &CorsRequest<'a>) -> ForwardedCors<'a> {
    if request.kind() == RequestKind::Preflight {
        let mut headers = HeaderList::new();
        if let Ok(()) = check_preflight(policy, request, &mut headers) {
            return ForwardedCors {
                origin: policy.origins.judge(request.origin),
                headers,
                vary: PREFLIGHT_VARY,
            };
        }
    }
    let mut headers = HeaderList::new();
    let origin = match push_origin_headers(policy, request, &mut headers) {
        Some(verdict) => {
            if let Some(expose) = &policy.expose_headers_value {
                headers.push(EXPOSE_HEADERS, expose.as_bytes());
            }
            verdict
        }
        None => policy.origins.judge(request.origin),
    };
    let vary: &'static [&'static str] = if policy.varies_by_origin() {
        &["Origin"]
    } else {
        &[]
    };
    ForwardedCors {
        origin,
        headers,
        vary,
    }
}

/// Whether an upstream response header belongs to the gateway and must be removed: every
/// `Access-Control-*` header, so the browser never sees two answers.
pub fn is_access_control_header(name: &str) -> bool {
    name.len() >= 15 && name.as_bytes()[..15].eq_ignore_ascii_case(b"access-control-")
}

/// Merges `extra` tokens into the upstream's `Vary` lines: the upstream's tokens are kept in
/// order, each of `extra` is added unless already present (case-insensitively). `Vary: *`
/// already varies on everything and is kept alone. `None`: no `Vary` header at all.
pub fn merge_vary(upstream: &[&[u8]], extra: &[&str]) -> Option<Vec<u8>> {
    let tokens = || {
        upstream
            .iter()
            .flat_map(|line| line.split(|&b| b == b','))
            .map(|t| t.trim_ascii())
            .filter(|t| !t.is_empty())
    };
    if tokens().any(|t| t == b"*") {
        return Some(b"*".to_vec());
    }
    let mut merged: Vec<u8> = Vec::new();
    let mut append = |token: &[u8]| {
        if !merged.is_empty() {
            merged.extend_from_slice(b", ");
        }
        merged.extend_from_slice(token);
    };
    for token in tokens() {
        append(token);
    }
    for token in extra {
        if !tokens().any(|t| t.eq_ignore_ascii_case(token.as_bytes())) {
            append(token.as_bytes());
        }
    }
    (!merged.is_empty()).then_some(merged)
}
