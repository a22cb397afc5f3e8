//! A refused origin that differs from an allowed one by a likely mistake: users meet these as
//! "blocked by CORS policy" on a page that was meant to work. Each names its likely fix; a fix
//! that widens the policy says so.

use corsgate_core::config::origin_rules::OriginEntry;
use corsgate_core::origins::{HostPattern, PortPattern};
use corsgate_core::request_origin::RequestOrigin;

use super::findings::{shown, NearMiss};

/// Host names this close (edits) to an allowed one are taken for a typo.
const TYPO_DISTANCE: usize = 2;

/// The first allowed entry `refused` nearly matches, in the policy's order, and why.
pub(crate) fn near_miss(refused: &[u8], allowed: &[(String, OriginEntry)]) -> Option<NearMiss> {
    let origin = RequestOrigin::parse(refused)?;
    let shown_origin = shown(refused);
    allowed.iter().find_map(|(entry, parsed)| {
        let (why, fix) = match parsed {
            OriginEntry::Any => return None,
            OriginEntry::Exact(exact) => {
                let exact = RequestOrigin::parse(exact.as_bytes())?;
                exact_near_miss(&origin, &exact, &shown_origin)?
            }
            OriginEntry::Pattern(pattern) => pattern_near_miss(&origin, pattern, &shown_origin)?,
        };
        Some(NearMiss {
            allowed: entry.clone(),
            why,
            fix,
        })
    })
}

fn exact_near_miss(
    origin: &RequestOrigin<'_>,
    allowed: &RequestOrigin<'_>,
    shown_origin: &str,
) -> Option<(String, String)> {
    let same_host = origin.host == allowed.host;
    let same_port = origin.port == allowed.port;
    let same_scheme = origin.scheme == allowed.scheme;
    let add = format!("add `{shown_origin}` to allow_origins (a widening: review it)");
    if same_host && same_port && !same_scheme {
        let why = format!(
            "the page is served over {} where the policy allows {}",
            origin.scheme.as_str(),
            allowed.scheme.as_str()
        );
        let fix = if allowed.scheme.as_str() == "https" {
            "serve the page over https (a redirect from http)".to_string()
        } else {
            add
        };
        return Some((why, fix));
    }
    if !same_scheme {
        return None;
    }
    if same_host {
        let port = |p: Option<u16>| p.map_or("the default port".into(), |p| format!("port {p}"));
        let why = format!(
            "the page runs on {} where the policy allows {}",
            port(origin.port),
            port(allowed.port)
        );
        return Some((why, add));
    }
    if !same_port {
        return None;
    }
    let www = |a: &str, b: &str| a.strip_prefix("www.") == Some(b);
    if www(origin.host, allowed.host) || www(allowed.host, origin.host) {
        let why = "the page's host differs from an allowed one by `www.`".to_string();
        return Some((why, add));
    }
    if origin.host.ends_with(&format!(".{}", allowed.host)) {
        let why = "the page is on a subdomain of an allowed origin".to_string();
        return Some((why, add));
    }
    if strsim::levenshtein(origin.host, allowed.host) <= TYPO_DISTANCE {
        let why = "the page's host is a few letters from an allowed one (a typo?)".to_string();
        let fix = "check the page's origin and the policy's spelling of it".to_string();
        return Some((why, fix));
    }
    None
}

fn pattern_near_miss(
    origin: &RequestOrigin<'_>,
    pattern: &corsgate_core::origins::OriginPattern,
    shown_origin: &str,
) -> Option<(String, String)> {
    // The pattern with the one part that differs set to the origin's: a match then names it.
    let host_matches = match pattern.host() {
        HostPattern::Exact(host) => origin.host == &**host,
        HostPattern::Subdomains(suffix) => {
            origin.host.len() > suffix.len() && origin.host.ends_with(&**suffix)
        }
    };
    let port_matches = match pattern.port() {
        PortPattern::Any => true,
        PortPattern::Default => origin.port.is_none(),
        PortPattern::Exact(port) => origin.port == Some(port),
    };
    let scheme_matches = pattern.scheme() == origin.scheme;
    let add = format!("add `{shown_origin}` to allow_origins (a widening: review it)");
    match (scheme_matches, host_matches, port_matches) {
        (false, true, true) => Some((
            format!(
                "the page is served over {} where the pattern allows {}",
                origin.scheme.as_str(),
                pattern.scheme().as_str()
            ),
            if pattern.scheme().as_str() == "https" {
                "serve the page over https (a redirect from http)".to_string()
            } else {
                add
            },
        )),
        (true, true, false) => Some((
            "the page runs on a port the pattern does not allow".to_string(),
            add,
        )),
        (true, false, true) => match pattern.host() {
            HostPattern::Subdomains(suffix) if origin.host == &suffix[1..] => Some((
                "the page is on the domain itself, which `*.` does not cover".to_string(),
                add,
            )),
            _ => None,
        },
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use corsgate_core::config::origin_rules::{parse_origin_entry, OriginRules};

    use super::*;

    #[test]
    fn near_misses_and_their_fixes() {
        struct Case {
            name: &'static str,
            allowed: &'static [&'static str],
            refused: &'static str,
            /// The allowed entry it nearly matches and a word of the reason; `None`: none.
            expected: Option<(&'static str, &'static str)>,
        }
        let cases = [
            Case {
                name: "http for https",
                allowed: &["https://app.example.com"],
                refused: "http://app.example.com",
                expected: Some(("https://app.example.com", "served over http")),
            },
            Case {
                name: "a missing www.",
                allowed: &["https://www.example.com"],
                refused: "https://example.com",
                expected: Some(("https://www.example.com", "`www.`")),
            },
            Case {
                name: "an extra www.",
                allowed: &["https://example.com"],
                refused: "https://www.example.com",
                expected: Some(("https://example.com", "`www.`")),
            },
            Case {
                name: "a port",
                allowed: &["https://app.example.com"],
                refused: "https://app.example.com:8443",
                expected: Some(("https://app.example.com", "port 8443")),
            },
            Case {
                name: "a typo",
                allowed: &["https://app.example.com"],
                refused: "https://app.exmaple.com",
                expected: Some(("https://app.example.com", "typo")),
            },
            Case {
                name: "a subdomain of an exact origin",
                allowed: &["https://app.example.com"],
                refused: "https://preview.app.example.com",
                expected: Some(("https://app.example.com", "subdomain")),
            },
            Case {
                name: "the apex of a subdomain pattern",
                allowed: &["https://*.example.org"],
                refused: "https://example.org",
                expected: Some(("https://*.example.org", "domain itself")),
            },
            Case {
                name: "http for a pattern's https",
                allowed: &["https://*.example.org"],
                refused: "http://a.example.org",
                expected: Some(("https://*.example.org", "served over http")),
            },
            Case {
                name: "nothing alike",
                allowed: &["https://app.example.com"],
                refused: "https://evil.example",
                expected: None,
            },
            Case {
                name: "not an origin a browser sends",
                allowed: &["https://app.example.com"],
                refused: "https://app.example.com/",
                expected: None,
            },
        ];
        let rules = OriginRules {
            allow_credentials: false,
            dangerously_allow_insecure_origins: true,
            dangerously_allow_public_suffix_wildcards: true,
        };
        for case in cases {
            let allowed: Vec<(String, OriginEntry)> = case
                .allowed
                .iter()
                .map(|e| (e.to_string(), parse_origin_entry(e, rules).expect("valid")))
                .collect();
            let got = near_miss(case.refused.as_bytes(), &allowed);
            match (got, case.expected) {
                (None, None) => {}
                (Some(miss), Some((entry, word))) => {
                    assert_eq!(miss.allowed, entry, "{}", case.name);
                    assert!(miss.why.contains(word), "{}: {}", case.name, miss.why);
                }
                (got, expected) => panic!("{}: {got:?}, expected {expected:?}", case.name),
            }
        }
    }
}
