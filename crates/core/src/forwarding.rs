//! Header rules for forwarding a request upstream and its response back (no I/O).

use crate::decision::is_access_control_header;
use crate::text::starts_with_ignore_case;

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

/// Where the client's address for `X-Forwarded-For` comes from: the component's
/// `CORSGATE_CLIENT_ADDRESS` setting, which says what the host tells.
///
/// A request header is only as trustworthy as whoever set it. Spin appends its own
/// `spin-client-addr` after the client's header lines (spin-trigger-http,
/// `prepare_request_headers`), so a client can send one too; `wasmtime serve` sets none, so any
/// it shows came from the client. The gateway therefore reads it only where the deployment says
/// the host is Spin, and then only the last line.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ClientAddress {
    /// The host does not say: `unknown` (the default; `wasmtime serve`).
    Unknown,
    /// `CORSGATE_CLIENT_ADDRESS=spin`: the last `spin-client-addr` line, Spin's own.
    SpinHeader,
}

impl ClientAddress {
    /// The environment variable that holds the setting, also read from the build's environment.
    pub const VARIABLE: &'static str = "CORSGATE_CLIENT_ADDRESS";

    /// The setting from the variable's value (`None`: unset). An unknown value is an error that
    /// says what is valid; at run time the gateway then trusts no header
    /// ([`Settings`](crate::settings::Settings)).
    pub fn from_setting(value: Option<&str>) -> Result<ClientAddress, String> {
        match value.map(str::trim) {
            None | Some("unknown") => Ok(ClientAddress::Unknown),
            Some("spin") => Ok(ClientAddress::SpinHeader),
            Some(other) => Err(format!(
                "{}={other:?} is not one of spin, unknown",
                ClientAddress::VARIABLE
            )),
        }
    }

    /// The client's IP address from the request's header lines, or `unknown`.
    pub fn client_ip<N: AsRef<str>, V: AsRef<[u8]>>(self, headers: &[(N, V)]) -> String {
        let reported = match self {
            ClientAddress::Unknown => None,
            ClientAddress::SpinHeader => header_values(headers, "spin-client-addr").pop(),
        };
        reported
            .and_then(|v| std::str::from_utf8(v).ok())
            .and_then(|v| v.trim().parse::<std::net::SocketAddr>().ok())
            .map_or_else(|| "unknown".to_string(), |addr| addr.ip().to_string())
    }
}

/// Every value of the header `name` among `headers` (names compared case-insensitively), in
/// order.
pub fn header_values<'h, N: AsRef<str>, V: AsRef<[u8]>>(
    headers: &'h [(N, V)],
    name: &str,
) -> Vec<&'h [u8]> {
    headers
        .iter()
        .filter(|(n, _)| n.as_ref().eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_ref())
        .collect()
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
    fn client_address_from_the_host() {
        use ClientAddress::{SpinHeader, Unknown};
        struct Case {
            name: &'static str,
            setting: ClientAddress,
            /// The request's `spin-client-addr` lines, in order.
            lines: &'static [&'static str],
            /// The address `X-Forwarded-For` gets.
            client_ip: &'static str,
        }
        let cases: &[Case] = &[
            Case {
                name: "ipv4 with port",
                setting: SpinHeader,
                lines: &["127.0.0.1:51234"],
                client_ip: "127.0.0.1",
            },
            Case {
                name: "ipv6 with port",
                setting: SpinHeader,
                lines: &["[::1]:51234"],
                client_ip: "::1",
            },
            Case {
                name: "absent",
                setting: SpinHeader,
                lines: &[],
                client_ip: "unknown",
            },
            Case {
                name: "garbage",
                setting: SpinHeader,
                lines: &["evil\r\nx: y"],
                client_ip: "unknown",
            },
            Case {
                name: "the client's own line comes first and is ignored",
                setting: SpinHeader,
                lines: &["203.0.113.66:1", "192.0.2.1:5000"],
                client_ip: "192.0.2.1",
            },
            Case {
                name: "not Spin: never trusted",
                setting: Unknown,
                lines: &["192.0.2.1:5000"],
                client_ip: "unknown",
            },
        ];
        for case in cases {
            let headers: Vec<(&str, &[u8])> = case
                .lines
                .iter()
                .map(|l| ("Spin-Client-Addr", l.as_bytes()))
                .collect();
            assert_eq!(
                case.setting.client_ip(&headers),
                case.client_ip,
                "case {}",
                case.name
            );
        }
    }

    #[test]
    fn client_address_setting() {
        let cases: &[(&str, Option<&str>, Result<ClientAddress, ()>)] = &[
            ("unset", None, Ok(ClientAddress::Unknown)),
            ("unknown", Some("unknown"), Ok(ClientAddress::Unknown)),
            ("spin", Some(" spin\n"), Ok(ClientAddress::SpinHeader)),
            (
                "a header name is not a setting",
                Some("spin-client-addr"),
                Err(()),
            ),
        ];
        for (name, value, expected) in cases {
            let got = ClientAddress::from_setting(*value);
            assert_eq!(got.clone().map_err(|_| ()), *expected, "case {name}");
        }
    }
}
