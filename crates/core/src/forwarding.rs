//! Header rules for forwarding a request upstream and its response back (no I/O).

use crate::decision::is_access_control_header;

/// Hop-by-hop headers (RFC 9110 §7.6.1) and the `Proxy-*` family: meaningful for one connection
/// only, so dropped in both directions. The hosts already remove `Connection`, so the extra names
/// it may list cannot be known here.
pub fn is_hop_by_hop(name: &str) -> bool {
    const HOP_BY_HOP: &[&str] = &[
        "connection",
        "keep-alive",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
        "http2-settings",
    ];
    HOP_BY_HOP.iter().any(|h| h.eq_ignore_ascii_case(name))
        || starts_with_ignore_case(name, "proxy-")
}

/// Whether a client request header is copied to the upstream as it is. `Host` becomes the
/// upstream's, the `X-Forwarded-*` headers are computed ([`x_forwarded_for`]), `Expect` was
/// already answered by the host (which sent the client its `100 Continue`), and `spin-*`
/// headers are the Spin host's metadata about this component, not the client's.
pub fn copies_request_header(name: &str) -> bool {
    !is_hop_by_hop(name)
        && ![
            "host",
            "expect",
            "x-forwarded-for",
            "x-forwarded-host",
            "x-forwarded-proto",
        ]
        .iter()
        .any(|h| h.eq_ignore_ascii_case(name))
        && !starts_with_ignore_case(name, "spin-")
}

/// Whether an upstream response header is copied to the client as it is. The gateway owns every
/// `Access-Control-*` header, and merges `Vary` itself.
pub fn copies_response_header(name: &str) -> bool {
    !is_hop_by_hop(name) && !is_access_control_header(name) && !name.eq_ignore_ascii_case("vary")
}

/// `X-Forwarded-For`: the client's existing list (all lines, in order) with `client` appended.
pub fn x_forwarded_for(existing: &[&[u8]], client: &str) -> Vec<u8> {
    let mut value = Vec::new();
    for line in existing {
        let line = line.trim_ascii();
        if !line.is_empty() {
            value.extend_from_slice(line);
            value.extend_from_slice(b", ");
        }
    }
    value.extend_from_slice(client.as_bytes());
    value
}

/// The client address for `X-Forwarded-For` from Spin's `spin-client-addr` (`ip:port`), or
/// `unknown` when the host does not say (plain `wasmtime serve`) or says something unparsable.
pub fn client_ip(spin_client_addr: Option<&[u8]>) -> String {
    spin_client_addr
        .and_then(|v| std::str::from_utf8(v).ok())
        .and_then(|v| v.trim().parse::<std::net::SocketAddr>().ok())
        .map_or_else(|| "unknown".to_string(), |addr| addr.ip().to_string())
}

fn starts_with_ignore_case(name: &str, prefix: &str) -> bool {
    name.len() >= prefix.len()
        && name.as_bytes()[..prefix.len()].eq_ignore_ascii_case(prefix.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_headers_copied_upstream() {
        let cases = [
            ("authorization", true),
            ("content-type", true),
            ("origin", true),
            ("cookie", true),
            ("Connection", false),
            ("keep-alive", false),
            ("TE", false),
            ("trailer", false),
            ("transfer-encoding", false),
            ("upgrade", false),
            ("proxy-authorization", false),
            ("Proxy-Connection", false),
            ("host", false),
            ("expect", false),
            ("x-forwarded-for", false),
            ("X-Forwarded-Host", false),
            ("x-forwarded-proto", false),
            ("spin-full-url", false),
            ("spin-client-addr", false),
        ];
        for (name, copied) in cases {
            assert_eq!(copies_request_header(name), copied, "header {name}");
        }
    }

    #[test]
    fn response_headers_copied_back() {
        let cases = [
            ("content-type", true),
            ("set-cookie", true),
            ("x-request-id", true),
            ("access-control-allow-origin", false),
            ("Access-Control-Allow-Credentials", false),
            ("access-control-expose-headers", false),
            ("vary", false),
            ("transfer-encoding", false),
            ("proxy-authenticate", false),
        ];
        for (name, copied) in cases {
            assert_eq!(copies_response_header(name), copied, "header {name}");
        }
    }

    #[test]
    fn forwarded_for_appends() {
        let cases: &[(&str, &[&str], &str, &str)] = &[
            ("no existing header", &[], "10.0.0.1", "10.0.0.1"),
            (
                "one existing",
                &["203.0.113.9"],
                "10.0.0.1",
                "203.0.113.9, 10.0.0.1",
            ),
            (
                "two lines",
                &["1.1.1.1", " 2.2.2.2 "],
                "unknown",
                "1.1.1.1, 2.2.2.2, unknown",
            ),
            ("empty line", &[""], "unknown", "unknown"),
        ];
        for (name, existing, client, expected) in cases {
            let lines: Vec<&[u8]> = existing.iter().map(|l| l.as_bytes()).collect();
            assert_eq!(
                x_forwarded_for(&lines, client),
                expected.as_bytes(),
                "case {name}"
            );
        }
    }

    #[test]
    fn client_ip_from_spin() {
        let cases: &[(&str, Option<&str>, &str)] = &[
            ("ipv4 with port", Some("127.0.0.1:51234"), "127.0.0.1"),
            ("ipv6 with port", Some("[::1]:51234"), "::1"),
            ("absent", None, "unknown"),
            ("garbage", Some("evil\r\nx: y"), "unknown"),
        ];
        for (name, raw, expected) in cases {
            assert_eq!(client_ip(raw.map(str::as_bytes)), *expected, "case {name}");
        }
    }
}
