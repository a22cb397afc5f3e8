//! What every host test module uses: the world, the client, and the test kit's CORS expectations.

pub(crate) use std::time::{Duration, Instant};

pub(crate) use corsgate_testkit::cases;
pub(crate) use corsgate_testkit::cases::NamedCase;
pub(crate) use corsgate_testkit::client::{
    abort_after, pattern_sha256, send_raw, send_streaming, Body, Request, Response,
};
pub(crate) use corsgate_testkit::expect::{self, answered, vary_tokens, APP, PREFLIGHT_VARY};
pub(crate) use corsgate_testkit::harness::Host;
pub(crate) use corsgate_testkit::process::peak_rss_kib;
pub(crate) use corsgate_testkit::world::Gateway;

pub(crate) fn preflight(path: &str, origin: &str, method: &str) -> Request {
    Request::new("OPTIONS", path)
        .origin(origin)
        .header("Access-Control-Request-Method", method)
}
