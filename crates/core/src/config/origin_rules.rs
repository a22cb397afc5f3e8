//! Validation of `allow_origins` entries into exact origins and wildcard patterns.
//!
//! Each entry must be written exactly as a browser serializes an origin
//! (https://html.spec.whatwg.org/multipage/browsers.html#ascii-serialisation-of-an-origin),
//! since the request's `Origin` is compared byte for byte. The WHATWG URL parser (`url` crate)
//! computes that canonical form, and a mismatch names it.

use url::Url;

use super::error::ErrorKind;
use crate::origins::{HostPattern, OriginPattern, PortPattern};
use crate::request_origin::Scheme;

/// One valid `allow_origins` entry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum OriginEntry {
    Any,
    Exact(String),
    Pattern(OriginPattern),
}

/// A rejected entry: the kind, the message and a fix.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OriginProblem {
    pub kind: ErrorKind,
    pub message: String,
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
    pub allow_credentials: bool,
    pub dangerously_allow_insecure_origins: bool,
    pub dangerously_allow_public_suffix_wildcards: bool,
}

/// The label that stands in for `*` while the URL parser canonicalizes the rest.
const WILDCARD_LABEL: &str = "wildcard-label-placeholder";

pub fn parse_origin_entry(entry: &str, rules: OriginRules) -> Result<OriginEntry, OriginProblem> {
    if entry == "*" {
        if rules.allow_credentials {
            return Err(problem(
                ErrorKind::WildcardWithCredentials,
                "`\"*\"` in `allow_origins` cannot be combined with `allow_credentials = true`: browsers refuse credentialed responses to `*`".into(),
                Some("list the origins that may send credentials, or set `allow_credentials = false`".into()),
            ));
        }
        return Ok(OriginEntry::Any);
    }
    if entry.eq_ignore_ascii_case("null") || entry.to_ascii_lowercase().starts_with("file:") {
        return Err(problem(
            ErrorKind::NullOrFileOrigin,
            format!("`{entry}` cannot be allowed: sandboxed documents, `file:` pages and redirects all send `Origin: null`, so allowing it allows anyone"),
            Some("serve the page from an http(s) origin and list that origin".into()),
        ));
    }
    let Some((scheme_text, rest)) = entry.split_once("://") else {
        return Err(problem(
            ErrorKind::InvalidOrigin,
            format!("`{entry}` is not an origin: expected `scheme://host[:port]`"),
            None,
        ));
    };
    let scheme = match scheme_text.to_ascii_lowercase().as_str() {
        "https" => Scheme::Https,
        "http" => Scheme::Http,
        _ => {
            return Err(problem(
                ErrorKind::UnsupportedOriginScheme,
                format!("`{entry}`: only http and https origins can be allowed"),
                None,
            ))
        }
    };

    // Take the wildcards out, let the URL parser canonicalize the rest, put them back.
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(authority_end);
    let (host_part, any_port) = match authority.strip_suffix(":*") {
        Some(host) => (host, true),
        None => (authority, false),
    };
    if host_part
        .strip_prefix("*.")
        .is_some_and(looks_like_ip_address)
    {
        return Err(problem(
            ErrorKind::InvalidWildcard,
            format!("`{entry}`: a subdomain wildcard needs a domain name, not an IP address"),
            None,
        ));
    }
    let (host_part, subdomains) = match host_part.strip_prefix("*.") {
        Some(base) => (format!("{WILDCARD_LABEL}.{base}"), true),
        None => (host_part.to_string(), false),
    };
    if host_part.contains('*') || tail.contains('*') {
        return Err(problem(
            ErrorKind::InvalidWildcard,
            format!("`{entry}`: `*` may only stand for whole leading labels (`https://*.example.com`) or the port (`http://localhost:*`)"),
            None,
        ));
    }
    let url = Url::parse(&format!("{scheme_text}://{host_part}{tail}")).map_err(|e| {
        problem(
            ErrorKind::InvalidOrigin,
            format!("`{entry}` is not a valid origin: {e}"),
            None,
        )
    })?;
    let host = url.host_str().unwrap_or_default().to_string();
    let canonical_host = match subdomains {
        true => host.replacen(WILDCARD_LABEL, "*", 1),
        false => host.clone(),
    };
    let port = url.port();
    let mut canonical = format!("{}://{canonical_host}", scheme.as_str());
    match (any_port, port) {
        (true, _) => canonical.push_str(":*"),
        (false, Some(port)) => canonical.push_str(&format!(":{port}")),
        (false, None) => {}
    }
    if canonical != entry {
        return Err(problem(
            ErrorKind::NonCanonicalOrigin,
            format!("`{entry}` is not written the way browsers send origins, so it would never match"),
            Some(format!("write `{canonical}` (lowercase, no default port, no path or trailing slash, no userinfo)")),
        ));
    }

    if scheme == Scheme::Http
        && rules.allow_credentials
        && !rules.dangerously_allow_insecure_origins
        && !is_loopback(&host)
    {
        return Err(problem(
            ErrorKind::InsecureOriginWithCredentials,
            format!("`{entry}` is plain http with `allow_credentials = true`: anyone on the network path can read and forge its requests"),
            Some("use the https origin, or set `dangerously_allow_insecure_origins = true` if you accept that".into()),
        ));
    }

    let base = host
        .strip_prefix(&format!("{WILDCARD_LABEL}."))
        .unwrap_or(&host);
    if subdomains && !rules.dangerously_allow_public_suffix_wildcards && is_public_suffix(base) {
        return Err(problem(
            ErrorKind::PublicSuffixWildcard,
            format!("`{entry}` allows every site under the public suffix `{base}`: anyone can register one"),
            Some(format!("name your own domain (`{}://*.yourname.{base}`), or set `dangerously_allow_public_suffix_wildcards = true`", scheme.as_str())),
        ));
    }

    let port_pattern = match (any_port, port) {
        (true, _) => PortPattern::Any,
        (false, Some(port)) => PortPattern::Exact(port),
        (false, None) => PortPattern::Default,
    };
    if subdomains {
        Ok(OriginEntry::Pattern(OriginPattern {
            scheme,
            host: HostPattern::Subdomains(format!(".{base}").into()),
            port: port_pattern,
        }))
    } else if any_port {
        Ok(OriginEntry::Pattern(OriginPattern {
            scheme,
            host: HostPattern::Exact(host.into()),
            port: port_pattern,
        }))
    } else {
        Ok(OriginEntry::Exact(canonical))
    }
}

/// Loopback hosts, the only ones where plain http is as private as https
/// (https://w3c.github.io/webappsec-secure-contexts/#is-origin-trustworthy).
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
    fn non_canonical_origins_name_the_canonical_form() {
        let p = parse_origin_entry("https://App.example.com:443/", rules(false)).unwrap_err();
        assert_eq!(
            p.help
                .as_deref()
                .map(|h| h.contains("`https://app.example.com`")),
            Some(true),
            "{p:?}"
        );
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
