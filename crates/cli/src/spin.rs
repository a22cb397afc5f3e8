//! The Spin manifest's `allowed_outbound_hosts` must cover every upstream: Spin refuses any
//! other outbound call at run time, which would surface as 502s.

use std::path::Path;

use corsgate_core::config::schema::Key;
use corsgate_core::config::{ConfigError, ErrorKind, LoadedPolicy};
use corsgate_core::route::Upstream;

use crate::error::CliError;

pub(crate) fn uncovered_upstreams(
    manifest: &Path,
    loaded: &[LoadedPolicy<'_>],
) -> Result<Vec<ConfigError>, CliError> {
    let text = std::fs::read_to_string(manifest)
        .map_err(|e| CliError::Io(format!("{}: {e}", manifest.display())))?;
    let table: toml::Table = toml::from_str(&text).map_err(|e| {
        CliError::Usage(format!(
            "{}: not a valid Spin manifest: {e}",
            manifest.display()
        ))
    })?;
    let hosts: Vec<String> = table
        .get("component")
        .and_then(|c| c.as_table())
        .into_iter()
        .flat_map(|components| components.values())
        .filter_map(|component| component.get("allowed_outbound_hosts")?.as_array())
        .flatten()
        .filter_map(|h| h.as_str().map(String::from))
        .collect();
    Ok(loaded
        .iter()
        .filter(|l| !hosts.iter().any(|h| covers(h, l.route.upstream())))
        .map(|l| {
            let span = l.document.span_of(Key::Upstream);
            let upstream = l.route.upstream();
            let needed = format!("{}://{}", upstream.scheme().as_str(), upstream.authority());
            l.document.error(
                ErrorKind::OutboundHostNotAllowed,
                span,
                format!("upstream `{}` is not covered by `allowed_outbound_hosts` in {}: Spin refuses the call at run time", upstream.url(), manifest.display()),
                Some(format!("add \"{needed}\" to allowed_outbound_hosts")),
            )
        })
        .collect())
}

/// Whether one `allowed_outbound_hosts` entry (`scheme://host[:port]`, where scheme, host and
/// port may be `*` and host may be `*.domain`) allows connecting to `upstream`. Entries using
/// Spin variables (`{{ ... }}`) cannot be resolved here and cover nothing.
fn covers(entry: &str, upstream: &Upstream) -> bool {
    if entry.contains("{{") {
        return false;
    }
    let Some((scheme, rest)) = entry.split_once("://") else {
        return false;
    };
    let scheme_ok = scheme == "*" || scheme == upstream.scheme().as_str();
    let rest = rest.trim_end_matches('/');
    let (host, port) = split_host_port(rest);
    let up_host = upstream.host();
    let host_ok = host == "*"
        || host.eq_ignore_ascii_case(up_host)
        || host.strip_prefix("*.").is_some_and(|base| {
            up_host.len() > base.len() + 1 && up_host.ends_with(&format!(".{base}"))
        });
    let default_port = upstream.scheme().default_port();
    let up_port = upstream.port().unwrap_or(default_port);
    let port_ok = match port {
        Some("*") => true,
        Some(p) => p.parse() == Ok(up_port),
        // Without a port, Spin allows the scheme's default port only.
        None => up_port == default_port,
    };
    scheme_ok && host_ok && port_ok
}

fn split_host_port(authority: &str) -> (&str, Option<&str>) {
    if let Some(end) = authority.find(']') {
        let (host, rest) = authority.split_at(end + 1);
        return (host, rest.strip_prefix(':'));
    }
    match authority.rsplit_once(':') {
        Some((h, p)) => (h, Some(p)),
        None => (authority, None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use corsgate_core::route::Scheme;

    #[test]
    fn outbound_host_coverage() {
        struct Case {
            name: &'static str,
            entry: &'static str,
            upstream: Upstream,
            covered: bool,
        }
        let cases = [
            Case {
                name: "exact",
                entry: "http://127.0.0.1:8081",
                upstream: Upstream::new(Scheme::Http, "127.0.0.1".into(), Some(8081), "".into()),
                covered: true,
            },
            Case {
                name: "other port",
                entry: "http://127.0.0.1:8082",
                upstream: Upstream::new(Scheme::Http, "127.0.0.1".into(), Some(8081), "".into()),
                covered: false,
            },
            Case {
                name: "default port implied",
                entry: "https://api.example.com",
                upstream: Upstream::new(Scheme::Https, "api.example.com".into(), None, "".into()),
                covered: true,
            },
            Case {
                name: "default port explicit",
                entry: "https://api.example.com:443",
                upstream: Upstream::new(Scheme::Https, "api.example.com".into(), None, "".into()),
                covered: true,
            },
            Case {
                name: "non-default port not implied",
                entry: "https://api.example.com",
                upstream: Upstream::new(
                    Scheme::Https,
                    "api.example.com".into(),
                    Some(8443),
                    "".into(),
                ),
                covered: false,
            },
            Case {
                name: "any port",
                entry: "https://api.example.com:*",
                upstream: Upstream::new(
                    Scheme::Https,
                    "api.example.com".into(),
                    Some(8443),
                    "".into(),
                ),
                covered: true,
            },
            Case {
                name: "scheme mismatch",
                entry: "https://api.example.com",
                upstream: Upstream::new(Scheme::Http, "api.example.com".into(), None, "".into()),
                covered: false,
            },
            Case {
                name: "any scheme",
                entry: "*://api.example.com:*",
                upstream: Upstream::new(
                    Scheme::Http,
                    "api.example.com".into(),
                    Some(81),
                    "".into(),
                ),
                covered: true,
            },
            Case {
                name: "subdomain wildcard",
                entry: "https://*.example.com",
                upstream: Upstream::new(Scheme::Https, "api.example.com".into(), None, "".into()),
                covered: true,
            },
            Case {
                name: "wildcard not apex",
                entry: "https://*.example.com",
                upstream: Upstream::new(Scheme::Https, "example.com".into(), None, "".into()),
                covered: false,
            },
            Case {
                name: "variables unresolved",
                entry: "https://{{ host }}",
                upstream: Upstream::new(Scheme::Https, "api.example.com".into(), None, "".into()),
                covered: false,
            },
            Case {
                name: "ipv6",
                entry: "http://[::1]:8080",
                upstream: Upstream::new(Scheme::Http, "[::1]".into(), Some(8080), "".into()),
                covered: true,
            },
        ];
        for case in cases {
            assert_eq!(
                covers(case.entry, &case.upstream),
                case.covered,
                "case {}",
                case.name
            );
        }
    }
}
