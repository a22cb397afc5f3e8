//! The semantic pass: a structurally valid policy document becomes a compiled [`Route`], or
//! every rule it breaks is reported.

use std::ops::Range;

use url::Url;

use super::document::{Located, PolicyDocument};
use super::error::{ConfigError, ErrorKind};
use super::origin_rules::{
    parse_origin_entry, plain_authority, split_scheme, OriginEntry, OriginRules,
};
use super::schema::{did_you_mean, Default, Key};
use crate::live::{LiveRule, WhenUnreadable};
use crate::method::{is_forbidden_method, is_token, AllowedMethods};
use crate::origin_set::OriginSet;
use crate::origins::AllowedOrigins;
use crate::policy::{CorsPolicy, HeaderValues, PolicySwitches, PreflightMode};
use crate::request_headers::AllowedHeaders;
use crate::route::{Route, RoutePath, Scheme, Upstream};
use crate::text::Text;

pub use super::origin_rules::is_loopback as is_loopback_host;

/// The largest `max_age` accepted, in seconds (one day): Firefox's cap, the highest of any
/// engine; longer values would only pretend to cache longer.
pub const MAX_MAX_AGE: i128 = 86_400;

/// Collects errors while each key is validated, so one pass reports them all.
struct Checker<'d, 's> {
    doc: &'d PolicyDocument<'s>,
    errors: Vec<ConfigError>,
}

impl Checker<'_, '_> {
    fn fail(&mut self, kind: ErrorKind, span: Range<usize>, message: String, help: Option<String>) {
        self.errors.push(self.doc.error(kind, span, message, help));
    }
}

/// Validates a document into the route named `name`.
pub fn build_route(name: &str, doc: &PolicyDocument<'_>) -> Result<Route, Vec<ConfigError>> {
    let mut c = Checker {
        doc,
        errors: Vec::new(),
    };
    let path = doc.string(Key::Path).and_then(|p| route_path(&mut c, p));
    let upstream = doc.string(Key::Upstream).and_then(|u| upstream(&mut c, u));
    let default_timeout_ms = Key::TimeoutMs.default_integer();
    let timeout_ms = match doc.integer(Key::TimeoutMs) {
        None => default_timeout_ms,
        Some(Located { value, span }) => match u32::try_from(value) {
            Ok(ms) if ms > 0 => ms,
            _ => {
                c.fail(
                    ErrorKind::InvalidTimeout,
                    span,
                    format!("`timeout_ms = {value}` must be between 1 and {}", u32::MAX),
                    Some(format!("the default is {default_timeout_ms}")),
                );
                default_timeout_ms
            }
        },
    };
    let cors = cors_policy(&mut c);
    if cors.live().is_some()
        && !name
            .bytes()
            .all(|b| (0x20..=0x7e).contains(&b) && b != b'"' && b != b'\\')
    {
        c.fail(
            ErrorKind::LiveRouteName,
            doc.span_of(Key::Ceiling),
            format!("route `{name}` has `[live]`, but a live origin list names routes in plain ASCII without `\"` or `\\`"),
            Some("rename the policy file (its stem is the route's name)".into()),
        );
    }
    match (c.errors.is_empty(), path, upstream) {
        (true, Some(path), Some(upstream)) => Ok(Route::build(
            name.to_string().into(),
            path,
            upstream,
            doc.bool(Key::StripPrefix),
            timeout_ms,
            cors,
        )),
        _ => {
            c.errors.sort_by_key(|e| e.location.span.start);
            Err(c.errors)
        }
    }
}

/// `route.path`: `/exact` or `/prefix/...`; no query, fragment, `//` or dot segments.
fn route_path(c: &mut Checker<'_, '_>, path: Located<&str>) -> Option<RoutePath> {
    let Located { value, span } = path;
    let problem = if !value.starts_with('/') {
        Some("must start with `/`")
    } else if value.contains(['?', '#']) {
        Some("must not hold a query or fragment")
    } else if value.contains("//") {
        Some("must not contain `//`")
    } else if !value.bytes().all(is_path_byte) {
        Some("holds a character that is not valid in a URL path (percent-encode it)")
    } else {
        None
    };
    let segments: Vec<&str> = value.split('/').skip(1).collect();
    let problem = problem.or_else(|| {
        let last = segments.len() - 1;
        segments.iter().enumerate().find_map(|(i, s)| match *s {
            "." | ".." => Some("must not contain `.` or `..` segments"),
            s if s.eq_ignore_ascii_case("%2e") || s.eq_ignore_ascii_case("%2e%2e") => {
                Some("must not contain `.` or `..` segments")
            }
            "..." if i != last => Some("may use `...` only as its last segment (`/users/...`)"),
            s if s != "..." && s.contains("...") => {
                Some("may use `...` only as a whole last segment (`/users/...`)")
            }
            _ => None,
        })
    });
    if let Some(problem) = problem {
        c.fail(
            ErrorKind::InvalidRoutePath,
            span,
            format!("route path `{value}` {problem}"),
            Some("write an exact path like `/health` or a prefix like `/users/...`".into()),
        );
        return None;
    }
    Some(match value.strip_suffix("/...") {
        Some(prefix) => RoutePath::Prefix(prefix.to_string().into()),
        None => RoutePath::Exact(value.to_string().into()),
    })
}

/// RFC 3986 `pchar` and `/` (percent signs are allowed as the start of escapes).
fn is_path_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"-._~!$&'()*+,;=:@/%".contains(&b)
}

/// The scheme, host, port and base path (without a trailing `/`) the URL parser would read from
/// an upstream as plain as they usually are (`https://api.example.com`,
/// `http://127.0.0.1:8081/v1`: [`plain_authority`] with IPv4 addresses, and a path of letters,
/// digits, `-`, `.`, `_` and `~` without dot segments), which passes every check of
/// [`upstream`]; `None` for anything else, which the URL parser then reads. Why, and the test:
/// [`plain_authority`].
fn plain_upstream(value: &str) -> Option<(Scheme, &str, Option<u16>, &str)> {
    let (scheme_text, rest) = split_scheme(value)?;
    let scheme = match scheme_text {
        "https" => Scheme::Https,
        "http" => Scheme::Http,
        _ => return None,
    };
    let (authority, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    let plain_segment = |segment: &str| {
        segment != "."
            && segment != ".."
            && segment
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-._~".contains(&b))
    };
    if !path.split('/').skip(1).all(plain_segment) {
        return None;
    }
    let (host, port) = plain_authority(scheme, scheme_text, authority, "", true)?;
    Some((scheme, host, port, path.trim_end_matches('/')))
}

fn upstream(c: &mut Checker<'_, '_>, upstream: Located<&str>) -> Option<Upstream> {
    let Located { value, span } = upstream;
    if let Some((scheme, host, port, path)) = plain_upstream(value) {
        return Some(Upstream::new(
            scheme,
            host.to_string().into(),
            port,
            path.to_string().into(),
        ));
    }
    let mut bad = |message: String| {
        c.fail(
            ErrorKind::InvalidUpstream,
            span.clone(),
            message,
            Some("write `https://host[:port][/base-path]`".into()),
        );
        None
    };
    let url = match Url::parse(value) {
        Ok(url) => url,
        Err(e) => return bad(format!("upstream `{value}` is not an absolute URL: {e}")),
    };
    let scheme = match url.scheme() {
        "http" => Scheme::Http,
        "https" => Scheme::Https,
        other => {
            return bad(format!(
                "upstream `{value}` uses `{other}`: only http and https are supported"
            ))
        }
    };
    if !url.username().is_empty() || url.password().is_some() {
        return bad(format!(
            "upstream `{value}` must not carry userinfo (credentials in a URL leak into logs)"
        ));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return bad(format!(
            "upstream `{value}` must not carry a query or fragment"
        ));
    }
    let Some(host) = url.host_str() else {
        return bad(format!("upstream `{value}` has no host"));
    };
    Some(Upstream::new(
        scheme,
        host.to_string().into(),
        url.port(),
        url.path().trim_end_matches('/').to_string().into(),
    ))
}

fn cors_policy(c: &mut Checker<'_, '_>) -> CorsPolicy {
    let doc = c.doc;
    let allow_credentials = doc.bool(Key::AllowCredentials);
    let rules = OriginRules::of(doc);

    let baseline = origin_entries(c, Key::AllowOrigins, rules);
    let origins = allowed_origins(&baseline);
    let live = live_rule(c, rules, &baseline);

    let (methods, allow_methods_value) = allowed_methods(c, allow_credentials);
    let (headers, allow_headers_value) = allowed_headers(c, allow_credentials);
    let expose_headers_value = expose_headers(c, allow_credentials);

    let max_age_value = doc
        .integer(Key::MaxAge)
        .and_then(|Located { value, span }| {
            if (0..=MAX_MAX_AGE).contains(&value) {
                Some(Text::from(value.to_string()))
            } else {
                c.fail(
                    ErrorKind::MaxAgeOutOfRange,
                    span,
                    format!("`max_age = {value}` is outside 0..=86400 seconds"),
                    Some("WebKit honours at most 600, Chromium 7200, Firefox 86400".into()),
                );
                None
            }
        });

    let default_preflight = match Key::Preflight.spec().default {
        Default::String(name) => PreflightMode::from_name(name),
        _ => None,
    }
    .expect("the schema's preflight default is a mode");
    let preflight = match doc.string(Key::Preflight) {
        None => default_preflight,
        Some(Located { value, span }) => PreflightMode::from_name(value).unwrap_or_else(|| {
            let names = PreflightMode::ALL.iter().map(|m| m.name());
            let help = did_you_mean(&value.to_ascii_lowercase(), names)
                .map(|m| format!("did you mean `\"{m}\"`?"));
            c.fail(
                ErrorKind::InvalidPreflightMode,
                span,
                format!("`preflight = \"{value}\"` must be `\"edge\"` or `\"forward\"`"),
                help,
            );
            default_preflight
        }),
    };

    let switches = PolicySwitches {
        allow_credentials,
        allow_private_network: doc.bool(Key::AllowPrivateNetwork),
        preflight,
        report_only: doc.bool(Key::ReportOnly),
    };
    let values = HeaderValues {
        allow_methods: allow_methods_value,
        allow_headers: allow_headers_value,
        expose_headers: expose_headers_value,
        max_age: max_age_value,
    };
    CorsPolicy::new(origins, methods, headers, switches, values, live)
}

/// The valid entries of an origin list (`allow_origins`, `live.ceiling`) with their spans; each
/// invalid one is reported.
fn origin_entries(
    c: &mut Checker<'_, '_>,
    key: Key,
    rules: OriginRules,
) -> Vec<Located<OriginEntry>> {
    let mut entries = Vec::new();
    for entry in c.doc.strings(key).map_or(&[][..], |l| l.value) {
        match parse_origin_entry(&entry.value, rules) {
            Ok(value) => entries.push(Located {
                value,
                span: entry.span.clone(),
            }),
            Err(p) => c.fail(p.kind, entry.span.clone(), p.message, p.help),
        }
    }
    entries
}

fn allowed_origins(entries: &[Located<OriginEntry>]) -> AllowedOrigins {
    let mut exact = Vec::new();
    let mut patterns = Vec::new();
    for entry in entries {
        match &entry.value {
            OriginEntry::Any => return AllowedOrigins::Any,
            OriginEntry::Exact(origin) => exact.push(origin.clone()),
            OriginEntry::Pattern(pattern) => patterns.push(pattern.clone()),
        }
    }
    AllowedOrigins::Listed {
        exact: OriginSet::build(exact),
        patterns: patterns.into(),
    }
}

/// `[live]`: the ceiling, checked as `allow_origins` is and never `*`, holding every
/// `baseline` entry; and the outage choice, which has no default.
fn live_rule(
    c: &mut Checker<'_, '_>,
    rules: OriginRules,
    baseline: &[Located<OriginEntry>],
) -> Option<LiveRule> {
    c.doc.strings(Key::Ceiling)?;
    let entries = origin_entries(c, Key::Ceiling, rules);
    for entry in entries.iter().filter(|e| e.value == OriginEntry::Any) {
        c.fail(
            ErrorKind::WildcardCeiling,
            entry.span.clone(),
            "`\"*\"` in `ceiling` would let a live list allow every origin: a ceiling is the reviewed limit of what live data may allow".into(),
            Some("list the origins and patterns (`https://*.example.com`) live lists may use".into()),
        );
    }
    let ceiling = allowed_origins(&entries);
    for entry in baseline {
        let inside = match &entry.value {
            OriginEntry::Any => false,
            _ if ceiling.is_any() => true,
            OriginEntry::Exact(origin) => ceiling.covers_origin(origin.as_bytes()),
            OriginEntry::Pattern(pattern) => ceiling.covers_pattern(pattern),
        };
        if !inside {
            let text = &c.doc.source[entry.span.clone()];
            c.fail(
                ErrorKind::OutsideCeiling,
                entry.span.clone(),
                format!("{text} in `allow_origins` lies outside `[live]` `ceiling`: a route's baseline must be one of the lists live data could set"),
                Some(format!("add {text} to `ceiling`, or remove it from `allow_origins`")),
            );
        }
    }
    let Located { value, span } = c.doc.string(Key::WhenUnreadable)?;
    let Some(when_unreadable) = WhenUnreadable::from_name(value) else {
        let names = WhenUnreadable::ALL.iter().map(|w| w.name());
        let help = did_you_mean(&value.to_ascii_lowercase(), names)
            .map(|w| format!("did you mean `\"{w}\"`?"))
            .unwrap_or_else(|| "`\"deny\"` allows no origin while no list can be read; `\"baseline\"` allows `allow_origins`".into());
        c.fail(
            ErrorKind::InvalidWhenUnreadable,
            span,
            format!("`when_unreadable = \"{value}\"` must be `\"deny\"` or `\"baseline\"`"),
            Some(help),
        );
        return None;
    };
    Some(LiveRule::new(ceiling, when_unreadable))
}

fn wildcard_with_credentials(c: &mut Checker<'_, '_>, key: Key, span: Range<usize>) {
    c.fail(
        ErrorKind::WildcardWithCredentials,
        span,
        format!("`\"*\"` in `{key}` cannot be combined with `allow_credentials = true`: browsers treat it as a literal name for credentialed requests"),
        Some(format!("list the names in `{key}` explicitly")),
    );
}

fn allowed_methods(c: &mut Checker<'_, '_>, credentials: bool) -> (AllowedMethods, Text) {
    let Some(list) = c.doc.strings(Key::AllowMethods) else {
        let defaults = Key::AllowMethods.default_strings();
        let listed: Vec<Text> = defaults.iter().map(|m| Text::Borrowed(m)).collect();
        return (
            AllowedMethods::Listed(listed.into()),
            defaults.join(", ").into(),
        );
    };
    let mut methods: Vec<String> = Vec::new();
    let mut any = false;
    for Located { value, span } in list.value {
        if value == "*" {
            if credentials {
                wildcard_with_credentials(c, Key::AllowMethods, span.clone());
            }
            any = true;
        } else if !is_token(value.as_bytes()) {
            c.fail(
                ErrorKind::InvalidMethod,
                span.clone(),
                format!("`{value}` is not a valid method name (an HTTP token)"),
                None,
            );
        } else if is_forbidden_method(value.as_bytes()) {
            c.fail(ErrorKind::ForbiddenMethod, span.clone(), format!("`{value}` is a forbidden method: browsers never send it (https://fetch.spec.whatwg.org/#forbidden-method)"), Some("remove it".into()));
        } else if !methods.iter().any(|m| m == value) {
            methods.push(value.to_string());
        }
    }
    if any {
        return (AllowedMethods::Any, "*".into());
    }
    let value = methods.join(", ");
    (
        AllowedMethods::Listed(
            methods
                .into_iter()
                .map(Text::from)
                .collect::<Vec<_>>()
                .into(),
        ),
        value.into(),
    )
}

/// Forbidden request-header names (https://fetch.spec.whatwg.org/#forbidden-request-header):
/// a page can never set them, so allowing them is a configuration mistake.
const FORBIDDEN_REQUEST_HEADERS: &[&str] = &[
    "accept-charset",
    "accept-encoding",
    "access-control-request-headers",
    "access-control-request-method",
    "connection",
    "content-length",
    "cookie",
    "cookie2",
    "date",
    "dnt",
    "expect",
    "host",
    "keep-alive",
    "origin",
    "referer",
    "set-cookie",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
    "via",
];

fn is_forbidden_request_header(lower: &str) -> bool {
    FORBIDDEN_REQUEST_HEADERS.contains(&lower)
        || lower.starts_with("proxy-")
        || lower.starts_with("sec-")
}

/// Checks a header-name list shared by `allow_headers` and `expose_headers`; returns the
/// lowercase names and whether `*` was present.
fn header_names(
    c: &mut Checker<'_, '_>,
    key: Key,
    credentials: bool,
    forbidden: impl Fn(&str) -> Option<(ErrorKind, String)>,
) -> (Vec<String>, bool) {
    let Some(list) = c.doc.strings(key) else {
        return (Vec::new(), false);
    };
    let mut names: Vec<String> = Vec::new();
    let mut any = false;
    for Located { value, span } in list.value {
        let lower = value.to_ascii_lowercase();
        if value == "*" {
            if credentials {
                wildcard_with_credentials(c, key, span.clone());
            }
            any = true;
        } else if !is_token(value.as_bytes()) {
            c.fail(
                ErrorKind::InvalidHeaderName,
                span.clone(),
                format!("`{value}` is not a valid header name (an HTTP token)"),
                None,
            );
        } else if lower.starts_with("access-control-") {
            c.fail(ErrorKind::AccessControlHeaderListed, span.clone(), format!("`{value}` in `{key}`: `Access-Control-*` headers belong to the CORS protocol and are set by the gateway"), Some("remove it".into()));
        } else if let Some((kind, why)) = forbidden(&lower) {
            c.fail(
                kind,
                span.clone(),
                format!("`{value}` in `{key}`: {why}"),
                Some("remove it".into()),
            );
        } else if !names.contains(&lower) {
            names.push(lower);
        }
    }
    (names, any)
}

fn allowed_headers(c: &mut Checker<'_, '_>, credentials: bool) -> (AllowedHeaders, Text) {
    let (names, any) = header_names(c, Key::AllowHeaders, credentials, |lower| {
        is_forbidden_request_header(lower).then(|| (ErrorKind::ForbiddenRequestHeader, "a forbidden request header: pages can never set it (https://fetch.spec.whatwg.org/#forbidden-request-header)".into()))
    });
    // `*` never covers `Authorization` (https://fetch.spec.whatwg.org/#cors-preflight-fetch,
    // step 7.8), so an explicitly allowed `authorization` is named next to it.
    let value = if any {
        if names.iter().any(|n| n == "authorization") {
            "*, authorization".to_string()
        } else {
            "*".to_string()
        }
    } else {
        names.join(", ")
    };
    let names = names.into_iter().map(Text::from).collect::<Vec<_>>().into();
    (AllowedHeaders { any, names }, value.into())
}

fn expose_headers(c: &mut Checker<'_, '_>, credentials: bool) -> Option<Text> {
    let (names, any) = header_names(c, Key::ExposeHeaders, credentials, |lower| {
        matches!(lower, "set-cookie" | "set-cookie2").then(|| (ErrorKind::SetCookieExposed, "browsers never expose `Set-Cookie` to scripts (https://fetch.spec.whatwg.org/#forbidden-response-header-name)".into()))
    });
    if any {
        Some("*".into())
    } else if names.is_empty() {
        None
    } else {
        Some(names.join(", ").into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_upstreams_read_as_the_url_parser_reads_them() {
        let hosts = [
            "api.example.com",
            "127.0.0.1",
            "10.0.0.1",
            "256.0.0.1",
            "01.0.0.1",
            "1.2.3",
            "API.example.com",
            "a_b.example",
            "xn--a.example",
            "localhost",
            "a..b",
            "[::1]",
            "me@api.example.com",
            "0x7f.0.0.1",
        ];
        let ports = ["", ":", ":80", ":443", ":8081", ":08081", ":65536"];
        let paths = [
            "",
            "/",
            "/v1",
            "/v1/",
            "/v1//",
            "//",
            "/a//b",
            "/./a",
            "/a/..",
            "/a/.../b",
            "/%2e/a",
            "/a b",
            "/a?q",
            "/a#f",
            "?q",
            "#f",
            "/a\\b",
            "/~user/v1.2",
            "/A-Z_",
        ];
        let mut plain = 0;
        for scheme in ["https", "http", "HTTP", "ftp"] {
            for host in hosts {
                for port in ports {
                    for path in paths {
                        let value = format!("{scheme}://{host}{port}{path}");
                        let Some((s, h, p, base)) = plain_upstream(&value) else {
                            continue;
                        };
                        plain += 1;
                        let url = Url::parse(&value).unwrap_or_else(|e| panic!("{value}: {e}"));
                        assert!(
                            url.username().is_empty() && url.password().is_none(),
                            "{value}"
                        );
                        assert!(url.query().is_none() && url.fragment().is_none(), "{value}");
                        assert_eq!(
                            (s.as_str(), Some(h), p, base),
                            (
                                url.scheme(),
                                url.host_str(),
                                url.port(),
                                url.path().trim_end_matches('/')
                            ),
                            "{value}"
                        );
                    }
                }
            }
        }
        assert!(plain > 100, "{plain}");
    }
}
