//! The header lines of corsgate's answer to the benchmark's allowed preflight (small policy),
//! which both trivial components (WASIp2 and WASIp3) send: the same list, so that they make the
//! same host calls with the same bytes.

/// The answer's header lines for a preflight from `origin`.
pub(crate) fn answer_headers(origin: &[u8]) -> Vec<(String, Vec<u8>)> {
    [
        ("access-control-allow-origin", origin),
        ("access-control-allow-credentials", b"true"),
        ("access-control-allow-methods", b"GET, POST, PUT, DELETE"),
        (
            "access-control-allow-headers",
            b"authorization, content-type",
        ),
        ("access-control-max-age", b"600"),
        (
            "vary",
            b"Origin, Access-Control-Request-Method, Access-Control-Request-Headers",
        ),
    ]
    .iter()
    .map(|(n, v)| (n.to_string(), v.to_vec()))
    .collect()
}
