//! CORS decisions for one request against one route's policy.
//!
//! Nothing here allocates: header values are either precomputed in the policy or the request's
//! own `Origin` bytes, collected in a fixed-size [`HeaderList`].

use crate::method::is_token;
use crate::origins::{AllowedOrigins, OriginVerdict};
use crate::policy::CorsPolicy;
use crate::request_headers::HeaderRejection;
use crate::text::starts_with_ignore_case;

/// The names of the request headers a CORS decision reads, lowercase, in the order of
/// [`CorsRequest`]'s fields for them: what an adapter reads of a request for the decision.
pub const CORS_REQUEST_HEADERS: [&str; 4] = [
    "origin",
    "access-control-request-method",
    "access-control-request-headers",
    "access-control-request-private-network",
];

/// The request header lines the CORS protocol looks at. Each field holds every line of that
/// header in order (an empty slice: the header is absent).
#[derive(Clone, Copy, Debug, Default)]
pub struct CorsRequest<'a> {
    /// The request's method as sent (methods are case-sensitive: `OPTIONS`, not `options`).
    pub method: &'a [u8],
    /// `Origin`: who is asking (<https://fetch.spec.whatwg.org/#origin-header>).
    pub origin: &'a [&'a [u8]],
    /// `Access-Control-Request-Method`: the method a preflight asks to use.
    pub request_method: &'a [&'a [u8]],
    /// `Access-Control-Request-Headers`: the non-safelisted header names a preflight asks to
    /// send.
    pub request_headers: &'a [&'a [u8]],
    /// `Access-Control-Request-Private-Network`: `true` when a Private Network Access
    /// preflight asks to reach a more private address
    /// (<https://wicg.github.io/private-network-access/#cors-preflight>).
    pub request_private_network: &'a [&'a [u8]],
}

impl<'a> CorsRequest<'a> {
    /// The request with `method`, from the lines of each of [`CORS_REQUEST_HEADERS`], in that
    /// order: what an adapter read of a request.
    pub fn from_lines(method: &'a [u8], lines: &'a [Vec<&'a [u8]>; 4]) -> CorsRequest<'a> {
        let [origin, request_method, request_headers, request_private_network] = lines;
        CorsRequest {
            method,
            origin,
            request_method,
            request_headers,
            request_private_network,
        }
    }
}

/// Which half of the CORS protocol a request belongs to: the preflight a browser sends first,
/// or the request itself.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RequestKind {
    /// `OPTIONS` with both `Origin` and `Access-Control-Request-Method`
    /// (<https://fetch.spec.whatwg.org/#cors-preflight-request>).
    Preflight,
    /// Anything else, `OPTIONS` included; a CORS request when it carries `Origin`.
    Actual,
}

impl RequestKind {
    /// The log's `kind` word.
    pub fn name(self) -> &'static str {
        match self {
            RequestKind::Preflight => "preflight",
            RequestKind::Actual => "actual",
        }
    }
}

impl CorsRequest<'_> {
    /// A preflight when the method is `OPTIONS` and both `Origin` and
    /// `Access-Control-Request-Method` are present, else an actual request.
    pub fn kind(&self) -> RequestKind {
        if self.method == b"OPTIONS" && !self.origin.is_empty() && !self.request_method.is_empty() {
            RequestKind::Preflight
        } else {
            RequestKind::Actual
        }
    }
}

// The names of the response headers the gateway writes, lowercase as `HeaderList` yields them.

/// The origin that may read the response: `*` or the request's `Origin` echoed
/// (<https://fetch.spec.whatwg.org/#http-access-control-allow-origin>).
pub const ALLOW_ORIGIN: &str = "access-control-allow-origin";
/// `true` when the response may be read by a request made with credentials (cookies, HTTP
/// authentication); never sent with `Access-Control-Allow-Origin: *`.
pub const ALLOW_CREDENTIALS: &str = "access-control-allow-credentials";
/// The methods a preflight answer allows (`allow_methods`).
pub const ALLOW_METHODS: &str = "access-control-allow-methods";
/// The request headers a preflight answer allows (`allow_headers`).
pub const ALLOW_HEADERS: &str = "access-control-allow-headers";
/// The response headers a page's script may read beyond the CORS-safelisted ones
/// (`expose_headers`).
pub const EXPOSE_HEADERS: &str = "access-control-expose-headers";
/// How many seconds a browser may cache a preflight answer (`max_age`).
pub const MAX_AGE: &str = "access-control-max-age";
/// `true` when a Private Network Access preflight is granted (`allow_private_network`).
pub const ALLOW_PRIVATE_NETWORK: &str = "access-control-allow-private-network";
/// The request headers a response depends on, so caches keep one answer per value.
pub const VARY: &str = "vary";

/// What a preflight response varies on: the three request headers its answer depends on.
pub const PREFLIGHT_VARY: &[&str] = &[
    "Origin",
    "Access-Control-Request-Method",
    "Access-Control-Request-Headers",
];
const PREFLIGHT_VARY_VALUE: &[u8] =
    b"Origin, Access-Control-Request-Method, Access-Control-Request-Headers";

/// The CORS response headers of one answer, without allocating or copying values: which headers
/// are set (a bit set), the `Access-Control-Allow-Origin` value, and the policy whose
/// precomputed values they carry. Small enough (three words) to return by value on the hot
/// path; [`HeaderList::iter`] yields the lines in a fixed order.
///
/// `O` holds the origin value: borrowed from the request for an answer made at once, owned
/// ([`HeaderList::owned`]) for a forward, whose headers are written after the request has moved
/// on to the upstream.
#[derive(Clone, Copy, Debug)]
pub struct HeaderList<'p, O = &'p [u8]> {
    policy: &'p CorsPolicy,
    /// The `Access-Control-Allow-Origin` value (`*` or the request's origin) when set.
    origin: O,
    set: u8,
}

const SET_ORIGIN: u8 = 1;
const SET_CREDENTIALS: u8 = 1 << 1;
const SET_METHODS: u8 = 1 << 2;
const SET_HEADERS: u8 = 1 << 3;
const SET_EXPOSE: u8 = 1 << 4;
const SET_MAX_AGE: u8 = 1 << 5;
const SET_PRIVATE_NETWORK: u8 = 1 << 6;
const SET_PREFLIGHT_VARY: u8 = 1 << 7;

impl<'p> HeaderList<'p, &[u8]> {
    const fn new(policy: &'p CorsPolicy) -> Self {
        HeaderList {
            policy,
            origin: &[],
            set: 0,
        }
    }

    /// The same headers, holding their own copy of the origin value.
    pub fn owned(self) -> HeaderList<'p, Vec<u8>> {
        HeaderList {
            policy: self.policy,
            origin: self.origin.to_vec(),
            set: self.set,
        }
    }
}

impl<'p, O: AsRef<[u8]>> HeaderList<'p, O> {
    /// The same headers, borrowing the origin value.
    pub fn borrowed(&self) -> HeaderList<'p, &[u8]> {
        HeaderList {
            policy: self.policy,
            origin: self.origin.as_ref(),
            set: self.set,
        }
    }

    fn with(mut self, flag: u8) -> Self {
        self.set |= flag;
        self
    }

    /// The header of bit `flag` and its value, if set.
    fn line(&self, flag: u8) -> Option<(&'static str, &[u8])> {
        if self.set & flag == 0 {
            return None;
        }
        let p = self.policy;
        Some(match flag {
            SET_ORIGIN => (ALLOW_ORIGIN, self.origin.as_ref()),
            SET_CREDENTIALS => (ALLOW_CREDENTIALS, b"true"),
            SET_METHODS => (ALLOW_METHODS, p.values.allow_methods.as_bytes()),
            SET_HEADERS => (ALLOW_HEADERS, p.values.allow_headers.as_bytes()),
            SET_EXPOSE => (
                EXPOSE_HEADERS,
                p.values
                    .expose_headers
                    .as_deref()
                    .unwrap_or_default()
                    .as_bytes(),
            ),
            SET_MAX_AGE => (
                MAX_AGE,
                p.values.max_age.as_deref().unwrap_or_default().as_bytes(),
            ),
            SET_PRIVATE_NETWORK => (ALLOW_PRIVATE_NETWORK, b"true"),
            _ => (VARY, PREFLIGHT_VARY_VALUE),
        })
    }

    /// The header lines, in a fixed order.
    pub fn iter(&self) -> impl Iterator<Item = (&'static str, &[u8])> + '_ {
        (0..8).filter_map(move |bit| self.line(1 << bit))
    }

    /// The value of header `name` (lowercase), if set.
    pub fn get(&self, name: &str) -> Option<&[u8]> {
        self.iter().find(|(n, _)| *n == name).map(|(_, v)| v)
    }

    /// How many header lines are set.
    pub fn len(&self) -> usize {
        self.set.count_ones() as usize
    }

    /// Whether no header is set.
    pub fn is_empty(&self) -> bool {
        self.set == 0
    }
}

/// The step of <https://fetch.spec.whatwg.org/#cors-preflight-fetch> that would fail in the
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
    /// A one-word step name.
    pub fn step(&self) -> &'static str {
        match self {
            PreflightRejection::Origin => "origin",
            PreflightRejection::Method(_) => "method",
            PreflightRejection::Headers(_) => "headers",
        }
    }
}

/// The gateway's answer to a preflight it answers itself (`preflight = "edge"`).
#[derive(Clone, Copy, Debug)]
pub struct PreflightDecision<'a> {
    /// `Ok`: every step of the CORS-preflight fetch passes (answer `204`); `Err`: the first
    /// step that fails, in the browser's order (answer `403`).
    pub result: Result<(), PreflightRejection<'a>>,
    /// The complete CORS header set of the response, `Vary` included.
    pub headers: HeaderList<'a>,
}

/// Answers a preflight at the edge: `204` with `headers` when `result` is `Ok`, else `403` with
/// `headers` (then only `Vary`) and the body of [`crate::outcome::Outcome::Rejected`].
pub fn preflight<'a>(policy: &'a CorsPolicy, request: &CorsRequest<'a>) -> PreflightDecision<'a> {
    preflight_with(policy, &policy.origins, request)
}

/// [`preflight`] with `origins` standing for the policy's own: a live route's current list.
pub fn preflight_with<'a>(
    policy: &'a CorsPolicy,
    origins: &AllowedOrigins,
    request: &CorsRequest<'a>,
) -> PreflightDecision<'a> {
    let verdict = origins.judge(request.origin);
    match check_preflight(policy, request, verdict) {
        Ok(headers) => PreflightDecision {
            result: Ok(()),
            headers: headers.with(SET_PREFLIGHT_VARY),
        },
        Err(rejection) => PreflightDecision {
            result: Err(rejection),
            headers: HeaderList::new(policy).with(SET_PREFLIGHT_VARY),
        },
    }
}

/// The preflight steps in the browser's order; on success, every `Access-Control-*` header of
/// the answer.
fn check_preflight<'p, 'o>(
    policy: &'p CorsPolicy,
    request: &CorsRequest<'o>,
    verdict: OriginVerdict<'o>,
) -> Result<HeaderList<'p, &'o [u8]>, PreflightRejection<'o>> {
    let mut headers = origin_headers(policy, verdict).ok_or(PreflightRejection::Origin)?;

    let method = match request.request_method {
        [one] if is_token(one) => *one,
        [one, ..] => return Err(PreflightRejection::Method(one)),
        [] => return Err(PreflightRejection::Method(b"")),
    };
    if !policy.methods.allows(method) {
        return Err(PreflightRejection::Method(method));
    }
    // `allow_methods = []` allows only the safelisted methods, which need no header.
    if !policy.values.allow_methods.is_empty() {
        headers = headers.with(SET_METHODS);
    }

    let asked_headers = policy
        .headers
        .check_request(request.request_headers)
        .map_err(PreflightRejection::Headers)?;
    if asked_headers {
        headers = headers.with(SET_HEADERS);
    }
    if policy.values.max_age.is_some() {
        headers = headers.with(SET_MAX_AGE);
    }
    // Private Network Access (https://wicg.github.io/private-network-access/#cors-preflight):
    // answered only when asked and enabled; otherwise the preflight proceeds without it and the
    // browser enforces the refusal.
    if policy.allow_private_network && request.request_private_network == [b"true"] {
        headers = headers.with(SET_PRIVATE_NETWORK);
    }
    Ok(headers)
}

/// `Access-Control-Allow-Origin` and `-Allow-Credentials` when the origin is allowed.
fn origin_headers<'p, 'o>(
    policy: &'p CorsPolicy,
    verdict: OriginVerdict<'o>,
) -> Option<HeaderList<'p, &'o [u8]>> {
    let origin: &'o [u8] = match verdict {
        OriginVerdict::AnyOrigin => b"*",
        OriginVerdict::Allowed(origin) => origin,
        OriginVerdict::Absent | OriginVerdict::Denied => return None,
    };
    let mut headers = HeaderList {
        policy,
        origin,
        set: SET_ORIGIN,
    };
    if policy.allow_credentials && origin != b"*" {
        headers = headers.with(SET_CREDENTIALS);
    }
    Some(headers)
}

/// The CORS headers of a response that came from (or stands in for) the upstream. `O` holds
/// the origin value, as in [`HeaderList`]: a forward keeps them [`owned`](ForwardedCors::owned),
/// since they are written once the upstream has answered.
#[derive(Clone, Copy, Debug)]
pub struct ForwardedCors<'p, O = &'p [u8]> {
    /// Headers to set; every `Access-Control-*` header of the upstream must go first.
    pub headers: HeaderList<'p, O>,
    /// Tokens to merge into the upstream's `Vary` (see [`merge_vary`]).
    pub vary: &'static [&'static str],
    /// Whether the headers grant the request: a preflight every step of it, any other request
    /// its origin. The log says so (`cors=granted|withheld`).
    pub grants: bool,
}

impl<'p> ForwardedCors<'p, &[u8]> {
    /// The same headers, holding their own copy of the origin value.
    pub fn owned(self) -> ForwardedCors<'p, Vec<u8>> {
        ForwardedCors {
            headers: self.headers.owned(),
            vary: self.vary,
            grants: self.grants,
        }
    }
}

/// CORS headers for a forwarded response. Browsers check methods and request headers only in
/// preflights, so an actual response depends on the origin alone
/// (<https://fetch.spec.whatwg.org/#cors-check>). A preflight forwarded under
/// `preflight = "forward"` that the policy allows also gets the preflight headers, so the
/// browser can go on to the actual request.
pub fn forwarded<'p, 'o>(
    policy: &'p CorsPolicy,
    request: &CorsRequest<'o>,
) -> ForwardedCors<'p, &'o [u8]> {
    forwarded_with(policy, &policy.origins, request)
}

/// [`forwarded`] with `origins` standing for the policy's own: a live route's current list.
pub fn forwarded_with<'p, 'o>(
    policy: &'p CorsPolicy,
    origins: &AllowedOrigins,
    request: &CorsRequest<'o>,
) -> ForwardedCors<'p, &'o [u8]> {
    let verdict = origins.judge(request.origin);
    if request.kind() == RequestKind::Preflight {
        if let Ok(headers) = check_preflight(policy, request, verdict) {
            return ForwardedCors {
                headers,
                vary: PREFLIGHT_VARY,
                grants: true,
            };
        }
    }
    let origin = origin_headers(policy, verdict);
    // A preflight that got here failed a step after the origin: not granted, whatever its origin.
    let grants = origin.is_some() && request.kind() == RequestKind::Actual;
    let headers = match origin {
        Some(headers) if policy.values.expose_headers.is_some() => headers.with(SET_EXPOSE),
        Some(headers) => headers,
        None => HeaderList::new(policy),
    };
    let vary: &'static [&'static str] = if policy.varies_by_origin() {
        &["Origin"]
    } else {
        &[]
    };
    ForwardedCors {
        headers,
        vary,
        grants,
    }
}

/// Whether an upstream response header belongs to the gateway and must be removed: every
/// `Access-Control-*` header, so the browser never sees two answers.
pub fn is_access_control_header(name: &str) -> bool {
    starts_with_ignore_case(name, "access-control-")
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
