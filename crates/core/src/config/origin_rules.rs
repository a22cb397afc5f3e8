//! Validation of `allow_origins` entries into exact origins and wildcard patterns.
//!
//! Each entry must be written exactly as a browser serializes an origin
//! (<https://html.spec.whatwg.org/multipage/browsers.html#ascii-serialisation-of-an-origin>),
//! since the request's `Origin` is compared byte for byte. The WHATWG URL parser (`url` crate)
//! computes that canonical form, and a mismatch names it.

use std::borrow::Cow;

use url::Url;

use super::document::PolicyDocument;
use super::error::ErrorKind;
use super::schema::Key;
use crate::origins::{HostPattern, OriginPattern, PortPattern};
use crate::route::Scheme;

/// One valid `allow_origins` entry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum OriginEntry {
    /// `"*"`: every origin ([`AllowedOrigins::Any`](crate::origins::AllowedOrigins::Any)).
    Any,
    /// A wildcard-free origin, in its canonical serialization (for the
    /// [`OriginSet`](crate::origin_set::OriginSet)).
    Exact(String),
    /// An origin with a subdomain or port wildcard.
    Pattern(OriginPattern),
}

/// A rejected entry: the kind, the message and a fix.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OriginProblem {
    /// Which rule the entry breaks.
    pub kind: ErrorKind,
    /// What is wrong, quoting the entry.
    pub message: String,
    /// How to fix it, when there is a concrete fix (the canonical spelling, the key to set).
    pub help: Option<String>,
}

fn problem(kind: ErrorKind, message: String, help: Option<String>) -> OriginProblem {
    OriginProblem {
        kind,
        message,
        help,
    }
}

/// Settings of the policy that change which origins are acceptable.
#[derive(Clone, Copy, Debug, Default)]
pub struct OriginRules {
    /// `allow_credentials`: forbids `"*"`, and plain-http origins other than loopback.
    pub allow_credentials: bool,
    /// `dangerously_allow_insecure_origins`: lifts the ban on plain-http origins with
    /// credentials.
    pub dangerously_allow_insecure_origins: bool,
    /// `dangerously_allow_public_suffix_wildcards`: allows `https://*.co.uk` and the like.
    pub dangerously_allow_public_suffix_wildcards: bool,
}

impl OriginRules {
    /// The rules a policy file sets for its origin lists (`allow_origins`, `[live]` `ceiling`).
    pub fn of(document: &PolicyDocument<'_>) -> OriginRules {
        OriginRules {
            allow_credentials: document.bool(Key::AllowCredentials),
            dangerously_allow_insecure_origins: document.bool(Key::DangerouslyAllowInsecureOrigins),
            dangerously_allow_public_suffix_wildcards: document
                .bool(Key::DangerouslyAllowPublicSuffixWildcards),
        }
    }
}

/// The label that stands in for `*` while the URL parser canonicalizes the rest (taken out of
/// its result again).
const WILDCARD_LABEL: &str = "wildcard-label-placeholder";

/// Reads one `allow_origins` entry under `rules`: `"*"`, an exact origin or a wildcard
/// pattern, each of which must already be written as browsers serialize origins.
pub fn parse_origin_entry(entry: &str, rules: OriginRules) -> Result<OriginEntry, OriginProblem> {
    if entry == "*" {
        return any_origin(rules);
    }
    reject_null_origin(entry)?;
    let origin = read_origin(entry)?;
    // One allocation for the usual entry (two with a port), kept as the exact origin's value: a
    // prebuilt artifact reads its entries on every instance's first request (see
    // [`plain_authority`]).
    let canonical = origin.serialization();
    if canonical != entry {
        return Err(problem(
            ErrorKind::NonCanonicalOrigin,
            format!("`{entry}` is not written the way browsers send origins, so it would never match"),
            Some(format!("write `{canonical}` (lowercase, no default port, no path or trailing slash, no userinfo)")),
        ));
    }
    reject_insecure_with_credentials(entry, &origin, rules)?;
    reject_public_suffix_wildcard(entry, &origin, rules)?;
    Ok(origin.into_entry(canonical))
}

/// `"*"`, unless credentials are allowed: a credentialed request never matches
/// `Access-Control-Allow-Origin: *` (https://fetch.spec.whatwg.org/#cors-check).
fn any_origin(rules: OriginRules) -> Result<OriginEntry, OriginProblem> {
    if rules.allow_credentials {
        return Err(problem(
            ErrorKind::WildcardWithCredentials,
            "`\"*\"` in `allow_origins` cannot be combined with `allow_credentials = true`: browsers refuse credentialed responses to `*`".into(),
            Some("list the origins that may send credentials, or set `allow_credentials = false`".into()),
        ));
    }
    Ok(OriginEntry::Any)
}

/// Opaque origins all serialize as `null`, whoever the page is
/// (https://html.spec.whatwg.org/multipage/browsers.html#ascii-serialisation-of-an-origin).
fn reject_null_origin(entry: &str) -> Result<(), OriginProblem> {
    let file_scheme = entry
        .get(..5)
        .is_some_and(|start| start.eq_ignore_ascii_case("file:"));
    if entry.eq_ignore_ascii_case("null") || file_scheme {
        return Err(problem(
            ErrorKind::NullOrFileOrigin,
            format!("`{entry}` cannot be allowed: sandboxed documents, `file:` pages and redirects all send `Origin: null`, so allowing it allows anyone"),
            Some("serve the page from an http(s) origin and list that origin".into()),
        ));
    }
    Ok(())
}

/// The origin an entry names, as the URL parser canonicalizes it, and its wildcards.
struct EntryOrigin<'e> {
    scheme: Scheme,
    /// Serialized by the URL parser (borrowed from the entry when it was already so written);
    /// for a subdomain wildcard, the domain under `*.`.
    host: Cow<'e, str>,
    /// `*.` leads the entry's host.
    subdomains: bool,
    port: PortPattern,
}

/// Reads the scheme, the host and its wildcard, the port and the tail of an entry. The wildcards
/// are taken out, the URL parser canonicalizes the rest, and [`EntryOrigin::serialization`] puts
/// them back.
fn read_origin(entry: &str) -> Result<EntryOrigin<'_>, OriginProblem> {
    let Some((scheme_text, rest)) = split_scheme(entry) else {
        return Err(problem(
            ErrorKind::InvalidOrigin,
            format!("`{entry}` is not an origin: expected `scheme://host[:port]`"),
            None,
        ));
    };
    let scheme = supported_scheme(entry, scheme_text)?;
    let (authority, tail) = split_tail(rest);
    let (host, any_port) = strip_port_wildcard(authority);
    let (host, subdomains) = strip_subdomain_wildcard(entry, host)?;
    reject_other_wildcards(entry, host, tail)?;
    let (host, port, subdomains) = match plain_authority(scheme, scheme_text, host, tail, false) {
        Some((host, port)) => (Cow::Borrowed(host), port, subdomains),
        None => {
            let label = if subdomains { WILDCARD_LABEL } else { "" };
            let dot = if subdomains { "." } else { "" };
            let url = parse_url(entry, &format!("{scheme_text}://{label}{dot}{host}{tail}"))?;
            let host = url.host_str().unwrap_or_default();
            let base = host
                .strip_prefix(WILDCARD_LABEL)
                .and_then(|base| base.strip_prefix('.'));
            // A host the placeholder no longer leads (`https://*.me@example.com`: userinfo)
            // is read as it came out, without a wildcard: the entry is then never canonical.
            let (host, wildcard) = match base {
                Some(base) if subdomains => (base, true),
                _ => (host, false),
            };
            (Cow::Owned(host.to_string()), url.port(), wildcard)
        }
    };
    let port = match (any_port, port) {
        (true, _) => PortPattern::Any,
        (false, Some(port)) => PortPattern::Exact(port),
        (false, None) => PortPattern::Default,
    };
    Ok(EntryOrigin {
        scheme,
        host,
        subdomains,
        port,
    })
}

/// The host and port the URL parser would read from `authority`, when the entry is already as
/// plain as origins usually are: a lowercase scheme, no tail, a host of lowercase ASCII letters,
/// digits and hyphens in dot-separated labels (none an IDNA `xn--` label, the last not starting
/// with a digit, so never an IPv4 address) or, with `ipv4`, four decimal numbers as the URL
/// parser writes them, and a port without a leading zero. `None` for anything else, which the
/// URL parser then reads.
///
/// Why: a prebuilt artifact validates its policies on each instance's first request, and the
/// URL parser (with its IDNA mapping) was about a fifth of that load's guest CPU in wasm (a
/// `perf` profile of `wasmtime serve`, 5 files of four origins each); a test checks that this
/// reads what the URL parser reads.
pub(super) fn plain_authority<'a>(
    scheme: Scheme,
    scheme_text: &str,
    authority: &'a str,
    tail: &str,
    ipv4: bool,
) -> Option<(&'a str, Option<u16>)> {
    if scheme_text != scheme.as_str() || !tail.is_empty() {
        return None;
    }
    let (host, port) = match authority.split_once(':') {
        Some((host, port)) => (host, Some(port)),
        None => (authority, None),
    };
    if !(is_plain_name(host) || (ipv4 && is_plain_ipv4(host))) {
        return None;
    }
    let port = match port {
        None => None,
        Some(port) => {
            if port.starts_with('0') || port.len() > 5 || !port.bytes().all(|b| b.is_ascii_digit())
            {
                return None;
            }
            let port: u16 = port.parse().ok()?;
            (port != scheme.default_port()).then_some(port)
        }
    };
    Some((host, port))
}

/// The text before the first `://` and the text after it. A byte scan: `str::split_once` with a
/// string pattern sets up a two-way searcher each time, 6 % of a prebuilt instance's load in
/// wasm (BENCHMARKS.md, "Where a prebuilt instance's load goes").
pub(super) fn split_scheme(text: &str) -> Option<(&str, &str)> {
    let at = text.as_bytes().windows(3).position(|w| w == b"://")?;
    Some((&text[..at], &text[at + 3..]))
}

/// Dot-separated labels of lowercase ASCII letters, digits and hyphens, none empty or an IDNA
/// `xn--` label, the last not starting with a digit (so never an IPv4 address). One pass over the
/// bytes: splitting at each dot was 6 % of a prebuilt instance's load in wasm (BENCHMARKS.md,
/// "Where a prebuilt instance's load goes").
fn is_plain_name(host: &str) -> bool {
    let bytes = host.as_bytes();
    let plain_label = |label: &[u8]| !label.is_empty() && !label.starts_with(b"xn--");
    let mut label_start = 0;
    for (at, &b) in bytes.iter().enumerate() {
        if b == b'.' {
            if !plain_label(&bytes[label_start..at]) {
                return false;
            }
            label_start = at + 1;
        } else if !(b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-') {
            return false;
        }
    }
    let last = &bytes[label_start..];
    plain_label(last) && !last[0].is_ascii_digit()
}

/// Only http(s) origins can ever match: a request's `Origin` is read into a [`Scheme`], which has
/// no other.
fn supported_scheme(entry: &str, scheme_text: &str) -> Result<Scheme, OriginProblem> {
    if scheme_text.eq_ignore_ascii_case("https") {
        Ok(Scheme::Https)
    } else if scheme_text.eq_ignore_ascii_case("http") {
        Ok(Scheme::Http)
    } else {
        Err(problem(
            ErrorKind::UnsupportedOriginScheme,
            format!("`{entry}`: only http and https origins can be allowed"),
            None,
        ))
    }
}

/// The authority, and the path, query or fragment after it (a canonical origin has none).
fn split_tail(rest: &str) -> (&str, &str) {
    let authority_end = rest
        .bytes()
        .position(|b| matches!(b, b'/' | b'?' | b'#'))
        .unwrap_or(rest.len());
    rest.split_at(authority_end)
}

/// The host and port without a trailing `:*`, and whether it was there.
fn strip_port_wildcard(authority: &str) -> (&str, bool) {
    match authority.strip_suffix(":*") {
        Some(host) => (host, true),
        None => (authority, false),
    }
}

/// The host without a leading `*.`, and whether it had one. A wildcard needs domain labels
/// under it: IP addresses have none.
fn strip_subdomain_wildcard<'h>(
    entry: &str,
    host: &'h str,
) -> Result<(&'h str, bool), OriginProblem> {
    if host.strip_prefix("*.").is_some_and(looks_like_ip_address) {
        return Err(problem(
            ErrorKind::InvalidWildcard,
            format!("`{entry}`: a subdomain wildcard needs a domain name, not an IP address"),
            None,
        ));
    }
    Ok(match host.strip_prefix("*.") {
        Some(base) => (base, true),
        None => (host, false),
    })
}

/// Any `*` left after the port and subdomain wildcards are out is one the gateway cannot match.
fn reject_other_wildcards(entry: &str, host: &str, tail: &str) -> Result<(), OriginProblem> {
    if host.contains('*') || tail.contains('*') {
        return Err(problem(
            ErrorKind::InvalidWildcard,
            format!("`{entry}`: `*` may only stand for whole leading labels (`https://*.example.com`) or the port (`http://localhost:*`)"),
            None,
        ));
    }
    Ok(())
}

/// The WHATWG URL parser's reading of the entry, its wildcards replaced.
fn parse_url(entry: &str, without_wildcards: &str) -> Result<Url, OriginProblem> {
    Url::parse(without_wildcards).map_err(|e| {
        problem(
            ErrorKind::InvalidOrigin,
            format!("`{entry}` is not a valid origin: {e}"),
            None,
        )
    })
}

impl EntryOrigin<'_> {
    /// The entry as it must be written: how browsers serialize the origins it allows, with its
    /// wildcards.
    fn serialization(&self) -> String {
        let wildcard = if self.subdomains { "*." } else { "" };
        let mut serialization = String::with_capacity(
            self.scheme.as_str().len() + 3 + wildcard.len() + self.host.len() + 6,
        );
        for part in [self.scheme.as_str(), "://", wildcard, &self.host] {
            serialization.push_str(part);
        }
        match self.port {
            PortPattern::Any => serialization.push_str(":*"),
            PortPattern::Exact(port) => {
                serialization.push(':');
                serialization.push_str(&port.to_string());
            }
            PortPattern::Default => {}
        }
        serialization
    }

    fn into_entry(self, serialization: String) -> OriginEntry {
        let host = if self.subdomains {
            HostPattern::Subdomains(format!(".{}", self.host).into())
        } else if self.port == PortPattern::Any {
            HostPattern::Exact(self.host.into_owned().into())
        } else {
            return OriginEntry::Exact(serialization);
        };
        OriginEntry::Pattern(OriginPattern {
            scheme: self.scheme,
            host,
            port: self.port,
        })
    }
}

/// Credentials over plain http are readable and forgeable on the network path, except on
/// loopback.
fn reject_insecure_with_credentials(
    entry: &str,
    origin: &EntryOrigin,
    rules: OriginRules,
) -> Result<(), OriginProblem> {
    if origin.scheme == Scheme::Http
        && rules.allow_credentials
        && !rules.dangerously_allow_insecure_origins
        // `http://*.localhost` names other hosts than loopback's own.
        && (origin.subdomains || !is_loopback(&origin.host))
    {
        return Err(problem(
            ErrorKind::InsecureOriginWithCredentials,
            format!("`{entry}` is plain http with `allow_credentials = true`: anyone on the network path can read and forge its requests"),
            Some("use the https origin, or set `dangerously_allow_insecure_origins = true` if you accept that".into()),
        ));
    }
    Ok(())
}

/// Anyone can register a name under a public suffix, so a wildcard over one allows anyone.
fn reject_public_suffix_wildcard(
    entry: &str,
    origin: &EntryOrigin,
    rules: OriginRules,
) -> Result<(), OriginProblem> {
    let base = &origin.host;
    if origin.subdomains
        && !rules.dangerously_allow_public_suffix_wildcards
        && is_public_suffix(base)
    {
        return Err(problem(
            ErrorKind::PublicSuffixWildcard,
            format!("`{entry}` allows every site under the public suffix `{base}`: anyone can register one"),
            Some(format!("name your own domain (`{}://*.yourname.{base}`), or set `dangerously_allow_public_suffix_wildcards = true`", origin.scheme.as_str())),
        ));
    }
    Ok(())
}

/// Four decimal numbers of 0 to 255 without leading zeros: an IPv4 address as the URL parser
/// writes it.
fn is_plain_ipv4(host: &str) -> bool {
    let mut parts = 0;
    host.split('.').all(|part| {
        parts += 1;
        !part.is_empty()
            && part.len() <= 3
            && part.bytes().all(|b| b.is_ascii_digit())
            && (part == "0" || !part.starts_with('0'))
            && part.parse::<u16>().is_ok_and(|n| n <= 255)
    }) && parts == 4
}

/// Loopback hosts, the only ones where plain http is as private as https
/// (<https://w3c.github.io/webappsec-secure-contexts/#is-origin-trustworthy>).
pub fn is_loopback(host: &str) -> bool {
    host == "localhost"
        || host == "[::1]"
        || host
            .parse::<std::net::Ipv4Addr>()
            .is_ok_and(|ip| ip.is_loopback())
}

fn looks_like_ip_address(host: &str) -> bool {
    host.starts_with('[')
        || host
            .rsplit('.')
            .next()
            .is_some_and(|l| l.bytes().all(|b| b.is_ascii_digit()))
}

/// Whether `domain` is itself a public suffix on the maintained Public Suffix List (explicit
/// rules only: the list's implicit `*` rule would make every unknown name, `localhost`
/// included, a "suffix").
fn is_public_suffix(domain: &str) -> bool {
    psl::suffix(domain.as_bytes())
        .is_some_and(|s| s.is_known() && s.as_bytes() == domain.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rules(credentials: bool) -> OriginRules {
        OriginRules {
            allow_credentials: credentials,
            ..OriginRules::default()
        }
    }

    #[test]
    fn origin_entries() {
        use ErrorKind::*;
        let sub = |s: &'static str, port| {
            OriginEntry::Pattern(OriginPattern {
                scheme: Scheme::Https,
                host: HostPattern::Subdomains(s.into()),
                port,
            })
        };
        let cases: Vec<(&str, &str, bool, Result<OriginEntry, ErrorKind>)> = vec![
            (
                "exact https",
                "https://app.example.com",
                false,
                Ok(OriginEntry::Exact("https://app.example.com".into())),
            ),
            (
                "exact with port",
                "https://app.example.com:8443",
                true,
                Ok(OriginEntry::Exact("https://app.example.com:8443".into())),
            ),
            ("star", "*", false, Ok(OriginEntry::Any)),
            (
                "subdomains",
                "https://*.example.com",
                true,
                Ok(sub(".example.com", PortPattern::Default)),
            ),
            (
                "subdomains any port",
                "https://*.example.com:*",
                false,
                Ok(sub(".example.com", PortPattern::Any)),
            ),
            (
                "localhost any port",
                "http://localhost:*",
                true,
                Ok(OriginEntry::Pattern(OriginPattern {
                    scheme: Scheme::Http,
                    host: HostPattern::Exact("localhost".into()),
                    port: PortPattern::Any,
                })),
            ),
            (
                "ipv6 loopback",
                "http://[::1]:8080",
                true,
                Ok(OriginEntry::Exact("http://[::1]:8080".into())),
            ),
            (
                "http non-loopback without credentials",
                "http://intranet.example",
                false,
                Ok(OriginEntry::Exact("http://intranet.example".into())),
            ),
            (
                "private suffix wildcard allowed",
                "https://*.localhost",
                false,
                Ok(sub(".localhost", PortPattern::Default)),
            ),
            (
                "star with credentials",
                "*",
                true,
                Err(WildcardWithCredentials),
            ),
            ("null", "null", false, Err(NullOrFileOrigin)),
            (
                "file",
                "file:///home/me/index.html",
                false,
                Err(NullOrFileOrigin),
            ),
            ("not an origin", "example.com", false, Err(InvalidOrigin)),
            (
                "other scheme",
                "ftp://example.com",
                false,
                Err(UnsupportedOriginScheme),
            ),
            (
                "uppercase",
                "https://App.Example.com",
                false,
                Err(NonCanonicalOrigin),
            ),
            (
                "uppercase scheme",
                "HTTPS://app.example.com",
                false,
                Err(NonCanonicalOrigin),
            ),
            (
                "default port",
                "https://app.example.com:443",
                false,
                Err(NonCanonicalOrigin),
            ),
            (
                "trailing slash",
                "https://app.example.com/",
                false,
                Err(NonCanonicalOrigin),
            ),
            (
                "path",
                "https://app.example.com/app",
                false,
                Err(NonCanonicalOrigin),
            ),
            (
                "userinfo",
                "https://me@app.example.com",
                false,
                Err(NonCanonicalOrigin),
            ),
            (
                "uncompressed ipv6",
                "http://[0:0:0:0:0:0:0:1]",
                false,
                Err(NonCanonicalOrigin),
            ),
            (
                "unicode host",
                "https://b\u{fc}cher.example",
                false,
                Err(NonCanonicalOrigin),
            ),
            (
                "star inside label",
                "https://a*.example.com",
                false,
                Err(InvalidWildcard),
            ),
            (
                "star in middle",
                "https://a.*.example.com",
                false,
                Err(InvalidWildcard),
            ),
            ("star on ip", "https://*.0.0.1", false, Err(InvalidWildcard)),
            (
                "http with credentials",
                "http://app.example.com",
                true,
                Err(InsecureOriginWithCredentials),
            ),
            (
                "http loopback with credentials",
                "http://127.0.0.1:3000",
                true,
                Ok(OriginEntry::Exact("http://127.0.0.1:3000".into())),
            ),
            (
                "http subdomains of localhost with credentials",
                "http://*.localhost",
                true,
                Err(InsecureOriginWithCredentials),
            ),
            (
                "public suffix com",
                "https://*.com",
                false,
                Err(PublicSuffixWildcard),
            ),
            (
                "public suffix github.io",
                "https://*.github.io",
                false,
                Err(PublicSuffixWildcard),
            ),
            (
                "public suffix co.uk",
                "https://*.co.uk",
                false,
                Err(PublicSuffixWildcard),
            ),
            (
                "below a public suffix",
                "https://*.me.github.io",
                false,
                Ok(sub(".me.github.io", PortPattern::Default)),
            ),
            (
                "bad host",
                "https://exa mple.com",
                false,
                Err(InvalidOrigin),
            ),
        ];
        for (name, entry, credentials, expected) in cases {
            let got = parse_origin_entry(entry, rules(credentials)).map_err(|p| p.kind);
            assert_eq!(got, expected, "case {name}: {entry}");
        }
    }

    #[test]
    fn plain_authorities_read_as_the_url_parser_reads_them() {
        let hosts = [
            "a",
            "example.com",
            "app.example.com",
            "a-b.example",
            "-a.example",
            "a-.example",
            "a--b.example",
            "xn--bcher-kva.example",
            "xn--a.example",
            "a.xn--b",
            "a..b",
            ".a",
            "a.",
            "1.2.3.4",
            "127.0.0.1",
            "a.1",
            "a.1b",
            "a.b1",
            "0x7f.1",
            "a.0x7f",
            "localhost",
            "wildcard-label-placeholder.example.com",
            "A.example",
            "a_b.example",
            "ex%41.com",
            "b\u{fc}cher.example",
            "a.example.com.",
            "999999999",
            "a1.example",
            "1a.example",
            "0.0.0.0",
            "255.255.255.255",
            "256.1.1.1",
            "1.2.3",
            "1.2.3.4.5",
            "01.2.3.4",
            "1..3.4",
            "10.0.0.1",
            "0x7f.0.0.1",
            "1.2.3.04",
        ];
        let ports = [
            "", ":", ":1", ":80", ":443", ":8080", ":08080", ":0", ":65535", ":65536", ":99999",
            ":123456", ":1a", ":+1", ":-1",
        ];
        let mut plain = 0;
        for (scheme, ipv4) in [
            ("https", false),
            ("http", false),
            ("HTTPS", false),
            ("http", true),
        ] {
            let kind = if scheme.eq_ignore_ascii_case("https") {
                Scheme::Https
            } else {
                Scheme::Http
            };
            for host in hosts {
                for port in ports {
                    for tail in ["", "/", "/x", "?q", "#f"] {
                        let authority = format!("{host}{port}");
                        let Some((h, p)) = plain_authority(kind, scheme, &authority, tail, ipv4)
                        else {
                            continue;
                        };
                        plain += 1;
                        let url = Url::parse(&format!("{scheme}://{authority}{tail}"))
                            .unwrap_or_else(|e| panic!("{scheme}://{authority}{tail}: {e}"));
                        assert_eq!(
                            (Some(h), p),
                            (url.host_str(), url.port()),
                            "{scheme}://{authority}{tail}"
                        );
                    }
                }
            }
        }
        assert!(plain > 100, "{plain}");
    }

    #[test]
    fn non_canonical_origins_name_the_canonical_form() {
        for (entry, canonical) in [
            ("https://App.example.com:443/", "`https://app.example.com`"),
            ("https://*.Example.com", "`https://*.example.com`"),
            // The URL parser reads `*.me` as userinfo: the host has no wildcard left.
            ("https://*.me@example.com", "`https://example.com`"),
        ] {
            let p = parse_origin_entry(entry, rules(false)).unwrap_err();
            assert_eq!(p.kind, ErrorKind::NonCanonicalOrigin, "{entry}");
            assert_eq!(
                p.help.as_deref().map(|h| h.contains(canonical)),
                Some(true),
                "{entry}: {p:?}"
            );
        }
    }

    #[test]
    fn dangerous_opt_ins_allow_what_they_name() {
        let r = OriginRules {
            allow_credentials: true,
            dangerously_allow_insecure_origins: true,
            dangerously_allow_public_suffix_wildcards: true,
        };
        assert!(parse_origin_entry("http://app.example.com", r).is_ok());
        assert!(parse_origin_entry("https://*.github.io", r).is_ok());
    }
}
