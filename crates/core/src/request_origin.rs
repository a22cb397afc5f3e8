//! Strict parsing of a request's `Origin` header.
//!
//! Browsers serialize an origin as `scheme "://" host [ ":" port ]`
//! (<https://html.spec.whatwg.org/multipage/browsers.html#ascii-serialisation-of-an-origin>):
//! lowercase, no default port, no path, no userinfo. Anything else did not come from a browser's
//! CORS machinery and is treated as "not allowed", never repaired.

use crate::route::Scheme;

/// Longest `Origin` value looked at: `https://` + a 253-byte host + `:65535`, rounded up.
/// Longer values are rejected without being scanned.
pub const MAX_ORIGIN_LEN: usize = 300;

/// An `Origin` value that is a valid browser serialization of an http(s) origin.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RequestOrigin<'a> {
    /// `http` or `https`; any other scheme is not parsed.
    pub scheme: Scheme,
    /// A lowercase domain, a dotted IPv4 address or a bracketed IPv6 address.
    pub host: &'a str,
    /// `None` when the origin uses the scheme's default port (browsers then omit it).
    pub port: Option<u16>,
}

impl<'a> RequestOrigin<'a> {
    /// Parses `raw` or returns `None` when it is not exactly how a browser serializes an origin.
    pub fn parse(raw: &'a [u8]) -> Option<Self> {
        if raw.len() > MAX_ORIGIN_LEN {
            return None;
        }
        let (scheme, rest) = if let Some(rest) = raw.strip_prefix(b"https://") {
            (Scheme::Https, rest)
        } else if let Some(rest) = raw.strip_prefix(b"http://") {
            (Scheme::Http, rest)
        } else {
            return None;
        };
        let (host, port) = split_host_port(rest)?;
        if !(is_bracketed_ipv6(host) || is_domain_or_ipv4(host)) {
            return None;
        }
        let port = match port {
            None => None,
            Some(digits) => Some(parse_port(digits, scheme)?),
        };
        // Every byte was checked to be ASCII above.
        let host = std::str::from_utf8(host).ok()?;
        Some(RequestOrigin { scheme, host, port })
    }
}

fn split_host_port(rest: &[u8]) -> Option<(&[u8], Option<&[u8]>)> {
    if rest.first() == Some(&b'[') {
        let close = rest.iter().position(|&b| b == b']')?;
        let (host, after) = rest.split_at(close + 1);
        match after {
            [] => Some((host, None)),
            [b':', port @ ..] => Some((host, Some(port))),
            _ => None,
        }
    } else {
        match rest.iter().position(|&b| b == b':') {
            None => Some((rest, None)),
            Some(colon) => Some((&rest[..colon], Some(&rest[colon + 1..]))),
        }
    }
}

/// A port as browsers serialize it: 1–5 digits, no leading zero, at most 65535, and never the
/// scheme's default port (which browsers omit).
fn parse_port(digits: &[u8], scheme: Scheme) -> Option<u16> {
    if digits.is_empty() || digits.len() > 5 || digits[0] == b'0' {
        return None;
    }
    let mut port: u32 = 0;
    for &d in digits {
        if !d.is_ascii_digit() {
            return None;
        }
        port = port * 10 + u32::from(d - b'0');
    }
    let port = u16::try_from(port).ok()?;
    (port != scheme.default_port()).then_some(port)
}

/// Lowercase labels of `a-z 0-9 - _` separated by single dots (WHATWG URL hosts after IDNA
/// processing are ASCII lowercase; punycode labels are `xn--…`).
fn is_domain_or_ipv4(host: &[u8]) -> bool {
    !host.is_empty()
        && host.len() <= 253
        && host.split(|&b| b == b'.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && label
                    .iter()
                    .all(|&b| matches!(b, b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_'))
        })
}

/// `[` lowercase hex, `:` and `.` `]`: the shape of a serialized IPv6 host. Whether it is the
/// compressed canonical form does not matter here: allowed origins are canonical, so a
/// non-canonical spelling simply matches nothing.
fn is_bracketed_ipv6(host: &[u8]) -> bool {
    host.len() >= 4
        && host[0] == b'['
        && host[host.len() - 1] == b']'
        && host[1..host.len() - 1]
            .iter()
            .all(|&b| matches!(b, b'0'..=b'9' | b'a'..=b'f' | b':' | b'.'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_only_browser_serializations() {
        type Parsed<'a> = Option<(Scheme, &'a str, Option<u16>)>;
        let cases: &[(&str, &str, Parsed)] = &[
            (
                "https origin",
                "https://app.example.com",
                Some((Scheme::Https, "app.example.com", None)),
            ),
            (
                "http with port",
                "http://localhost:5173",
                Some((Scheme::Http, "localhost", Some(5173))),
            ),
            (
                "ipv4",
                "http://127.0.0.1:8080",
                Some((Scheme::Http, "127.0.0.1", Some(8080))),
            ),
            (
                "ipv6",
                "http://[::1]:3000",
                Some((Scheme::Http, "[::1]", Some(3000))),
            ),
            (
                "punycode",
                "https://xn--bcher-kva.example",
                Some((Scheme::Https, "xn--bcher-kva.example", None)),
            ),
            ("uppercase host", "https://App.example.com", None),
            ("uppercase scheme", "HTTPS://app.example.com", None),
            ("default https port", "https://app.example.com:443", None),
            ("default http port", "http://localhost:80", None),
            ("trailing slash", "https://app.example.com/", None),
            ("path", "https://app.example.com/x", None),
            ("userinfo", "https://user@app.example.com", None),
            ("null", "null", None),
            ("empty", "", None),
            ("file", "file:///etc/passwd", None),
            ("other scheme", "ftp://example.com", None),
            ("empty host", "https://", None),
            ("empty label", "https://a..example.com", None),
            ("leading dot", "https://.example.com", None),
            ("empty port", "http://localhost:", None),
            ("leading zero port", "http://localhost:0080", None),
            ("port zero", "http://localhost:0", None),
            ("port too big", "http://localhost:65536", None),
            ("non-digit port", "http://localhost:80a", None),
            ("space", "https://app.example.com ", None),
            ("crlf", "https://a.example.com\r\nx: y", None),
            ("unclosed ipv6", "http://[::1:3000", None),
            ("ipv6 junk after", "http://[::1]x", None),
            ("uppercase ipv6", "http://[::FFFF:1]", None),
            ("non-ascii", "https://bücher.example", None),
        ];
        for (name, raw, expected) in cases {
            let got = RequestOrigin::parse(raw.as_bytes()).map(|o| (o.scheme, o.host, o.port));
            assert_eq!(got, *expected, "case {name}: {raw:?}");
        }
    }

    #[test]
    fn rejects_overlong_values_without_scanning() {
        let long = format!("https://{}.example.com", "a".repeat(MAX_ORIGIN_LEN));
        assert_eq!(RequestOrigin::parse(long.as_bytes()), None);
    }
}
