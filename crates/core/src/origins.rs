//! Which request origins a policy allows: exact origins, subdomain wildcards
//! (`https://*.example.com`), port wildcards (`http://localhost:*`) and `*`.
//!
//! Matching never uses regexes or substring search: an exact origin is a hash lookup of the raw
//! header bytes, and a pattern compares the parsed scheme, host suffix (label-aligned: the suffix
//! stored is `.example.com`, so `evilexample.com` cannot match) and port.

use crate::origin_set::OriginSet;
use crate::request_origin::{RequestOrigin, MAX_ORIGIN_LEN};
use crate::route::Scheme;
use crate::text::{List, Text};

/// The hosts an [`OriginPattern`] matches.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum HostPattern {
    /// The host itself (used with a port wildcard).
    Exact(Text),
    /// One or more labels followed by this suffix, which starts with a dot (`.example.com`):
    /// `a.example.com` and `a.b.example.com` match, `example.com` does not.
    Subdomains(Text),
}

/// The ports an [`OriginPattern`] matches.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PortPattern {
    /// The scheme's default port (absent from the serialization).
    Default,
    /// This port only, written out in the origin (never the scheme's default, which browsers
    /// omit).
    Exact(u16),
    /// `:*`: any port, the default one included.
    Any,
}

/// An allowed origin with a wildcard in it. Wildcard-free origins go into the [`OriginSet`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OriginPattern {
    pub(crate) scheme: Scheme,
    pub(crate) host: HostPattern,
    pub(crate) port: PortPattern,
}

impl OriginPattern {
    /// A pattern from its validated parts (the validator and generated code build them).
    pub const fn new(scheme: Scheme, host: HostPattern, port: PortPattern) -> OriginPattern {
        OriginPattern { scheme, host, port }
    }

    /// The scheme it allows.
    pub fn scheme(&self) -> Scheme {
        self.scheme
    }

    /// The hosts it allows.
    pub fn host(&self) -> &HostPattern {
        &self.host
    }

    /// The ports it allows.
    pub fn port(&self) -> PortPattern {
        self.port
    }

    /// Whether every origin `inner` matches, this pattern matches too: the same scheme, a host
    /// set that holds `inner`'s (both suffixes start with a dot, so a longer one is
    /// label-aligned), and a port set that holds `inner`'s.
    pub fn covers(&self, inner: &OriginPattern) -> bool {
        let host = match (&self.host, &inner.host) {
            (HostPattern::Exact(x), HostPattern::Exact(y)) => x == y,
            (HostPattern::Subdomains(x), HostPattern::Subdomains(y)) => y.ends_with(&**x),
            (HostPattern::Subdomains(x), HostPattern::Exact(y)) => {
                y.len() > x.len() && y.ends_with(&**x)
            }
            (HostPattern::Exact(_), HostPattern::Subdomains(_)) => false,
        };
        let port = self.port == PortPattern::Any || self.port == inner.port;
        self.scheme == inner.scheme && host && port
    }

    /// The pattern as a policy file writes it: `https://*.example.com`, `http://localhost:*`.
    pub fn text(&self) -> String {
        let host: &str = match &self.host {
            HostPattern::Exact(host) => host,
            HostPattern::Subdomains(suffix) => suffix,
        };
        let wildcard = match self.host {
            HostPattern::Subdomains(_) => "*",
            HostPattern::Exact(_) => "",
        };
        let port = match self.port {
            PortPattern::Default => String::new(),
            PortPattern::Exact(port) => format!(":{port}"),
            PortPattern::Any => ":*".into(),
        };
        format!("{}://{wildcard}{host}{port}", self.scheme.as_str())
    }

    /// Reads a pattern written exactly as [`OriginPattern::text`] writes it, its hosts and
    /// ports as browsers serialize them; `None` for anything else, an exact origin included.
    /// The run-time reader of live origin lists, which the CLI writes canonically: it never
    /// repairs, and the list's check against the route's ceiling (validated with the
    /// public-suffix guard at build time) decides whether the pattern may be used.
    pub fn parse_canonical(text: &str) -> Option<OriginPattern> {
        let (rest, any_port) = match text.strip_suffix(":*") {
            Some(rest) => (rest, true),
            None => (text, false),
        };
        let (scheme_part, authority) = rest.split_once("://")?;
        let (host_and_port, subdomains) = match authority.strip_prefix("*.") {
            Some(rest) => (rest, true),
            None => (authority, false),
        };
        if !subdomains && !any_port {
            return None;
        }
        // The host with a label standing for the wildcard parses as an origin would.
        let probe = format!(
            "{scheme_part}://{}{host_and_port}",
            if subdomains { "x." } else { "" }
        );
        let origin = RequestOrigin::parse(probe.as_bytes())?;
        if any_port && origin.port.is_some() {
            return None;
        }
        let host = match subdomains {
            true => HostPattern::Subdomains(origin.host[1..].to_string().into()),
            false => HostPattern::Exact(origin.host.to_string().into()),
        };
        let port = match (any_port, origin.port) {
            (true, _) => PortPattern::Any,
            (false, Some(port)) => PortPattern::Exact(port),
            (false, None) => PortPattern::Default,
        };
        Some(OriginPattern::new(origin.scheme, host, port))
    }

    /// Whether `origin` has the pattern's scheme, one of its hosts and one of its ports.
    pub fn matches(&self, origin: &RequestOrigin<'_>) -> bool {
        if self.scheme != origin.scheme {
            return false;
        }
        let host_ok = match &self.host {
            HostPattern::Exact(host) => origin.host == host,
            // `RequestOrigin::parse` guarantees non-empty labels, so a host longer than the
            // dot-led suffix that ends with it has at least one whole label before it.
            HostPattern::Subdomains(suffix) => {
                origin.host.len() > suffix.len() && origin.host.ends_with(&**suffix)
            }
        };
        host_ok
            && match self.port {
                PortPattern::Any => true,
                PortPattern::Default => origin.port.is_none(),
                PortPattern::Exact(port) => origin.port == Some(port),
            }
    }
}

/// The origins a policy allows (`allow_origins`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AllowedOrigins {
    /// `"*"`: every origin, answered with `Access-Control-Allow-Origin: *`.
    Any,
    /// Listed origins, answered by echoing the request's `Origin`; either list may be empty.
    Listed {
        /// Wildcard-free origins, matched byte for byte against the header.
        exact: OriginSet,
        /// Wildcard origins, matched against the parsed header when no exact origin matched.
        patterns: List<OriginPattern>,
    },
}

/// How a request's `Origin` header fared against a policy.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OriginVerdict<'a> {
    /// `*` policy: answer `Access-Control-Allow-Origin: *`.
    AnyOrigin,
    /// Allowed: answer with this exact value.
    Allowed(&'a [u8]),
    /// No `Origin` header at all.
    Absent,
    /// Present but not allowed (malformed, duplicated, `null` or simply not listed).
    Denied,
}

impl AllowedOrigins {
    /// Judges the request's `Origin` header lines. Two or more lines are never allowed: a
    /// browser sends exactly one, and choosing one of several is how caches get poisoned.
    pub fn judge<'a>(&self, origin_lines: &[&'a [u8]]) -> OriginVerdict<'a> {
        let (exact, patterns) = match self {
            AllowedOrigins::Any => return OriginVerdict::AnyOrigin,
            AllowedOrigins::Listed { exact, patterns } => (exact, patterns),
        };
        let value = match origin_lines {
            [] => return OriginVerdict::Absent,
            [one] => *one,
            _ => return OriginVerdict::Denied,
        };
        if value.len() > MAX_ORIGIN_LEN {
            return OriginVerdict::Denied;
        }
        if exact.contains(value) {
            return OriginVerdict::Allowed(value);
        }
        if !patterns.is_empty() {
            if let Some(parsed) = RequestOrigin::parse(value) {
                if patterns.iter().any(|p| p.matches(&parsed)) {
                    return OriginVerdict::Allowed(value);
                }
            }
        }
        OriginVerdict::Denied
    }

    /// Whether `origin`, a browser's serialization, is one of the allowed origins.
    pub fn covers_origin(&self, origin: &[u8]) -> bool {
        matches!(
            self.judge(&[origin]),
            OriginVerdict::AnyOrigin | OriginVerdict::Allowed(_)
        )
    }

    /// Whether every origin `pattern` matches is allowed.
    pub fn covers_pattern(&self, pattern: &OriginPattern) -> bool {
        match self {
            AllowedOrigins::Any => true,
            // An exact origin never covers a pattern: a pattern allows infinitely many origins
            // (every label or every port).
            AllowedOrigins::Listed { patterns, .. } => patterns.iter().any(|p| p.covers(pattern)),
        }
    }

    /// Whether every origin is allowed (`allow_origins = ["*"]`).
    pub fn is_any(&self) -> bool {
        matches!(self, AllowedOrigins::Any)
    }
}
