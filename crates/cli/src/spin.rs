//! The Spin manifest's `allowed_outbound_hosts` must cover every upstream: Spin refuses any
//! other outbound call at run time, which would surface as 502s.

use std::path::Path;

use corsgate_core::config::schema::Key;
use corsgate_core::config::{ConfigError, ErrorKind, LoadedPolicy};
use corsgate_core::route::Upstream;

use crate::error::CliError;

pub fn uncovered_upstreams(
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
        .filter(|l| !hosts.iter().any(|h| covers(h, &l.route.upstream)))
        .map(|l| {
            let span = l.document.span_of(Key::Upstream);
            let needed = format!("{}://{}", l.route.upstream.scheme.as_str(), l.route.upstream.authority);
            l.document.error(
                ErrorKind::OutboundHostNotAllowed,
                span,
                format!("upstream `{}` is not covered by `allowed_outbound_hosts` in {}: Spin refuses the call at run time", l.route.upstream.url(), manifest.display()),
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
    let scheme_ok = scheme == "*" || scheme == upstream.scheme.as_str();
    let rest = rest.trim_end_matches('/');
    let (host, port) = split_host_port(rest);
    let (up_host, up_port) = split_host_port(&upstream.authority);
    let host_ok = host == "*"
        || host.eq_ignore_ascii_case(up_host)
        || host.strip_prefix("*.").is_some_and(|base| {
            up_host.len() > base.len() + 1 && up_host.ends_with(&format!(".{base}"))
        });
    let default_port = upstream.scheme.default_port().to_string();
    let up_port = up_port.unwrap_or(&default_port);
    let port_ok = match port {
        Some("*") => true,
        Some(p) => p == up_port,
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
    use corsgate_core::request_origin::Scheme;

    #[test]
    fn outbound_host_coverage() {
        let up = |scheme, authority: &'static str| Upstream {
            scheme,
            authority: authority.into(),
            base_path: "".into(),
        };
        let cases = [
            (
                "exact",
                "http://127.0.0.1:8081",
                up(Scheme::Http, "127.0.0.1:8081"),
                true,
            ),
            (
                "other port",
                "http://127.0.0.1:8082",
                up(Scheme::Http, "127.0.0.1:8081"),
                false,
            ),
            (
                "default port implied",
                "https://api.example.com",
                up(Scheme::Https, "api.example.com"),
                true,
            ),
            (
                "default port explicit",
                "https://api.example.com:443",
                up(Scheme::Https, "api.example.com"),
                true,
            ),
            (
                "non-default port not implied",
                "https://api.example.com",
                up(Scheme::Https, "api.example.com:8443"),
                false,
            ),
            (
                "any port",
                "https://api.example.com:*",
                up(Scheme::Https, "api.example.com:8443"),
                true,
            ),
            (
                "scheme mismatch",
                "https://api.example.com",
                up(Scheme::Http, "api.example.com"),
                false,
            ),
            (
                "any scheme",
                "*://api.example.com:*",
                up(Scheme::Http, "api.example.com:81"),
                true,
            ),
            (
                "subdomain wildcard",
                "https://*.example.com",
                up(Scheme::Https, "api.example.com"),
                true,
            ),
            (
                "wildcard not apex",
                "https://*.example.com",
                up(Scheme::Https, "example.com"),
                false,
            ),
            (
                "variables unresolved",
                "https://{{ host }}",
                up(Scheme::Https, "api.example.com"),
                false,
            ),
            (
                "ipv6",
                "http://[::1]:8080",
                up(Scheme::Http, "[::1]:8080"),
                true,
            ),
        ];
        for (name, entry, upstream, expected) in cases {
            assert_eq!(covers(entry, &upstream), expected, "case {name}");
        }
    }
}
