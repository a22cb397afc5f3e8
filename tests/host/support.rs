//! What every host test module uses: the world, the client, and assertions on CORS headers.

pub use std::time::{Duration, Instant};

pub use corsgate_testkit::cases;
pub use corsgate_testkit::cases::NamedCase;
pub use corsgate_testkit::client::{
    abort_after, pattern_sha256, send, send_raw, send_streaming, Body, Request, Response,
};
pub use corsgate_testkit::harness::Host;
pub use corsgate_testkit::process::peak_rss_kib;
pub use corsgate_testkit::world::Gateway;

pub const APP: &str = "https://app.example.com";
pub const PREFLIGHT_VARY: &str =
    "Origin, Access-Control-Request-Method, Access-Control-Request-Headers";

pub fn ok(g: &Gateway, request: Request) -> Response {
    send(g.addr, &request).unwrap_or_else(|e| panic!("{} {}: {e}", request.method, request.target))
}

pub fn preflight(path: &str, origin: &str, method: &str) -> Request {
    Request::new("OPTIONS", path)
        .origin(origin)
        .header("Access-Control-Request-Method", method)
}

/// No `Access-Control-Allow-*` header at all.
pub fn assert_no_allow_headers(r: &Response) {
    let names: Vec<&String> = r
        .head
        .headers
        .iter()
        .map(|(n, _)| n)
        .filter(|n| n.to_ascii_lowercase().starts_with("access-control-allow-"))
        .collect();
    assert!(
        names.is_empty(),
        "unexpected CORS headers {names:?} in {:?}",
        r.head.headers
    );
}

pub fn vary_tokens(r: &Response) -> Vec<String> {
    r.head
        .all("vary")
        .iter()
        .flat_map(|v| {
            String::from_utf8_lossy(v)
                .split(',')
                .map(|t| t.trim().to_string())
                .collect::<Vec<_>>()
        })
        .filter(|t| !t.is_empty())
        .collect()
}

pub fn assert_vary_origin_once(r: &Response) {
    let n = vary_tokens(r)
        .iter()
        .filter(|t| t.eq_ignore_ascii_case("origin"))
        .count();
    assert_eq!(
        n,
        1,
        "Vary must name Origin exactly once: {:?}",
        r.head.all("vary")
    );
}
